"""Tests of the derived phase-1 overlap ODEs of online SGD.

Oracles: mpmath quadrature of the Gaussian integrals written directly
(without Stein's lemma), and numerical derivatives of the hand-written
population loss.
"""

import functools

import mpmath
import pytest
import sympy as sp

from flowphase.theory import gaussian, sgd
from flowphase.theory.symbols import kappa, sigma, t

mpmath.mp.dps = 20

POINT = {"c": 0.3, "b": 0.4, "m": 0.7, "q": 0.9, "omega": 0.8, "r": 1.3}
KAPPA, TAU, P, SIGMA, ETA = 2.0, 0.6, 0.8, 0.9, 0.7


def _gaussian_mean(integrand):
    """Return E[integrand(xi)] for xi ~ N(0, 1) by mpmath quadrature."""
    density = lambda x: mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
    return mpmath.quad(lambda x: density(x) * integrand(x), [-mpmath.inf, 0, mpmath.inf])


def _mode_mean(integrand, point):
    """Return E over s and xi of integrand(xi, s, a) at the phase-1 pre-activation."""
    total = 0
    for sign, weight in ((1, P), (-1, 1 - P)):
        shift = KAPPA * TAU * point["omega"] * sign + point["b"]
        slope = mpmath.sqrt(point["r"])
        total += weight * _gaussian_mean(
            lambda x: integrand(x, sign, slope * x + shift)
        )
    return total


@functools.lru_cache(maxsize=None)
def _moments_cached(items):
    point = dict(items)
    values = {}
    for j, k in [(j, k) for j in (0, 1) for k in range(7)]:
        values[gaussian.moment_symbol(j, k)] = _mode_mean(
            lambda x, sign, a: sign**j * mpmath.tanh(a) ** k, point
        )
    return values


def _moments(point):
    return _moments_cached(tuple(sorted(point.items())))


def _derived_rates(point, eta):
    dynamics = sgd.phase_one_dynamics()
    values = {sp.Symbol(name, real=True): value for name, value in point.items()}
    values.update({kappa: KAPPA, t: TAU, sgd.lr: eta, sigma: SIGMA})
    values.update(_moments(point))
    return {
        name: float(rate.subs(values)) for name, rate in dynamics.rates.items()
    }


def _hand_loss(point):
    """Population loss per coordinate, written by hand for phase 1 as d -> oo."""
    second = _mode_mean(lambda x, sign, a: mpmath.tanh(a) ** 2, point)
    signed = _mode_mean(lambda x, sign, a: sign * mpmath.tanh(a), point)
    c, m, q = point["c"], point["m"], point["q"]
    return (c**2 + q * second - 2 * m * signed + 1 + SIGMA**2) / 2


def _loss_gradient(point):
    gradient = {}
    for name in POINT:
        def along(value, name=name):
            return _hand_loss({**point, name: value})

        gradient[name] = mpmath.diff(along, point[name])
    return gradient


def test_stein_matches_direct_quadrature():
    slope = sp.Rational(3, 2)
    expression = gaussian.xi**2 * gaussian.phi**2 + gaussian.s * gaussian.xi * gaussian.phi
    reduced = gaussian.gaussian_expectation(expression, slope, {}, {})
    point = {"omega": 0.5, "b": 0.2, "r": 2.25}
    direct = _mode_mean(
        lambda x, sign, a: x**2 * mpmath.tanh(a) ** 2 + sign * x * mpmath.tanh(a),
        point,
    )
    value = float(reduced.subs(_moments(point)))
    assert value == pytest.approx(float(direct), rel=1e-12)


def test_isserlis_fourth_moment():
    g = sp.Symbol("g")
    variance = sp.Symbol("V", positive=True)
    assert gaussian.isserlis([g] * 4, lambda a, b: variance) == 3 * variance**2
    assert gaussian.isserlis([g] * 3, lambda a, b: variance) == 0


def test_reduced_loss_matches_hand_form():
    dynamics = sgd.phase_one_dynamics()
    values = {sp.Symbol(name, real=True): value for name, value in POINT.items()}
    values.update({kappa: KAPPA, t: TAU, sigma: SIGMA})
    values.update(_moments(POINT))
    derived = float(dynamics.loss.subs(values))
    assert derived == pytest.approx(float(_hand_loss(POINT)), rel=1e-12)


def test_gradient_flow_is_loss_gradient():
    gradient = _loss_gradient(POINT)
    rates = _derived_rates(POINT, eta=0.0)
    m, q, omega, r = (POINT[name] for name in ("m", "q", "omega", "r"))
    # u moves by -grad_u of d*loss, and m, q depend on u as u.mu/d, |u|^2/d.
    expected = {
        "c": -gradient["c"],
        "b": -gradient["b"],
        "m": -(gradient["m"] + 2 * m * gradient["q"]),
        "q": -2 * (m * gradient["m"] + 2 * q * gradient["q"]),
        "omega": -(gradient["omega"] + 2 * omega * gradient["r"]),
        "r": -2 * (omega * gradient["omega"] + 2 * r * gradient["r"]),
    }
    for name, value in expected.items():
        assert rates[name] == pytest.approx(float(value), rel=1e-9, abs=1e-12), name


def test_rates_match_stein_free_integrals():
    """Compare with the drifts written as integrals over xi and zeta.

    ``zeta`` enters linearly, and ``E[zeta | xi] = (omega/sqrt(r)) xi``, so
    each integral is one-dimensional without Stein's lemma.
    """
    m, q, omega, r, b = (POINT[name] for name in ("m", "q", "omega", "r", "b"))
    load = omega / mpmath.sqrt(r)

    def error(sign, a):
        return q * mpmath.tanh(a) - m * sign

    def slope_factor(a):
        return 1 - mpmath.tanh(a) ** 2

    expected = {
        "c": -POINT["c"],
        "b": -_mode_mean(lambda x, sg, a: error(sg, a) * slope_factor(a), POINT),
        "m": _mode_mean(
            lambda x, sg, a: sg * mpmath.tanh(a) - m * mpmath.tanh(a) ** 2, POINT
        ),
        "q": 2 * _mode_mean(
            lambda x, sg, a: m * sg * mpmath.tanh(a) - q * mpmath.tanh(a) ** 2, POINT
        ),
        "omega": -_mode_mean(
            lambda x, sg, a: error(sg, a) * slope_factor(a) * (load * x + KAPPA * TAU * sg),
            POINT,
        ),
        "r": _mode_mean(
            lambda x, sg, a: -2 * error(sg, a) * slope_factor(a) * (a - b)
            + ETA * error(sg, a) ** 2 * slope_factor(a) ** 2,
            POINT,
        ),
    }
    rates = _derived_rates(POINT, eta=ETA)
    for name, value in expected.items():
        assert rates[name] == pytest.approx(float(value), rel=1e-10, abs=1e-13), name


def test_phase_one_preactivation_limit():
    dynamics = sgd.phase_one_dynamics()
    r, omega, b = sp.symbols("r omega b", real=True)
    assert sp.simplify(dynamics.slope - sp.sqrt(r)) == 0
    assert sp.simplify(dynamics.shift - (kappa * t * omega * gaussian.s + b)) == 0
