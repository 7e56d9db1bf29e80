"""Time the README sweep on one and on two Dask workers, then on a separate cluster.

1. Core use: the sweep of ``examples/sweep.toml`` runs into a fresh store
   on a local cluster with 1 worker (the reference) and with 2 workers,
   each worker a single-threaded process. The script prints the speed-up
   and the number of runs in progress at once (summed run wall times over
   the sweep's wall time). It also prints the cores the runs obtained
   (summed CPU times over the wall time), which other processes on a
   shared machine reduce. Each wall time includes the cluster start and each worker's
   first-use cost (imports, SymPy limits, Numba cache loads), because a
   real sweep pays them too. The load average is printed before and
   after, since the machine may be shared.
2. Separate cluster: ``dask scheduler`` and ``dask worker`` (2 processes,
   one thread each) are started on 127.0.0.1, the same sweep runs with
   ``scheduler=ADDRESS``, and the validator checks that every run's
   results equal those of the local run.

Run: python benchmarks/bench_sweep.py
"""

import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dask
import distributed
import numpy as np

import flowphase
from flowphase.sweeps.config import load_sweep
from flowphase.sweeps.driver import run_sweep

SWEEP = Path(__file__).resolve().parents[1] / "examples" / "sweep.toml"


def _results(store):
    connection = sqlite3.connect(store)
    try:
        return dict(connection.execute("SELECT run_key, results FROM runs"))
    finally:
        connection.close()


def _run_seconds(store):
    """Return the summed CPU seconds and wall seconds of the stored runs."""
    connection = sqlite3.connect(store)
    try:
        return connection.execute("SELECT SUM(cpu_seconds), SUM(seconds) FROM runs").fetchone()
    finally:
        connection.close()


def _timed_sweep(config, store, **options):
    start = time.perf_counter()
    summary = run_sweep(config, store_path=store, show_progress=False, **options)
    elapsed = time.perf_counter() - start
    if summary.failed or summary.completed != summary.total:
        raise RuntimeError(f"sweep did not finish: {summary}")
    cpu, busy = _run_seconds(store)
    print(f"{summary.workers} worker(s): {elapsed:7.1f} s wall; runs in progress at once "
          f"{busy / elapsed:.2f} on average (run wall seconds / sweep wall time); cores "
          f"obtained {cpu / elapsed:.2f} (run CPU seconds / sweep wall time)")
    return elapsed, summary.workers


def _autogroup():
    try:
        enabled = Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()
    except OSError:
        return "unknown"
    return "on" if enabled == "1" else "off"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _separate_cluster_run(config, store):
    """Start a scheduler and a worker with 2 processes, run the sweep on them."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_command = str(Path(sys.executable).with_name("dask"))
    scheduler = subprocess.Popen([dask_command, "scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([dask_command, "worker", address, "--nworkers", "2",
                               "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        return _timed_sweep(config, store, scheduler=address)
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            process.wait(timeout=60)


def main():
    config = load_sweep(SWEEP)
    print(f"sweep {SWEEP.name}: {len(config.runs)} runs")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, flowphase {flowphase.__version__}, numpy "
          f"{np.__version__}, dask {dask.__version__}, distributed {distributed.__version__}")
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    print(f"kernel autogroup scheduling: {_autogroup()} (when on, CPU time is shared "
          "fairly between sessions, so all workers of this script together get one "
          "session's share while other sessions are busy)")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        one_worker, _ = _timed_sweep(config, folder / "one.sqlite", workers=1)
        two_workers, count = _timed_sweep(config, folder / "two.sqlite", workers=2)
        print(f"speed-up of 2 workers over 1: {one_worker / two_workers:.2f}")
        print("load average after: %.2f %.2f %.2f" % os.getloadavg())

        remote, count = _separate_cluster_run(config, folder / "remote.sqlite")
        print(f"separate scheduler and worker: {count} worker processes")
        local, separate = _results(folder / "two.sqlite"), _results(folder / "remote.sqlite")
        same = sorted(local) == sorted(separate) and all(
            local[key] == separate[key] for key in local)
        single = _results(folder / "one.sqlite")
        same_single = all(single[key] == local[key] for key in local)
        print(f"validator: {len(separate)} runs, results identical to the local "
              f"2-worker run: {same}; 1-worker run identical too: {same_single}")
        if not (same and same_single):
            sys.exit(1)


if __name__ == "__main__":
    main()
