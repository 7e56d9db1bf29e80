"""The NumPy Euler sampler against the exact one-dimensional recursions.

Networks set to the exact optimum reproduce the exact velocity field, so
the d-dimensional simulation must agree with the theory layer's exact
finite-d sampler statistics within Monte Carlo error.
"""

import math

import numpy as np
import pytest

from flowphase.numerics.sampler_stats import sampler_statistics
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.validation.sampling import euler_coefficients, euler_sample, summarize
from flowphase.validation.training import Autoencoders

P, SIGMA, KAPPA = 0.8, 1.0, 2.0


def exact_networks(rates, d):
    """Autoencoders at the exact optimum, from the closed forms."""
    alpha, beta = rates[:, 0], rates[:, 1]
    gamma = alpha**2 + SIGMA**2 * beta**2
    c = SIGMA**2 * beta / gamma
    mu = np.ones(d)
    u = np.outer(mu, 1 - c * beta)
    w = np.outer(mu, beta * math.sqrt(d) / gamma)
    b = np.full(len(alpha), math.atanh(2 * P - 1))
    return Autoencoders(c=c, u=u, w=w, b=b)


def simulate(schedule, grid, d, n, seed, **params):
    rates = np.array([schedule.rates(t, d=d, **params) for t in grid[:-1]])
    networks = exact_networks(rates, d)
    rng = np.random.default_rng(seed)
    return euler_sample(networks.denoise, grid, rates, np.ones(d), n, rng)


@pytest.mark.parametrize("name", ["dilated", "linear", "linear_without_t0"])
def test_sampler_matches_exact_recursion(name):
    d, n = 128, 6000
    if name == "dilated":
        schedule, grid, params = dilated_schedule(KAPPA), np.linspace(0, 2, 21), {}
    else:
        schedule, grid, params = linear_schedule(), np.linspace(0, 1, 11), {}
        if name == "linear_without_t0":
            grid = grid[1:]
    result = simulate(schedule, grid, d, n, seed=1, **params)
    exact = sampler_statistics(schedule, grid, d=d, p=P, sigma=SIGMA, **params)

    p_error = math.sqrt(max(exact["p_hat"] * (1 - exact["p_hat"]), 1e-4) / n)
    assert abs(result.p_hat - exact["p_hat"]) < 4 * p_error
    # sigma2_hat averages n*(d-1) squared Gaussian coordinates.
    assert abs(result.sigma2_hat - exact["sigma2_hat"]) < 4 * exact["sigma2_hat"] * math.sqrt(2 / (n * d))
    # M averages s*mu.X/d, whose spread per sample is about sigma/sqrt(d).
    assert abs(result.M - exact["M_end"]) < 5 * math.sqrt((SIGMA**2 + 1) / (n * d))


def test_summarize_known_points():
    mu = np.ones(4)
    x = np.array([[1.0, 1.0, 1.0, 1.0], [-2.0, -2.0, -2.0, 0.0]])
    result = summarize(x, mu)
    assert result.p_hat == 0.5
    assert result.M == pytest.approx((1.0 + 1.5) / 2)
    # Second row: projection -1.5, orthogonal part (-0.5, -0.5, -0.5, 1.5).
    assert result.sigma2_hat == pytest.approx((0.0 + 3.0 / 4) / 2)


def test_euler_rejects_zero_alpha():
    rates = np.array([[1.0, 0.0, -1.0, 1.0], [0.0, 1.0, -1.0, 1.0]])
    with pytest.raises(ValueError, match="alpha"):
        euler_coefficients(rates)
