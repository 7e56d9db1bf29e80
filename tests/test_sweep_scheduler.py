"""The same sweep on a separately started Dask scheduler and worker."""

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from flowphase.sweeps.config import load_sweep
from flowphase.sweeps.run import run_one

SWEEP = """
[grid]
d = [16, 36]
seed = [0, 1]
steps = [4]
n_samples = [300]
"""


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _results(store):
    connection = sqlite3.connect(store)
    try:
        rows = connection.execute("SELECT run_key, results, worker FROM runs").fetchall()
    finally:
        connection.close()
    return {key: json.loads(results) for key, results, _ in rows}, {w for *_, w in rows}


def _sweep(config, store, *extra):
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config),
                             "--store", str(store), "--no-progress", *extra],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def cluster():
    """Start ``dask scheduler`` and one ``dask worker`` on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = Path(sys.executable).with_name("dask")
    scheduler = subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(dask), "worker", address, "--nthreads", "1",
                               "--host", "127.0.0.1", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield address
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_scheduler_gives_same_numbers(cluster, tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    remote = tmp_path / "remote.sqlite"
    output = _sweep(config, remote, "--scheduler", cluster)
    assert "on 1 workers" in output

    # The reference is the same run function called in this process.
    expected = {spec.key: run_one(spec)["results"] for spec in load_sweep(config).runs}
    remote_results, workers = _results(remote)
    assert len(remote_results) == 4
    assert remote_results == expected
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers)


@pytest.mark.slow
def test_unreachable_scheduler_writes_nothing(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    store = tmp_path / "store.sqlite"
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config),
                             "--store", str(store), "--no-progress", "--scheduler",
                             f"tcp://127.0.0.1:{_free_port()}"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "cannot connect to the Dask scheduler" in result.stderr
    assert not store.exists()
