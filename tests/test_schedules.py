"""Tests for schedules: closed forms, one-sided rates, parsing and the rules.

The oracles are the closed forms of the linear and dilated schedules, typed
here independently of flowphase.theory.schedules:

- linear, t in [0, 1]: alpha = 1 - t, beta = t;
- dilated, tau in [0, 2], s = kappa/sqrt(d): phase 1 alpha = 1 - s*tau,
  beta = s*tau; phase 2 with u = tau - 1: alpha = (1 - s)*(1 - u),
  beta = s + (1 - s)*u.
"""

import math

import numpy as np
import pytest
import sympy

from flowphase.theory.expressions import ExpressionError
from flowphase.theory.schedules import (
    Piece,
    Schedule,
    ScheduleError,
    dilated_schedule,
    linear_schedule,
    schedule_from_pieces,
    schedule_from_text,
)
from flowphase.theory.symbols import d, kappa, t

SCALE = kappa / sympy.sqrt(d)
PHASE_1 = (1 - SCALE * t, SCALE * t)
_U = t - 1
PHASE_2 = ((1 - SCALE) * (1 - _U), SCALE + (1 - SCALE) * _U)
LINEAR = (1 - t, t)


def is_zero(expression):
    return sympy.simplify(expression) == 0


# -- closed forms -------------------------------------------------------------


def test_linear_closed_form():
    (piece,) = linear_schedule().pieces
    assert is_zero(piece.alpha - LINEAR[0])
    assert is_zero(piece.beta - LINEAR[1])


def test_dilated_phase1_closed_form():
    piece = dilated_schedule().pieces[0]
    assert is_zero(piece.alpha - PHASE_1[0])
    assert is_zero(piece.beta - PHASE_1[1])


def test_dilated_phase2_closed_form():
    piece = dilated_schedule().pieces[1]
    assert is_zero(piece.alpha - PHASE_2[0])
    assert is_zero(piece.beta - PHASE_2[1])


@pytest.mark.parametrize(
    "schedule", [linear_schedule(), dilated_schedule()], ids=["linear", "dilated"]
)
def test_builtin_alpha_plus_beta(schedule):
    for piece in schedule.pieces:
        assert is_zero(piece.alpha + piece.beta - 1)


def test_dilated_bounds():
    schedule = dilated_schedule()
    assert schedule.start == 0
    assert schedule.end == 2
    assert [(piece.start, piece.end) for piece in schedule.pieces] == [(0, 1), (1, 2)]


def test_dilated_continuity_at_one():
    schedule = dilated_schedule()
    left = schedule.coefficient_expressions(1, side="left")
    right = schedule.coefficient_expressions(1, side="right")
    assert is_zero(left[0] - right[0])
    assert is_zero(left[1] - right[1])


def test_dilated_right_derivative_at_one():
    alpha_dot, beta_dot = dilated_schedule().coefficient_expressions(1, side="right")[
        2:
    ]
    assert is_zero(alpha_dot - sympy.diff(PHASE_2[0], t))
    assert is_zero(beta_dot - sympy.diff(PHASE_2[1], t))


def test_dilated_left_derivative_at_one():
    alpha_dot, beta_dot = dilated_schedule().coefficient_expressions(1, side="left")[2:]
    assert is_zero(alpha_dot - sympy.diff(PHASE_1[0], t))
    assert is_zero(beta_dot - sympy.diff(PHASE_1[1], t))


def test_dilated_derivatives_jump_at_one():
    schedule = dilated_schedule()
    left = schedule.coefficient_expressions(1, side="left")
    right = schedule.coefficient_expressions(1, side="right")
    assert not is_zero(left[2] - right[2])
    assert not is_zero(left[3] - right[3])


def test_dilated_numeric_kappa_substituted():
    schedule = dilated_schedule(kappa=2)
    assert schedule.free_symbols == (d,)
    assert is_zero(schedule.pieces[0].alpha - PHASE_1[0].subs(kappa, 2))


def test_dilated_float_kappa_exact():
    schedule = dilated_schedule(kappa=1.5)
    assert is_zero(
        schedule.pieces[0].beta - PHASE_1[1].subs(kappa, sympy.Rational(3, 2))
    )


def test_free_symbols_sorted():
    assert dilated_schedule().free_symbols == (d, kappa)
    assert linear_schedule().free_symbols == ()


def test_coefficients_float_time_exact():
    alpha, beta, alpha_dot, beta_dot = linear_schedule().coefficient_expressions(0.1)
    assert alpha == sympy.Rational(9, 10)
    assert beta == sympy.Rational(1, 10)
    assert alpha_dot == -1
    assert beta_dot == 1


def test_coefficients_keep_parameters():
    alpha = dilated_schedule().coefficient_expressions(sympy.Rational(1, 2))[0]
    assert alpha.free_symbols == {d, kappa}


# -- numeric rates ----------------------------------------------------------


def _expected_rates(closed_form, tau, values):
    expressions = (*closed_form, *(sympy.diff(part, t) for part in closed_form))
    substitution = {t: sympy.Float(tau, 30), **values}
    return [
        float(expression.subs(substitution).evalf(30)) for expression in expressions
    ]


def test_dilated_rates_random_points():
    rng = np.random.default_rng(20250101)
    schedule = dilated_schedule()
    for _ in range(200):
        tau = float(rng.uniform(0.0, 2.0))
        d_value = float(rng.integers(16, 4097))
        kappa_value = float(rng.uniform(0.1, 0.95 * math.sqrt(d_value)))
        closed_form = PHASE_1 if tau < 1 else PHASE_2
        expected = _expected_rates(closed_form, tau, {d: d_value, kappa: kappa_value})
        rates = schedule.rates(tau, d=d_value, kappa=kappa_value)
        for got, want in zip(rates, expected):
            assert abs(got - want) <= 1e-12, (
                tau,
                d_value,
                kappa_value,
                rates,
                expected,
            )


def test_linear_rates_random_points():
    rng = np.random.default_rng(7)
    schedule = linear_schedule()
    for _ in range(100):
        time = float(rng.uniform(0.0, 1.0))
        expected = _expected_rates(LINEAR, time, {})
        rates = schedule.rates(time, d=None)
        for got, want in zip(rates, expected):
            assert abs(got - want) <= 1e-12, (time, rates, expected)


def test_rates_match_coefficient_expressions():
    schedule = dilated_schedule(kappa=2)
    for side in ("left", "right"):
        exact = schedule.coefficient_expressions(1, side=side)
        expected = [float(value.subs(d, 256)) for value in exact]
        rates = schedule.rates(1.0, d=256, side=side)
        for got, want in zip(rates, expected):
            assert abs(got - want) <= 1e-12, (side, rates, expected)


def test_rates_right_at_one_is_phase2():
    rates = dilated_schedule(kappa=2).rates(1.0, d=64)
    assert rates == pytest.approx((0.75, 0.25, -0.75, 0.75), abs=1e-15)


def test_rates_left_at_one_is_phase1():
    rates = dilated_schedule(kappa=2).rates(1.0, d=64, side="left")
    assert rates == pytest.approx((0.75, 0.25, -0.25, 0.25), abs=1e-15)


def test_rates_return_floats():
    rates = linear_schedule().rates(0.5, d=None)
    assert all(type(value) is float for value in rates)


def test_rates_missing_parameter():
    with pytest.raises(ValueError, match="kappa"):
        dilated_schedule().rates(0.5, d=16)


def test_rates_unknown_parameter():
    with pytest.raises(ValueError, match="sigma"):
        linear_schedule().rates(0.5, d=16, sigma=1.0)


def test_rates_start_left_rejected():
    with pytest.raises(ValueError, match="side='right'"):
        linear_schedule().rates(0.0, d=None, side="left")


def test_rates_end_right_rejected():
    with pytest.raises(ValueError, match="side='left'"):
        linear_schedule().rates(1.0, d=None)


def test_rates_math_error():
    schedule = Schedule("bad", (Piece(0, 1, 1 - t, t * sympy.sqrt(d - 2)),))
    with pytest.raises(ScheduleError, match="'bad'"):
        schedule.rates(0.5, d=1)


# -- piece_at ---------------------------------------------------------------


def test_piece_at_sides():
    schedule = dilated_schedule()
    first, second = schedule.pieces
    assert schedule.piece_at(0) is first
    assert schedule.piece_at(0.5) is first
    assert schedule.piece_at(1) is second
    assert schedule.piece_at(1, side="left") is first
    assert schedule.piece_at(2, side="left") is second
    assert schedule.piece_at(sympy.Rational(3, 2)) is second


def test_piece_at_start_left_rejected():
    with pytest.raises(ValueError):
        dilated_schedule().piece_at(0, side="left")


def test_piece_at_end_right_rejected():
    with pytest.raises(ValueError):
        dilated_schedule().piece_at(2)


def test_piece_at_outside_rejected():
    with pytest.raises(ValueError, match="outside"):
        dilated_schedule().piece_at(2.5, side="left")


def test_piece_at_invalid_side():
    with pytest.raises(ValueError, match="side"):
        dilated_schedule().piece_at(0.5, side="middle")


def test_piece_at_nan_rejected():
    with pytest.raises(ValueError):
        linear_schedule().piece_at(float("nan"))


# -- check ------------------------------------------------------------------


def test_builtins_check_symbolic():
    linear_schedule().check()
    dilated_schedule().check()
    dilated_schedule(kappa=2).check()


@pytest.mark.parametrize(
    ("kappa_value", "d_value"), [(2, 16), (2, 2048), (0.5, 1), (10, 101)]
)
def test_dilated_check_numeric(kappa_value, d_value):
    dilated_schedule(kappa=kappa_value).check(d=d_value)
    dilated_schedule().check(d=d_value, kappa=kappa_value)


@pytest.mark.parametrize(("kappa_value", "d_value"), [(2, 3), (2, 4), (3, 1)])
def test_dilated_check_rejects_large_kappa(kappa_value, d_value):
    with pytest.raises(ScheduleError, match=r"kappa < sqrt\(d\)"):
        dilated_schedule(kappa=kappa_value).check(d=d_value)
    with pytest.raises(ScheduleError, match=r"kappa < sqrt\(d\)"):
        dilated_schedule().check(d=d_value, kappa=kappa_value)


def test_dilated_check_message():
    with pytest.raises(ScheduleError) as caught:
        dilated_schedule(kappa=2).check(d=3)
    message = str(caught.value)
    assert "'dilated'" in message
    assert "kappa=2, d=3" in message
    assert "d > kappa**2 = 4" in message


@pytest.mark.parametrize("kappa_value", [0, -1, float("nan"), float("inf")])
def test_dilated_invalid_kappa(kappa_value):
    with pytest.raises(ScheduleError):
        dilated_schedule(kappa=kappa_value)


def test_check_negative_d():
    with pytest.raises(ScheduleError, match="d must be > 0"):
        dilated_schedule().check(d=-1)


def test_check_unknown_parameter():
    with pytest.raises(ValueError, match="sigma"):
        dilated_schedule().check(sigma=1)


def test_check_unsatisfiable_samples():
    # kappa = 100 needs d > 10000, beyond every sample value of d.
    with pytest.raises(ValueError, match="sample values"):
        dilated_schedule(kappa=100).check()


# -- construction -------------------------------------------------------------


def test_schedule_gap_rejected():
    pieces = (Piece(0, 1, 1 - t, t), Piece(2, 3, 1 - t, t))
    with pytest.raises(ScheduleError, match="piece 0 ends at t=1"):
        Schedule("gap", pieces)


def test_schedule_no_pieces():
    with pytest.raises(ScheduleError):
        Schedule("empty", ())


def test_piece_reversed_rejected():
    with pytest.raises(ScheduleError):
        Piece(1, 0, 1 - t, t)


def test_foreign_time_symbol_rejected():
    other_t = sympy.Symbol("t")
    with pytest.raises(ScheduleError, match="symbol named 't'"):
        Schedule("other", (Piece(0, 1, 1 - other_t, other_t),))


def test_piece_derivatives():
    piece = Piece(0, 1, (1 - t) ** 2, 1 - (1 - t) ** 2)
    assert is_zero(piece.alpha_dot + 2 * (1 - t))
    assert is_zero(piece.beta_dot - 2 * (1 - t))


# -- schedules from text ------------------------------------------------------


def test_text_linear_equals_builtin():
    schedule = schedule_from_text("1 - t", "t", name="linear")
    assert schedule == linear_schedule()


def test_text_dilated_equals_builtin():
    pieces = [
        (0, 1, "1 - kappa*t/sqrt(d)", "kappa*t/sqrt(d)"),
        (
            1,
            2,
            "(1 - κ/sqrt(d))*(2 - t)",
            "kappa/sqrt(d) + (1 - kappa/sqrt(d))*(t - 1)",
        ),
    ]
    schedule = schedule_from_pieces(pieces, name="dilated")
    for got, want in zip(schedule.pieces, dilated_schedule().pieces):
        assert is_zero(got.alpha - want.alpha)
        assert is_zero(got.beta - want.beta)


def test_text_curved_schedule():
    schedule = schedule_from_text("cos(pi*t/2)^2", "sin(pi*t/2)^2")
    assert schedule.rates(0.5, d=None)[0] == pytest.approx(0.5, abs=1e-15)


def test_text_bounds_as_text():
    pieces = [("0", "1/2", "1 - t", "t"), ("1/2", "1", "1 - t", "t")]
    schedule = schedule_from_pieces(pieces)
    assert schedule.pieces[0].end == sympy.Rational(1, 2)


def test_text_float_end_exact():
    schedule = schedule_from_text("1 - 2*t", "2*t", end=0.5)
    assert schedule.end == sympy.Rational(1, 2)


def test_text_alpha_start_wrong():
    with pytest.raises(ScheduleError, match=r"alpha\(0\) must be 1, got 0\.9"):
        schedule_from_text("0.9 - 0.9*t", "t")


def test_text_beta_end_wrong():
    with pytest.raises(ScheduleError, match=r"beta\(1\) must be 1"):
        schedule_from_text("1 - t", "t/2")


def test_text_discontinuous():
    pieces = [(0, 0.5, "1 - t", "t"), (0.5, 1, "1.2*(1 - t)", "t")]
    with pytest.raises(ScheduleError, match="discontinuous at t=1/2"):
        schedule_from_pieces(pieces)


def test_text_alpha_increasing():
    with pytest.raises(ScheduleError, match="alpha must be non-increasing"):
        schedule_from_text("1 - t + 0.3*sin(2*pi*t)", "t")


def test_text_beta_decreasing():
    with pytest.raises(ScheduleError, match="beta must be non-decreasing"):
        schedule_from_text("1 - t", "t + 0.3*sin(2*pi*t)")


def test_text_alpha_zero_inside():
    pieces = [(0, 0.5, "1 - 2*t", "t"), (0.5, 1, "0*t", "t")]
    with pytest.raises(ScheduleError, match="alpha must be > 0"):
        schedule_from_pieces(pieces)


def test_text_not_formula_in_t():
    with pytest.raises(ScheduleError, match="not a formula in t"):
        schedule_from_text("1", "0")


def test_text_gap_rejected():
    pieces = [(0, 0.5, "1 - t", "t"), (0.6, 1, "1 - t", "t")]
    with pytest.raises(ScheduleError, match="starts at t=3/5"):
        schedule_from_pieces(pieces)


def test_text_undecided_uses_samples():
    with pytest.raises(ScheduleError, match="d=256"):
        schedule_from_text("1 - t + (d - 16)/1000", "t")


def test_text_symbolic_boundary_fails():
    with pytest.raises(ScheduleError, match=r"alpha\(1\) must be 0"):
        schedule_from_text("1 - kappa*t/sqrt(d)", "kappa*t/sqrt(d)")


def test_text_not_real():
    with pytest.raises(ScheduleError):
        schedule_from_text("sqrt(0.5 - t) + 1 - sqrt(0.5)", "t")


def test_text_invalid_formula():
    with pytest.raises(ExpressionError, match="beta on"):
        schedule_from_text("1 - t", "x")


def test_text_injection_writes_no_file(tmp_path):
    marker = tmp_path / "marker"
    with pytest.raises(ExpressionError):
        schedule_from_text(f"__import__('os').system('touch {marker}')", "t")
    assert not marker.exists()


def test_text_rejects_expression_objects():
    with pytest.raises(TypeError):
        schedule_from_text(1 - t, t)
