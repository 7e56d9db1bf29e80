"""Tests of the large-d limits of the optimal overlaps."""

import numpy as np
import pytest
import sympy as sp

from flowphase.theory import limits, model
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.theory.symbols import kappa, log_odds, sigma, t


def _is_zero(expression):
    return sp.simplify(expression) == 0


def _phase_two_closed_form(time):
    c = sigma**2 * time / ((1 - time) ** 2 + sigma**2 * time**2)
    m = 1 - c * time
    return {"c": c, "m": m, "q": m**2, "b": log_odds, "m_tanh_b": m * sp.tanh(log_odds)}


@pytest.mark.parametrize("tau", [sp.Rational(1, 20), sp.Rational(1, 2), 1])
def test_phase_one_limits(tau):
    found = limits.overlap_limits(dilated_schedule(), tau, side="left")
    assert found["c"] == 0
    assert found["m"] == 1
    assert found["q"] == 1
    assert _is_zero(found["omega"] - kappa * tau)
    assert _is_zero(found["r"] - kappa**2 * tau**2)
    assert found["b"] == log_odds


@pytest.mark.parametrize("local", [sp.Rational(1, 20), sp.Rational(1, 2), sp.Rational(19, 20)])
def test_phase_two_limits(local):
    found = limits.overlap_limits(dilated_schedule(), 1 + local)
    expected = _phase_two_closed_form(local)
    for name, value in expected.items():
        assert _is_zero(found[name] - value), name
    assert found["omega"] == sp.oo
    assert found["r"] == sp.oo


def test_limits_equal_on_both_sides():
    # alpha and beta are continuous, so both sides give the same overlaps.
    right = limits.overlap_limits(dilated_schedule(), 1, side="right")
    left = limits.overlap_limits(dilated_schedule(), 1, side="left")
    assert right == left
    assert _is_zero(right["omega"] - kappa)


@pytest.mark.parametrize("time", [sp.Rational(1, 10), sp.Rational(3, 5)])
def test_undilated_limits_match_phase_two(time):
    found = limits.overlap_limits(linear_schedule(), time)
    for name, value in _phase_two_closed_form(time).items():
        assert _is_zero(found[name] - value), name
    assert found["omega"] == sp.oo


def test_undilated_limits_at_start():
    found = limits.overlap_limits(linear_schedule(), 0)
    assert found["omega"] == 0
    assert found["m"] == 1


def test_limits_with_given_parameters():
    found = limits.overlap_limits(dilated_schedule(), 1.5, kappa=2, sigma=1, p=0.8)
    assert found["c"] == 1
    assert found["m"] == sp.Rational(1, 2)
    assert found["b"] == sp.atanh(sp.Rational(3, 5))


def test_limit_functions_per_piece():
    phase_one, phase_two = limits.overlap_limit_functions(dilated_schedule())
    assert phase_one.start == 0
    assert phase_two.start == 1
    assert phase_one.overlaps["c"] == 0
    assert phase_one.overlaps["m"] == 1
    assert phase_one.overlaps["q"] == 1
    assert _is_zero(phase_one.overlaps["omega"] - kappa * t)
    assert _is_zero(phase_one.overlaps["r"] - kappa**2 * t**2)
    assert phase_one.overlaps["b"] == log_odds
    for name, value in _phase_two_closed_form(t).items():
        assert _is_zero(phase_two.overlaps[name] - value), name
    assert phase_two.overlaps["omega"] == sp.oo

    (undilated,) = limits.overlap_limit_functions(linear_schedule())
    for name, value in _phase_two_closed_form(t).items():
        assert _is_zero(undilated.overlaps[name] - value), name


def test_rate_exponents_phase_one():
    rates = limits.overlap_rate(dilated_schedule(), sp.Rational(1, 2))
    assert rates["c"][1] == sp.Rational(-1, 2)
    assert _is_zero(rates["c"][0] - kappa * sigma**2 / 2)
    assert rates["omega"][1] == sp.Rational(-1, 2)
    assert rates["m"][1] == -1
    assert rates["b"] == (0, -sp.oo)


def test_rate_of_diverging_omega_phase_two():
    rates = limits.overlap_rate(dilated_schedule(), sp.Rational(3, 2))
    assert rates["omega"][1] == sp.Rational(1, 2)
    assert _is_zero(rates["omega"][0] - 2 / (1 + sigma**2))
    assert rates["c"][1] == sp.Rational(-1, 2)


def test_rate_matches_numeric_slope():
    """The fitted log-log slope of |c(d) - c_inf| is the derived exponent."""
    schedule = dilated_schedule(2)
    tau = 1.5
    dims = np.logspace(4, 10, 7)
    limit = float(limits.overlap_limits(schedule, tau, sigma=0.7)["c"])
    gaps = [
        abs(model.optimal_overlaps_numeric(schedule, [tau], d=dim, p=0.8, sigma=0.7)["c"][0] - limit)
        for dim in dims
    ]
    slope = np.polyfit(np.log(dims), np.log(gaps), 1)[0]
    coefficient, exponent = limits.overlap_rate(schedule, tau, sigma=0.7)["c"]
    assert slope == pytest.approx(float(exponent), abs=1e-3)
    assert gaps[-1] * dims[-1] ** 0.5 == pytest.approx(abs(float(coefficient)), rel=1e-3)


def test_unknown_parameter_raises():
    with pytest.raises(ValueError, match="unknown parameter 'lam'"):
        limits.parameter_values(lam=1)
