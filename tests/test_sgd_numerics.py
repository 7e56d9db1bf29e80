"""Tests of the compiled phase-1 overlap ODEs: quadrature, drift, fixed points.

Oracles: mpmath quadrature, SymPy substitution into the derived drifts,
and the closed-form phase-1 optimum ``c = 0, m = q = 1, omega = kappa tau,
r = (kappa tau)^2, b = artanh(2p - 1)``.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from flowphase.numerics import expectations, sgd_ode
from flowphase.theory import gaussian, sgd
from flowphase.theory.symbols import kappa, t

mpmath.mp.dps = 25


def _mpmath_moment(j, k, slope, shift_plus, shift_minus, p):
    def mode(shift):
        def integrand(x):
            density = mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)
            return density * mpmath.tanh(slope * x + shift) ** k

        return mpmath.quad(integrand, [-mpmath.inf, -shift / slope, mpmath.inf])

    return p * mode(shift_plus) + (-1) ** j * (1 - p) * mode(shift_minus)


@pytest.mark.parametrize("slope, shift", [(0.7, 0.3), (3.0, 4.0), (3.0, -1.5)])
def test_trapezoid_moments_match_mpmath(slope, shift):
    n_nodes = expectations.node_count("trapezoid", 3.0, 1e-12)
    p = 0.3
    moments = expectations.moments_with("trapezoid", n_nodes, slope, shift, -shift / 2, p)
    for j in (0, 1):
        for k in range(expectations.MAX_POWER + 1):
            expected = float(_mpmath_moment(j, k, slope, shift, -shift / 2, p))
            assert abs(moments[j, k] - expected) < 1e-11, (j, k)


def test_gauss_hermite_error_estimate_is_honest():
    """The doubling estimate must not understate the true error by much."""
    slope, shift = 1.0, 1.0
    for n_nodes in (32, 64):
        estimate = expectations.quadrature_error("gauss-hermite", n_nodes, slope)
        moments = expectations.moments_with("gauss-hermite", n_nodes, slope, shift, -shift, 0.5)
        exact = float(_mpmath_moment(0, 2, slope, shift, -shift, 0.5))
        assert abs(moments[0, 2] - exact) < 10 * estimate


def test_node_count_rejects_unreachable_tolerance():
    with pytest.raises(ValueError, match="trapezoid"):
        expectations.node_count("gauss-hermite", 5.0, 1e-12)


def test_compiled_drift_matches_sympy():
    point = np.array([0.2, -0.3, 0.6, 0.8, 0.9, 1.4])
    kappa_value, tau, eta, p = 2.0, 0.7, 0.4, 0.65
    params = sgd_ode.phase_one_params(kappa_value, tau, eta, p)
    compiled = sgd_ode.phase_one_rhs()(0.0, point, params)

    dynamics = sgd.phase_one_dynamics()
    values = dict(zip(sgd.STATES, point))
    values.update({kappa: kappa_value, t: tau, sgd.lr: eta})
    slope = math.sqrt(point[5])
    shift = kappa_value * tau * point[4]
    for j, k in dynamics.moments:
        values[gaussian.moment_symbol(j, k)] = _mpmath_moment(
            j, k, slope, shift + point[1], -shift + point[1], p
        )
    for index, name in enumerate(sgd.STATE_NAMES):
        expected = float(dynamics.rates[name].subs(values))
        assert compiled[index] == pytest.approx(expected, rel=1e-10, abs=1e-12), name


@pytest.mark.parametrize(
    "kappa_value, tau, p", [(2.0, 0.5, 0.8), (2.0, 1.0, 0.8), (1.5, 0.3, 0.3), (3.0, 0.9, 0.6)]
)
def test_gradient_flow_fixed_point_is_optimum(kappa_value, tau, p):
    params = sgd_ode.phase_one_params(kappa_value, tau, 0.0, p)
    optimum = sgd_ode.optimum_phase_one(kappa_value, tau, p)
    start = optimum + np.array([0.05, -0.1, 0.05, 0.1, 0.1, -0.1])
    result = sgd_ode.fixed_point(start, params)
    assert result.converged, result.message
    assert np.max(np.abs(result.state - optimum)) < 1e-8
    assert result.stable, result.eigenvalues


def test_gradient_flow_reaches_optimum():
    params = sgd_ode.phase_one_params(2.0, 0.5, 0.0, 0.8)
    optimum = sgd_ode.optimum_phase_one(2.0, 0.5, 0.8)
    start = np.array([0.0, 0.0, 0.1, 0.01, 0.1, 0.01])
    solution = sgd_ode.integrate_phase_one(start, 400.0, params)
    assert solution.status == 0
    assert np.max(np.abs(solution.y[-1] - optimum)) < 1e-3


def test_learning_rate_pushes_omega_past_optimum():
    kappa_value, tau, p, eta = 2.0, 0.5, 0.8, 0.5
    params = sgd_ode.phase_one_params(kappa_value, tau, eta, p)
    start = np.array([0.0, 0.0, 0.1, 0.01, 0.1, 0.01])
    solution = sgd_ode.integrate_phase_one(start, 20.0, params)
    omega_index = sgd.STATE_NAMES.index("omega")
    omega_end = solution.y[-1, omega_index]
    drift_end = sgd_ode.phase_one_rhs()(0.0, solution.y[-1], params)
    print(f"eta=0.5: omega(T=20) = {omega_end:.4f}, optimum {kappa_value * tau}")
    assert omega_end > 1.1 * kappa_value * tau
    assert drift_end[omega_index] > 0.0


@pytest.mark.parametrize(
    "slope, shift_plus, shift_minus", [(0.5, 0.2, -0.1), (3.0, 4.0, -1.5), (14.0, 1.0, -2.0)]
)
def test_uniform_tanh_matches_direct_tanh(slope, shift_plus, shift_minus):
    """Reversed nodes are not increasing, so they take the math.tanh path."""
    nodes, weights = expectations.trapezoid_rule(256)
    fast = np.empty((2, expectations.MAX_POWER + 1))
    direct = np.empty((2, expectations.MAX_POWER + 1))
    expectations.mode_moments(slope, shift_plus, shift_minus, 0.7, nodes, weights, fast)
    expectations.mode_moments(
        slope, shift_plus, shift_minus, 0.7, nodes[::-1].copy(), weights[::-1].copy(), direct
    )
    print(f"slope {slope}: max difference {np.max(np.abs(fast - direct)):.1e}")
    assert np.max(np.abs(fast - direct)) < 1e-13
