"""``flowphase figures``: proof-support figures from built-in sweeps.

The command runs a few sweeps on Dask into ``sweep.sqlite`` inside the
new output folder and draws, as PNG and PDF:

- ``p_hat_kappa``: ``p_hat`` against ``kappa`` (simulation, exact at ``d``,
  the grid limit and the 30-digit continuous-flow limit);
- ``sigma2_sigma``: ``sigma2_hat`` against ``sigma`` for several ``d``;
- ``rates_dilated``: overlap errors and ``|p_hat - p_hat_oo|`` against
  ``d`` with fitted and expected slopes, and ``rates_linear``: the same on
  the linear schedule, where ``p_hat`` does not approach ``p``;
- ``targets_by_schedule``: distance of ``p_hat``, ``sigma2_hat`` and
  ``M(end)`` to the target ``p``, ``sigma^2`` and 1 on both schedules.

``figures.md`` lists the fitted exponents with 95% bootstrap intervals,
flags each that disagrees with the expected exponent, and prints the
30-digit limits beside the double-precision numerics.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from flowphase.sweeps import analysis
from flowphase.sweeps.config import SweepConfig, parse_sweep

logger = logging.getLogger(__name__)

GENERATOR = "flowphase figures"
P, SIGMA, KAPPA = 0.8, 1.0, 2.0

#: Generated samples per run of the kappa and sigma sweeps.
PARAMETER_SAMPLES = 4000

#: ``(label, quantity, time)`` of the overlaps whose rates are fitted, per schedule.
OVERLAP_CASES = {
    "dilated": (("c at tau = 0.5", "c", 0.5), ("m at tau = 0.5", "m", 0.5),
                ("q at tau = 0.5", "q", 0.5), ("omega at tau = 0.5", "omega", 0.5),
                ("b at tau = 0.5", "b", 0.5), ("c at tau = 1.5", "c", 1.5),
                ("m at tau = 1.5", "m", 1.5), ("q at tau = 1.5", "q", 1.5)),
    "linear": (("c at t = 0.5", "c", 0.5), ("m at t = 0.5", "m", 0.5),
               ("q at t = 0.5", "q", 0.5)),
}

#: Expected exponent of ``|p_hat(d) - p_hat_oo|``.
P_HAT_EXPECTED = analysis.SAMPLER_EXPECTED


@dataclass(frozen=True)
class FigureSizes:
    """Grids of the built-in sweeps."""

    trained_dims: tuple = (64, 128, 256, 512, 1024)
    trained_seeds: tuple = (0, 1, 2)
    sampler_dims: tuple = (256, 1024, 4096)
    sampler_seeds: tuple = (0, 1, 2, 3)
    sampler_samples: int = 10000
    kappa_d: int = 1024
    kappas: tuple = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
    sigma_dims: tuple = (64, 256, 1024)
    sigmas: tuple = (0.5, 0.75, 1.0, 1.5, 2.0)
    theory_dims: tuple = (10**5, 10**6, 10**7, 10**8, 10**9)


QUICK = FigureSizes(trained_dims=(64, 128, 256), trained_seeds=(0, 1),
                    sampler_dims=(256, 1024), sampler_seeds=(0, 1), sampler_samples=4000,
                    kappa_d=256, kappas=(1.0, 2.0, 3.0), sigma_dims=(64, 256),
                    sigmas=(0.5, 1.0, 2.0), theory_dims=(10**6, 10**7, 10**8))


def _grids(sizes):
    seeds = list(sizes.sampler_seeds)
    return [
        {"d": list(sizes.trained_dims), "seed": list(sizes.trained_seeds), "steps": 10,
         "n_samples": 2000, "velocity": "trained", "training": "quick",
         "schedule": ["dilated", "linear"]},
        {"d": list(sizes.sampler_dims), "seed": seeds, "schedule": ["dilated", "linear"],
         "n_samples": sizes.sampler_samples},
        {"d": [sizes.kappa_d], "seed": seeds[:2], "kappa": list(sizes.kappas),
         "n_samples": PARAMETER_SAMPLES},
        {"d": list(sizes.sigma_dims), "seed": [0], "sigma": list(sizes.sigmas),
         "n_samples": PARAMETER_SAMPLES},
    ]


def builtin_sweep(sizes: FigureSizes, store) -> SweepConfig:
    """Return the union of the built-in sweeps as one sweep stored at ``store``."""
    runs = []
    grids = {}
    for index, grid in enumerate(_grids(sizes)):
        config = parse_sweep({"grid": grid})
        grids[f"part{index}"] = config.grid
        runs.extend(run for run in config.runs if run not in runs)
    return SweepConfig(name="figures", store=store, grid=grids, runs=tuple(runs))


def _log_dims_axis(ax, dims):
    """Label a logarithmic ``d`` axis at ``dims`` only, without minor labels."""
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(list(dims))
    ax.set_xticklabels([str(int(d)) for d in dims], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _save(plt, fig, folder, name):
    from flowphase.report.figures import save_figure

    return save_figure(fig, folder, name)


def _p_hat_kappa(plt, rows, sizes, folder):
    from flowphase.theory.precise_limits import p_hat_flow_limit

    groups = analysis.values_by(rows, "kappa", "p_hat", d=sizes.kappa_d, schedule="dilated",
                                velocity="exact", sigma=SIGMA, p=P, steps=20,
                                n_samples=PARAMETER_SAMPLES)
    kappas = np.array(list(groups))
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    fine = np.linspace(min(kappas) * 0.8, max(kappas) * 1.1, 120)
    ax.plot(fine, [float(p_hat_flow_limit(P, k)) for k in fine], "k-",
            label=r"$d\to\infty$, continuous phase 1 (mpmath)")
    ax.plot(kappas, [g["limit"] for g in groups.values()], "k--", marker="s", ms=3,
            label=r"$d\to\infty$, 20 Euler steps per phase")
    ax.plot(kappas, [g["theory"] for g in groups.values()], "C3x-", lw=0.8,
            label=f"exact sampler at d={sizes.kappa_d}")
    means = np.array([np.mean(g["simulation"]) for g in groups.values()])
    spread = np.array([[means[i] - min(g["simulation"]), max(g["simulation"]) - means[i]]
                       for i, g in enumerate(groups.values())]).T
    ax.errorbar(kappas, means, yerr=spread, fmt="o", color="C0", ms=4, capsize=2,
                label=f"simulation, d={sizes.kappa_d} (min to max over seeds)")
    ax.axhline(P, color="gray", ls=":", label="p")
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$\hat p$")
    ax.legend(fontsize=7)
    return _save(plt, fig, folder, "p_hat_kappa")


def _sigma2_sigma(plt, rows, sizes, folder):
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    for color, d in zip(("C0", "C1", "C2", "C3"), sizes.sigma_dims):
        groups = analysis.values_by(rows, "sigma", "sigma2_hat", d=d, schedule="dilated",
                                    velocity="exact", kappa=KAPPA, p=P, steps=20,
                                    n_samples=PARAMETER_SAMPLES)
        sigmas = list(groups)
        ax.plot(sigmas, [g["theory"] for g in groups.values()], "-", color=color, lw=0.8,
                label=f"exact sampler, d={d}")
        ax.plot(sigmas, [np.mean(g["simulation"]) for g in groups.values()], "o",
                color=color, ms=4, label=f"simulation, d={d}")
        limits = [g["limit"] for g in groups.values()]
    ax.plot(sigmas, limits, "k--", label=r"$d\to\infty$, 20 Euler steps")
    ax.plot(sigmas, np.square(sigmas), "k:", label=r"target $\sigma^2$")
    ax.set_xlabel(r"$\sigma$")
    ax.set_ylabel(r"$\hat\sigma^2$")
    ax.legend(fontsize=7)
    return _save(plt, fig, folder, "sigma2_sigma")


def rates_figure(plt, rate_table, folder, name):
    """Draw one log-log panel per rate row: errors, fit, expected slope, exact values."""
    columns = 3
    n_rows = -(-len(rate_table) // columns)
    fig, axes = plt.subplots(n_rows, columns, figsize=(3.4 * columns, 3.0 * n_rows),
                             squeeze=False)
    for ax in axes.flat[len(rate_table):]:
        ax.set_visible(False)
    for ax, row in zip(axes.flat, rate_table):
        ax.set_title(row["label"], fontsize=9)
        fit = row["simulation"]
        if fit is not None:
            dims = np.array(fit["dims"], dtype=float)
            ax.loglog(dims, fit["errors"], "o", color="C0", label="simulation")
            ax.loglog(dims, fit["constant"] * dims ** -fit["exponent"], "C0-", lw=0.8,
                      label=f"fit a={fit['exponent']:.2f}")
            if row["expected"] is not None:
                anchor = fit["errors"][0] * dims[0] ** row["expected"]
                ax.loglog(dims, anchor * dims ** -row["expected"], "k:",
                          label=f"expected a={row['expected']:g}")
        if row["theory"] is not None:
            ax.loglog(row["theory"]["dims"], row["theory"]["errors"], "x", color="C3",
                      label="exact at d")
        if row["dims"]:
            _log_dims_axis(ax, row["dims"])
        ax.set_xlabel("$d$")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    for ax in axes[:, 0]:
        ax.set_ylabel("|value - limit| (or target)")
    fig.tight_layout()
    return _save(plt, fig, folder, name)


def _targets_figure(plt, rows, sizes, folder):
    targets = {"p_hat": P, "sigma2_hat": SIGMA**2, "M": 1.0}
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.5))
    for ax, (quantity, target) in zip(axes, targets.items()):
        for color, schedule in (("C0", "dilated"), ("C1", "linear")):
            kappa = KAPPA if schedule == "dilated" else 0.0
            groups = analysis.values_by(rows, "d", quantity, schedule=schedule,
                                        velocity="exact", kappa=kappa, sigma=SIGMA, p=P,
                                        steps=20, n_samples=sizes.sampler_samples)
            dims = list(groups)
            ax.loglog(dims, [abs(np.mean(g["simulation"]) - target) for g in groups.values()],
                      "o", color=color, label=f"{schedule}: simulation")
            ax.loglog(dims, [abs(g["theory"] - target) for g in groups.values()], "x-",
                      color=color, lw=0.8, label=f"{schedule}: exact at d")
            limit = list(groups.values())[0]["limit"]
            ax.axhline(abs(limit - target), color=color, ls="--", lw=0.8)
        ax.set_title(f"|{quantity} - target| (dashed: limit)", fontsize=9)
        _log_dims_axis(ax, dims)
        ax.set_xlabel("$d$")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return _save(plt, fig, folder, "targets_by_schedule")


def rate_table(rows, sizes, schedule):
    """Fit the rates on ``schedule``: trained overlaps, and ``p_hat``.

    On the dilated schedule ``p_hat`` of the exact-velocity runs is
    compared with its limit. On the linear schedule ``p_hat`` of the
    trained networks is compared with the target ``p``, which it does not
    approach.
    """
    kappa = KAPPA if schedule == "dilated" else 0.0
    trained = {"velocity": "trained", "schedule": schedule}
    cases = []
    for label, quantity, time_value in OVERLAP_CASES[schedule]:
        expected = analysis.expected_exponent(schedule, time_value, quantity, p=P,
                                              sigma=SIGMA, kappa=KAPPA)
        cases.append((label, quantity, time_value, expected, None, trained))
    if schedule == "dilated":
        cases.append(("|p_hat - p_hat_oo|", "p_hat", None, P_HAT_EXPECTED, None,
                      {"velocity": "exact", "schedule": "dilated", "kappa": kappa,
                       "sigma": SIGMA, "n_samples": sizes.sampler_samples}))
    else:
        cases.append(("|p_hat - p|, trained", "p_hat", None, None, P, trained))
    return analysis.rate_rows(rows, cases)


def theory_rates(sizes):
    """Fit ``|exact sampler at d - limit|`` over ``sizes.theory_dims``, no sampling noise."""
    values, limit = analysis.sampler_theory_sweep("dilated", sizes.theory_dims, p=P,
                                                  sigma=SIGMA, kappa=KAPPA, steps=20)
    return [analysis.theory_rate_row(f"{name}, exact sampler", sizes.theory_dims,
                                     values[name], limit[name], P_HAT_EXPECTED)
            for name in ("p_hat", "sigma2_hat", "M_end")]


def build_figures(rows, sizes, folder):
    """Draw every figure into ``folder``; return ``(names, tables, digits section)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    started = time.perf_counter()
    from flowphase.report.precise import markdown_section

    section, precise = markdown_section((1.0, 2.0, 3.0, 4.0), p=P, sigma=SIGMA, steps=20)
    tables = {"rates": rate_table(rows, sizes, "dilated"),
              "rates_linear": rate_table(rows, sizes, "linear"),
              "theory_rates": theory_rates(sizes), **precise}
    names = []
    names += _p_hat_kappa(plt, rows, sizes, folder)
    names += _sigma2_sigma(plt, rows, sizes, folder)
    names += rates_figure(plt, tables["rates"], folder, "rates_dilated")
    names += rates_figure(plt, tables["rates_linear"], folder, "rates_linear")
    names += _targets_figure(plt, rows, sizes, folder)
    logger.info("figures drawn in %.1f s", time.perf_counter() - started)
    return names, tables, section
