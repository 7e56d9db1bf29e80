"""Command-line errors: one line naming the value, exit code 2, no files."""

import subprocess
import sys

import pytest

BAD_REPORT_ARGUMENTS = [
    (["--p", "1.5"], "`p` must lie in (0, 1), got 1.5"),
    (["--p", "0"], "`p` must lie in (0, 1), got 0.0"),
    (["--p", "nan"], "invalid number 'nan'"),
    (["--sigma", "0"], "`sigma` must be > 0, got 0.0"),
    (["--sigma", "-1"], "`sigma` must be > 0, got -1.0"),
    (["--kappa", "0"], "`kappa` must be > 0, got 0.0"),
    (["--kappa", "inf"], "invalid number 'inf'"),
    (["--dims", "1"], "integer >= 2, got 1"),
    (["--dims", "4"], "kappa < sqrt(d)"),
    (["--dims", "12,x"], "invalid --dims '12,x'"),
]


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "flowphase", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("arguments, message", BAD_REPORT_ARGUMENTS)
def test_report_rejects_bad_parameter(tmp_path, arguments, message):
    out = tmp_path / "out"
    result = run_cli("report", "--quick", "--out", str(out), *arguments, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_report_refuses_existing_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier result")
    result = run_cli("report", "--quick", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert (out / "keep.txt").read_text() == "earlier result"


def test_report_rejects_missing_parent(tmp_path):
    out = tmp_path / "missing" / "out"
    result = run_cli("report", "--quick", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


@pytest.mark.parametrize("alpha, beta", [
    ("1 - x", "x"),
    ("__import__('os').system('echo owned')", "t"),
    ("1", "1"),
])
def test_derive_rejects_bad_schedule(tmp_path, alpha, beta):
    result = run_cli("derive", "--alpha", alpha, "--beta", beta,
                     "--out", str(tmp_path / "eq.tex"), cwd=tmp_path)
    assert result.returncode == 2
    assert "owned" not in result.stdout
    assert result.stderr.startswith("flowphase: error:")
    assert not (tmp_path / "eq.tex").exists()


def test_report_force_keeps_foreign_folder(tmp_path):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter.tex").write_text("draft")
    result = run_cli("report", "--quick", "--out", str(out), "--force", cwd=tmp_path)
    assert result.returncode == 2
    assert "not a flowphase output folder" in result.stderr
    assert (out / "chapter.tex").read_text() == "draft"


def test_report_force_refuses_current_folder(tmp_path):
    (tmp_path / "results.json").write_text('{"generator": "flowphase report"}')
    result = run_cli("report", "--quick", "--out", ".", "--force", cwd=tmp_path)
    assert result.returncode == 2
    assert "contains the current folder" in result.stderr
    assert (tmp_path / "results.json").exists()


def test_report_rejects_duplicate_dims(tmp_path):
    result = run_cli("report", "--quick", "--dims", "16,16", "--out", "x", cwd=tmp_path)
    assert result.returncode == 2
    assert "lists a dimension twice" in result.stderr


def test_derive_rejects_folder_out(tmp_path):
    result = run_cli("derive", "--out", str(tmp_path), "--force", cwd=tmp_path)
    assert result.returncode == 2
    assert "is a folder" in result.stderr


def test_derive_writes_latex(tmp_path):
    result = run_cli("derive", "--out", "eq.tex", cwd=tmp_path)
    text = (tmp_path / "eq.tex").read_text()
    assert result.returncode == 0
    assert "\\begin{equation}" in text
    assert "[optimal-omega]" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eq.tex"]
