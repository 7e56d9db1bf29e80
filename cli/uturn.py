"""The ``flowphase uturn`` command: feature-decision times and phase-aware training.

On the unbalanced 0/1 digits the command measures the U-turn flip curve
and its decision interval, then trains with uniform and with phase-aware
times on the same budget over several seeds. On the Gaussian mixture it
compares simulated flip curves at several ``d`` with the ``d -> oo``
theory. It writes a new folder with ``report.md``, figures and
``results.json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowphase.arguments import finite_number


def _int_list(text):
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid list {text!r}: give integers separated by commas, e.g. 300,1000"
        ) from None
    return values


def add_parser(sub):
    """Add the ``uturn`` subcommand to the subparsers ``sub``."""
    parser = sub.add_parser(
        "uturn", help="U-turn decision times and phase-aware training on digits",
        description="Measure when the class of a 0/1 digit is decided along the flow "
                    "(the U-turn probe), train with uniform and with phase-aware "
                    "training times on the same budget over several seeds, and compare "
                    "the mixture's simulated flip curve with the d -> oo theory. Writes "
                    "a new folder with report.md, figures (PNG and PDF) and results.json.")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=argparse.SUPPRESS, help="log debug messages")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default flowphase-uturn, or "
                             "flowphase-uturn-quick with --quick)")
    parser.add_argument("--force", action="store_true",
                        help="replace the output folder if it is an earlier flowphase "
                             "output (any other existing folder is never touched)")
    parser.add_argument("--quick", action="store_true",
                        help="small configuration (3 seeds, one budget of 150 steps, "
                             "dims 32,128) that finishes in well under a minute")
    parser.add_argument("--mnist-dir", type=Path, default=None,
                        help="folder with MNIST train-images-idx3-ubyte and "
                             "train-labels-idx1-ubyte (optionally .gz) to use instead of "
                             "the scikit-learn digits")
    parser.add_argument("--seed", type=int, default=0, help="first random seed (default 0)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="number of training seeds per scheme and budget (default 8)")
    parser.add_argument("--budgets", type=_int_list, default=None,
                        help="Adam steps per training run, comma-separated (default 100,300,1000)")
    parser.add_argument("--weight", type=finite_number, default=None,
                        help="probability that a phase-aware training time is drawn from "
                             "the decision interval, in [0, 1] (default 0.5)")
    parser.add_argument("--dims", type=_int_list, default=None,
                        help="mixture dimensions, comma-separated (default 32,128,512,2048)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _config(args):
    from flowphase.report.uturn_config import UturnConfig, quick_config

    values = {"seed": args.seed}
    for name, value in (("n_seeds", args.seeds), ("budgets", args.budgets),
                        ("weight", args.weight), ("dims", args.dims),
                        ("mnist_dir", args.mnist_dir)):
        if value is not None:
            values[name] = value
    return quick_config(**values) if args.quick else UturnConfig(**values)


def run(args):
    """Run ``flowphase uturn`` with parsed ``args`` and print the headline numbers."""
    from flowphase.report.output import check_destination

    from flowphase.validation.digits import find_mnist_files

    config = _config(args)
    if config.mnist_dir is not None:
        # Checked before any work, so that a wrong folder fails at once.
        find_mnist_files(config.mnist_dir)
    out = args.out or Path("flowphase-uturn-quick" if args.quick else "flowphase-uturn")
    check_destination(out, args.force)

    from flowphase.report.uturn_build import build_uturn
    from flowphase.report.uturn_markdown import verdict

    path, results = build_uturn(config, out, force=args.force,
                                show_progress=not args.no_progress)
    probe = results["digits"]["probe"]
    print(f"U-turn report written to {path}/report.md")
    print(f"digits: decision interval [{probe['interval'][0]:.3f}, {probe['interval'][1]:.3f}]")
    for row in results["digits"]["summary"]:
        uniform, phase = row["uniform_ratio_error"], row["phase_aware_ratio_error"]
        print(f"  {row['budget']} steps: class-ratio error uniform {uniform[0]:.3f} "
              f"[{uniform[1]:.3f}, {uniform[2]:.3f}], phase-aware {phase[0]:.3f} "
              f"[{phase[1]:.3f}, {phase[2]:.3f}]; {verdict(row, config.n_seeds)}")
    for d, row in results["mixture"]["simulated"].items():
        print(f"mixture d={d}: max |simulation - theory| {row['max_gap']:.4f} "
              f"(max standard error {row['max_standard_error']:.4f}), max paired gap "
              f"{row['max_paired_gap']:.4f} (max standard error "
              f"{row['max_paired_standard_error']:.4f})")
