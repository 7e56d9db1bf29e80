"""The mixture part of ``flowphase uturn``: simulated flip curves against the limit.

At every ``d`` the probe runs in ``d`` dimensions with the exact denoiser
and the Heun probability flow on the dilated schedule. At
``autoencoder_d`` it also runs with per-time autoencoders trained on the
training grid and sampled with Euler steps on that grid, the sampler the
autoencoders were built for. The exact denoiser on the same Euler grid
separates their training error from the time discretisation.
The largest gap to the ``d -> oo`` curve is reported per ``d``, beside
the Monte Carlo standard error of the simulated rates. So is the largest
paired gap to the limit process run on the same draws, whose error is
much smaller.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.stats import linregress

from flowphase.numerics.uturn_limit import limit_flip_rate
from flowphase.validation.data import Mixture
from flowphase.validation.flow_sampler import dilated_rates
from flowphase.validation.mixture_uturn import (autoencoder_mixture_uturn, exact_denoiser,
                                                simulate_paired_uturn)
from flowphase.validation.training import TrainingConfig, train_autoencoders

logger = logging.getLogger(__name__)

# Autoencoder grid: 20 Euler steps per phase, the grid of flowphase report.
STEPS_PER_PHASE = 20
AUTOENCODER_TRAINING = TrainingConfig(batch_size=512, anchor_steps=100,
                                      explore_steps=100, refine_steps=80)


def compare_mixture(config, rng, progress=None):
    """Return the limit curve, the simulated curves and their largest gaps."""
    taus = np.asarray(config.mixture_taus, dtype=float)
    limit = limit_flip_rate(taus, config.p, config.kappa)
    fine = np.linspace(0.0, 1.999, 400)
    result = {"taus": taus.tolist(), "limit": limit.tolist(), "fine_taus": fine.tolist(),
              "fine_limit": limit_flip_rate(fine, config.p, config.kappa).tolist(),
              "simulated": {}}
    for d in config.dims:
        logger.info("mixture U-turn at d=%d", d)
        run = simulate_paired_uturn(d, config.p, config.sigma, config.kappa, taus,
                                    config.n_mixture, rng, step=config.sampler_step,
                                    progress=progress)
        rates = run["flip_rate"]
        standard_error = np.sqrt(np.maximum(rates * (1 - rates), 1e-12) / config.n_mixture)
        gaps = np.abs(rates - limit)
        paired = np.abs(rates - run["paired_limit"])
        result["simulated"][str(d)] = {
            "flip_rate": rates.tolist(), "standard_error": standard_error.tolist(),
            "max_gap": float(gaps.max()), "max_gap_tau": float(taus[np.argmax(gaps)]),
            "max_gap_phase_one": float(gaps[taus <= 1.0].max()),
            "max_standard_error": float(standard_error.max()),
            "paired_limit": run["paired_limit"].tolist(),
            "paired_standard_error": run["paired_standard_error"].tolist(),
            "max_paired_gap": float(paired.max()),
            "max_paired_standard_error": float(run["paired_standard_error"].max()),
        }
    result["paired_gap_slope"] = _slope(result["simulated"])
    if config.autoencoder_d:
        result["autoencoder"] = _autoencoder_curve(config, rng, progress)
    return result


def _slope(simulated):
    """Fit ``log(max paired gap)`` against ``log d``; ``None`` below 3 dimensions or at a zero gap."""
    dims = np.array([int(d) for d in simulated], dtype=float)
    gaps = np.array([row["max_paired_gap"] for row in simulated.values()])
    if dims.size < 3 or np.any(gaps <= 0):
        return None
    fit = linregress(np.log(dims), np.log(gaps))
    return {"slope": float(fit.slope), "stderr": float(fit.stderr)}


def _autoencoder_curve(config, rng, progress):
    """Train per-time autoencoders at ``autoencoder_d`` and run the Euler U-turn on their grid."""
    d = config.autoencoder_d
    mixture = Mixture(d, config.p, config.sigma)
    grid = np.linspace(0.0, 2.0, 2 * STEPS_PER_PHASE + 1)
    rates = np.array(dilated_rates(config.kappa, d)(grid[:-1])).T
    networks = train_autoencoders(mixture, rates[:, 0], rates[:, 1], anchor=STEPS_PER_PHASE,
                                  rng=rng, config=AUTOENCODER_TRAINING)
    starts = [int(np.argmin(np.abs(grid - tau))) for tau in config.mixture_taus]
    # Both runs use the same draws, so their difference is the training error.
    flips = autoencoder_mixture_uturn(mixture, config.kappa, networks, grid, starts,
                                      config.n_mixture, np.random.default_rng([config.seed, 7]))
    exact = autoencoder_mixture_uturn(mixture, config.kappa,
                                      _ExactOnGrid(mixture, config.kappa, grid), grid,
                                      starts, config.n_mixture,
                                      np.random.default_rng([config.seed, 7]))
    if progress is not None:
        progress.update(len(starts))
    taus = grid[starts]
    limit = limit_flip_rate(taus, config.p, config.kappa)
    return {"d": d, "taus": taus.tolist(), "flip_rate": flips.tolist(),
            "exact_euler_flip_rate": exact.tolist(),
            "max_gap": float(np.max(np.abs(flips - limit))),
            "max_gap_to_exact_euler": float(np.max(np.abs(flips - exact)))}


class _ExactOnGrid:
    """The exact denoiser in the interface of trained autoencoders, ``denoise(k, x)``."""

    def __init__(self, mixture, kappa, grid):
        self.grid = grid
        self.exact = exact_denoiser(mixture, dilated_rates(kappa, mixture.d))

    def denoise(self, k, x):
        return self.exact(self.grid[k], x)
