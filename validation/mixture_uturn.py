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
    mixture = Mixture(d, p, sigma)
    schedule = dilated_rates(kappa, d)
    denoise = exact_denoiser(mixture, schedule)
    _, x1, s = mixture.draw(n_samples, rng)
    generate = flow_generator(schedule, denoise, end=2.0, step=step)
    flips = uturn_flips(schedule, generate, _sign_classifier(mixture.mu), x1, s, taus, rng,
                        progress=progress)
    return flips.mean(axis=(1, 2))


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


__all__ = ["exact_denoiser", "grid_denoiser", "simulate_mixture_uturn",
           "autoencoder_mixture_uturn"]
