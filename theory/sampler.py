"""The explicit Euler sampler on a time grid, reduced to one dimension.

Step ``k`` goes from ``tau_k`` to ``tau_{k+1}``, a step of
``Delta_k = tau_{k+1} - tau_k``. It uses alpha and beta at ``tau_k`` and
the schedule's one-sided derivative at ``tau_k`` (the right one by
default). With the exact
velocity field, ``X_{k+1} = X_k + Delta_k v(tau_k, X_k)`` acts on
``y = mu.X/sqrt(d)`` and on ``P = |X_perp|^2/d`` as

    y_{k+1} = (1 + lin_k) y_k + amp_k tanh(omega_k y_k + l),
    P_{k+1} = (1 + lin_k)^2 P_k,

with ``lin_k = Delta_k (A + B c*)``, ``amp_k = Delta_k B m sqrt(d)`` and
``omega_k = beta sqrt(d)/Gamma`` at ``tau_k`` (the parts of the flow's
dy/dt). As ``d -> oo`` each step is classified by the limits
``lin_inf``, ``omega_inf``, ``jump = lim amp_k/sqrt(d)`` and
``drive = lim amp_k``: a step with ``jump == 0`` moves ``y`` by O(1), and
the first step with ``jump != 0`` decides the sign of every sample.
"""

from __future__ import annotations

import fractions
import functools
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import flow
from .limits import large_d, limit_large_d, parameter_values
from .schedules import _exact_number
from .symbols import alpha, alpha_dot, beta, beta_dot, d, epsilon, sigma

__all__ = [
    "StepLimit",
    "exact_grid",
    "step_sides",
    "step_expressions",
    "step_limits",
    "step_coefficients",
]

# Floats within this many units in the last place of a fraction with a
# denominator up to _MAX_DENOMINATOR are read as that fraction.
_MAX_DENOMINATOR = 10**6
_ULP_TOLERANCE = 4


def _exact_time(value) -> sp.Rational:
    """Convert a grid time to an exact number, snapping float noise.

    ``np.linspace(0, 2, 41)[3]`` is ``0.15000000000000002``. It is read as
    ``3/20`` because that fraction lies within a few ulp of the float.
    """
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        candidate = fractions.Fraction(float(value)).limit_denominator(_MAX_DENOMINATOR)
        if abs(float(candidate) - value) <= _ULP_TOLERANCE * np.spacing(abs(value)):
            return sp.Rational(candidate.numerator, candidate.denominator)
    return _exact_number(value, "grid time")


def exact_grid(schedule, grid) -> tuple[sp.Expr, ...]:
    """Return the grid as exact numbers after checking it against the schedule.

    Raises ValueError unless the grid has at least two strictly increasing
    times inside ``[schedule.start, schedule.end]``.
    """
    times = tuple(_exact_time(value) for value in np.asarray(grid, dtype=object).ravel())
    if len(times) < 2:
        raise ValueError(f"grid needs at least two times, got {len(times)}")
    for index, (left, right) in enumerate(zip(times, times[1:])):
        if not left < right:
            raise ValueError(
                f"grid must be strictly increasing, but grid[{index + 1}] = {right} "
                f"follows grid[{index}] = {left}. Sort the grid and drop repeated times."
            )
    if times[0] < schedule.start or times[-1] > schedule.end:
        raise ValueError(
            f"grid [{times[0]}, {times[-1]}] leaves schedule {schedule.name!r}, "
            f"which runs on [{schedule.start}, {schedule.end}]"
        )
    return times


def step_sides(schedule, times, side: str) -> tuple[str, ...]:
    """Return the derivative side of each step, ``"right"`` at the schedule start."""
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    return tuple(
        "right" if time <= schedule.start else side for time in times[:-1]
    )


def step_expressions(piece, time, step) -> dict[str, sp.Expr]:
    """Return ``lin``, ``amp`` and ``omega`` of one Euler step as SymPy expressions.

    ``piece`` supplies alpha, beta and the derivatives at ``time``, and
    ``step`` is ``Delta``. ``d``, ``sigma`` and the schedule's parameters
    stay symbolic.
    """
    parts = flow.y_ode_parts()
    values = flow.piece_substitution(piece, time)
    return {
        "lin": step * parts["linear"].subs(values),
        "amp": step * parts["amplitude"].subs(values),
        "omega": parts["omega"].subs(values),
    }


@dataclass(frozen=True)
class StepLimit:
    """Large-``d`` limits of one Euler step.

    ``lin``, ``omega``: limits of ``lin_k`` and ``omega_k`` (``omega`` may
    be ``oo``). ``jump``: limit of ``amp_k/sqrt(d)``. ``drive``: limit of
    ``amp_k``, set only when ``jump == 0``, else None.
    """

    lin: sp.Expr
    omega: sp.Expr
    jump: sp.Expr
    drive: sp.Expr | None


@functools.lru_cache(maxsize=None)
def _step_limit(piece, time, step, values) -> StepLimit:
    try:
        return _step_limit_rational(piece, time, step, dict(values))
    except ValueError:
        # An input is not a rational function of epsilon with rational
        # coefficients (exp(t) in a schedule, or a symbolic sigma).
        return _step_limit_general(piece, time, step, dict(values))


def _step_limit_general(piece, time, step, values) -> StepLimit:
    """Take each limit of one step with ``sympy.limit``."""
    expressions = {
        name: expression.subs(values)
        for name, expression in step_expressions(piece, time, step).items()
    }
    jump = limit_large_d(expressions["amp"] / sp.sqrt(d))
    drive = limit_large_d(expressions["amp"]) if jump == 0 else None
    return StepLimit(
        lin=limit_large_d(expressions["lin"]),
        omega=limit_large_d(expressions["omega"]),
        jump=jump,
        drive=drive,
    )


_root_d = sp.Symbol("root_d", positive=True)
_EPSILON_FIELD, _EPSILON_ELEMENT = sp.field([epsilon], sp.QQ)


@functools.lru_cache(maxsize=None)
def _parts_in_root_d():
    """Compile the step parts as plain arithmetic in ``sqrt(d) = root_d``."""
    parts = flow.y_ode_parts()
    arguments = (alpha, beta, alpha_dot, beta_dot, sigma, _root_d)
    expressions = [
        parts[name].subs(d, _root_d**2) for name in ("linear", "amplitude", "omega")
    ]
    return sp.lambdify(arguments, expressions, modules=[{}])


def _field_limit(element) -> sp.Expr:
    """Return lim_{epsilon -> 0+} of an element of QQ(epsilon).

    The limit is the ratio of the lowest-order terms of numerator and
    denominator, or 0 or +-oo when their orders differ.
    """
    if not element.numer:
        return sp.S.Zero
    (top_order,), top = min(element.numer.terms())
    (bottom_order,), bottom = min(element.denom.terms())
    ratio = sp.Rational(int(top.numerator), int(top.denominator)) / sp.Rational(
        int(bottom.numerator), int(bottom.denominator)
    )
    if top_order > bottom_order:
        return sp.S.Zero
    if top_order == bottom_order:
        return ratio
    return sp.sign(ratio) * sp.oo


def _step_limit_rational(piece, time, step, values) -> StepLimit:
    """Take the limits of one step exactly in the field QQ(epsilon).

    With every parameter a rational number, alpha, beta and their
    derivatives are rational functions of ``epsilon = 1/sqrt(d)``. The step
    parts are evaluated by field arithmetic and each limit is read off the
    lowest-order terms. Raises ValueError when an input is not in
    QQ(epsilon).
    """
    inputs = [
        large_d(expression.subs(values))
        for expression in flow.piece_substitution(piece, time).values()
    ]
    coefficients = [_EPSILON_FIELD.from_expr(value) for value in inputs]
    sigma_value = _EPSILON_FIELD.from_expr(values.get(sigma, sigma))
    linear, amplitude, omega = _parts_in_root_d()(
        *coefficients, sigma_value, 1 / _EPSILON_ELEMENT
    )
    step_value = _EPSILON_FIELD.from_expr(step)
    jump = _field_limit(step_value * amplitude * _EPSILON_ELEMENT)
    drive = _field_limit(step_value * amplitude) if jump == 0 else None
    return StepLimit(
        lin=_field_limit(step_value * linear),
        omega=_field_limit(omega),
        jump=jump,
        drive=drive,
    )


def step_limits(schedule, grid, *, side: str = "right", **values) -> list[StepLimit]:
    """Derive the large-``d`` limits of every Euler step on ``grid``.

    ``values`` fix ``sigma`` and the schedule's parameters (e.g. ``kappa``)
    as exact numbers before the limits, so the classification ``jump == 0``
    is decided for those values. Parameters left out stay symbolic. Each
    step's limits are cached per piece, time, step and values.
    """
    times = exact_grid(schedule, grid)
    substitutions = parameter_values(**values)
    key = tuple(sorted(substitutions.items(), key=str))
    result = []
    for time, next_time, step_side in zip(times, times[1:], step_sides(schedule, times, side)):
        piece = schedule.piece_at(time, step_side)
        result.append(_step_limit(piece, time, next_time - time, key))
    return result


@functools.lru_cache(maxsize=None)
def _parts_evaluator():
    parts = flow.y_ode_parts()
    arguments = (alpha, beta, alpha_dot, beta_dot, sigma, d)
    names = ("linear", "amplitude", "omega")
    return sp.lambdify(arguments, [parts[name] for name in names], modules="math")


def step_coefficients(
    schedule, grid, *, d, p, sigma, side: str = "right", **params
) -> dict[str, np.ndarray]:
    """Evaluate ``lin_k``, ``amp_k`` and ``omega_k`` of every step in float64.

    Returns ``{"lin", "amp", "omega", "step", "time"}`` arrays of length
    ``K`` (one per step) and ``"log_odds"``, the float ``artanh(2p - 1)``.
    The rates come from ``schedule.rates`` at the exact grid times.
    Raises ValueError if alpha is not positive at a time where a step
    starts (alpha may vanish at the last grid time, which starts no step).
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got p={p!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got sigma={sigma!r}")
    if not (math.isfinite(d) and d > 0):
        raise ValueError(
            f"d must be a finite positive number, got d={d!r}. For the limit "
            "d -> oo use step_limits or sampler_statistics(..., d=math.inf)."
        )
    times = exact_grid(schedule, grid)
    evaluate = _parts_evaluator()
    rows = []
    for time, step_side in zip(times, step_sides(schedule, times, side)):
        rates = schedule.rates(float(time), d=d, side=step_side, **params)
        if not rates[0] > 0:
            raise ValueError(
                f"alpha must be positive where a step starts, got "
                f"alpha({float(time):.12g}) = {rates[0]:.12g}. End the grid at "
                "the first time where alpha reaches 0."
            )
        rows.append(evaluate(*rates, float(sigma), float(d)))
    linear, amplitude, omega = np.array(rows, dtype=float).T
    steps = np.array([float(b - a) for a, b in zip(times, times[1:])])
    return {
        "lin": steps * linear,
        "amp": steps * amplitude,
        "omega": omega,
        "step": steps,
        "time": np.array([float(time) for time in times[:-1]]),
        "log_odds": float(np.arctanh(2.0 * p - 1.0)),
    }
