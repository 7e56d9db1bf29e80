"""The U-turn probe on the Gaussian mixture at finite ``d``.

The feature is the mode sign ``s`` of ``x1 = s mu + sigma z``, classified
as ``sign(mu.X)``. The schedule is the dilated two-phase one on ``tau``
in ``[0, 2]``. Two denoisers: the exact one,

    D_t(x) = c* x + (1 - c* beta) mu tanh(beta (mu.x)/Gamma + l),

with ``Gamma = alpha^2 + sigma^2 beta^2`` and ``c* = sigma^2 beta/Gamma``,
and the per-time autoencoders of :mod:`flowphase.validation.training`,
one per grid time, used by the Euler sampler on that grid.
"""

from __future__ import annotations

import math

import numpy as np

from flowphase.numerics.uturn_limit import decision_boundary

from .data import Mixture
from .flow_sampler import dilated_rates, probability_flow, rates_at
from .uturn import flow_generator, uturn_flips


def exact_denoiser(mixture, schedule):
    """Return ``denoise(t, x)``, the exact ``D_t`` of the mixture on ``schedule``."""
    log_odds = math.atanh(2.0 * mixture.p - 1.0)
    sigma2 = mixture.sigma**2
    mu = mixture.mu

    def denoise(t, x):
        alpha, beta, _, _ = rates_at(schedule, t)
        gamma = alpha**2 + sigma2 * beta**2
        c_star = sigma2 * beta / gamma
        mode = np.tanh(beta * (x @ mu) / gamma + log_odds)
        return c_star * x + (1.0 - c_star * beta) * mode[:, None] * mu[None, :]

    return denoise


def grid_denoiser(networks, grid):
    """Return ``denoise(t, x)`` that uses the autoencoder trained at grid time ``t``."""
    grid = np.asarray(grid, dtype=float)

    def denoise(t, x):
        k = int(np.argmin(np.abs(grid - t)))
        if abs(grid[k] - t) > 1e-9:
            raise ValueError(f"time {t} is not on the autoencoders' grid; sample on that grid")
        return networks.denoise(k, x)

    return denoise


def _sign_classifier(mu):
    return lambda x: np.where(x @ mu > 0, 1, -1)


def simulate_mixture_uturn(d, p, sigma, kappa, taus, n_samples, rng, *, step=0.02,
                           progress=None):
    """Return the flip rate per ``tau0`` with the exact denoiser and the Heun flow."""
    return simulate_paired_uturn(d, p, sigma, kappa, taus, n_samples, rng, step=step,
                                 progress=progress)["flip_rate"]


def simulate_paired_uturn(d, p, sigma, kappa, taus, n_samples, rng, *, step=0.02,
                          progress=None):
    """Run the U-turn in ``d`` dimensions beside its ``d -> oo`` counterpart on the same draws.

    For each sample the large-``d`` noised projection is
    ``y_oo = mu.x0/sqrt(d) + kappa tau0 s``, which is exactly
    ``N(kappa tau0 s, 1)``, and the limit flow flips it when it lies on the
    wrong side of the boundary ``y*(tau0)`` (never for ``tau0 > 1``). The
    mean of these indicators is an unbiased estimate of the limit curve,
    so the paired difference ``flip_rate - paired_limit`` estimates the
    finite-``d`` bias with a much smaller error than the gap to the curve.
    Returns arrays ``flip_rate``, ``paired_limit`` and ``paired_standard_error``.
    """
    mixture = Mixture(d, p, sigma)
    schedule = dilated_rates(kappa, d)
    generate = flow_generator(schedule, exact_denoiser(mixture, schedule), end=2.0, step=step)
    mu = mixture.mu
    _, x1, s = mixture.draw(n_samples, rng)
    rows = {"flip_rate": [], "paired_limit": [], "paired_standard_error": []}
    for tau in taus:
        alpha, beta, _, _ = rates_at(schedule, tau)
        x0 = rng.standard_normal(x1.shape)
        generated = generate(float(tau), alpha * x0 + beta * x1)
        flips = np.where(generated @ mu > 0, 1.0, -1.0) != s
        limit_flips = np.zeros(n_samples, dtype=bool)
        if tau <= 1.0:
            y_limit = x0 @ mu / np.sqrt(d) + kappa * tau * s
            boundary = decision_boundary(tau, p, kappa)
            limit_flips = np.where(s > 0, y_limit < boundary, y_limit > boundary)
        difference = flips.astype(float) - limit_flips
        rows["flip_rate"].append(flips.mean())
        rows["paired_limit"].append(limit_flips.mean())
        rows["paired_standard_error"].append(difference.std(ddof=1) / np.sqrt(n_samples))
        if progress is not None:
            progress.update(1)
    return {name: np.array(values) for name, values in rows.items()}


def autoencoder_mixture_uturn(mixture, kappa, networks, grid, start_indices, n_samples, rng):
    """Return the flip rate per start index with per-time autoencoders and Euler steps.

    ``networks`` were trained at ``grid[:-1]``; the probe starts at
    ``grid[k]`` for each ``k`` in ``start_indices``.
    """
    schedule = dilated_rates(kappa, mixture.d)
    denoise = grid_denoiser(networks, grid[:-1])
    _, x1, s = mixture.draw(n_samples, rng)

    def generate(t0, x):
        k = int(np.argmin(np.abs(grid - t0)))
        return probability_flow(schedule, denoise, x, grid[k:], method="euler")

    taus = grid[np.asarray(start_indices)]
    flips = uturn_flips(schedule, generate, _sign_classifier(mixture.mu), x1, s, taus, rng)
    return flips.mean(axis=(1, 2))


__all__ = ["exact_denoiser", "grid_denoiser", "simulate_mixture_uturn", "simulate_paired_uturn",
           "autoencoder_mixture_uturn"]
