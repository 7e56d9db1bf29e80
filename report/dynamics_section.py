"""The training-dynamics section of ``flowphase report``.

It runs :mod:`flowphase.report.dynamics` with the report's mixture and
dilation, at the report's dynamics dimensions and seeds, one time per
phase. The Markdown shows the largest deviation of SGD from the
``d -> oo`` and finite-``d`` ODEs with the fitted slope, and the Newton
fixed points of gradient flow against the optima. It also shows the shift
of the long-time overlaps with the learning rate, and the window of the
linear schedule.
"""

from __future__ import annotations

import logging

from flowphase.report.dynamics import DynamicsConfig

logger = logging.getLogger(__name__)


def dynamics_config(config) -> DynamicsConfig | None:
    """Return the :class:`DynamicsConfig` for a report ``config``, or ``None``.

    Dimensions at or below ``kappa**2`` are dropped, because the dilated
    schedule needs ``d > kappa**2``; with none left the section is skipped.
    """
    dims = tuple(d for d in config.dynamics_dims if d > config.kappa**2)
    if not dims:
        logger.warning("skipping the training-dynamics section: no dimension in %s "
                       "exceeds kappa**2 = %g", config.dynamics_dims, config.kappa**2)
        return None
    # The learning-rate shift runs SGD to T = 20, so it uses d <= 1024 where it can.
    moderate = [d for d in dims if d <= 1024]
    return DynamicsConfig(p=config.p, sigma=config.sigma, kappa=config.kappa,
                          dims=dims, n_seeds=config.dynamics_seeds,
                          T_end=config.dynamics_T, seed=config.seed,
                          phase_one_taus=(0.5,), phase_two_times=(0.5,),
                          eta_shift_d=max(moderate) if moderate else min(dims))


def run_section(config, folder, show_progress=False):
    """Compute the section and draw its figures into ``folder``.

    Returns ``(results, figure_list)`` with ``figure_list`` a list of
    ``(caption, file names)``, or ``(None, [])`` when the section is skipped.
    """
    from flowphase.report import dynamics

    section_config = dynamics_config(config)
    if section_config is None:
        return None, []
    results = dynamics.compute_results(section_config, show_progress)
    names = dynamics.draw_figures(results, folder)
    captions = [
        f"Overlaps under online SGD, phase {case['phase']} at "
        f"{case['time_name']} = {case['time']:g}: ODEs and SGD (band over seeds)"
        for case in results["cases"]
    ]
    captions.append("Phase-1 overlaps at the final training time against the learning rate")
    if results["undilated"] is not None:
        captions.append("Linear schedule: the window in which b learns p")
    pairs = [names[index:index + 2] for index in range(0, len(names), 2)]
    return results, list(zip(captions, pairs))


def render(results) -> list[str]:
    """Return the Markdown lines of the section for ``results``."""
    config = results["configuration"]
    lines = [
        "## Training dynamics: overlap ODEs against online SGD",
        "",
        f"Online SGD with fresh samples, learning rate `eta = {config['eta']}`, "
        f"training time `T = steps*eta/d` up to {config['T_end']:g}, "
        f"{config['n_seeds']} seeds per `d`. Largest deviation of the SGD mean from "
        "each ODE over `T` and the overlaps; the slope is a least-squares fit of "
        "log deviation (from the `d -> oo` ODE) against log `d`, with its "
        "standard error; the theory expects -0.5.",
        "",
        "| phase | time | d | from d -> oo ODE | from finite-d ODE |",
        "|---|---|---|---|---|",
    ]
    for case in results["cases"]:
        for d, row in case["sgd"].items():
            deviation = row["max_deviation"]
            lines.append(f"| {case['phase']} | {case['time_name']} = {case['time']:g} | "
                         f"{d} | {deviation['limit']:.4f} | {deviation['finite_d']:.4f} |")
    lines.append("")
    for case in results["cases"]:
        slope = case["deviation_slope"]
        if slope is not None:
            lines.append(f"- phase {case['phase']}, {case['time_name']} = {case['time']:g}: "
                         f"slope {slope['slope']:.3f} +- {slope['stderr']:.3f}")
    lines += [
        "",
        "Gradient-flow fixed points (`eta = 0`) by Newton's method against the "
        "large-`d` optima:",
        "",
        "| phase | time | max abs error | converged | stable | largest Re(eigenvalue) |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["fixed_points"]:
        lines.append(f"| {row['phase']} | {row['time']:g} | {row['max_error']:.2e} | "
                     f"{row['converged']} | {row['stable']} | "
                     f"{row['max_eigenvalue_real_part']:.4f} |")
    lines += _eta_lines(results["eta_shift"]) + _window_lines(results["undilated"])
    return lines + [""]


def _eta_lines(shift):
    if shift is None:
        return []
    omega = shift["names"].index("omega")
    optimum = shift["optimum"][omega]
    eta = shift["etas"][3]
    lines = ["", f"`omega` at `T = {shift['T']:g}`, phase 1, `tau = {shift['tau']:g}`, "
             f"against the learning rate; the gradient-flow optimum is {optimum:.4f}.", "",
             "| eta | omega (ODE) | relative to optimum |", "|---|---|---|"]
    for value, end in zip(shift["etas"], shift["ode_end"]):
        lines.append(f"| {value:g} | {end[omega]:.4f} | {end[omega] / optimum - 1:+.2%} |")
    growth = ", ".join(f"{row[omega]:.4f} at T = {time:g}" for time, row in
                       zip(shift["growth"]["times"], shift["growth"]["ode"]))
    lines += ["", f"At `eta = {eta:g}` the ODE's `omega` is {growth}. Online SGD at "
              f"`d = {shift['sgd_d']}`, same `eta`, `T = {shift['sgd_T']:g}`: `omega` "
              f"{shift['sgd_end'][omega]:.4f} (seeds from {shift['sgd_min'][omega]:.4f} "
              f"to {shift['sgd_max'][omega]:.4f})."]
    return lines


def _window_lines(window):
    if window is None:
        return []
    lines = ["", "Linear schedule: half-width in `t` of the window where `|db/dT|` "
             "is above half its value at `t = 0`, and the change of `b` under SGD "
             f"inside the window (`t = 1/sqrt(d)`) and at `t = {window['fixed_time']:g}` "
             f"(`d -> oo` half-width `{window['window_half_theta']:.4f}/sqrt(d)`):", "",
             "| d | half-width | times sqrt(d) | SGD change of b, window | "
             "SGD change of b, fixed t |", "|---|---|---|---|---|"]
    for row in window["dims"]:
        change = row["sgd_bias_change"]
        lines.append(f"| {row['d']} | {row['half_width']:.5f} | "
                     f"{row['half_width'] * row['d'] ** 0.5:.4f} | "
                     f"{change['window']['min']:.3g} to {change['window']['max']:.3g} | "
                     f"{change['fixed']['max']:.2e} |")
    slope = window["half_width_slope"]
    if slope is not None:
        lines += ["", f"Fitted slope of log half-width against log `d`: "
                  f"{slope['slope']:.4f} +- {slope['stderr']:.4f} (expected -0.5)."]
    return lines
