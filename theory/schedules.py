"""Interpolation schedules alpha(t), beta(t) of the interpolant.

The interpolant is ``x_t = alpha(t)*x0 + beta(t)*x1``, with the base sample
``x0`` and the data sample ``x1``. A :class:`Schedule` is a tuple of
:class:`Piece` objects that tile ``[start, end]``. Each piece contains alpha
and beta as SymPy expressions in the schedule's own time ``t``, which is
``tau`` in ``[0, 2]`` on the dilated schedule, and possibly in ``d`` and
``kappa``.

Notation (symbol -> code name):

=====================  =========================================
symbol                 code name
=====================  =========================================
``t``, ``tau``         ``t`` (``flowphase.theory.symbols.t``)
``alpha``, ``beta``    ``Piece.alpha``, ``Piece.beta``
``dalpha/dt``          ``Piece.alpha_dot`` (and ``beta_dot``)
``d``                  ``d``
``kappa``              ``kappa``
=====================  =========================================

Built-in schedules:

- linear, ``t`` in ``[0, 1]``: ``alpha = 1 - t``, ``beta = t``;
- dilated, ``tau`` in ``[0, 2]``, with ``s = kappa/sqrt(d)``:
  phase 1 on ``[0, 1]``: ``alpha = 1 - s*tau``, ``beta = s*tau``;
  phase 2 on ``[1, 2]``: ``alpha = (1 - s)*(2 - tau)``,
  ``beta = s + (1 - s)*(tau - 1)``.

Both satisfy ``alpha + beta = 1``. The dilated schedule is continuous at
``tau = 1``, but its derivatives jump there, so every time-dependent query
takes a ``side``: ``"right"`` uses the piece that starts at the time and
``"left"`` the piece that ends there.

Times and parameters given as Python floats are converted to exact
rationals through their shortest decimal representation,
``sympy.Rational(repr(x))``, so ``0.1`` becomes ``1/10`` rather than the
binary value ``3602879701896397/36028797018963968``.
"""

from __future__ import annotations

import fractions
import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

import numpy as np
import sympy

from . import symbols
from .expressions import ExpressionError, parse_expression

__all__ = [
    "Piece",
    "Requirement",
    "Schedule",
    "ScheduleError",
    "dilated_schedule",
    "linear_schedule",
    "schedule_from_pieces",
    "schedule_from_text",
]

#: Absolute tolerance of the numeric checks in ``Schedule.check``.
CHECK_TOLERANCE = 1e-12

#: Grid points per piece for the numeric monotonicity and positivity checks.
CHECK_GRID_POINTS = 257

#: Parameter values at which ``Schedule.check`` tests a schedule whose
#: parameters were left symbolic. Every combination is tried.
SAMPLE_VALUES: dict[str, tuple[sympy.Expr, ...]] = {
    "d": (sympy.Integer(16), sympy.Integer(256), sympy.Integer(4096)),
    "kappa": (sympy.Rational(3, 2),),
}

_SIDES = ("right", "left")

# Errors that the math module raises for invalid arguments, e.g. sqrt(-1).
_MATH_ERRORS = (ValueError, OverflowError, ZeroDivisionError)


class ScheduleError(ValueError):
    """A schedule that breaks a rule: boundary values, continuity,
    monotonicity, positivity of alpha, or a parameter requirement."""


# -- numbers ----------------------------------------------------------------


def _exact_number(value: object, name: str) -> sympy.Expr:
    """Convert a real number to an exact SymPy number.

    Floats go through ``sympy.Rational(repr(x))``, so ``0.1`` becomes
    ``1/10``. SymPy expressions containing floats are converted with
    ``sympy.nsimplify(..., rational=True)``. Raises TypeError for values
    that are not numbers and ValueError for non-finite or non-real ones.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got the boolean {value!r}")
    if isinstance(value, sympy.Basic):
        number = value
        if not number.is_number:
            raise TypeError(
                f"{name} must be a number, got the expression {value} "
                f"in {sorted(map(str, number.free_symbols))}"
            )
        if number.has(sympy.Float):
            number = sympy.nsimplify(number, rational=True)
    elif isinstance(value, numbers.Integral):
        number = sympy.Integer(int(value))
    elif isinstance(value, (fractions.Fraction, numbers.Rational)):
        number = sympy.Rational(int(value.numerator), int(value.denominator))
    elif isinstance(value, numbers.Real):
        as_float = float(value)
        if not math.isfinite(as_float):
            raise ValueError(f"{name} must be finite, got {value!r}")
        number = sympy.Rational(repr(as_float))
    else:
        raise TypeError(
            f"{name} must be a number, got {type(value).__name__} {value!r}"
        )
    if number.is_finite is not True or number.is_extended_real is not True:
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return number


def _format(value: float | sympy.Expr) -> str:
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _real_value(expression: sympy.Expr) -> float | None:
    """Evaluate a constant expression to a float, or None if not real and finite."""
    value = sympy.N(expression)
    if (
        value.free_symbols
        or value.is_extended_real is not True
        or value.is_finite is not True
    ):
        return None
    return float(value)


def _as_expression(value: object, name: str) -> sympy.Expr:
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _exact_number(value, name)
    raise TypeError(
        f"{name} must be a SymPy expression or a number, got {type(value).__name__}. "
        "Use schedule_from_pieces or schedule_from_text to parse formula text."
    )


# -- pieces and requirements -------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One smooth piece of a schedule: alpha(t) and beta(t) on [start, end].

    ``start`` and ``end`` are exact SymPy numbers. ``alpha`` and ``beta`` are
    SymPy expressions in ``flowphase.theory.symbols.t`` and parameters.
    """

    start: sympy.Expr
    end: sympy.Expr
    alpha: sympy.Expr
    beta: sympy.Expr

    def __post_init__(self) -> None:
        # The dataclass is frozen, so the normalised fields are set through
        # object.__setattr__.
        start = _exact_number(self.start, "piece start")
        end = _exact_number(self.end, "piece end")
        if not bool(start < end):
            raise ScheduleError(
                f"piece [{start}, {end}] is empty or reversed: start must be "
                "less than end"
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "alpha", _as_expression(self.alpha, "alpha"))
        object.__setattr__(self, "beta", _as_expression(self.beta, "beta"))

    @cached_property
    def alpha_dot(self) -> sympy.Expr:
        """Derivative d(alpha)/dt on this piece."""
        return sympy.diff(self.alpha, symbols.t)

    @cached_property
    def beta_dot(self) -> sympy.Expr:
        """Derivative d(beta)/dt on this piece."""
        return sympy.diff(self.beta, symbols.t)


@dataclass(frozen=True)
class Requirement:
    """A condition on the parameters that a schedule needs, with its message.

    ``condition`` is a SymPy relation in the schedule's parameters, such as
    ``kappa < sqrt(d)``. ``explain`` receives the substituted parameter
    values and returns the message text that follows the schedule's name,
    stating the rule, the values and the fix.
    """

    condition: sympy.Basic
    explain: Callable[[Mapping[sympy.Symbol, sympy.Expr]], str]

    def fails(self, values: Mapping[sympy.Symbol, sympy.Expr]) -> bool:
        """Return True when ``values`` decide that the condition is false."""
        return self.condition.subs(values) is sympy.false


class _Equality(NamedTuple):
    """An equality of rules (i) and (ii): ``value`` must equal ``expected``.

    ``message`` is a format string with the fields ``{got}`` and ``{expected}``.
    """

    value: sympy.Expr
    expected: sympy.Expr
    message: str
    fix: str


# -- the schedule -----------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A piecewise schedule alpha(t), beta(t) on [start, end].

    ``pieces`` must follow each other in time without gaps or overlaps.
    ``requirements`` are parameter conditions checked by :meth:`check`
    before the other rules.
    """

    name: str
    pieces: tuple[Piece, ...]
    requirements: tuple[Requirement, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "pieces", tuple(self.pieces))
        object.__setattr__(self, "requirements", tuple(self.requirements))
        if not self.pieces:
            raise ScheduleError(
                f"schedule {self.name!r} has no pieces. Give at least one Piece."
            )
        for index, piece in enumerate(self.pieces):
            if not isinstance(piece, Piece):
                raise TypeError(
                    f"schedule {self.name!r}: piece {index} must be a Piece, "
                    f"got {type(piece).__name__}"
                )
        self._validate_tiling()
        self._validate_time_symbol()

    def _validate_tiling(self) -> None:
        for index, (left, right) in enumerate(zip(self.pieces, self.pieces[1:])):
            if sympy.simplify(left.end - right.start) != 0:
                raise ScheduleError(
                    f"schedule {self.name!r}: piece {index} ends at t={left.end} "
                    f"but piece {index + 1} starts at t={right.start}. List the "
                    "pieces in time order, each starting where the previous one ends."
                )

    def _validate_time_symbol(self) -> None:
        # A separate Symbol('t') would silently be treated as a parameter.
        for symbol in self.free_symbols:
            if symbol.name == symbols.t.name:
                raise ScheduleError(
                    f"schedule {self.name!r} uses a symbol named 't' that is not "
                    "flowphase.theory.symbols.t. Build the expressions with "
                    "that symbol."
                )

    @property
    def start(self) -> sympy.Expr:
        """Start time of the schedule, where alpha = 1 and beta = 0."""
        return self.pieces[0].start

    @property
    def end(self) -> sympy.Expr:
        """End time of the schedule, where alpha = 0 and beta = 1."""
        return self.pieces[-1].end

    @cached_property
    def free_symbols(self) -> tuple[sympy.Symbol, ...]:
        """Parameters of alpha and beta other than t, sorted by name."""
        found: set[sympy.Symbol] = set()
        for piece in self.pieces:
            found |= piece.alpha.free_symbols | piece.beta.free_symbols
        found.discard(symbols.t)
        return tuple(sorted(found, key=lambda symbol: symbol.name))

    # -- locating pieces ------------------------------------------------------

    def _validate_side_and_range(
        self,
        time: float | sympy.Expr,
        side: str,
        start: float | sympy.Expr,
        end: float | sympy.Expr,
    ) -> None:
        """Raise ValueError for a time outside the schedule or an unusable side."""
        if side not in _SIDES:
            raise ValueError(f"side must be 'right' or 'left', got {side!r}")
        if bool(time < start) or bool(time > end):
            raise ValueError(
                f"time t={_format(time)} is outside schedule {self.name!r}, "
                f"which runs on [{self.start}, {self.end}]"
            )
        if side == "left" and bool(time <= start):
            raise ValueError(
                f"schedule {self.name!r} has no piece to the left of its start "
                f"t={self.start}. Use side='right' there."
            )
        if side == "right" and bool(time >= end):
            raise ValueError(
                f"schedule {self.name!r} has no piece to the right of its end "
                f"t={self.end}. Use side='left' there."
            )

    def _piece_index(self, time: sympy.Expr, side: str) -> int:
        self._validate_side_and_range(time, side, self.start, self.end)
        for index, piece in enumerate(self.pieces):
            if side == "right" and bool(piece.start <= time) and bool(time < piece.end):
                return index
            if side == "left" and bool(piece.start < time) and bool(time <= piece.end):
                return index
        raise AssertionError("unreachable: the pieces tile [start, end]")

    def piece_at(self, time: float | sympy.Expr, side: str = "right") -> Piece:
        """Return the piece that contains ``time`` on the given side.

        ``side="right"`` selects the piece whose ``[start, end)`` contains
        ``time``, and ``side="left"`` the piece whose ``(start, end]`` does.
        At the schedule's start only ``"right"`` and at its end only
        ``"left"`` is valid. Raises ValueError otherwise, or when ``time``
        lies outside the schedule.
        """
        exact_time = _exact_number(time, "time")
        return self.pieces[self._piece_index(exact_time, side)]

    # -- symbolic coefficients ------------------------------------------------

    def coefficient_expressions(
        self, time: float | sympy.Expr, side: str = "right"
    ) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr, sympy.Expr]:
        """Return ``(alpha, beta, alpha_dot, beta_dot)`` at ``time``.

        ``t`` is replaced by the exact value of ``time`` (a float ``x``
        becomes ``sympy.Rational(repr(x))``). Parameters such as ``d`` and
        ``kappa`` stay symbolic. The derivatives are the one-sided
        derivatives from ``side``: at a piece boundary, ``"right"`` gives the
        derivative of the following piece and ``"left"`` that of the
        preceding one.

        NOTE: at a kink of abs, min or max inside a piece, the derivative
        follows SymPy's convention (``Heaviside(0) = 1/2``) and is not
        one-sided. Put kinks at piece boundaries to get one-sided rates.
        """
        exact_time = _exact_number(time, "time")
        piece = self.pieces[self._piece_index(exact_time, side)]
        expressions = (piece.alpha, piece.beta, piece.alpha_dot, piece.beta_dot)
        return tuple(
            expression.subs(symbols.t, exact_time) for expression in expressions
        )

    # -- numeric coefficients -------------------------------------------------

    @cached_property
    def _rate_functions(self) -> tuple[Callable[..., list], ...]:
        """Per piece: ``f(t, *free_symbols) -> [alpha, beta, alpha_dot, beta_dot]``."""
        arguments = (symbols.t, *self.free_symbols)
        return tuple(
            sympy.lambdify(
                arguments,
                [piece.alpha, piece.beta, piece.alpha_dot, piece.beta_dot],
                modules="math",
            )
            for piece in self.pieces
        )

    @cached_property
    def _value_functions(self) -> tuple[Callable[..., list], ...]:
        """Per piece: ``f(t, *free_symbols) -> [alpha, beta]``.

        Kept apart from the rates so that ``check`` does not depend on how
        the derivatives of Abs, Min or Max are printed.
        """
        arguments = (symbols.t, *self.free_symbols)
        return tuple(
            sympy.lambdify(arguments, [piece.alpha, piece.beta], modules="math")
            for piece in self.pieces
        )

    @cached_property
    def _float_bounds(self) -> tuple[tuple[float, float], ...]:
        return tuple((float(piece.start), float(piece.end)) for piece in self.pieces)

    def _float_piece_index(self, time: float, side: str) -> int:
        start = self._float_bounds[0][0]
        end = self._float_bounds[-1][1]
        self._validate_side_and_range(time, side, start, end)
        for index, (piece_start, piece_end) in enumerate(self._float_bounds):
            if side == "right" and piece_start <= time < piece_end:
                return index
            if side == "left" and piece_start < time <= piece_end:
                return index
        raise AssertionError("unreachable: the pieces tile [start, end]")

    def _reject_unknown_parameters(self, params: Mapping[str, object]) -> None:
        names = [symbol.name for symbol in self.free_symbols]
        unknown = [name for name in params if name not in names]
        if unknown:
            raise ValueError(
                f"schedule {self.name!r} has no parameter {unknown[0]!r}. "
                f"Its parameters are: {', '.join(names) or 'none'}."
            )

    def _float_arguments(
        self, d: object, params: Mapping[str, object]
    ) -> tuple[float, ...]:
        """Order the parameter values as ``free_symbols``, as floats."""
        self._reject_unknown_parameters(params)
        values_by_name = {"d": d, **params}
        names = [symbol.name for symbol in self.free_symbols]
        missing = [name for name in names if values_by_name.get(name) is None]
        if missing:
            raise ValueError(
                f"schedule {self.name!r} depends on {', '.join(missing)}. "
                f"Pass a number, e.g. {missing[0]}=..."
            )
        return tuple(float(values_by_name[name]) for name in names)

    def rates(
        self, time: float, *, d: float | None, side: str = "right", **params: float
    ) -> tuple[float, float, float, float]:
        """Return ``(alpha, beta, alpha_dot, beta_dot)`` at ``time`` as floats.

        ``d`` and ``params`` (e.g. ``kappa=2.0``) give the parameters. ``d``
        may be None when the schedule does not depend on it. The
        expressions of each piece are compiled once with
        ``sympy.lambdify(..., modules="math")`` and cached on the schedule.
        The piece is chosen by comparing ``float(time)`` with the float
        piece boundaries, and the derivatives are one-sided as in
        :meth:`coefficient_expressions`. Raises ScheduleError when the
        formulas cannot be evaluated (for example sqrt of a negative value)
        or give a negative alpha.
        """
        arguments = self._float_arguments(d, params)
        time_value = float(time)
        if not math.isfinite(time_value):
            raise ValueError(f"time must be finite, got {time!r}")
        index = self._float_piece_index(time_value, side)
        try:
            values = self._rate_functions[index](time_value, *arguments)
        except _MATH_ERRORS as error:
            raise ScheduleError(
                f"schedule {self.name!r}: evaluating the coefficients at "
                f"t={time_value:.12g} failed ({error}). Check the formulas "
                "and the parameter values."
            ) from error
        result = tuple(float(value) for value in values)
        if not all(math.isfinite(value) for value in result):
            raise ScheduleError(
                f"schedule {self.name!r}: the coefficients at t={time_value:.12g} "
                f"are not finite: {result}. Check the formulas and the "
                "parameter values."
            )
        if result[0] < -CHECK_TOLERANCE:
            # Only parameters that break a rule make alpha negative, and
            # check() names the rule, e.g. kappa < sqrt(d).
            self.check(d, **params)
            raise ScheduleError(
                f"schedule {self.name!r}: alpha({time_value:.12g}) = {result[0]:.6g} "
                "is negative. Check the formulas and the parameter values."
            )
        return result

    # -- validation -----------------------------------------------------------

    def check(self, d: object = None, **params: object) -> None:
        """Raise ScheduleError unless the schedule satisfies its rules.

        The rules are, after the schedule's requirements (e.g.
        ``kappa < sqrt(d)`` on the dilated schedule):

        (i) ``alpha(start) = 1``, ``beta(start) = 0``, ``alpha(end) = 0``
            and ``beta(end) = 1``;
        (ii) alpha and beta are continuous at every interior piece boundary;
        (iii) alpha is non-increasing and beta non-decreasing on each piece;
        (iv) ``alpha > 0`` on ``[start, end)``.

        Parameters passed as numbers are substituted exactly, and a parameter
        that is None or not passed stays symbolic. With every parameter given, all
        rules are checked numerically with absolute tolerance
        ``CHECK_TOLERANCE``, and rules (iii) and (iv) on
        ``CHECK_GRID_POINTS`` points per piece. With parameters left
        symbolic, rules (i) and (ii) are first checked by
        ``sympy.simplify(difference) == 0``, where a difference that
        simplifies to a nonzero constant fails, and then all rules are
        checked numerically at each combination of ``SAMPLE_VALUES`` that
        satisfies the requirements.

        NOTE: rules (iii) and (iv) are grid checks, so a violation between
        grid points, or only at parameter values other than the samples,
        goes unnoticed.
        """
        values = self._exact_parameters(d, params)
        self._check_requirements(values, note="")
        unresolved = [symbol for symbol in self.free_symbols if symbol not in values]
        if not unresolved:
            self._check_numerically(values, note="")
            return

        self._check_symbolically(values)
        samples = self._sample_parameters(values, unresolved)
        for sample in samples:
            listed = ", ".join(f"{symbol}={sample[symbol]}" for symbol in unresolved)
            missing = " or ".join(symbol.name for symbol in unresolved)
            note = (
                f" (at the sample values {listed}, because no value of "
                f"{missing} was given)"
            )
            self._check_numerically({**values, **sample}, note=note)

    def _exact_parameters(
        self, d: object, params: Mapping[str, object]
    ) -> dict[sympy.Symbol, sympy.Expr]:
        self._reject_unknown_parameters(params)
        by_name = {symbol.name: symbol for symbol in self.free_symbols}
        values: dict[sympy.Symbol, sympy.Expr] = {}
        for name, value in {"d": d, **params}.items():
            if value is None:
                continue
            number = _exact_number(value, name)
            symbol = by_name.get(name, symbols.d if name == "d" else None)
            if symbol.is_positive and not bool(number > 0):
                raise ScheduleError(
                    f"schedule {self.name!r}: {name} must be > 0, got {value!r}"
                )
            if symbol.is_nonnegative and bool(number < 0):
                raise ScheduleError(
                    f"schedule {self.name!r}: {name} must be >= 0, got {value!r}"
                )
            if name in by_name:
                values[symbol] = number
        return values

    def _check_requirements(
        self, values: Mapping[sympy.Symbol, sympy.Expr], note: str
    ) -> None:
        for requirement in self.requirements:
            if requirement.fails(values):
                raise ScheduleError(
                    f"schedule {self.name!r} {requirement.explain(values)}{note}"
                )

    def _sample_parameters(
        self,
        values: Mapping[sympy.Symbol, sympy.Expr],
        unresolved: list[sympy.Symbol],
    ) -> list[dict[sympy.Symbol, sympy.Expr]]:
        """List the combinations of SAMPLE_VALUES that meet the requirements."""
        without_samples = [
            symbol.name for symbol in unresolved if symbol.name not in SAMPLE_VALUES
        ]
        if without_samples:
            raise ValueError(
                f"cannot check schedule {self.name!r} numerically: there are no "
                f"sample values for {', '.join(without_samples)}. Pass a number "
                f"for each, e.g. check({without_samples[0]}=...)"
            )
        grids = [SAMPLE_VALUES[symbol.name] for symbol in unresolved]
        samples = []
        for combination in itertools.product(*grids):
            sample = dict(zip(unresolved, combination))
            merged = {**values, **sample}
            if not any(requirement.fails(merged) for requirement in self.requirements):
                samples.append(sample)
        if not samples:
            listed = " and ".join(
                f"{symbol} in {SAMPLE_VALUES[symbol.name]}" for symbol in unresolved
            )
            raise ValueError(
                f"cannot check schedule {self.name!r} numerically: none of the "
                f"sample values ({listed}) meets its requirements. Pass the "
                "parameters as numbers to check()"
            )
        return samples

    def _boundary_conditions(self) -> list[_Equality]:
        """List the equalities of rules (i) and (ii)."""
        t = symbols.t
        first, last = self.pieces[0], self.pieces[-1]
        first_span = f"[{first.start}, {first.end}]"
        last_span = f"[{last.start}, {last.end}]"
        conditions = [
            _Equality(
                first.alpha.subs(t, self.start),
                sympy.Integer(1),
                f"alpha({self.start}) must be 1, got {{got}}",
                f"Make alpha on {first_span} equal 1 at t={self.start}",
            ),
            _Equality(
                first.beta.subs(t, self.start),
                sympy.Integer(0),
                f"beta({self.start}) must be 0, got {{got}}",
                f"Make beta on {first_span} equal 0 at t={self.start}",
            ),
            _Equality(
                last.alpha.subs(t, self.end),
                sympy.Integer(0),
                f"alpha({self.end}) must be 0, got {{got}}",
                f"Make alpha on {last_span} equal 0 at t={self.end}",
            ),
            _Equality(
                last.beta.subs(t, self.end),
                sympy.Integer(1),
                f"beta({self.end}) must be 1, got {{got}}",
                f"Make beta on {last_span} equal 1 at t={self.end}",
            ),
        ]
        for left, right in zip(self.pieces, self.pieces[1:]):
            boundary = left.end
            for name in ("alpha", "beta"):
                conditions.append(
                    _Equality(
                        getattr(right, name).subs(t, boundary),
                        getattr(left, name).subs(t, boundary),
                        f"{name} is discontinuous at t={boundary}: it is "
                        "{expected} from the left and {got} from the right",
                        f"Make the pieces before and after t={boundary} agree there",
                    )
                )
        return conditions

    def _check_symbolically(self, values: Mapping[sympy.Symbol, sympy.Expr]) -> None:
        """Check rules (i) and (ii) exactly, leaving undecided ones to the samples.

        A difference that still contains a parameter after simplification is
        undecided. A constant difference fails when it is not within
        CHECK_TOLERANCE of 0, so a radical that simplify leaves unreduced
        does not fail by accident.
        """
        for equality in self._boundary_conditions():
            difference = sympy.simplify(
                (equality.value - equality.expected).subs(values)
            )
            if difference == 0 or difference.free_symbols:
                continue
            numeric_difference = _real_value(difference)
            if numeric_difference is not None:
                if abs(numeric_difference) <= CHECK_TOLERANCE:
                    continue
            got = sympy.simplify(equality.value.subs(values))
            expected = sympy.simplify(equality.expected.subs(values))
            message = equality.message.format(got=got, expected=expected)
            raise ScheduleError(f"schedule {self.name!r}: {message}. {equality.fix}.")

    def _evaluate(
        self, index: int, time: float, arguments: tuple[float, ...], note: str
    ) -> tuple[float, float]:
        try:
            alpha, beta = self._value_functions[index](time, *arguments)
            alpha, beta = float(alpha), float(beta)
        except _MATH_ERRORS as error:
            raise ScheduleError(
                f"schedule {self.name!r}: evaluating alpha and beta at "
                f"t={time:.12g} failed ({error}){note}. Change the formulas so "
                "that they are real and finite on the whole piece."
            ) from error
        if not (math.isfinite(alpha) and math.isfinite(beta)):
            raise ScheduleError(
                f"schedule {self.name!r}: alpha and beta at t={time:.12g} are "
                f"not finite (alpha={alpha}, beta={beta}){note}. Change the "
                "formulas so that they are finite on the whole piece."
            )
        return alpha, beta

    def _check_numerically(
        self, values: Mapping[sympy.Symbol, sympy.Expr], note: str
    ) -> None:
        """Check rules (i) to (iv) with every parameter given as a number."""
        self._check_requirements(values, note)
        self._check_boundaries_numerically(values, note)
        arguments = tuple(float(values[symbol]) for symbol in self.free_symbols)
        for index in range(len(self.pieces)):
            self._check_piece_on_grid(index, arguments, note)

    def _check_boundaries_numerically(
        self, values: Mapping[sympy.Symbol, sympy.Expr], note: str
    ) -> None:
        """Check rules (i) and (ii) at exact parameter values, to CHECK_TOLERANCE."""
        for equality in self._boundary_conditions():
            got = _real_value(equality.value.subs(values))
            expected = _real_value(equality.expected.subs(values))
            if got is None or expected is None:
                message = equality.message.format(
                    got=sympy.N(equality.value.subs(values)),
                    expected=sympy.N(equality.expected.subs(values)),
                )
                raise ScheduleError(
                    f"schedule {self.name!r}: {message}, which is not a finite "
                    f"real number{note}. Change the formulas so that they are "
                    "real and finite at the piece boundaries."
                )
            if not abs(got - expected) <= CHECK_TOLERANCE:
                message = equality.message.format(
                    got=_format(got), expected=_format(expected)
                )
                raise ScheduleError(
                    f"schedule {self.name!r}: {message}{note}. {equality.fix}."
                )

    def _check_piece_on_grid(
        self, index: int, arguments: tuple[float, ...], note: str
    ) -> None:
        piece = self.pieces[index]
        start, end = self._float_bounds[index]
        is_last = index == len(self.pieces) - 1
        grid = np.linspace(start, end, CHECK_GRID_POINTS)
        previous: tuple[float, float, float] | None = None
        for time in grid:
            time = float(time)
            alpha, beta = self._evaluate(index, time, arguments, note)
            reaches_end = is_last and time == end
            if not reaches_end and not alpha > 0:
                raise ScheduleError(
                    f"schedule {self.name!r}: alpha must be > 0 before the end "
                    f"t={self.end}, got alpha({time:.12g}) = {alpha:.12g}{note}. "
                    "Change alpha so that it reaches 0 only at the end."
                )
            if previous is not None:
                previous_time, previous_alpha, previous_beta = previous
                if alpha - previous_alpha > CHECK_TOLERANCE:
                    raise ScheduleError(
                        f"schedule {self.name!r}: alpha must be non-increasing, but "
                        f"on [{piece.start}, {piece.end}] it rises from "
                        f"{previous_alpha:.12g} at t={previous_time:.12g} to "
                        f"{alpha:.12g} at t={time:.12g}{note}. Change alpha so "
                        "that it does not increase."
                    )
                if previous_beta - beta > CHECK_TOLERANCE:
                    raise ScheduleError(
                        f"schedule {self.name!r}: beta must be non-decreasing, but "
                        f"on [{piece.start}, {piece.end}] it falls from "
                        f"{previous_beta:.12g} at t={previous_time:.12g} to "
                        f"{beta:.12g} at t={time:.12g}{note}. Change beta so "
                        "that it does not decrease."
                    )
            previous = (time, alpha, beta)


# -- factories --------------------------------------------------------------


def linear_schedule() -> Schedule:
    """Return the linear schedule ``alpha = 1 - t``, ``beta = t`` on [0, 1]."""
    t = symbols.t
    return Schedule("linear", (Piece(0, 1, 1 - t, t),))


def _dilated_requirement(kappa_value: sympy.Expr) -> Requirement:
    """Build the requirement ``kappa < sqrt(d)`` of the dilated schedule.

    With ``kappa >= sqrt(d)``, alpha = 1 - kappa*tau/sqrt(d) reaches 0 at or
    before tau = 1, and in phase 2 alpha rises while beta falls.
    """

    def explain(values: Mapping[sympy.Symbol, sympy.Expr]) -> str:
        kappa_number = values.get(symbols.kappa, kappa_value)
        d_number = values.get(symbols.d, symbols.d)
        return (
            f"needs kappa < sqrt(d), got kappa={kappa_number}, d={d_number}, so "
            "alpha = 1 - kappa*tau/sqrt(d) is not positive at tau = 1. "
            f"Use d > kappa**2 = {kappa_number**2} or a smaller kappa."
        )

    return Requirement(condition=kappa_value < sympy.sqrt(symbols.d), explain=explain)


def dilated_schedule(kappa: float | sympy.Expr | None = None) -> Schedule:
    """Return the two-phase dilated schedule on tau in [0, 2].

    With ``s = kappa/sqrt(d)``:
    phase 1, tau in [0, 1]: ``alpha = 1 - s*tau``, ``beta = s*tau``;
    phase 2, tau in [1, 2]: ``alpha = (1 - s)*(2 - tau)``,
    ``beta = s + (1 - s)*(tau - 1)``.

    ``kappa=None`` keeps the symbol ``kappa``. A number is substituted
    exactly and must be finite and > 0, else ScheduleError. The schedule is
    valid only for ``kappa < sqrt(d)``, which ``check`` enforces.
    """
    if kappa is None:
        kappa_value = symbols.kappa
    else:
        try:
            kappa_value = _exact_number(kappa, "kappa")
        except ValueError as error:
            raise ScheduleError(
                f"dilated schedule needs a finite kappa > 0, got kappa={kappa!r}. "
                "Pass a positive number, e.g. kappa=2, or None to keep kappa symbolic."
            ) from error
        if not bool(kappa_value > 0):
            raise ScheduleError(
                f"dilated schedule needs kappa > 0, got kappa={kappa!r}. "
                "Pass a positive number, e.g. kappa=2, or None to keep kappa symbolic."
            )
    tau = symbols.t
    scale = kappa_value / sympy.sqrt(symbols.d)
    phase_1 = Piece(0, 1, alpha=1 - scale * tau, beta=scale * tau)
    phase_2 = Piece(
        1, 2, alpha=(1 - scale) * (2 - tau), beta=scale + (1 - scale) * (tau - 1)
    )
    return Schedule("dilated", (phase_1, phase_2), (_dilated_requirement(kappa_value),))


_TEXT_VARIABLES = {"t": symbols.t, "d": symbols.d, "kappa": symbols.kappa}


def _parse_bound(value: object, name: str, schedule_name: str) -> sympy.Expr:
    if isinstance(value, str):
        try:
            return _exact_number(parse_expression(value, {}), name)
        except ExpressionError as error:
            raise ExpressionError(
                f"schedule {schedule_name!r}, {name}: {error}"
            ) from error
    return _exact_number(value, name)


def _parse_coefficient(
    text: object,
    coefficient: str,
    schedule_name: str,
    start: sympy.Expr,
    end: sympy.Expr,
) -> sympy.Expr:
    if not isinstance(text, str):
        raise TypeError(
            f"schedule {schedule_name!r}: {coefficient} on [{start}, {end}] must be "
            f"formula text, got {type(text).__name__}. Build a Piece for "
            "SymPy expressions."
        )
    try:
        return parse_expression(text, _TEXT_VARIABLES)
    except ExpressionError as error:
        raise ExpressionError(
            f"schedule {schedule_name!r}, {coefficient} on [{start}, {end}]: {error}"
        ) from error


def schedule_from_pieces(
    pieces: Iterable[tuple[object, object, str, str]], *, name: str = "custom"
) -> Schedule:
    """Build a schedule from ``(start, end, alpha_text, beta_text)`` tuples.

    The formulas are parsed with :func:`parse_expression` in the variables
    ``t``, ``d`` and ``kappa``, never evaluated as Python. Bounds may be
    numbers or constant formula text such as ``"1/2"``. The pieces must be
    listed in time order without gaps or overlaps, and on each piece alpha
    or beta must depend on ``t``. The result is validated with
    :meth:`Schedule.check` with ``d`` and ``kappa`` symbolic, so the
    boundary and continuity rules are tried exactly and every rule is then
    tested at the sample values ``d`` in (16, 256, 4096), ``kappa = 3/2``.

    Raises ExpressionError for invalid formula text and ScheduleError for a
    schedule that breaks a rule.
    """
    built = []
    for index, entry in enumerate(pieces):
        try:
            start_value, end_value, alpha_text, beta_text = entry
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"schedule {name!r}: piece {index} must be a tuple "
                f"(start, end, alpha, beta), got {entry!r}"
            ) from error
        start = _parse_bound(start_value, f"start of piece {index}", name)
        end = _parse_bound(end_value, f"end of piece {index}", name)
        alpha = _parse_coefficient(alpha_text, "alpha", name, start, end)
        beta = _parse_coefficient(beta_text, "beta", name, start, end)
        if symbols.t not in alpha.free_symbols | beta.free_symbols:
            raise ScheduleError(
                f"schedule {name!r}: alpha = {alpha} and beta = {beta} on "
                f"[{start}, {end}] do not depend on t, so they are not a formula "
                "in t. Write them in terms of t, e.g. alpha = '1 - t', beta = 't'."
            )
        built.append(Piece(start, end, alpha, beta))
    schedule = Schedule(name, tuple(built))
    schedule.check()
    return schedule


def schedule_from_text(
    alpha: str, beta: str, *, start: object = 0, end: object = 1, name: str = "custom"
) -> Schedule:
    """Build a one-piece schedule from formula text for alpha(t) and beta(t).

    Same parsing and validation as :func:`schedule_from_pieces` with the
    single piece ``(start, end, alpha, beta)``.
    """
    return schedule_from_pieces([(start, end, alpha, beta)], name=name)
