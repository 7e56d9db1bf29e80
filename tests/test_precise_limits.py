"""30-digit limits of the generated statistics against independent oracles."""

import math

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from flowphase.numerics.sampler_stats import sampler_statistics
from flowphase.theory import precise_limits as pl
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.theory.symbols import kappa, log_odds


def test_flow_limit_digits():
    # p Phi(kappa + l/kappa) + (1-p) Phi(-kappa + l/kappa) by mpmath quadrature
    # of the mixture density of y, at 40 digits.
    with mp.workdps(40):
        p = mp.mpf(4) / 5
        ell = mp.atanh(2 * p - 1)
        density = lambda y: (p * mp.npdf(y, 2) + (1 - p) * mp.npdf(y, -2))  # noqa: E731
        oracle = mp.quad(density, [-ell / 2, 2, mp.inf])
        value = pl.p_hat_flow_limit(0.8, 2)
        assert abs(value - oracle) < mp.mpf(10) ** -30


def test_flow_gap_matches_difference():
    with mp.workdps(60):
        for k in (1, 3, 6):
            difference = pl.p_hat_flow_limit(0.8, k, dps=50) - mp.mpf("0.8")
            gap = pl.p_hat_flow_gap(0.8, k)
            assert abs(gap / difference - 1) < mp.mpf(10) ** -28


def test_gap_leading_term_ratio():
    leading = sp.lambdify((kappa, log_odds), pl.p_hat_gap_leading(), modules="mpmath")
    ell = mp.atanh(mp.mpf("0.6"))
    ratios = [pl.p_hat_flow_gap(0.8, k) / leading(mp.mpf(k), ell) for k in (10, 20, 40)]
    # The relative correction is O(1/kappa^2), so it shrinks fourfold per doubling.
    errors = [abs(r - 1) for r in ratios]
    assert errors[0] < 0.05
    assert errors[1] < errors[0] / 3
    assert errors[2] < errors[1] / 3


@pytest.mark.parametrize("kappa_value, p, sigma", [(2.0, 0.8, 1.0), (1.0, 0.7, 0.5),
                                                   (3.0, 0.6, 2.0)])
def test_grid_limit_agrees_with_double(kappa_value, p, sigma):
    schedule, grid = dilated_schedule(kappa_value), np.linspace(0.0, 2.0, 41)
    precise = pl.sampler_limits_precise(schedule, grid, p=p, sigma=sigma)
    double = sampler_statistics(schedule, grid, d=math.inf, p=p, sigma=sigma)
    assert abs(float(precise["p_hat"]) - double["p_hat"]) < 1e-12
    assert abs(float(precise["sigma2_hat"]) - double["sigma2_hat"]) < 1e-12


def test_grid_limit_known_values():
    # The limits quoted for 20 + 20 uniform steps at p = 0.8, kappa = 2, sigma = 1.
    precise = pl.sampler_limits_precise(dilated_schedule(2.0), np.linspace(0.0, 2.0, 41),
                                        p=0.8, sigma=1.0)
    assert float(precise["p_hat"]) == pytest.approx(0.8081, abs=5e-5)
    assert float(precise["sigma2_hat"]) == pytest.approx(0.879, abs=5e-4)


def test_sigma2_limit_product_formula():
    # prod_k (1 + Delta (c(t_k) - 1)/(1 - t_k))^2 over the phase-2 steps.
    with mp.workdps(40):
        total = mp.mpf(1)
        for k in range(20):
            t = mp.mpf(k) / 20
            c = t / ((1 - t) ** 2 + t**2)
            total *= (1 + (c - 1) / (20 * (1 - t))) ** 2
        precise = pl.sampler_limits_precise(dilated_schedule(2.0),
                                            np.linspace(0.0, 2.0, 41), p=0.8, sigma=1.0)
        assert abs(precise["sigma2_hat"] - total) < mp.mpf(10) ** -30


def test_linear_grid_limits():
    grid = np.linspace(0.0, 1.0, 21)
    with_zero = pl.sampler_limits_precise(linear_schedule(), grid, p=0.8, sigma=1.0)
    without = pl.sampler_limits_precise(linear_schedule(), grid[1:], p=0.8, sigma=1.0)
    assert with_zero["p_hat"] == 1
    assert without["p_hat"] == mp.mpf(1) / 2


def test_grid_limit_hand_recursion():
    # With 20 phase-1 steps of size 1/20 the limit map is
    # y -> y + kappa/20 tanh(kappa tau_k y + l), tau_k = k/20, and the first
    # phase-2 step keeps the sign of kappa y + l, so p_hat = 1 - Phi(y0*)
    # with y0* the initial projection that the map sends to -l/kappa.
    with mp.workdps(45):
        k, ell = mp.mpf(2), mp.atanh(mp.mpf("0.6"))

        def image(y0):
            y = y0
            for step in range(20):
                y = y + k / 20 * mp.tanh(k * step / 20 * y + ell)
            return k * y + ell

        root = mp.findroot(image, (mp.mpf(-3), mp.mpf(1)), solver="anderson")
        oracle = 1 - mp.ncdf(root)
        precise = pl.sampler_limits_precise(dilated_schedule(2.0),
                                            np.linspace(0.0, 2.0, 41), p=0.8, sigma=1.0)
        assert abs(precise["p_hat"] - oracle) < mp.mpf(10) ** -30
