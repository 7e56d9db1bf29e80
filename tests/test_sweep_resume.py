"""Interrupted sweeps: SIGINT or SIGKILL midway, rerun, compare with a clean run."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

SWEEP = """
[sweep]
name = "resume"

[grid]
d = [256, 1024]
seed = [0, 1, 2]
steps = [4]
n_samples = [4000]
"""
RUNS = 6


def _rows(store):
    if not store.exists():
        return {}
    try:
        connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            found = connection.execute("SELECT run_key, results FROM runs").fetchall()
        finally:
            connection.close()
    except sqlite3.OperationalError:  # the table is not created yet
        return {}
    return dict(found)


def _command(config, store):
    return [sys.executable, "-m", "flowphase", "sweep", str(config), "--store", str(store),
            "--workers", "1", "--no-progress"]


def _start(config, store):
    return subprocess.Popen(_command(config, store), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _finish(config, store):
    result = subprocess.run(_command(config, store), capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr


def _interrupt_midway(config, store, sig):
    """Start a sweep, send ``sig`` once one or two runs are stored, return the row count."""
    process = _start(config, store)
    deadline = time.monotonic() + 300
    while len(_rows(store)) < 1 and process.poll() is None:
        assert time.monotonic() < deadline, "no run finished within 300 s"
        time.sleep(0.05)
    process.send_signal(sig)
    try:
        process.wait(timeout=60)
    finally:
        # The worker processes of the killed sweep's local cluster belong to
        # the session started above; stop any that are still alive.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.communicate()
    return len(_rows(store))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    config = folder / "sweep.toml"
    config.write_text(SWEEP)
    store = folder / "reference.sqlite"
    _finish(config, store)
    return config, _rows(store), store


def _check_resumed(reference, tmp_path, sig):
    config, expected, _ = reference
    store = tmp_path / "interrupted.sqlite"
    stored = _interrupt_midway(config, store, sig)
    assert 1 <= stored < RUNS, f"interrupt was not midway: {stored} of {RUNS} runs stored"
    _finish(config, store)
    rows = _rows(store)
    assert len(rows) == RUNS
    assert sorted(rows) == sorted(expected)
    for key, results in rows.items():
        assert json.loads(results) == json.loads(expected[key]), key


def test_resume_after_sigint(reference, tmp_path):
    _check_resumed(reference, tmp_path, signal.SIGINT)


def test_resume_after_sigkill(reference, tmp_path):
    _check_resumed(reference, tmp_path, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(5))
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_resume_many_trials(reference, tmp_path, sig, trial):
    _check_resumed(reference, tmp_path, sig)


def test_rerun_of_finished_sweep(reference, tmp_path):
    config, _, finished = reference
    store = tmp_path / "again.sqlite"
    shutil.copyfile(finished, store)
    before = _rows(store)
    result = subprocess.run(_command(config, store), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"{RUNS} finished earlier, 0 run now" in result.stdout
    assert _rows(store) == before
