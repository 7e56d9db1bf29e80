"""Tests of the probability-flow and SDE samplers.

Oracles: for Gaussian data ``N(m, s^2 I)`` on the linear schedule the
denoiser is ``m + s^2 t/((1-t)^2 + s^2 t^2) (x - t m)``, and the exact
flow carries ``X(0)`` to ``m + s X(0)``. The SymPy schedule of the theory
layer gives the dilated rates.
"""

import math

import numpy as np
import pytest

from flowphase.theory.schedules import dilated_schedule
from flowphase.validation.flow_sampler import (dilated_rates, grid_from, linear_rates,
                                               probability_flow, sde_sample)

MEAN, SCALE = 0.7, 0.5


def _gaussian_denoiser(t, x):
    t = float(t)
    shrink = SCALE**2 * t / ((1 - t) ** 2 + SCALE**2 * t**2)
    return MEAN + shrink * (x - t * MEAN)


def _flow_error(n_steps, method):
    x0 = np.linspace(-2.0, 2.0, 9)[:, None]
    end = probability_flow(linear_rates, _gaussian_denoiser, x0,
                           np.linspace(0.0, 1.0, n_steps + 1), method)
    return np.max(np.abs(end - (MEAN + SCALE * x0)))


@pytest.mark.parametrize("method, order", [("euler", 1.0), ("heun", 2.0)])
def test_flow_converges_at_its_order(method, order):
    steps = np.array([20, 40, 80, 160])
    errors = np.array([_flow_error(n, method) for n in steps])
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    print(f"{method}: errors {errors}, fitted slope {slope:.2f}")
    # The last step is Euler's, but it lands on the denoiser, whose error
    # against the exact end point is O(step^2) here, so Heun keeps order 2.
    assert abs(slope + order) < 0.25


def test_sde_sampler_reaches_target_law():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40_000, 1))
    end = sde_sample(linear_rates, _gaussian_denoiser, x, grid_from(0.0, 1.0, 0.005), rng,
                     eps0=1.0)
    mean, std = end.mean(), end.std()
    print(f"SDE sample mean {mean:.4f}, std {std:.4f}")
    assert abs(mean - MEAN) < 4 * SCALE / math.sqrt(x.shape[0]) + 0.01
    assert abs(std - SCALE) < 0.02


def test_dilated_rates_match_symbolic_schedule():
    kappa, d = 2.0, 64
    rates = dilated_rates(kappa, d)
    schedule = dilated_schedule(kappa)
    for tau in (0.0, 0.3, 0.999, 1.0, 1.4, 1.95):
        expected = schedule.rates(tau, d=d)
        got = [float(v) for v in rates(np.array(tau))]
        np.testing.assert_allclose(got, [float(v) for v in expected], rtol=1e-12, atol=1e-14)


def test_dilated_rates_reject_large_kappa():
    with pytest.raises(ValueError, match="kappa < sqrt"):
        dilated_rates(8.0, 64)


def test_grid_from_bounds_step():
    grid = grid_from(0.3, 1.0, 0.02)
    assert grid[0] == 0.3
    assert grid[-1] == 1.0
    assert np.max(np.diff(grid)) <= 0.02 + 1e-12


@pytest.mark.parametrize("grid", [[0.0], [0.0, 0.5, 0.5, 1.0], [1.0, 0.0]])
def test_flow_rejects_bad_grid(grid):
    with pytest.raises(ValueError, match="strictly increasing"):
        probability_flow(linear_rates, _gaussian_denoiser, np.zeros((2, 1)), grid)


def test_flow_rejects_unknown_method():
    with pytest.raises(ValueError, match="heun"):
        probability_flow(linear_rates, _gaussian_denoiser, np.zeros((2, 1)), [0, 1], "rk4")
