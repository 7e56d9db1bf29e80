"""Proof-support figures of ``flowphase report`` from the exact theory alone.

Two figures, drawn without sampling so that they add seconds, not
minutes, to the report (``flowphase figures`` adds the simulations):

- ``p_hat_kappa_theory``: ``p_hat`` of the Euler sampler against
  ``kappa`` at each report ``d`` (exact values), its ``d -> oo`` limit on
  the same grid, and the continuous phase-1 limit evaluated with mpmath;
- ``sigma2_sigma_theory``: ``sigma2_hat`` against ``sigma`` at each ``d``,
  the ``d -> oo`` limit on the grid, and the target ``sigma^2``.
"""

import math

import numpy as np

from flowphase.numerics.sampler_stats import sampler_statistics
from flowphase.report.figures import plt, save_figure
from flowphase.theory.precise_limits import p_hat_flow_limit
from flowphase.theory.schedules import dilated_schedule

__all__ = ["kappa_figure", "sigma_figure"]

N_POINTS = 8


def _grid(config):
    return np.linspace(0.0, 2.0, 2 * config.steps_per_phase + 1)


def kappa_figure(config, folder):
    """Draw ``p_hat`` against ``kappa`` from the exact sampler statistics."""
    kappas = np.linspace(0.5, 4.0, N_POINTS)
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(config.dims)))
    for color, d in zip(colors, config.dims):
        # The dilated schedule needs kappa < sqrt(d).
        allowed = kappas[kappas < math.sqrt(d)]
        values = [sampler_statistics(dilated_schedule(float(k)), _grid(config), d=d,
                                     p=config.p, sigma=config.sigma)["p_hat"]
                  for k in allowed]
        ax.plot(allowed, values, "x-", color=color, lw=0.8, label=f"exact sampler, d={d}")
    limits = [sampler_statistics(dilated_schedule(float(k)), _grid(config), d=math.inf,
                                 p=config.p, sigma=config.sigma)["p_hat"] for k in kappas]
    ax.plot(kappas, limits, "k--", label=rf"$d\to\infty$, {config.steps_per_phase} "
                                         "Euler steps per phase")
    fine = np.linspace(kappas[0], kappas[-1], 100)
    ax.plot(fine, [float(p_hat_flow_limit(config.p, k)) for k in fine], "k-",
            label=r"$d\to\infty$, continuous phase 1 (mpmath)")
    ax.axhline(config.p, color="gray", ls=":", label="p")
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel(r"$\hat p$")
    ax.legend(fontsize=7)
    return save_figure(fig, folder, "p_hat_kappa_theory")


def sigma_figure(config, folder):
    """Draw ``sigma2_hat`` against ``sigma`` from the exact sampler statistics."""
    sigmas = np.linspace(0.25, 2.0, N_POINTS)
    schedule = dilated_schedule(config.kappa)
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(config.dims)))
    for color, d in zip(colors, config.dims):
        values = [sampler_statistics(schedule, _grid(config), d=d, p=config.p,
                                     sigma=float(s))["sigma2_hat"] for s in sigmas]
        ax.plot(sigmas, values, "x-", color=color, lw=0.8, label=f"exact sampler, d={d}")
    limits = [sampler_statistics(schedule, _grid(config), d=math.inf, p=config.p,
                                 sigma=float(s))["sigma2_hat"] for s in sigmas]
    ax.plot(sigmas, limits, "k--", label=r"$d\to\infty$ on the same grid")
    ax.plot(sigmas, sigmas**2, "k:", label=r"target $\sigma^2$")
    ax.set_xlabel(r"$\sigma$")
    ax.set_ylabel(r"$\hat\sigma^2$")
    ax.legend(fontsize=7)
    return save_figure(fig, folder, "sigma2_sigma_theory")
