"""Overlap ODEs of online SGD against finite-d SGD, for ``flowphase dynamics``.

For a few times of each phase of the dilated schedule, this module
integrates the large-``d`` overlap ODEs over training time ``T``. It runs
online SGD of the finite-``d`` network from the same overlaps at several
dimensions and seeds. The new output folder contains one figure per time
(PNG and PDF), ``equations.tex`` with the derived ODEs, and
``results.json`` with the configuration, package versions, trajectories,
deviations, fitted log-log slopes and fixed points.

Phase 1 uses :mod:`flowphase.numerics.sgd_ode` for ``d -> oo`` and
:mod:`flowphase.numerics.sgd_finite_d` with ``alpha, beta, Gamma`` at
their finite-``d`` values. Phase 2 uses the reduced saturated dynamics of
:mod:`flowphase.numerics.sgd_phase_two` in both forms. The window of
the linear schedule in which ``b`` learns is measured by
:mod:`flowphase.report.dynamics_undilated`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from flowphase.report.dynamics_undilated import undilated_figure, undilated_results

logger = logging.getLogger(__name__)

#: Value of ``generator`` in ``results.json``.
GENERATOR = "flowphase dynamics"

PHASE_ONE_NAMES = ("c", "b", "m", "q", "omega", "r")
PHASE_TWO_NAMES = ("c", "m", "q")
# Phase 2 starts with w along mu, so that sqrt(d) beta omega >> 1 saturates tanh.
PHASE_ONE_START = (0.0, 0.0, 0.3, 0.2, 0.3, 0.2)
PHASE_TWO_START = (0.0, 0.3, 0.1, 0.05, 1.2, 1.5)
#: Points at which the ODE solutions are stored and drawn (the SGD is
#: recorded at ``n_records`` times).
N_CURVE = 101
#: Supported sigma, as for ``flowphase report``.
SIGMA_RANGE = (1e-3, 1e3)
#: Largest number of SGD steps per seed that a run may take: the default
#: run takes about 3e5, and 1e8 would take hours.
MAX_SGD_STEPS = 10**8
#: Arrays of shape ``(n_seeds, d)`` that one SGD step keeps at once (an
#: estimate from ``validation.online_sgd``: samples, parameters, gradients).
SGD_ROW_ARRAYS = 16
#: Closest distance of p to 0 or 1. At p = 1e-4 the phase-1 Newton fixed
#: point is within 1e-8 of the optimum, and at 1e-6 it fails (measured).
P_MARGIN = 1e-4
# Largest sqrt(r) at which the phase-1 quadrature is accurate to 1e-12.
MAX_SLOPE = 4.0


@dataclass(frozen=True)
class DynamicsConfig:
    """Configuration of ``flowphase dynamics``, validated on construction."""

    p: float = 0.8
    sigma: float = 1.0
    kappa: float = 2.0
    eta: float = 0.5
    T_end: float = 5.0
    dims: tuple = (256, 1024, 4096)
    n_seeds: int = 4
    seed: int = 0
    phase_one_taus: tuple = (0.5, 1.0)
    phase_two_times: tuple = (0.5,)
    n_records: int = 11
    undilated: bool = True
    eta_shift_T: float = 20.0
    eta_shift_d: int = 1024

    def __post_init__(self):
        for name in ("p", "sigma", "kappa", "eta", "T_end", "eta_shift_T"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")

        if not 0.0 < self.p < 1.0:
            raise ValueError(f"--p must lie in (0, 1), got {self.p}")
        if not P_MARGIN <= self.p <= 1.0 - P_MARGIN:
            raise ValueError(
                f"--p = {self.p} is too close to 0 or 1: the bias optimum artanh(2p - 1) "
                f"saturates tanh and the Newton fixed point loses accuracy; use "
                f"{P_MARGIN:g} <= p <= 1 - {P_MARGIN:g}"
            )
        if not (self.sigma > 0.0 and self.kappa > 0.0 and self.eta > 0.0):
            raise ValueError(
                f"--sigma, --kappa and --eta must be > 0, got sigma={self.sigma}, "
                f"kappa={self.kappa}, eta={self.eta}"
            )
        if not SIGMA_RANGE[0] <= self.sigma <= SIGMA_RANGE[1]:
            raise ValueError(
                f"--sigma = {self.sigma} is outside the supported range "
                f"[{SIGMA_RANGE[0]:g}, {SIGMA_RANGE[1]:g}]; rescale the problem so that "
                "sigma is of order one")

        if not self.T_end > 0.0:
            raise ValueError(f"--T must be > 0, got {self.T_end}")
        if not self.dims or min(self.dims) <= self.kappa**2:
            raise ValueError(
                f"--dims must be non-empty with every d > kappa**2 = "
                f"{self.kappa**2:g}, got {self.dims}"
            )
        if not (self.eta_shift_T > 0.0 and self.eta_shift_d > self.kappa**2):
            raise ValueError(
                f"the learning-rate shift needs eta_shift_T > 0 and eta_shift_d > "
                f"kappa**2 = {self.kappa**2:g}, got eta_shift_T={self.eta_shift_T}, "
                f"eta_shift_d={self.eta_shift_d}"
            )
        if self.n_seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {self.n_seeds}")

        self._check_memory()
        self._check_steps()

    def _check_steps(self):
        """Raise ValueError when the SGD runs would take more than ``MAX_SGD_STEPS`` steps."""
        steps = sgd_steps(self)
        if steps > MAX_SGD_STEPS:
            raise ValueError(
                f"the run needs {steps:.3g} SGD steps per seed (T*d/eta summed over its "
                f"runs), more than {MAX_SGD_STEPS:.0e}; use a larger --eta, a smaller "
                "--T or smaller --dims")

    def _check_memory(self):
        """Raise ValueError when the SGD arrays at the largest ``d`` cannot fit in memory."""
        from flowphase.report.config import _physical_memory

        available = _physical_memory()
        if available is None:
            return
        needed = 8 * SGD_ROW_ARRAYS * self.n_seeds * max(self.dims)
        if needed > available:
            largest = available // (8 * SGD_ROW_ARRAYS * self.n_seeds)
            raise ValueError(
                f"online SGD at d={max(self.dims)} with {self.n_seeds} seeds needs an "
                f"estimated {needed / 2**30:.1f} GiB of memory, more than the "
                f"{available / 2**30:.1f} GiB of this machine; use dimensions up to "
                f"{largest} or fewer --seeds"
            )


def quick_config(**values) -> DynamicsConfig:
    """Return a small configuration that finishes in well under a minute."""
    small = dict(dims=(256, 1024), n_seeds=2, T_end=2.0, phase_one_taus=(0.5,),
                 eta_shift_d=256)
    small.update(values)
    return DynamicsConfig(**small)


def build_dynamics(config: DynamicsConfig, out: Path, force: bool = False,
                   show_progress: bool = False):
    """Compute every case, write the folder ``out`` atomically, return ``(path, results)``."""
    from flowphase.report import output

    staging = output.staging_folder(out)
    try:
        results = compute_results(config, show_progress)
        results["figures"] = draw_figures(results, staging)
        output.write_json(staging / "results.json", results)
        _write_equations(staging / "equations.tex")
        output.publish(staging, out, force)
    except BaseException:
        output.discard(staging)
        raise
    return Path(out), results


def _write_equations(path):
    from flowphase.theory.latex import to_latex_document
    from flowphase.theory.sgd_latex import sgd_equations

    document = to_latex_document(sgd_equations(), title="Overlap ODEs of online SGD")
    path.write_text(document, encoding="utf-8")


def _versions():
    from flowphase.report.versions import package_versions

    return package_versions()


def sgd_steps(config) -> int:
    """Return the number of SGD steps that :func:`compute_results` takes per seed."""
    per_dimension = sum(round(config.T_end * d / config.eta) for d in config.dims)
    n_cases = len(config.phase_one_taus) + len(config.phase_two_times)
    total = n_cases * per_dimension
    if config.phase_one_taus:
        total += round(config.eta_shift_T * config.eta_shift_d / config.eta)
    if config.undilated:
        total += 2 * per_dimension
    return total


def compute_results(config, show_progress=False):
    """Compute every case of ``config`` and return the results as a dict."""
    from tqdm.auto import tqdm

    with tqdm(total=sgd_steps(config), desc="online SGD", unit="step",
              unit_scale=True, disable=not show_progress) as bar:
        cases = []
        for tau in config.phase_one_taus:
            logger.info("phase 1, tau = %g", tau)
            cases.append(_phase_one_case(config, tau, bar.update))
        for t in config.phase_two_times:
            logger.info("phase 2, t = %g", t)
            cases.append(_phase_two_case(config, t, bar.update))
        eta_shift = None
        if config.phase_one_taus:
            eta_shift = _eta_shift(config, config.phase_one_taus[0], bar.update)
        undilated = undilated_results(config, bar.update) if config.undilated else None
    return {
        "generator": GENERATOR,
        "configuration": asdict(config),
        "versions": _versions(),
        "cases": cases,
        "fixed_points": _fixed_points(config),
        "eta_shift": eta_shift,
        "undilated": undilated,
    }


def _eta_shift(config, tau, progress=None):
    """Return the phase-1 overlaps of the ODE at ``eta_shift_T`` against ``eta``.

    With ``eta > 0`` the noise term of the drift of ``r`` moves the long-time
    overlaps past the gradient-flow optimum, so ``omega(T)`` is also stored
    at a few times up to ``2 eta_shift_T`` at the configured ``eta``. Online
    SGD at ``d = eta_shift_d`` and the configured ``eta`` runs to
    ``eta_shift_T`` beside it (mean, min and max over seeds).
    """
    import numpy as np

    from flowphase.numerics import sgd_ode
    from flowphase.numerics.integrate import dense_eval

    horizon = config.eta_shift_T
    start = np.array(PHASE_ONE_START)
    etas = [0.0, config.eta / 4, config.eta / 2, config.eta, 2 * config.eta]
    growth_times = np.array([horizon / 4, horizon / 2, horizon, 2 * horizon])
    finals, growth = [], None
    for eta in etas:
        params = sgd_ode.phase_one_params(config.kappa, tau, eta, config.p,
                                          max_slope=MAX_SLOPE)
        solution = _checked(sgd_ode.integrate_phase_one(
            start, 2 * horizon, params, max_slope=MAX_SLOPE), "phase-1", eta)
        finals.append(dense_eval(solution, np.array([horizon]))[0].tolist())
        if eta == config.eta:
            growth = dense_eval(solution, growth_times).tolist()

    d = config.eta_shift_d
    beta = config.kappa * tau / math.sqrt(d)
    run = _run_sgd(config, d, 1.0 - beta, beta, start, [horizon], progress)
    return {"tau": tau, "T": horizon, "names": PHASE_ONE_NAMES, "etas": etas,
            "ode_end": finals, "sgd_d": d, "sgd_T": float(run.times[0]),
            "sgd_end": run.overlaps[0].mean(axis=0).tolist(),
            "sgd_min": run.overlaps[0].min(axis=0).tolist(),
            "sgd_max": run.overlaps[0].max(axis=0).tolist(),
            "growth": {"times": growth_times.tolist(), "ode": growth},
            "optimum": sgd_ode.optimum_phase_one(config.kappa, tau, config.p).tolist()}


def _checked(solution, label, eta):
    """Return ``solution``, or raise ValueError when the solver stopped early.

    A large learning rate makes ``r`` grow quickly through the noise term,
    which is the usual reason, so the message names ``eta``.
    """
    import numpy as np

    if solution.success and np.all(np.isfinite(solution.y)):
        return solution
    raise ValueError(
        f"the {label} overlap ODE failed at T = {solution.t[-1]:.4g} with eta = {eta:g}: "
        f"{solution.message} Use a smaller --eta or a shorter --T."
    )


def _ode_end(config):
    """Return the end of the ODE solves, past every SGD record time.

    SGD rounds each record time to a whole step of ``eta/d``, so a record
    may lie up to half a step after ``T_end``.
    """
    return config.T_end + config.eta / min(config.dims)


def _run_sgd(config, d, alpha, beta, start, times, progress=None):
    from flowphase.validation import online_sgd

    seeds = tuple(range(config.seed, config.seed + config.n_seeds))
    return online_sgd.run_online_sgd(
        start, d=d, alpha=alpha, beta=beta, p=config.p, sigma=config.sigma,
        eta=config.eta, times=times, seeds=seeds, progress=progress,
    )


def _summary(overlaps, references):
    """Return mean, band and max deviations of SGD overlaps ``(times, seeds, k)``."""
    import numpy as np

    mean = overlaps.mean(axis=1)
    return {
        "mean": mean.tolist(),
        "min": overlaps.min(axis=1).tolist(),
        "max": overlaps.max(axis=1).tolist(),
        "max_deviation": {label: float(np.max(np.abs(mean - reference)))
                          for label, reference in references.items()},
    }


def _deviation_slope(case):
    """Fit ``log(max deviation)`` against ``log d``, or return ``None`` below 3 dimensions."""
    import numpy as np
    from scipy.stats import linregress

    dims = sorted(int(d) for d in case["sgd"])
    if len(dims) < 3:
        return None
    deviations = [case["sgd"][str(d)]["max_deviation"]["limit"] for d in dims]
    fit = linregress(np.log(dims), np.log(deviations))
    return {"slope": float(fit.slope), "stderr": float(fit.stderr)}


def _phase_one_case(config, tau, progress=None):
    import numpy as np

    from flowphase.numerics import sgd_finite_d, sgd_ode
    from flowphase.numerics.integrate import dense_eval

    start = np.array(PHASE_ONE_START)
    times = np.linspace(0.0, config.T_end, config.n_records)
    curve = np.linspace(0.0, config.T_end, N_CURVE)
    params = sgd_ode.phase_one_params(config.kappa, tau, config.eta, config.p,
                                      max_slope=MAX_SLOPE)
    solution = _checked(sgd_ode.integrate_phase_one(
        start, _ode_end(config), params, max_slope=MAX_SLOPE), "phase-1", config.eta)
    case = {"phase": 1, "time_name": "tau", "time": tau, "names": PHASE_ONE_NAMES,
            "start": list(start), "times": times.tolist(), "ode_times": curve.tolist(),
            "ode": {"limit": dense_eval(solution, curve).tolist()}, "sgd": {}}
    # The finite-d ODEs add v = u.w/d, which starts at m omega.
    finite_start = np.append(start, start[2] * start[4])
    for d in config.dims:
        beta = config.kappa * tau / math.sqrt(d)
        run = _run_sgd(config, d, 1.0 - beta, beta, start, times, progress)
        finite_params = sgd_finite_d.finite_d_params(
            config.kappa, tau, config.eta, config.p, config.sigma, d, max_slope=MAX_SLOPE
        )
        finite = _checked(sgd_finite_d.integrate_finite_d(
            finite_start, _ode_end(config), finite_params), f"finite-d phase-1 (d={d})",
            config.eta)
        case["ode"][f"finite_d_{d}"] = dense_eval(finite, curve)[:, :6].tolist()
        references = {"limit": dense_eval(solution, run.times),
                      "finite_d": dense_eval(finite, run.times)[:, :6]}
        case["sgd"][str(d)] = _summary(run.overlaps, references)
        case["sgd"][str(d)]["times"] = run.times.tolist()
    case["deviation_slope"] = _deviation_slope(case)
    return case


def _phase_two_case(config, t, progress=None):
    import numpy as np

    from flowphase.numerics import sgd_phase_two
    from flowphase.numerics.integrate import dense_eval

    start = np.array(PHASE_TWO_START)
    reduced_start = start[[0, 2, 3]]
    times = np.linspace(0.0, config.T_end, config.n_records)
    curve = np.linspace(0.0, config.T_end, N_CURVE)

    def integrate(d):
        params = sgd_phase_two.phase_two_params(config.kappa, t, config.sigma, d)
        solution = sgd_phase_two.integrate_phase_two(reduced_start, _ode_end(config), params)
        return _checked(solution, "phase-2", config.eta)

    limit = integrate(None)
    case = {"phase": 2, "time_name": "t", "time": t, "names": PHASE_TWO_NAMES,
            "start": list(start), "times": times.tolist(), "ode_times": curve.tolist(),
            "ode": {"limit": dense_eval(limit, curve).tolist()}, "sgd": {}}
    for d in config.dims:
        shift = config.kappa / math.sqrt(d)
        alpha, beta = (1.0 - shift) * (1.0 - t), shift + (1.0 - shift) * t
        run = _run_sgd(config, d, alpha, beta, start, times, progress)
        finite = integrate(d)
        case["ode"][f"finite_d_{d}"] = dense_eval(finite, curve).tolist()
        references = {"limit": dense_eval(limit, run.times),
                      "finite_d": dense_eval(finite, run.times)}
        case["sgd"][str(d)] = _summary(run.overlaps[:, :, [0, 2, 3]], references)
        case["sgd"][str(d)]["times"] = run.times.tolist()
        frozen = run.overlaps[:, :, [1, 4, 5]] - start[[1, 4, 5]]
        case["sgd"][str(d)]["frozen_max_change"] = float(np.max(np.abs(frozen)))
    case["deviation_slope"] = _deviation_slope(case)
    return case


def _fixed_points(config):
    """Return gradient-flow fixed points by Newton against the large-d optima."""
    import numpy as np

    from flowphase.numerics import sgd_ode, sgd_phase_two

    rows = []
    for tau in config.phase_one_taus:
        params = sgd_ode.phase_one_params(config.kappa, tau, 0.0, config.p)
        optimum = sgd_ode.optimum_phase_one(config.kappa, tau, config.p)
        found = sgd_ode.fixed_point(optimum + 0.05, params)
        rows.append(_fixed_point_row(1, tau, found, optimum, PHASE_ONE_NAMES))
    for t in config.phase_two_times:
        params = sgd_phase_two.phase_two_params(config.kappa, t, config.sigma)
        optimum = sgd_phase_two.optimum_phase_two(params)
        found = sgd_phase_two.fixed_point_phase_two(np.zeros(3), params)
        rows.append(_fixed_point_row(2, t, found, optimum, PHASE_TWO_NAMES))
    return rows


def _fixed_point_row(phase, time, found, optimum, names):
    import numpy as np

    return {"phase": phase, "time": time, "names": names,
            "newton": found.state.tolist(), "optimum": optimum.tolist(),
            "max_error": float(np.max(np.abs(found.state - optimum))),
            "converged": found.converged, "stable": found.stable,
            "max_eigenvalue_real_part": float(np.max(found.eigenvalues.real))}


def draw_figures(results, folder):
    """Draw one figure per case into ``folder`` and return the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flowphase.report.figures import save_figure

    names = []

    def save(fig, stem):
        names.extend(save_figure(fig, folder, stem))

    for case in results["cases"]:
        stem = f"phase{case['phase']}_{case['time_name']}_{case['time']:g}".replace(".", "p")
        save(_case_figure(plt, case), stem)
    if results["eta_shift"] is not None:
        save(_eta_figure(plt, results["eta_shift"]), "eta_shift")
    if results["undilated"] is not None:
        save(undilated_figure(plt, results["undilated"]), "undilated_window")
    return names


def _eta_figure(plt, shift):
    """Plot ``b, omega, r`` at ``eta_shift_T`` against ``eta`` with the optimum."""
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.0))
    ode = np.array(shift["ode_end"])
    for axis, name in zip(axes, ("b", "omega", "r")):
        index = shift["names"].index(name)
        axis.plot(shift["etas"], ode[:, index], "k-o", markersize=3, label="ODE")
        axis.axhline(shift["optimum"][index], color="gray", linestyle=":",
                     label="gradient-flow optimum")
        sgd_mean = shift["sgd_end"][index]
        band = [[sgd_mean - shift["sgd_min"][index]], [shift["sgd_max"][index] - sgd_mean]]
        axis.errorbar(shift["etas"][3], sgd_mean, yerr=band, fmt="s", color="C3",
                      capsize=3, label=f"SGD, d={shift['sgd_d']} (min to max)")
        axis.set_xlabel("learning rate eta")
        axis.set_title(f"{name} at T = {shift['T']:g}")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"phase 1, tau = {shift['tau']:g}: overlaps at T against eta")
    fig.tight_layout()
    return fig


def _case_figure(plt, case):
    import numpy as np

    labels = case["names"]
    n_rows = math.ceil(len(labels) / 3)
    fig, axes = plt.subplots(n_rows, 3, figsize=(9.0, 3.0 * n_rows), squeeze=False)
    axes = axes.ravel()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    limit = np.array(case["ode"]["limit"])
    for index, (axis, name) in enumerate(zip(axes, labels)):
        axis.plot(case["ode_times"], limit[:, index], color="black", label="ODE, d -> oo")
        for color, (d, row) in zip(colors, case["sgd"].items()):
            finite = case["ode"].get(f"finite_d_{d}")
            if finite is not None:
                axis.plot(case["ode_times"], np.array(finite)[:, index], color=color,
                          linestyle="--", label=f"ODE, d={d}")
            axis.plot(row["times"], np.array(row["mean"])[:, index], "o", color=color,
                      markersize=3, label=f"SGD, d={d}")
            axis.fill_between(row["times"], np.array(row["min"])[:, index],
                              np.array(row["max"])[:, index], color=color, alpha=0.25)
        axis.set_xlabel("training time T")
        axis.set_title(name)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"phase {case['phase']}, {case['time_name']} = {case['time']:g} "
                 "(band: min to max over seeds)")
    fig.tight_layout()
    return fig
