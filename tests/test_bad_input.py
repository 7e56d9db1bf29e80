"""Every bad input listed in docs/bad-input.md gets its documented error.

Command-line rows run ``flowphase.cli.main`` in a fresh working folder
and check the exit code, a distinctive part of the message on stderr,
and that the folder is unchanged afterwards. API rows check the
exception type and a distinctive part of its message. The last test
checks that the page and these tables list the same inputs.
"""

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from flowphase.cli import main
from flowphase.numerics.sampler_stats import sampler_statistics
from flowphase.numerics.sgd_ode import fixed_point, integrate_phase_one, phase_one_params
from flowphase.numerics.sgd_undilated import WINDOW_STATE, finite_d_drift
from flowphase.report.dynamics import DynamicsConfig
from flowphase.report.config import ConfigError, ReportConfig, quick_config
from flowphase.theory.expressions import ExpressionError, parse_expression
from flowphase.theory.model import optimal_overlaps_numeric
from flowphase.theory.schedules import (
    ScheduleError,
    dilated_schedule,
    linear_schedule,
    schedule_from_pieces,
    schedule_from_text,
)
from flowphase.theory.symbols import d, kappa, t
from flowphase.validation.online_sgd import run_online_sgd
from flowphase.validation.training import TrainingConfig

PAGE = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"
VARIABLES = {"t": t, "d": d, "kappa": kappa}
LINEAR_GRID = [0, 0.5, 1]
# A phase-1 state where tanh saturates, so that the drift's Jacobian is singular.
FLAT_STATE = (0.0, -20.0, 1.0, 1.0, 1.0, 1.0)


# -- command line ---------------------------------------------------------------


def _make_folder(path, name, content):
    (path / name).mkdir()
    (path / name / "keep.txt").write_text(content)


def _existing_folder(path):
    _make_folder(path, "out", "earlier result")


def _foreign_folder(path):
    _make_folder(path, "thesis", "draft")


def _report_in_cwd(path):
    (path / "results.json").write_text('{"generator": "flowphase report"}')


def _existing_tex(path):
    (path / "eq.tex").write_text("earlier equations")


def _named_pipe(path):
    os.mkfifo(path / "pipe")


def _sweep_file(name, text):
    """Return a setup that writes the sweep file ``name`` into the folder."""

    def setup(path):
        (path / name).write_text(text)

    setup.__name__ = f"_sweep_file_{name}"
    return setup


SWEEP_FILES = {
    "colour.toml": "[grid]\nd = [16]\ncolour = [1]\n",
    "type.toml": "[grid]\nd = ['a']\n",
    "range.toml": "[grid]\nd = [16]\np = [2.0]\n",
    "empty.toml": "[grid]\nd = []\n",
    "good.toml": "[grid]\nd = [16, 36]\nsteps = 4\n",
    "big.toml": "[grid]\nd = [1000000]\nn_samples = [500]\n",
}


@dataclass(frozen=True)
class CliCase:
    """One command line, the text its error must contain, and its setup."""

    arguments: tuple
    message: str
    setup: Callable | None = None
    code: int = 2

    @property
    def command(self):
        return " ".join(["flowphase", *(_shell_word(word) for word in self.arguments)])


def _shell_word(word):
    """Quote ``word`` as a POSIX shell would need it, for the page."""
    if word and re.fullmatch(r"[\w.,/=+-]+", word):
        return word
    if "'" in word and not re.search(r'["$`\\!]', word):
        return f'"{word}"'
    return "'" + word.replace("'", "'\\''") + "'"


def _report(*arguments, **options):
    return CliCase(("report", "--quick", "--out", "out", *arguments), **options)


def _dynamics(*arguments, **options):
    return CliCase(("dynamics", "--quick", "--out", "out", *arguments), **options)


def _derive(alpha, beta, *, out="eq.tex", **options):
    return CliCase(("derive", "--alpha", alpha, "--beta", beta, "--out", out), **options)


CLI_CASES = [
    _report("--p", "1.5", message="`p` must lie in (0, 1), got 1.5"),
    _report("--p", "0", message="`p` must lie in (0, 1), got 0.0"),
    _report("--p", "1e-12", message="is too close to 0 or 1 for double precision"),
    _report("--p", "nan", message="invalid number 'nan'"),
    _report("--p", "abc", message="invalid number 'abc'"),
    _report("--sigma", "0", message="`sigma` must be > 0, got 0.0"),
    _report("--sigma", "1e-5", message="outside the supported range [0.001, 1000]"),
    _report("--sigma", "1e5", message="`sigma` = 100000.0 is outside the supported"),
    _report("--kappa", "-1", message="`kappa` must be > 0, got -1.0"),
    _report("--kappa", "inf", message="invalid number 'inf': must be finite"),
    _report("--kappa", "1e200", message="got kappa=1e+200 with d=64: use d > kappa**2 = inf"),
    _report("--dims", "1", message="must be an integer >= 2, got 1"),
    _report("--dims", "4", message="needs kappa < sqrt(d); got kappa=2.0 with d=4"),
    _report("--dims", "12,x", message="invalid --dims '12,x'"),
    _report("--dims", "64.5", message="invalid --dims '64.5'"),
    _report("--dims", "", message="`dims` must list at least one dimension"),
    _report("--dims", "64,64", message="`dims` lists a dimension twice: [64, 64]"),
    _report("--dims", "100000000", message="needs an estimated"),
    _report("--seed", "-1", message="`seed` must be a non-negative integer, got -1"),
    _report("--seed", "x", message="argument --seed: invalid int value: 'x'"),
    _report("--steps", "5", message="unrecognized arguments: --steps 5"),
    CliCase((), message="the following arguments are required"),
    CliCase(("train",), message="invalid choice: 'train'"),
    _report(message="output folder 'out' exists already", setup=_existing_folder),
    CliCase(("report", "--quick", "--out", "missing/out"),
            message="its parent folder"),
    CliCase(("report", "--quick", "--out", "thesis", "--force"),
            message="'thesis' is not a flowphase output folder", setup=_foreign_folder),
    CliCase(("report", "--quick", "--out", ".", "--force"),
            message="contains the current folder", setup=_report_in_cwd),
    CliCase(("sweep", "colour.toml"), message="grid.colour: unknown key",
            setup=_sweep_file("colour.toml", SWEEP_FILES["colour.toml"])),
    CliCase(("sweep", "type.toml"), message="grid.d: expected an integer, got 'a' (str)",
            setup=_sweep_file("type.toml", SWEEP_FILES["type.toml"])),
    CliCase(("sweep", "range.toml"), message="grid.p: 2.0 is out of range",
            setup=_sweep_file("range.toml", SWEEP_FILES["range.toml"])),
    CliCase(("sweep", "empty.toml"), message="grid.d: the list is empty",
            setup=_sweep_file("empty.toml", SWEEP_FILES["empty.toml"])),
    CliCase(("sweep", "missing.toml"), message="sweep file 'missing.toml' not found"),
    CliCase(("sweep", "big.toml", "--workers", "2"),
            message="the sweep's largest run needs an estimated 14.9 GiB of memory",
            setup=_sweep_file("big.toml", SWEEP_FILES["big.toml"])),
    CliCase(("sweep", "good.toml", "--rate", "c@0.33"),
            message="no run has the grid time 0.33",
            setup=_sweep_file("good.toml", SWEEP_FILES["good.toml"])),
    CliCase(("figures", "--workers", "0"), message="--workers must be >= 1, got 0"),
    CliCase(("derive", "--alpha", "1 - t"), message="give both --alpha and --beta"),
    CliCase(("derive", "--beta", "t"), message="give both --alpha and --beta"),
    _derive("1 - x", "x", message="name 'x' is not allowed"),
    _derive("__import__('os').system('echo owned')", "t",
            message="attribute access \"__import__('os').system\" is not allowed"),
    _derive("__import__('os').system('touch owned')", "t",
            message="attribute access \"__import__('os').system\" is not allowed"),
    _derive("t.__class__", "t", message="attribute access 't.__class__' is not allowed"),
    _derive("(lambda: 1)()", "t", message="lambda expression 'lambda: 1' is not allowed"),
    _derive("", "t", message="the text is empty"),
    _derive("1/0", "t", message="'1/0' evaluates to zoo, which is not finite"),
    _derive("10**10**10", "t", message="is too large to compute exactly"),
    _derive("1 - 2*t", "t", message="alpha(1) must be 0, got -1"),
    _derive("1", "1", message="do not depend on t"),
    _derive("1 - t", "t", out=".", message="--out '.' is a folder"),
    _derive("1 - t", "t", message="'eq.tex' exists already; pass --force",
            setup=_existing_tex),
    _derive("1 - t", "t", out="missing/eq.tex", message="does not exist; create it first"),
    CliCase(("derive", "--alpha", "1 - t", "--beta", "t", "--out", "pipe", "--force"),
            message="--out 'pipe' is not a regular file", setup=_named_pipe),
    _dynamics("--p", "1", message="--p must lie in (0, 1), got 1.0"),
    _dynamics("--p", "nan", message="argument --p: invalid number 'nan': must be finite"),
    _dynamics("--p", "1e-9", message="--p = 1e-09 is too close to 0 or 1"),
    _dynamics("--sigma", "-1", message="got sigma=-1.0, kappa=2.0, eta=0.5"),
    _dynamics("--eta", "0", message="got sigma=1.0, kappa=2.0, eta=0.0"),
    _dynamics("--eta", "inf", message="argument --eta: invalid number 'inf': must be finite"),
    _dynamics("--eta", "5000", message="overlap ODE failed at T = "),
    _dynamics("--T", "0", message="--T must be > 0, got 0.0"),
    _dynamics("--T", "inf", message="argument --T: invalid number 'inf': must be finite"),
    _dynamics("--seeds", "0", message="--seeds must be >= 1, got 0"),
    _dynamics("--kappa", "20", message="every d > kappa**2 = 400, got (256, 1024)"),
    _dynamics("--dims", "256,x", message="invalid --dims '256,x'"),
    _dynamics("--dims", "256,1000000000", message="needs an estimated"),
    _dynamics(message="output folder 'out' exists already", setup=_existing_folder),
    _dynamics("--eta", "1e-12", message="SGD steps per seed (T*d/eta summed over its runs)"),
    _dynamics("--sigma", "1e6", message="--sigma = 1000000.0 is outside the supported range"),
    CliCase(("uturn", "--quick", "--out", "out", "--dims", "1000000000"),
            message="the mixture probe at d=1000000000 with 500 samples needs an estimated"),
    CliCase(("uturn", "--quick", "--out", "out", "--seed", "4294967296"),
            message="`seed` (--seed) must be at most 4294967295"),
    CliCase(("derive", "--out", "sub/"), message="invalid --out 'sub/': it names a folder"),
    _derive("1 - t", "t + 1e-300*sin(1e300*t)",
            message="SymPy could not derive the large-d limits of the custom schedule"),
]


def _snapshot(folder):
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def no_report_run(monkeypatch):
    """Replace build_report so that an accepted input fails at once, not after a run."""

    def build_report(*args, **kwargs):
        raise AssertionError("the bad input was accepted and the report started")

    monkeypatch.setattr("flowphase.report.build.build_report", build_report)


@pytest.mark.parametrize("case", CLI_CASES, ids=[case.command for case in CLI_CASES])
def test_cli_bad_input(case, tmp_path, monkeypatch, capsys, no_report_run):
    monkeypatch.chdir(tmp_path)
    if case.setup is not None:
        case.setup(tmp_path)
    before = _snapshot(tmp_path)

    try:
        code = main(list(case.arguments))
    except SystemExit as exit_:
        code = exit_.code
    output = capsys.readouterr()

    assert code == case.code
    assert case.message in output.err
    # A logged warning may come first; the error itself is the last line.
    assert output.err.splitlines()[-1].startswith("flowphase")
    assert "Traceback" not in output.err
    assert "owned" not in output.out
    assert _snapshot(tmp_path) == before


# -- Python API -------------------------------------------------------------------


@dataclass(frozen=True)
class ApiCase:
    """One call as written in the page, its error type and message part."""

    call: str
    action: Callable
    error: type
    message: str


API_CASES = [
    ApiCase("ReportConfig(p='0.8')", lambda: ReportConfig(p="0.8"),
            ConfigError, "`p` must be a number, got '0.8'"),
    ApiCase("ReportConfig(p=True)", lambda: ReportConfig(p=True),
            ConfigError, "`p` must be a number, got True"),
    ApiCase("ReportConfig(sigma=math.nan)", lambda: ReportConfig(sigma=math.nan),
            ConfigError, "`sigma` must be finite, got nan"),
    ApiCase("ReportConfig(dims=64)", lambda: ReportConfig(dims=64),
            ConfigError, "`dims` must be a tuple of integers"),
    ApiCase("ReportConfig(dims=(64.0,))", lambda: ReportConfig(dims=(64.0,)),
            ConfigError, "must be an integer >= 2, got 64.0"),
    ApiCase("ReportConfig(seed=1.5)", lambda: ReportConfig(seed=1.5),
            ConfigError, "`seed` must be a non-negative integer, got 1.5"),
    ApiCase("ReportConfig(steps_per_phase=1)", lambda: ReportConfig(steps_per_phase=1),
            ConfigError, "`steps_per_phase` must be an integer >= 2, got 1"),
    ApiCase("ReportConfig(n_samples=10)", lambda: ReportConfig(n_samples=10),
            ConfigError, "`n_samples` must be an integer >= 100, got 10"),
    ApiCase("ReportConfig(training=None)", lambda: ReportConfig(training=None),
            ConfigError, "`training` must be a TrainingConfig, got NoneType"),
    ApiCase("ReportConfig(dims=(10**9,))", lambda: ReportConfig(dims=(10**9,)),
            ConfigError, "the report at d=1000000000 needs an estimated"),
    ApiCase("quick_config(steps=5)", lambda: quick_config(steps=5),
            TypeError, "unexpected keyword argument 'steps'"),
    ApiCase("TrainingConfig(batch_size=0)", lambda: TrainingConfig(batch_size=0),
            ValueError, "training `batch_size` must be an integer >= 2, got 0"),
    ApiCase("dilated_schedule(-1)", lambda: dilated_schedule(-1),
            ScheduleError, "dilated schedule needs kappa > 0, got kappa=-1"),
    ApiCase("dilated_schedule(math.nan)", lambda: dilated_schedule(math.nan),
            ScheduleError, "needs a finite kappa > 0, got kappa=nan"),
    ApiCase("dilated_schedule('2')", lambda: dilated_schedule("2"),
            TypeError, "kappa must be a number, got str '2'"),
    ApiCase("dilated_schedule(4).check(d=16)", lambda: dilated_schedule(4).check(d=16),
            ScheduleError, "needs kappa < sqrt(d), got kappa=4, d=16"),
    ApiCase("linear_schedule().rates(1.5, d=None)",
            lambda: linear_schedule().rates(1.5, d=None),
            ValueError, "time t=1.5 is outside schedule 'linear'"),
    ApiCase("linear_schedule().rates(math.nan, d=None)",
            lambda: linear_schedule().rates(math.nan, d=None),
            ValueError, "time must be finite, got nan"),
    ApiCase("linear_schedule().rates(1.0, d=None)",
            lambda: linear_schedule().rates(1.0, d=None),
            ValueError, "no piece to the right of its end t=1. Use side='left'"),
    ApiCase("dilated_schedule(2).rates(0.5, d=None)",
            lambda: dilated_schedule(2).rates(0.5, d=None),
            ValueError, "schedule 'dilated' depends on d"),
    ApiCase("linear_schedule().rates(0.5, d=None, kappa=2)",
            lambda: linear_schedule().rates(0.5, d=None, kappa=2),
            ValueError, "schedule 'linear' has no parameter 'kappa'"),
    ApiCase("dilated_schedule(2).rates(1.5, d=2)",
            lambda: dilated_schedule(2).rates(1.5, d=2),
            ScheduleError, "needs kappa < sqrt(d), got kappa=2, d=2"),
    ApiCase("linear_schedule().rates(0.5, d=None, side='up')",
            lambda: linear_schedule().rates(0.5, d=None, side="up"),
            ValueError, "side must be 'right' or 'left', got 'up'"),
    ApiCase("parse_expression(5, VARIABLES)", lambda: parse_expression(5, VARIABLES),
            TypeError, "expression text must be a str, got int"),
    ApiCase("parse_expression('t+' * 250 + 't', VARIABLES)",
            lambda: parse_expression("t+" * 250 + "t", VARIABLES),
            ExpressionError, "it has 501 characters, more than the maximum of 400"),
    ApiCase("parse_expression('1 - (t', VARIABLES)",
            lambda: parse_expression("1 - (t", VARIABLES),
            ExpressionError, "it is not valid syntax"),
    ApiCase("parse_expression('sqrt(-1)', VARIABLES)",
            lambda: parse_expression("sqrt(-1)", VARIABLES),
            ExpressionError, "evaluates to I, which is not real"),
    ApiCase("parse_expression('log(t, base=2)', VARIABLES)",
            lambda: parse_expression("log(t, base=2)", VARIABLES),
            ExpressionError, "keyword arguments in the call of 'log' are not allowed"),
    ApiCase("parse_expression(\"'t'\", VARIABLES)",
            lambda: parse_expression("'t'", VARIABLES),
            ExpressionError, "string \"'t'\" is not allowed"),
    ApiCase("parse_expression('t < 1', VARIABLES)",
            lambda: parse_expression("t < 1", VARIABLES),
            ExpressionError, "comparison 't < 1' is not allowed"),
    ApiCase("parse_expression('t % 2', VARIABLES)",
            lambda: parse_expression("t % 2", VARIABLES),
            ExpressionError, "operator '%' is not allowed"),
    ApiCase("parse_expression('sqrt', VARIABLES)",
            lambda: parse_expression("sqrt", VARIABLES),
            ExpressionError, "function 'sqrt' is used without a call"),
    ApiCase("parse_expression('sqrt(t, 2)', VARIABLES)",
            lambda: parse_expression("sqrt(t, 2)", VARIABLES),
            ExpressionError, "sqrt takes 1 argument(s), got 2"),
    ApiCase("parse_expression('1e400', VARIABLES)",
            lambda: parse_expression("1e400", VARIABLES),
            ExpressionError, "the number 1e400 is outside the float range"),
    ApiCase("schedule_from_pieces([(0, 0.5, '1 - t', 't'), (0.6, 1, '1 - t', 't')])",
            lambda: schedule_from_pieces([(0, 0.5, "1 - t", "t"), (0.6, 1, "1 - t", "t")]),
            ScheduleError, "piece 0 ends at t=1/2 but piece 1 starts at t=3/5"),
    ApiCase("schedule_from_pieces([(0, 1, '1 - t')])",
            lambda: schedule_from_pieces([(0, 1, "1 - t")]),
            TypeError, "piece 0 must be a tuple (start, end, alpha, beta)"),
    ApiCase("schedule_from_text('1 - t', 't + 1/2 - t/2')",
            lambda: schedule_from_text("1 - t", "t + 1/2 - t/2"),
            ScheduleError, "beta(0) must be 0, got 0.5"),
    ApiCase("schedule_from_text('4*(1 - t)*(1/2 - t)**2', 't')",
            lambda: schedule_from_text("4*(1 - t)*(1/2 - t)**2", "t"),
            ScheduleError, "alpha must be > 0 before the end t=1, got alpha(0.5) = 0"),
    ApiCase("schedule_from_text('1 - t', 't', end='x')",
            lambda: schedule_from_text("1 - t", "t", end="x"),
            ExpressionError, "end of piece 0: invalid expression 'x'"),
    ApiCase("schedule_from_text(1 - t, 't')  # t a SymPy symbol",
            lambda: schedule_from_text(1 - t, "t"),
            TypeError, "alpha on [0, 1] must be formula text, got Add"),
    ApiCase("sampler_statistics(linear_schedule(), [0, 0.5, 1], d=64, p=1.0, sigma=1)",
            lambda: sampler_statistics(linear_schedule(), LINEAR_GRID, d=64, p=1.0, sigma=1),
            ValueError, "p must lie in (0, 1), got p=1.0"),
    ApiCase("sampler_statistics(linear_schedule(), [0, 0.5, 1], d=64, p=0.8, "
            "sigma=math.inf)",
            lambda: sampler_statistics(linear_schedule(), LINEAR_GRID, d=64, p=0.8,
                                       sigma=math.inf),
            ValueError, "sigma must be positive and finite, got sigma=inf"),
    ApiCase("sampler_statistics(linear_schedule(), [0, 0.5, 1], d=1, p=0.8, sigma=1)",
            lambda: sampler_statistics(linear_schedule(), LINEAR_GRID, d=1, p=0.8, sigma=1),
            ValueError, "d must be a number greater than 1 or math.inf"),
    ApiCase("sampler_statistics(linear_schedule(), [0, 0.5, 1], d=math.inf, p=0.5, "
            "sigma=1)",
            lambda: sampler_statistics(linear_schedule(), LINEAR_GRID, d=math.inf, p=0.5,
                                       sigma=1),
            NotImplementedError, "omega -> 0 and p = 1/2"),
    ApiCase("sampler_statistics(linear_schedule(), [1, 0.5, 0], d=64, p=0.8, sigma=1)",
            lambda: sampler_statistics(linear_schedule(), [1, 0.5, 0], d=64, p=0.8,
                                       sigma=1),
            ValueError, "grid[1] = 1/2 follows grid[0] = 1"),
    ApiCase("sampler_statistics(linear_schedule(), [0, 0.5, 1.5], d=64, p=0.8, sigma=1)",
            lambda: sampler_statistics(linear_schedule(), [0, 0.5, 1.5], d=64, p=0.8,
                                       sigma=1),
            ValueError, "grid [0, 3/2] leaves schedule 'linear'"),
    ApiCase("sampler_statistics(linear_schedule(), [0], d=64, p=0.8, sigma=1)",
            lambda: sampler_statistics(linear_schedule(), [0], d=64, p=0.8, sigma=1),
            ValueError, "grid needs at least two times, got 1"),
    ApiCase("sampler_statistics(linear_schedule(), [0, math.nan, 1], d=64, p=0.8, "
            "sigma=1)",
            lambda: sampler_statistics(linear_schedule(), [0, math.nan, 1], d=64, p=0.8,
                                       sigma=1),
            ValueError, "grid time must be finite, got nan"),
    ApiCase("optimal_overlaps_numeric(linear_schedule(), [0.5], d=64, p=0.0, sigma=1)",
            lambda: optimal_overlaps_numeric(linear_schedule(), [0.5], d=64, p=0.0,
                                             sigma=1),
            ValueError, "p must lie in (0, 1), got p=0.0"),
    ApiCase("optimal_overlaps_numeric(linear_schedule(), [2.0], d=64, p=0.5, sigma=1)",
            lambda: optimal_overlaps_numeric(linear_schedule(), [2.0], d=64, p=0.5,
                                             sigma=1),
            ValueError, "time t=2 is outside schedule 'linear'"),
    ApiCase("optimal_overlaps_numeric(linear_schedule(), [0.5], d=64, p=0.5, "
            "sigma=math.inf)",
            lambda: optimal_overlaps_numeric(linear_schedule(), [0.5], d=64, p=0.5,
                                             sigma=math.inf),
            ValueError, "sigma must be positive and finite, got sigma=inf"),
    ApiCase("run_online_sgd(WINDOW_STATE, d=16, alpha=0.5, beta=0.5, p=0.8, sigma=1, "
            "eta=1e5, times=[0, 1e6])",
            lambda: run_online_sgd(WINDOW_STATE, d=16, alpha=0.5, beta=0.5, p=0.8, sigma=1,
                                   eta=1e5, times=[0, 1e6]),
            ValueError, "online SGD diverged by T = "),
    ApiCase("run_online_sgd(WINDOW_STATE, d=16, alpha=0.5, beta=0.5, p=0.8, sigma=1, "
            "eta=0.5, times=[1, 0])",
            lambda: run_online_sgd(WINDOW_STATE, d=16, alpha=0.5, beta=0.5, p=0.8, sigma=1,
                                   eta=0.5, times=[1, 0]),
            ValueError, "times must be a non-decreasing 1-D array"),
    ApiCase("phase_one_params(2, 1.5, 0.5, 0.8)",
            lambda: phase_one_params(2, 1.5, 0.5, 0.8),
            ValueError, "phase 1 needs kappa > 0 and tau in [0, 1]"),
    ApiCase("fixed_point(FLAT_STATE, phase_one_params(2, 0.5, 0, 1e-9))",
            lambda: fixed_point(FLAT_STATE, phase_one_params(2, 0.5, 0, 1e-9)),
            ValueError, "the Jacobian of the phase-1 drift is singular"),
    ApiCase("integrate_phase_one([0, 0, 0], 1.0, phase_one_params(2, 0.5, 0.5, 0.8))",
            lambda: integrate_phase_one([0, 0, 0], 1.0, phase_one_params(2, 0.5, 0.5, 0.8)),
            ValueError, "a state needs 6 entries (c, b, m, q, omega, r), got shape (3,)"),
    ApiCase("integrate_phase_one([0, 0, 0.5, 0.1, 0.3, 0.2], 1.0, "
            "phase_one_params(2, 0.5, 0.5, 0.8))",
            lambda: integrate_phase_one([0, 0, 0.5, 0.1, 0.3, 0.2], 1.0,
                                        phase_one_params(2, 0.5, 0.5, 0.8)),
            ValueError, "a state needs r > 0, q >= m^2 and r >= omega^2, got m=0.5, q=0.1"),
    ApiCase("finite_d_drift(1.0, 256, 0.8, 1)",
            lambda: finite_d_drift(1.0, 256, 0.8, 1),
            ValueError, "the linear schedule needs t in [0, 1), got t=1.0"),
    ApiCase("DynamicsConfig(eta_shift_d=4)",
            lambda: DynamicsConfig(eta_shift_d=4),
            ValueError, "eta_shift_d > kappa**2 = 4"),
    ApiCase("ReportConfig(dynamics_T=0)",
            lambda: ReportConfig(dynamics_T=0),
            ConfigError, "`dynamics_T` must be a finite number > 0, got 0"),
    ApiCase("optimal_overlaps_numeric(linear_schedule(), [0.5], d=math.nan, p=0.5, "
            "sigma=1)",
            lambda: optimal_overlaps_numeric(linear_schedule(), [0.5], d=math.nan, p=0.5,
                                             sigma=1),
            ValueError, "d must be a positive finite dimension, got d=nan"),
]


@pytest.mark.parametrize("case", API_CASES, ids=[case.call for case in API_CASES])
def test_api_bad_input(case):
    with pytest.raises(case.error) as raised:
        case.action()
    assert type(raised.value) is case.error
    assert case.message in str(raised.value)


# -- the page ---------------------------------------------------------------------


def _page_inputs():
    """Return the inputs in the first column of each table row on the page."""
    inputs = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `(.+?)` \|", line)
        if match:
            inputs.append(match.group(1))
    return inputs


def test_page_lists_every_case():
    documented = _page_inputs()
    tested = [case.command for case in CLI_CASES] + [case.call for case in API_CASES]

    assert len(documented) == len(set(documented))
    assert sorted(documented) == sorted(tested)
