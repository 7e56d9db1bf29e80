"""Run a sweep on Dask and commit each finished run to the SQLite store.

By default the sweep starts a ``distributed.LocalCluster`` on 127.0.0.1
with one single-threaded worker process per core. With ``scheduler`` it
connects to an existing Dask scheduler instead. Each pending run is one
task (:func:`flowphase.sweeps.run.run_one`), and this process inserts
its row as soon as the task finishes. An interrupted sweep keeps every
committed row, and a rerun submits only the runs without one.

Dask's nanny starts workers with ``OMP_NUM_THREADS=1`` (and the MKL and
OpenBLAS equivalents, the ``distributed.nanny.pre-spawn-environ`` default
in distributed 2026.8), so BLAS runs single-threaded on every worker.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .config import SweepConfig
from .run import run_one
from .store import SweepStore

logger = logging.getLogger(__name__)

__all__ = ["SweepSummary", "run_sweep"]


@dataclass
class SweepSummary:
    """Counts of a sweep: runs in total, skipped as finished, run now, failed."""

    total: int
    skipped: int
    completed: int = 0
    failed: list = field(default_factory=list)
    workers: int = 0


def _client(scheduler, workers):
    """Return ``(client, cluster)``; ``cluster`` is None for an external scheduler."""
    from distributed import Client, LocalCluster

    # distributed logs every worker start and stop at INFO, and a cancelled
    # task at WARNING; keep them only when flowphase logs at debug level (-v).
    debug = logger.isEnabledFor(logging.DEBUG)
    if not debug:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    if scheduler is not None:
        logger.info("connecting to the Dask scheduler at %s", scheduler)
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as error:
            raise OSError(f"cannot connect to the Dask scheduler at {scheduler!r} ({error}); "
                          "check that it is running and that the address is right") from None
        # A worker started just before may not have registered yet.
        client.wait_for_workers(1, timeout=60)
        return client, None
    n_workers = workers or os.cpu_count() or 1
    # The scheduler serves its health and metrics routes over HTTP even
    # without the dashboard. A free port on 127.0.0.1 avoids a clash with
    # other clusters on the default port 8787.
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                           silence_logs=logging.DEBUG if debug else logging.ERROR)
    logger.info("started a local Dask cluster with %d workers", n_workers)
    return Client(cluster), cluster


def run_sweep(config: SweepConfig, *, store_path=None, scheduler=None, workers=None,
              force=False, show_progress=True) -> SweepSummary:
    """Run every run of ``config`` that has no row in the store yet.

    ``store_path`` overrides ``config.store``. ``scheduler`` is the address
    of an existing Dask scheduler (for example ``tcp://127.0.0.1:8786``), and
    ``workers`` sets the worker count of the local cluster. A run that
    raises is logged and listed in ``SweepSummary.failed`` without a row,
    so a rerun tries it again.
    """
    from distributed import as_completed

    if scheduler is None:
        _check_memory(config, workers or os.cpu_count() or 1)
    path = Path(store_path or config.store)
    metadata = {"name": config.name, "grid": config.grid}
    # An existing store is checked now. A new one is created only once the
    # cluster is up, so a sweep that cannot start leaves no file behind.
    store = None
    if path.exists():
        store = SweepStore.open(path, config.sweep_id, metadata, force=force)
    try:
        finished = store.finished_keys() if store is not None else set()
        pending = [run for run in config.runs if run.key not in finished]
        summary = SweepSummary(total=len(config.runs), skipped=len(config.runs) - len(pending))
        logger.info("%d runs, %d finished earlier", summary.total, summary.skipped)
        if not pending:
            return summary
        client, cluster = _client(scheduler, workers)
        futures = {}
        try:
            if store is None:
                store = SweepStore.open(path, config.sweep_id, metadata, force=force)
            summary.workers = len(client.scheduler_info()["workers"])
            futures = {client.submit(run_one, spec, key=f"flowphase-run-{spec.key}",
                                     pure=False): spec for spec in pending}
            with tqdm(total=summary.total, initial=summary.skipped, desc="sweep",
                      unit="run", disable=not show_progress) as bar:
                for future in as_completed(list(futures)):
                    spec = futures.pop(future)
                    _collect(store, future, spec, summary)
                    # Release the result, so that a lost worker does not make
                    # the scheduler compute a committed run again.
                    future.release()
                    bar.update(1)
        except BaseException:
            client.cancel(list(futures))
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return summary
    finally:
        if store is not None:
            store.close()


#: Arrays of ``n_samples * d`` float64 values one run keeps at once (an
#: estimate from the sampler: the samples, the velocity and two work arrays).
RUN_ARRAYS = 4


def _check_memory(config, n_workers):
    """Raise ValueError when the largest runs on ``n_workers`` local workers cannot fit."""
    from flowphase.report.config import _physical_memory

    available = _physical_memory()
    if available is None or not config.runs:
        return
    largest = max(run.n_samples * run.d for run in config.runs)
    needed = 8 * RUN_ARRAYS * largest * n_workers
    if needed > available:
        raise ValueError(
            f"the sweep's largest run needs an estimated {needed / n_workers / 2**30:.1f} GiB "
            f"of memory, {needed / 2**30:.1f} GiB on {n_workers} workers at once, more than "
            f"the {available / 2**30:.1f} GiB of this machine; use fewer --workers, fewer "
            "samples or smaller d")


def _collect(store, future, spec, summary):
    try:
        outcome = future.result()
    except Exception as error:  # a failed run must not stop the others
        logger.error("run %s (%s) failed: %s", spec.key, spec, error)
        summary.failed.append((spec, repr(error)))
        return
    try:
        store.insert(spec.key, spec.to_dict(), outcome)
    except sqlite3.IntegrityError:
        # Another sweep process on the same store committed this run first.
        logger.warning("run %s is already in the store; kept the stored row", spec.key)
        return
    summary.completed += 1
