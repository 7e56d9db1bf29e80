"""The ``flowphase`` command line: ``report``, ``derive``, ``dynamics`` and ``uturn``."""

import argparse
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from flowphase import __version__
from flowphase import dynamics, uturn
from flowphase import figures as figures_command
from flowphase import sweep as sweep_command
from flowphase.arguments import finite_number

logger = logging.getLogger("flowphase")


def _dims(text):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid --dims {text!r}: give integers separated by commas, e.g. 128,512"
        ) from None
    return tuple(values)


def _file_path(text):
    """Parse a file name, rejecting one that ends in a path separator."""
    if text.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(
            f"invalid --out {text!r}: it names a folder; give a file name such as "
            f"{text}equations.tex")
    return Path(text)


class _Parser(argparse.ArgumentParser):
    """Argument parser whose errors are one line naming the value."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser():
    parser = _Parser(
        prog="flowphase",
        description="Phase-aware training of flow-based generative models: "
                    "derivations, numerics and finite-d validation.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{report,derive,dynamics,uturn,sweep,figures}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="log debug messages")

    report = sub.add_parser(
        "report", parents=[common], help="train, sample and compare with the theory",
        description="Train one autoencoder per grid time at each dimension, sample "
                    "with the trained networks, and compare every number with the "
                    "exact finite-d theory and its d -> oo limit. Writes a new "
                    "folder with report.md, equations.tex, figures (PNG and PDF) "
                    "and results.json. The dilated schedule needs d > kappa**2.")
    report.add_argument("--out", type=Path, default=None,
                        help="output folder (default: flowphase-report, or "
                             "flowphase-report-quick with --quick)")
    report.add_argument("--force", action="store_true",
                        help="replace the output folder if it is an earlier flowphase report "
                             "(any other existing folder is never touched)")
    report.add_argument("--quick", action="store_true",
                        help="small configuration (dims 64,256, 10 steps per phase, "
                             "2000 samples, shorter training) that finishes in under a minute")
    report.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    report.add_argument("--p", type=finite_number, default=0.8,
                        help="weight of the +mu mode, in (0, 1) (default 0.8)")
    report.add_argument("--sigma", type=finite_number, default=1.0,
                        help="within-mode standard deviation, > 0 (default 1)")
    report.add_argument("--kappa", type=finite_number, default=2.0,
                        help="dilation parameter, > 0 (default 2)")
    report.add_argument("--dims", type=_dims, default=None,
                        help="dimensions, comma-separated (default 128,512,2048; "
                             "64,256 with --quick)")
    report.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    derive = sub.add_parser(
        "derive", parents=[common], help="print the derived equations and write LaTeX",
        description="Print the symbolic results (exact denoiser, velocity field, "
                    "optimal overlaps, their large-d limits, summary flows) for the "
                    "dilated schedule, or for a custom schedule given by --alpha and "
                    "--beta, and write them as a LaTeX document.")
    derive.add_argument("--out", type=_file_path, default=Path("flowphase-equations.tex"),
                        help="LaTeX file to write (default flowphase-equations.tex)")
    derive.add_argument("--force", action="store_true", help="replace the file if it exists")
    derive.add_argument("--alpha", default=None,
                        help="noise coefficient alpha(t) of a custom schedule on [0, 1]: "
                             "a formula in t, d, kappa, pi, E with + - * / ** and sqrt, "
                             "exp, log, sin, cos, tan, sinh, cosh, tanh, atan, abs, min, "
                             "max (needs --beta)")
    derive.add_argument("--beta", default=None,
                        help="data coefficient beta(t) of the custom schedule (needs --alpha)")
    dynamics.add_parser(sub)
    uturn.add_parser(sub)
    sweep_command.add_parser(sub)
    figures_command.add_parser(sub)
    return parser


def _report(args):
    from flowphase.report.config import ReportConfig, quick_config
    from flowphase.report.output import check_destination

    values = dict(p=args.p, sigma=args.sigma, kappa=args.kappa, seed=args.seed)
    if args.dims is not None:
        values["dims"] = args.dims
    config = quick_config(**values) if args.quick else ReportConfig(**values)
    out = args.out or Path("flowphase-report-quick" if args.quick else "flowphase-report")
    # Check the input before importing the numerical layers, which are slow
    # to import, so that a typo fails at once.
    check_destination(out, args.force)

    from flowphase.report.build import build_report

    path, checks = build_report(config, out, force=args.force,
                                show_progress=not args.no_progress)
    failed = [row for row in checks if not row["passed"]]
    print(f"report written to {path}/report.md")
    print(f"checks: {len(checks) - len(failed)} of {len(checks)} within tolerance")
    for row in failed:
        print(f"  outside tolerance: {row['schedule']} d={row['d']} {row['quantity']} "
              f"at time {row['time']:g}: error {row['error']:.4g} > {row['tolerance']}",
              file=sys.stderr)


def _derive(args):
    from flowphase.theory.latex import derivation_equations, to_latex_document
    from flowphase.theory.schedules import schedule_from_text

    if (args.alpha is None) != (args.beta is None):
        raise ValueError("give both --alpha and --beta for a custom schedule, or neither")
    schedule = None
    if args.alpha is not None:
        schedule = schedule_from_text(args.alpha, args.beta)
    _check_file_destination(args.out, args.force)
    try:
        document = to_latex_document(schedule=schedule)
        equations = derivation_equations(schedule) if schedule else derivation_equations()
    except (NotImplementedError, RecursionError, KeyError, TypeError, AttributeError) as error:
        if schedule is None:
            raise
        # SymPy fails in several ways on limits it cannot take; name the cause.
        raise ValueError(
            f"SymPy could not derive the large-d limits of the custom schedule "
            f"({type(error).__name__}: {str(error)[:200]}); try a simpler formula"
        ) from None
    for label, equation, description in equations:
        print(f"[{label}] {description}")
        print(f"    {equation}")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=args.out.resolve().parent,
                                     prefix=f".{args.out.name}.", delete=False) as handle:
        handle.write(document)
    # NamedTemporaryFile is private (0600); give the file the usual mode.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(handle.name, 0o666 & ~umask)
    os.replace(handle.name, args.out)
    print(f"LaTeX written to {args.out}")


def _check_file_destination(path, force):
    from flowphase.report.output import OutputError

    if path.is_dir():
        raise OutputError(f"--out '{path}' is a folder; give a file name such as equations.tex")
    if path.exists() and not force:
        raise OutputError(f"'{path}' exists already; pass --force to replace it")
    if path.exists() and not path.is_file():
        raise OutputError(f"--out '{path}' is not a regular file; give a file name "
                          "such as equations.tex")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise OutputError(f"cannot write '{path}': folder '{parent}' does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write into '{parent}' (permission denied); choose another --out")


def main(argv=None):
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "report":
            _report(args)
        elif args.command == "dynamics":
            dynamics.run(args)
        elif args.command == "uturn":
            uturn.run(args)
        elif args.command == "sweep":
            return sweep_command.run(args)
        elif args.command == "figures":
            return figures_command.run(args)
        else:
            _derive(args)
    except (ValueError, OSError) as error:
        print(f"flowphase: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        # 128 + the signal number, as shells report it.
        code = 143 if isinstance(interrupt, Terminated) else 130
        if args.command == "sweep":
            print("flowphase: interrupted; finished runs are kept in the store, "
                  "rerun the same command to resume", file=sys.stderr)
        else:
            print("flowphase: interrupted; no output was written", file=sys.stderr)
        return code
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that unfinished output is removed."""


def _terminate(signum, frame):
    raise Terminated


def console_main():
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
