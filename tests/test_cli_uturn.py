"""Tests of ``flowphase uturn``: output folder, recorded numbers, bad input.

Oracles: intervals and gaps recomputed here from the per-seed runs and
curves in ``results.json``, the large-d curve at tau0 = 0, and MNIST-format
IDX files written here.
"""

import gzip
import json
import struct

import numpy as np
import pytest
from scipy import stats

from flowphase.cli import main
from flowphase.report.output import is_report_folder

SMALL = ["--quick", "--no-progress", "--seeds", "2", "--budgets", "60"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("uturn") / "run"
    status = main(["uturn", *SMALL, "--out", str(out)])
    return status, out, json.loads((out / "results.json").read_text())


def test_uturn_writes_folder(written):
    status, out, results = written
    assert status == 0
    assert results["generator"] == "flowphase uturn"
    assert is_report_folder(out)
    assert results["configuration"]["n_seeds"] == 2
    assert "scikit-learn" in results["versions"]
    for name in results["figures"]:
        assert (out / name).stat().st_size > 0
    for stem in ("uturn_digits", "uturn_mixture", "experiment", "samples_60_uniform",
                 "samples_60_phase_aware"):
        assert f"{stem}.png" in results["figures"]
        assert f"{stem}.pdf" in results["figures"]
    assert not list(out.parent.glob(".run.partial-*"))


def test_uturn_intervals_recomputed(written):
    _, _, results = written
    runs = results["digits"]["runs"]
    (row,) = results["digits"]["summary"]
    for scheme in ("uniform", "phase_aware"):
        errors = np.array([r["ratio_error"] for r in runs if r["scheme"] == scheme])
        zeros = np.array([r["zero_fraction"] for r in runs if r["scheme"] == scheme])
        np.testing.assert_allclose(errors, np.abs(zeros - 0.8), atol=1e-15)
        half = stats.t.ppf(0.975, errors.size - 1) * errors.std(ddof=1) / np.sqrt(errors.size)
        np.testing.assert_allclose(row[f"{scheme}_ratio_error"],
                                   [errors.mean(), errors.mean() - half, errors.mean() + half],
                                   rtol=1e-12)
    uniform = np.mean([r["ratio_error"] for r in runs if r["scheme"] == "uniform"])
    phase = np.mean([r["ratio_error"] for r in runs if r["scheme"] == "phase_aware"])
    ratio, low, high = row["error_ratio_uniform_over_phase_aware"]
    assert ratio == pytest.approx(uniform / phase)
    assert low <= ratio <= high


def test_uturn_report_states_measured_numbers(written):
    _, out, results = written
    text = (out / "report.md").read_text()
    low, high = results["digits"]["probe"]["interval"]
    assert f"**[{low:.3f}, {high:.3f}]**" in text
    ratio, r_low, r_high = results["digits"]["summary"][0]["error_ratio_uniform_over_phase_aware"]
    assert f"{ratio:.2f} [{r_low:.2f}, {r_high:.2f}]" in text
    if results["configuration"]["n_seeds"] < 5:
        assert "no verdict from" in text
    elif r_low > 1:
        assert "gave a lower class-ratio error" in text
    elif r_high < 1:
        assert "gave a higher class-ratio error" in text
    else:
        assert "not resolved" in text


def test_uturn_mixture_gaps_recomputed(written):
    _, _, results = written
    mixture = results["mixture"]
    assert mixture["limit"][0] == pytest.approx(2 * 0.8 * 0.2, abs=1e-12)
    for row in mixture["simulated"].values():
        gaps = np.abs(np.array(row["flip_rate"]) - np.array(mixture["limit"]))
        assert row["max_gap"] == pytest.approx(gaps.max())


def test_uturn_rejects_existing_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("earlier")
    assert main(["uturn", *SMALL, "--out", "out"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (tmp_path / "out" / "keep.txt").read_text() == "earlier"


@pytest.mark.parametrize("arguments, message", [
    (["--weight", "2"], "`weight` must lie in [0, 1], got 2.0"),
    (["--weight", "nan"], "invalid number 'nan'"),
    (["--seeds", "1"], "`n_seeds` (--seeds) must be >= 2"),
    (["--budgets", "10,x"], "invalid list '10,x'"),
    (["--budgets", "0"], "every entry of `budgets` (--budgets) must be an integer >= 1, got 0"),
    (["--dims", "3"], "needs d > kappa**2 = 4, got d=3 in `dims` (--dims)"),
    (["--mnist-dir", "missing"], "--mnist-dir 'missing' is not a folder"),
    (["--mnist-dir", "."], "has no file train-images-idx3-ubyte"),
])
def test_uturn_bad_input(tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    try:
        status = main(["uturn", "--quick", "--out", "out", *arguments])
    except SystemExit as exit:
        # The argument parser exits by itself on a value it cannot convert.
        status = exit.code
    assert status == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _idx(array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _synthetic_mnist(folder, rng):
    """Write 28x28 rings labelled 0, bars labelled 1 and squares labelled 7."""
    grid_y, grid_x = np.mgrid[:28, :28] - 13.5
    radius = np.hypot(grid_y, grid_x)
    ring = (np.abs(radius - 8) < 2.5) * 230.0
    bar = (np.abs(grid_x) < 2.5) * (np.abs(grid_y) < 10) * 230.0
    square = (np.maximum(np.abs(grid_x), np.abs(grid_y)) < 6) * 230.0
    shapes = [ring] * 120 + [bar] * 60 + [square] * 20
    labels = np.array([0] * 120 + [1] * 60 + [7] * 20)
    images = np.clip(np.array(shapes) + rng.normal(0, 20, (200, 28, 28)), 0, 255)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    (folder / "train-labels-idx1-ubyte").write_bytes(_idx(labels))


def test_uturn_reads_mnist_idx(tmp_path):
    _synthetic_mnist(tmp_path, np.random.default_rng(0))
    out = tmp_path / "run"
    status = main(["uturn", *SMALL, "--dims", "16", "--mnist-dir", str(tmp_path),
                   "--out", str(out)])
    assert status == 0
    data = json.loads((out / "results.json").read_text())["digits"]["data"]
    assert data["source"] == "MNIST IDX files"
    assert data["dim"] == 14 * 14
    assert data["classifier_accuracy"] == 1.0


def test_uturn_force_replaces_earlier_output(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "results.json").write_text('{"generator": "flowphase uturn"}')
    (out / "old.txt").write_text("from an earlier run")
    assert main(["uturn", *SMALL, "--dims", "16", "--out", str(out), "--force"]) == 0
    assert not (out / "old.txt").exists()
    assert json.loads((out / "results.json").read_text())["configuration"]["dims"] == [16]
