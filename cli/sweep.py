"""The ``flowphase sweep`` command: run a TOML grid of runs on Dask.

Each run (one configuration and one seed) is committed to the SQLite store
when it finishes, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_parser(sub):
    """Add the ``sweep`` subcommand to the subparsers ``sub``."""
    parser = sub.add_parser(
        "sweep", help="run a grid of runs from a TOML file on Dask into a SQLite store",
        description="Run the Cartesian product of the grid in CONFIG (TOML) on "
                    "Dask, one task per configuration and seed, and commit each "
                    "finished run to a SQLite store. A rerun skips finished runs. "
                    "See docs/sweeps.md for the file format.")
    parser.add_argument("config", type=Path, help="sweep file (TOML)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS, help="log debug messages")
    parser.add_argument("--store", type=Path, default=None,
                        help="SQLite store (default: sweep.store of the file, or "
                             "sweep.sqlite beside it)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="address of a running Dask scheduler, e.g. "
                             "tcp://127.0.0.1:8786 (default: start a local cluster)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--force", action="store_true",
                        help="replace a store that contains a different sweep (only a "
                             "flowphase sweep store is ever replaced), an existing --csv "
                             "file, and an earlier --rates-out folder")
    parser.add_argument("--csv", type=Path, default=None,
                        help="after the sweep, export every record to this CSV file "
                             "(an existing file needs --force)")
    parser.add_argument("--rate", action="append", default=None, metavar="STATISTIC",
                        help="after the sweep, fit |mean - limit| ~ C d^(-a) of STATISTIC "
                             "(p_hat, sigma2_hat, M, or an overlap at a grid time such as "
                             "c@0.5); repeat for several")
    parser.add_argument("--rates-out", type=Path, default=None,
                        help="new folder for the --rate fits (default: the store's name "
                             "with -rates)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def run(args) -> int:
    """Run ``flowphase sweep`` with parsed ``args``; return the exit code."""
    from flowphase.sweeps.config import load_sweep

    config = load_sweep(args.config)
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.workers is not None and args.scheduler is not None:
        raise ValueError("--workers sets the local cluster; leave it out with --scheduler")
    store_path = args.store or config.store
    if args.csv is not None:
        _check_csv(args.csv, store_path, args.config)
    if args.csv is not None and not args.csv.resolve().parent.is_dir():
        raise ValueError(f"cannot write --csv '{args.csv}': its folder does not exist")
    if args.csv is not None and args.csv.exists() and not args.force:
        raise ValueError(f"--csv '{args.csv}' exists already; choose another file or "
                         "pass --force to replace it")

    from flowphase.sweeps.driver import run_sweep
    from flowphase.sweeps.store import SweepStore

    statistics, rates_out = _rate_request(args, config, store_path)
    summary = run_sweep(config, store_path=store_path, scheduler=args.scheduler,
                        workers=args.workers, force=args.force,
                        show_progress=not args.no_progress)
    print(f"sweep {config.name}: {summary.total} runs, {summary.skipped} finished "
          f"earlier, {summary.completed} run now on {summary.workers} workers, "
          f"{len(summary.failed)} failed; store {store_path}")
    if args.csv is not None:
        store = SweepStore.open(store_path, config.sweep_id, {})
        try:
            lines = store.export_csv(args.csv)
        finally:
            store.close()
        print(f"{lines} records written to {args.csv}")
    if statistics:
        store = SweepStore.open(store_path, config.sweep_id, {})
        try:
            rows = store.rows()
        finally:
            store.close()
        configuration = {"name": config.name, "sweep_id": config.sweep_id,
                         "grid": config.grid, "store": str(store_path)}
        _write_rates(rows, statistics, rates_out, args.force, configuration)
        print(f"rates written to {rates_out}/rates.md")
    return 1 if summary.failed else 0


def _check_csv(csv_path, store_path, config_path):
    """Raise ValueError when ``--csv`` would replace the store, the sweep file or a folder."""
    target = Path(csv_path).resolve()
    for label, other in (("the sweep store", store_path), ("the sweep file", config_path)):
        if target == Path(other).resolve():
            raise ValueError(f"--csv '{csv_path}' is {label}; choose another file name")
    if target.is_dir():
        raise ValueError(f"--csv '{csv_path}' is a folder; give a file name such as "
                         f"{Path(csv_path) / 'sweep.csv'}")


def _rate_request(args, config, store_path):
    """Parse ``--rate`` and check the ``--rates-out`` folder before the sweep runs."""
    from flowphase.report.output import check_destination
    from flowphase.sweeps.rates_report import parse_statistic
    from flowphase.sweeps.run import time_grid

    if not args.rate:
        if args.rates_out is not None:
            raise ValueError("--rates-out needs at least one --rate STATISTIC")
        return [], None
    statistics = [parse_statistic(text) for text in args.rate]
    times = {round(float(t), 9) for run in config.runs for t in time_grid(run.schedule,
                                                                          run.steps)[:-1]}
    for name, time_value in statistics:
        if time_value is not None and round(time_value, 9) not in times:
            raise ValueError(f"--rate {name}@{time_value:g}: no run has the grid time "
                             f"{time_value:g}; pick a time of the sweep's time grid")
    out = args.rates_out or Path(store_path).with_name(Path(store_path).stem + "-rates")
    if out.exists() and not args.force:
        raise ValueError(f"--rates-out '{out}' exists already; choose another folder or "
                         "pass --force to replace it")
    check_destination(out, args.force)
    return statistics, out


def _write_rates(rows, statistics, out, force, configuration):
    from flowphase.report import output
    from flowphase.sweeps.rates_report import write_rates

    staging = output.staging_folder(out)
    try:
        write_rates(rows, statistics, staging, configuration)
        output.publish(staging, out, force)
    except BaseException:
        output.discard(staging)
        raise
