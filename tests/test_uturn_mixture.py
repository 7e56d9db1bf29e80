"""Tests of the mixture's U-turn with the exact denoiser and trained autoencoders.

Oracles: the mixture posterior by Bayes' rule over the two modes, and
the exact-denoiser U-turn on the same Euler grid as the autoencoders.
"""

import math

import numpy as np
import pytest

from flowphase.validation.data import Mixture
from flowphase.validation.flow_sampler import dilated_rates
from flowphase.validation.mixture_uturn import (autoencoder_mixture_uturn, exact_denoiser,
                                                grid_denoiser)
from flowphase.validation.training import TrainingConfig, train_autoencoders


def test_exact_denoiser_matches_bayes():
    d, p, sigma, kappa = 9, 0.7, 0.8, 2.0
    mixture = Mixture(d, p, sigma)
    schedule = dilated_rates(kappa, d)
    denoise = exact_denoiser(mixture, schedule)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, d)) * 2
    mu = mixture.mu
    for tau in (0.2, 1.0, 1.6):
        alpha, beta, _, _ = (float(v) for v in schedule(np.array(tau)))
        gamma = alpha**2 + sigma**2 * beta**2
        log_plus = math.log(p) - np.sum((x - beta * mu) ** 2, axis=1) / (2 * gamma)
        log_minus = math.log(1 - p) - np.sum((x + beta * mu) ** 2, axis=1) / (2 * gamma)
        weight = 1 / (1 + np.exp(log_minus - log_plus))
        shrink = sigma**2 * beta / gamma
        plus = mu + shrink * (x - beta * mu)
        minus = -mu + shrink * (x + beta * mu)
        expected = weight[:, None] * plus + (1 - weight[:, None]) * minus
        np.testing.assert_allclose(denoise(tau, x), expected, rtol=1e-10, atol=1e-12)


class _ExactOnGrid:
    def __init__(self, mixture, kappa, grid):
        self.grid = grid
        self.exact = exact_denoiser(mixture, dilated_rates(kappa, mixture.d))

    def denoise(self, k, x):
        return self.exact(self.grid[k], x)


def test_autoencoder_uturn_matches_exact_on_grid():
    d, kappa = 64, 2.0
    mixture = Mixture(d, 0.8, 1.0)
    grid = np.linspace(0.0, 2.0, 21)
    rates = np.array(dilated_rates(kappa, d)(grid[:-1])).T
    config = TrainingConfig(batch_size=512, anchor_steps=100, explore_steps=100,
                            refine_steps=80)
    networks = train_autoencoders(mixture, rates[:, 0], rates[:, 1], anchor=10,
                                  rng=np.random.default_rng(0), config=config)
    starts = [0, 3, 6, 10]
    trained = autoencoder_mixture_uturn(mixture, kappa, networks, grid, starts, 4000,
                                        np.random.default_rng(1))
    exact = autoencoder_mixture_uturn(mixture, kappa, _ExactOnGrid(mixture, kappa, grid),
                                      grid, starts, 4000, np.random.default_rng(1))
    print(f"trained {trained}, exact {exact}")
    # Same draws for both, so the difference is the training error; the
    # Monte Carlo error of each rate is about 0.007.
    assert np.max(np.abs(trained - exact)) < 0.03
    assert exact[0] > 0.25


def test_grid_denoiser_rejects_time_off_grid():
    grid = np.linspace(0.0, 2.0, 5)

    class _Networks:
        def denoise(self, k, x):
            return x

    denoise = grid_denoiser(_Networks(), grid)
    with pytest.raises(ValueError, match="not on the autoencoders' grid"):
        denoise(0.3, np.zeros((1, 2)))
