"""``flowphase report`` killed with SIGKILL at random moments.

Two uninterrupted runs write the reference report and measure how long a
run takes with empty and with full caches. Each trial then starts
``flowphase report --force`` on the same folder in a subprocess and kills it
at a random moment of a run, with the same code-generation and Numba caches
throughout, which start empty. After
every kill the folder must hold a complete report: either the earlier one,
unchanged, or the new one. A last uninterrupted run with the same caches
must reproduce the reference records exactly and leave no unfinished
folder behind, so nothing a killed run left was trusted.
"""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

N_TRIALS = 20
N_COLD_TRIALS = 5
ARGUMENTS = ["report", "--quick", "--dims", "64,128", "--no-progress"]


def _run(out, environment, force=False):
    command = [sys.executable, "-m", "flowphase", *ARGUMENTS, "--out", str(out)]
    if force:
        command.append("--force")
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _complete(folder):
    """Return the records of the report in ``folder``, failing if any file is missing."""
    results = json.loads((folder / "results.json").read_text())
    assert results["generator"] == "flowphase report"
    text = (folder / "report.md").read_text()
    for name in re.findall(r"\]\(([^)]+\.png)\)", text):
        assert (folder / name).stat().st_size > 0, name
        assert (folder / name.replace(".png", ".pdf")).stat().st_size > 0, name
    assert (folder / "equations.tex").stat().st_size > 0
    return results["records"]


def _leftovers(parent, name):
    return sorted(path.name for path in parent.iterdir()
                  if path.name.startswith(f".{name}."))


@pytest.mark.slow
def test_sigkill_never_leaves_trusted_partial(tmp_path):
    shared = dict(os.environ, FLOWPHASE_CACHE_DIR=str(tmp_path / "codegen"),
                  NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    separate = dict(os.environ, FLOWPHASE_CACHE_DIR=str(tmp_path / "cold"),
                    NUMBA_CACHE_DIR=str(tmp_path / "cold-numba"))
    out = tmp_path / "out"

    durations = []
    for force in (False, True):
        started = time.monotonic()
        run = _run(out, separate, force=force)
        assert run.wait() == 0, run.stderr.read().decode()
        durations.append(time.monotonic() - started)
    reference = _complete(out)
    cold, warm = durations
    print(f"uninterrupted runs: {cold:.1f} s with empty caches, {warm:.1f} s with full ones")

    # The first trials start with empty caches, so the kills land in code
    # generation and compilation; the later ones in training and writing.
    chooser = random.Random(20261204)
    outcomes = {"earlier": 0, "new": 0}
    for trial in range(N_TRIALS):
        before = (out / "results.json").read_bytes()
        longest = cold if trial < N_COLD_TRIALS else 1.1 * warm
        delay = chooser.uniform(0.0, longest)
        process = _run(out, shared, force=True)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
        records = _complete(out)
        unchanged = (out / "results.json").read_bytes() == before
        outcomes["earlier" if unchanged else "new"] += 1
        print(f"trial {trial}: killed after {delay:.1f} s, return code "
              f"{process.returncode}, folder holds the {'earlier' if unchanged else 'new'} "
              f"report, leftovers {_leftovers(tmp_path, 'out')}")
        assert records == reference

    final = _run(out, shared, force=True)
    assert final.wait() == 0, final.stderr.read().decode()
    assert _complete(out) == reference
    assert _leftovers(tmp_path, "out") == []
    print("outcomes:", outcomes)


def test_sigterm_removes_unfinished_folder(tmp_path):
    """SIGTERM ends a run like Ctrl-C: exit code 143 and no folder left behind."""
    environment = dict(os.environ, FLOWPHASE_CACHE_DIR=str(tmp_path / "codegen"))
    out = tmp_path / "out"
    process = _run(out, environment)
    # Wait until the run has made its staging folder, then terminate it.
    deadline = time.monotonic() + 300
    while not _leftovers(tmp_path, "out") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _leftovers(tmp_path, "out"), "the run made no staging folder"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 143
    assert "interrupted" in process.stderr.read().decode()
    assert not out.exists()
    assert _leftovers(tmp_path, "out") == []
