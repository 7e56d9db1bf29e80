"""Tests of the reduced phase-2 overlap ODEs of online SGD.

Oracles: the closed-form optimum ``c = sigma^2 t/((1 - t)^2 + sigma^2 t^2)``,
``m = 1 - c t`` of the exact denoiser, a Monte Carlo average of the
one-step increment of the finite-d network, and online SGD runs.
"""

import math

import numpy as np
import pytest
import sympy as sp

from flowphase.numerics import sgd_phase_two as numerics
from flowphase.numerics.integrate import dense_eval
from flowphase.theory import sgd_phase_two as theory
from flowphase.theory.symbols import sigma, t
from flowphase.validation import online_sgd

KAPPA, P, SIGMA = 2.0, 0.8, 1.0
# Saturated input weight: sqrt(d) beta omega is about 20 at d = 1024, t = 0.5.
START = np.array([0.0, 0.3, 0.1, 0.05, 1.2, 1.5])
PHASE_TWO_INDICES = [0, 2, 3]


def _closed_form(t_value, sigma_value):
    c = sigma_value**2 * t_value / ((1 - t_value) ** 2 + sigma_value**2 * t_value**2)
    return np.array([c, 1 - c * t_value, (1 - c * t_value) ** 2])


def test_derived_limit_fixed_point_is_closed_form():
    fixed_point = theory.phase_two_limit().fixed_point
    c_expected = sigma**2 * t / ((1 - t) ** 2 + sigma**2 * t**2)
    assert sp.simplify(fixed_point["c"] - c_expected) == 0
    assert sp.simplify(fixed_point["m"] - (1 - c_expected * t)) == 0
    assert sp.simplify(fixed_point["q"] - (1 - c_expected * t) ** 2) == 0


def test_rates_are_gradient_flow_of_loss():
    """du/dT = -(dL/dm mu + 2 dL/dq u) projects onto m and q by the chain rule."""
    dynamics = theory.phase_two_dynamics()
    c, m, q = theory.STATES
    loss_c, loss_m, loss_q = (sp.diff(dynamics.loss, symbol) for symbol in (c, m, q))
    assert sp.simplify(dynamics.rates["c"] + loss_c) == 0
    assert sp.simplify(dynamics.rates["m"] + loss_m + 2 * m * loss_q) == 0
    assert sp.simplify(dynamics.rates["q"] + 2 * m * loss_m + 4 * q * loss_q) == 0


@pytest.mark.parametrize("t_value, sigma_value", [(0.1, 1.0), (0.5, 1.0), (0.7, 0.5), (0.95, 2.0)])
def test_newton_fixed_point_is_closed_form(t_value, sigma_value):
    params = numerics.phase_two_params(KAPPA, t_value, sigma_value)
    result = numerics.fixed_point_phase_two([0.0, 0.0, 0.0], params)
    expected = _closed_form(t_value, sigma_value)
    print(f"t={t_value}, sigma={sigma_value}: c={result.state[0]:.10f}, "
          f"m={result.state[1]:.10f}, eigenvalues {np.round(result.eigenvalues, 4)}")
    assert result.converged, result.message
    assert np.max(np.abs(result.state - expected)) < 1e-10
    assert result.stable, result.eigenvalues


def test_finite_d_fixed_point_is_c_star():
    d, t_value = 256, 0.3
    params = numerics.phase_two_params(KAPPA, t_value, SIGMA, d)
    beta_value = KAPPA / math.sqrt(d) + (1 - KAPPA / math.sqrt(d)) * t_value
    alpha_value = (1 - KAPPA / math.sqrt(d)) * (1 - t_value)
    c_star = SIGMA**2 * beta_value / (alpha_value**2 + SIGMA**2 * beta_value**2)
    result = numerics.fixed_point_phase_two([0.0, 0.0, 0.0], params)
    assert result.converged, result.message
    assert result.state[0] == pytest.approx(c_star, rel=1e-12)
    assert result.state[1] == pytest.approx(1 - c_star * beta_value, rel=1e-12)


def test_integration_reaches_optimum():
    params = numerics.phase_two_params(KAPPA, 0.4, SIGMA)
    solution = numerics.integrate_phase_two(np.zeros(3), 40.0, params)
    assert solution.status == 0
    assert np.max(np.abs(solution.y[-1] - _closed_form(0.4, SIGMA))) < 1e-6


def _finite_d_schedule(d, t_value):
    shift = KAPPA / math.sqrt(d)
    return (1 - shift) * (1 - t_value), shift + (1 - shift) * t_value


def test_drift_matches_monte_carlo_increment():
    d, t_value, eta = 2048, 0.5, 1.0
    state = np.array([0.1, 0.3, 0.5, 0.6, 1.0, 1.5])
    alpha_value, beta_value = _finite_d_schedule(d, t_value)
    mean, error = online_sgd.expected_increment(
        state, d=d, alpha=alpha_value, beta=beta_value, p=P, sigma=SIGMA,
        eta=eta, n_samples=10000, seed=1,
    )
    rhs = numerics.phase_two_rhs()
    reduced = state[PHASE_TWO_INDICES]
    finite = rhs(0.0, reduced, numerics.phase_two_params(KAPPA, t_value, SIGMA, d))
    limit = rhs(0.0, reduced, numerics.phase_two_params(KAPPA, t_value, SIGMA))
    sampled = mean[PHASE_TWO_INDICES]
    print("Monte Carlo (c, m, q):", np.round(sampled, 5), "+-", np.round(error[PHASE_TWO_INDICES], 5))
    print("finite-d ODE:", np.round(finite, 5), " d -> oo ODE:", np.round(limit, 5))

    # Dropped terms: eta/d in dq/dT and the fluctuations of |x|^2/d.
    tolerance = 5 * error[PHASE_TWO_INDICES] + 2.0 / d
    for index, name in enumerate(theory.STATE_NAMES):
        assert abs(sampled[index] - finite[index]) < tolerance[index], name
    # The d -> oo drift of c misses the O(1/sqrt(d)) part of beta and Gamma.
    assert abs(sampled[0] - limit[0]) > 10 * tolerance[0]
    for name in theory.FROZEN_NAMES:
        index = online_sgd.OVERLAP_ORDER.index(name)
        assert abs(mean[index]) < 1e-12, name


def test_online_sgd_follows_finite_d_ode():
    d, t_value, eta = 1024, 0.5, 0.5
    times = np.linspace(0.0, 3.0, 7)
    alpha_value, beta_value = _finite_d_schedule(d, t_value)
    run = online_sgd.run_online_sgd(
        START, d=d, alpha=alpha_value, beta=beta_value, p=P, sigma=SIGMA,
        eta=eta, times=times, seeds=(0, 1, 2),
    )
    mean = run.overlaps.mean(axis=1)[:, PHASE_TWO_INDICES]
    deviations = {}
    for label, dimension in (("finite-d", d), ("d -> oo", None)):
        params = numerics.phase_two_params(KAPPA, t_value, SIGMA, dimension)
        solution = numerics.integrate_phase_two(START[PHASE_TWO_INDICES], 3.0, params)
        ode = dense_eval(solution, run.times)
        deviations[label] = np.max(np.abs(mean - ode), axis=0)
        print(f"max deviation from the {label} ODE (c, m, q):", np.round(deviations[label], 4))

    assert np.all(deviations["finite-d"] < 0.02)
    # Keeping beta and Gamma at their finite-d values removes most of the gap in c.
    assert deviations["finite-d"][0] < 0.3 * deviations["d -> oo"][0]
    frozen = run.overlaps[:, :, [1, 4, 5]]
    assert np.max(np.abs(frozen - START[[1, 4, 5]])) < 1e-6
