"""The ``flowphase dynamics`` subcommand: its options and its printout.

The computation and the output folder are in :mod:`flowphase.report.dynamics`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowphase.arguments import finite_number
from flowphase.report.dynamics import DynamicsConfig, build_dynamics, quick_config


def _dims(text):
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid --dims {text!r}: give integers separated by commas, e.g. 256,1024"
        ) from None
    return values


def add_parser(sub):
    """Add the ``dynamics`` subcommand to the subparsers ``sub``."""
    parser = sub.add_parser(
        "dynamics", help="overlap ODEs of online SGD against finite-d SGD",
        description="Integrate the large-d overlap ODEs of online SGD at a few "
                    "times of each phase of the dilated schedule, run online SGD "
                    "at several dimensions and seeds, and write a new folder with "
                    "figures (PNG and PDF) and results.json.")

    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS, help="log debug messages")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default flowphase-dynamics, or "
                             "flowphase-dynamics-quick with --quick)")
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it is an earlier flowphase "
                             "output (any other existing folder is never touched)")
    parser.add_argument("--quick", action="store_true",
                        help="small configuration (dims 256,1024, 2 seeds, T = 2, "
                             "one time per phase)")

    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--dims", type=_dims, default=None,
                        help="dimensions, comma-separated (default 256,1024,4096)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="number of SGD seeds per dimension (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="first random seed (default 0)")
    parser.add_argument("--eta", type=finite_number, default=0.5,
                        help="SGD learning rate eta, > 0 (default 0.5)")
    parser.add_argument("--T", dest="T_end", type=finite_number, default=None,
                        help="training time T = steps*eta/d to reach (default 5)")

    parser.add_argument("--p", type=finite_number, default=0.8,
                        help="weight of the +mu mode, in (0, 1) (default 0.8)")
    parser.add_argument("--sigma", type=finite_number, default=1.0,
                        help="within-mode standard deviation, > 0 (default 1)")
    parser.add_argument("--kappa", type=finite_number, default=2.0,
                        help="dilation parameter, > 0 (default 2)")
    return parser


def _config(args) -> DynamicsConfig:
    values = dict(p=args.p, sigma=args.sigma, kappa=args.kappa, eta=args.eta,
                  seed=args.seed)
    for name, value in (("dims", args.dims), ("n_seeds", args.seeds),
                        ("T_end", args.T_end)):
        if value is not None:
            values[name] = value
    return quick_config(**values) if args.quick else DynamicsConfig(**values)


def run(args):
    """Run ``flowphase dynamics`` with parsed ``args`` and print where it wrote."""
    from flowphase.report.output import check_destination

    config = _config(args)
    out = args.out or Path("flowphase-dynamics-quick" if args.quick else "flowphase-dynamics")
    check_destination(out, args.force)

    path, results = build_dynamics(config, out, force=args.force,
                                   show_progress=not args.no_progress)
    print(f"dynamics written to {path}")
    for case in results["cases"]:
        slope = case.get("deviation_slope")
        slope_text = (f", log-log slope {slope['slope']:.2f} +- {slope['stderr']:.2f}"
                      if slope else "")
        print(f"phase {case['phase']} at {case['time_name']} = {case['time']:g}: "
              f"max |SGD mean - ODE| over T and overlaps{slope_text}")
        for d, row in case["sgd"].items():
            deviations = ", ".join(f"{label} ODE {value:.4f}"
                                   for label, value in row["max_deviation"].items())
            print(f"  d={d}: {deviations}")
    window = results["undilated"]
    if window is not None:
        slope = window["half_width_slope"]
        slope_text = f", log-log slope {slope['slope']:.3f} +- {slope['stderr']:.3f}" if slope else ""
        print(f"linear schedule: half-width of the window where b learns{slope_text} "
              f"(d -> oo: {window['window_half_theta']:.4f}/sqrt(d))")
        for row in window["dims"]:
            change = row["sgd_bias_change"]
            print(f"  d={row['d']}: half-width {row['half_width']:.5f}, SGD |change of b| "
                  f"{change['window']['min']:.3g} at t = 1/sqrt(d), "
                  f"{change['fixed']['max']:.3g} at t = {window['fixed_time']:g}")
