"""Tests of the overlap ODEs of online SGD on the linear (undilated) schedule.

Oracles: the phase-1 drifts of the dilated schedule (derived separately,
from the dilated schedule), the closed-form optimum of the exact denoiser,
the ``1/sqrt(d)`` width that the window must have, and online SGD of the
finite-d network.
"""

import math

import numpy as np
import sympy as sp
from scipy.stats import linregress

from flowphase.numerics import sgd_undilated as numerics
from flowphase.theory import gaussian, sgd, sgd_undilated as theory
from flowphase.theory.symbols import sigma, t
from flowphase.validation import online_sgd

P, SIGMA = 0.8, 1.0
DIMS = (256, 1024, 4096, 16384)
B = sgd.STATE_NAMES.index("b")


def test_window_drifts_are_phase_one_drifts():
    window = theory.window_dynamics()
    phase_one = sgd.phase_one_dynamics()
    for name in sgd.STATE_NAMES:
        difference = window.rates[name] - theory.window_as_phase_one(phase_one.rates[name])
        assert sp.simplify(difference) == 0, name
    expected_shift = sgd.b + gaussian.s * theory.theta * sgd.omega
    assert sp.simplify(window.shift - expected_shift) == 0


def test_fixed_time_fixed_point_is_optimum():
    fixed_point = theory.fixed_time_dynamics().fixed_point
    c_expected = sigma**2 * t / ((1 - t) ** 2 + sigma**2 * t**2)
    assert sp.simplify(fixed_point["c"] - c_expected) == 0
    assert sp.simplify(fixed_point["m"] - (1 - c_expected * t)) == 0
    assert sp.simplify(fixed_point["q"] - (1 - c_expected * t) ** 2) == 0


def test_fixed_time_rates_are_loss_gradient():
    dynamics = theory.fixed_time_dynamics()
    c, m, q = sgd.c, sgd.m, sgd.q
    loss_c, loss_m, loss_q = (sp.diff(dynamics.loss, symbol) for symbol in (c, m, q))
    assert sp.simplify(dynamics.rates["c"] + loss_c) == 0
    assert sp.simplify(dynamics.rates["m"] + loss_m + 2 * m * loss_q) == 0
    assert sp.simplify(dynamics.rates["q"] + 2 * m * loss_m + 4 * q * loss_q) == 0


def test_finite_d_drift_tends_to_window():
    """At t = theta/sqrt(d) the finite-d drift of b approaches its limit like 1/sqrt(d)."""
    theta = 1.0
    limit = numerics.window_drift(theta, P)[B]
    gaps = [abs(numerics.finite_d_drift(theta / math.sqrt(d), d, P, SIGMA)[B] - limit)
            for d in DIMS]
    print("gaps", gaps)
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:]))
    slope = linregress(np.log(DIMS), np.log(gaps)).slope
    print("slope", slope)
    assert abs(slope + 0.5) < 0.1


def test_window_width_shrinks_like_inverse_sqrt_d():
    widths = [numerics.half_width(d, P, SIGMA) for d in DIMS]
    fit = linregress(np.log(DIMS), np.log(widths))
    print("widths", widths, "slope", fit.slope)
    assert abs(fit.slope + 0.5) < 0.01
    scaled = [width * math.sqrt(d) for width, d in zip(widths, DIMS)]
    limit = numerics.window_half_width(P)
    gaps = [abs(value - limit) for value in scaled]
    assert all(later < earlier for earlier, later in zip(gaps, gaps[1:]))


def test_bias_drift_vanishes_at_fixed_time():
    drifts = [abs(numerics.finite_d_drift(0.5, d, P, SIGMA)[B]) for d in (64, 256, 1024)]
    print("drifts", drifts)
    assert drifts[0] > drifts[1]
    assert drifts[1] < 1e-6
    assert drifts[2] < 1e-12


def test_sgd_moves_bias_only_in_window():
    d, eta = 256, 0.5
    times = np.array([0.0, 2.0])
    start = np.array(numerics.WINDOW_STATE)

    def bias_change(t_value):
        run = online_sgd.run_online_sgd(start, d=d, alpha=1.0 - t_value, beta=t_value,
                                        p=P, sigma=SIGMA, eta=eta, times=times,
                                        seeds=(0, 1))
        return np.abs(run.overlaps[-1, :, B] - run.overlaps[0, :, B])

    inside = bias_change(1.0 / math.sqrt(d))
    outside = bias_change(0.5)
    print("inside", inside, "outside", outside)
    assert np.min(inside) > 0.1
    assert np.max(outside) < 1e-3
