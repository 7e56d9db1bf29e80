"""The ``flowphase figures`` command: proof-support figures in a new folder.

It runs the built-in sweeps of :mod:`flowphase.sweeps.figures` on Dask,
keeps their store (``sweep.sqlite``, with ``records.csv``) in the folder,
and writes the figures (PNG and PDF), ``figures.md`` and ``results.json``.
The folder is built under a hidden name and renamed into place at the end.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_parser(sub):
    """Add the ``figures`` subcommand to the subparsers ``sub``."""
    parser = sub.add_parser(
        "figures", help="proof-support figures: p_hat against kappa, rates against d",
        description="Run built-in sweeps on Dask and write a new folder with "
                    "proof-support figures (PNG and PDF), fitted convergence rates "
                    "with 95%% bootstrap intervals, 30-digit limits against the "
                    "double-precision numerics (figures.md), results.json and the "
                    "sweep store.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS, help="log debug messages")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default flowphase-figures, or "
                             "flowphase-figures-quick with --quick)")
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it is an earlier flowphase output")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sweeps (fewer dimensions, seeds and samples)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="address of a running Dask scheduler (default: local cluster)")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--store", type=Path, default=None,
                        help="SQLite store of the built-in sweeps, kept outside the folder "
                             "so that a rerun skips finished runs (default: a new store "
                             "inside the folder)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def run(args) -> int:
    """Run ``flowphase figures`` with parsed ``args``; return the exit code."""
    from flowphase.report.output import check_destination

    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    out = args.out or Path("flowphase-figures-quick" if args.quick else "flowphase-figures")
    check_destination(out, args.force)

    from flowphase.sweeps.build import build_figure_folder

    failed = build_figure_folder(out, quick=args.quick, force=args.force,
                                 scheduler=args.scheduler, workers=args.workers,
                                 show_progress=not args.no_progress, store=args.store)
    print(f"figures written to {out}/figures.md")
    return 1 if failed else 0
