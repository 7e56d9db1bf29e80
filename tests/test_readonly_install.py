"""A non-editable install in a read-only site folder still runs a report.

The package is installed with ``pip install --target`` into a temporary
folder, every write bit under it is removed, and ``flowphase report
--quick`` runs with that folder on ``PYTHONPATH`` and a fresh home
folder, so the compile caches must go to the user's cache folder.

Root ignores write bits, so as root the report runs under ``setpriv``
with the capabilities that bypass file permissions removed from the
bounding set. pip needs its package index (or a local cache) to fetch
the build requirements of ``pyproject.toml``.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Build output, caches and reports that a checkout may contain and that a
# clean install must not depend on.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", ".hypothesis",
    ".pytest_cache", "flowphase-report*", "*.nbi", "*.nbc",
)

# Capabilities that let root read, write or chmod files regardless of
# their permission bits.
PERMISSION_CAPABILITIES = "-dac_override,-dac_read_search,-fowner"


def _unprivileged_prefix():
    """Return the command prefix that makes write bits apply, or skip."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, which ignores write bits, and setpriv is missing")
    return [setpriv, f"--bounding-set={PERMISSION_CAPABILITIES}", "--"]


def _set_writable(folder, writable):
    for path in [folder, *folder.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        new_mode = (mode | stat.S_IWUSR) if writable else (mode & ~write_bits)
        path.chmod(stat.S_IMODE(new_mode))


def _listing(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def _install(tmp_path):
    source = tmp_path / "source"
    site = tmp_path / "site"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
         "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, f"pip install failed:\n{result.stderr}"
    return site


def _environment(site, home):
    env = dict(os.environ)
    # Without these, the caches take their defaults under HOME and Python
    # tries to write bytecode into the read-only folder.
    for name in ("FLOWPHASE_CACHE_DIR", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME",
                 "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(site)
    env["HOME"] = str(home)
    return env


@pytest.mark.slow
def test_readonly_install_runs_report(tmp_path):
    prefix = _unprivileged_prefix()
    site = _install(tmp_path)
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = _environment(site, home)
    _set_writable(site, False)
    installed = _listing(site)

    try:
        located = subprocess.run(
            [*prefix, sys.executable, "-c", "import flowphase; print(flowphase.__file__)"],
            capture_output=True, text=True, env=env, cwd=work, timeout=120,
        )
        report = subprocess.run(
            [*prefix, sys.executable, "-m", "flowphase", "report", "--quick",
             "--no-progress", "--out", "quick"],
            capture_output=True, text=True, env=env, cwd=work, timeout=1800,
        )
        probe = subprocess.run(
            [*prefix, sys.executable, "-c",
             f"open({str(site / 'probe.txt')!r}, 'w')"],
            capture_output=True, text=True, env=env, cwd=work, timeout=120,
        )
    finally:
        _set_writable(site, True)

    assert located.stdout.strip().startswith(str(site)), located.stdout + located.stderr
    assert probe.returncode != 0, "the site folder was writable during the run"
    assert "PermissionError" in probe.stderr
    assert report.returncode == 0, report.stderr[-3000:]
    assert (work / "quick" / "report.md").is_file()
    results = json.loads((work / "quick" / "results.json").read_text(encoding="utf-8"))
    assert results["generator"] == "flowphase report"
    assert _listing(site) == installed
