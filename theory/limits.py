"""Large-``d`` limits of the optimal overlaps, derived with ``sympy.limit``.

Every limit substitutes ``d = 1/epsilon^2`` (so ``sqrt(d) = 1/epsilon``)
and takes ``epsilon -> 0+``. Nothing here is typed in: phase 1 of the
dilated schedule gives ``c -> 0, m -> 1, omega -> kappa tau`` and phase 2
gives ``c -> sigma^2 t / ((1 - t)^2 + sigma^2 t^2)`` with ``omega -> oo``,
because that is what the limits of the exact expressions return.

| symbol  | meaning                                   | name          |
|---------|-------------------------------------------|---------------|
| epsilon | 1/sqrt(d)                                 | ``epsilon``   |
| t       | time since the start of a schedule piece  | ``symbols.t`` |
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from . import model
from .schedules import _exact_number
from .symbols import alpha, beta, d, epsilon, kappa, log_odds, sigma, t

__all__ = [
    "PieceLimits",
    "large_d",
    "limit_large_d",
    "overlap_limits",
    "overlap_limit_functions",
    "overlap_rate",
    "parameter_values",
]

_PARAMETERS = {"kappa": kappa, "sigma": sigma, "log_odds": log_odds}

# Positive stand-in for the time since a piece's start, so that the limits
# know the time lies strictly inside the piece.
_local_time = sp.Symbol("t_local", positive=True)


def large_d(expression: sp.Expr) -> sp.Expr:
    """Substitute ``d = 1/epsilon^2`` into ``expression``."""
    return sp.sympify(expression).subs(d, epsilon**-2)


def limit_large_d(expression: sp.Expr) -> sp.Expr:
    """Return lim_{d -> oo} of ``expression`` as ``lim_{epsilon -> 0+}``.

    The result may be ``sympy.oo`` or ``-sympy.oo``. The expression may
    already be written in ``epsilon`` instead of ``d``. A rational function
    of ``epsilon`` with numeric coefficients takes an exact shortcut, the
    ratio of the lowest-order terms of numerator and denominator, and
    everything else goes to ``sympy.limit``.
    """
    in_epsilon = large_d(expression)
    if in_epsilon.free_symbols <= {epsilon} and in_epsilon.is_rational_function(epsilon):
        return _rational_limit(in_epsilon)
    return sp.factor(sp.limit(in_epsilon, epsilon, 0, "+"))


def _rational_limit(expression: sp.Expr) -> sp.Expr:
    """Return lim_{epsilon -> 0+} of a rational function with numeric coefficients."""
    numerator, denominator = sp.fraction(sp.cancel(sp.together(expression)))
    if numerator == 0:
        return sp.S.Zero
    lowest = []
    for polynomial in (sp.Poly(numerator, epsilon), sp.Poly(denominator, epsilon)):
        (order,), coefficient = polynomial.terms()[-1]
        lowest.append((order, coefficient))
    (top_order, top), (bottom_order, bottom) = lowest
    if top_order > bottom_order:
        return sp.S.Zero
    if top_order == bottom_order:
        return top / bottom
    return sp.sign(top / bottom) * sp.oo


def parameter_values(**values) -> dict[sp.Symbol, sp.Expr]:
    """Map keyword values of ``kappa``, ``sigma``, ``log_odds`` or ``p`` to symbols.

    Numbers are made exact. ``p`` is turned into
    ``log_odds = artanh(2p - 1)``. Unknown names raise ValueError.
    """
    mapping: dict[sp.Symbol, sp.Expr] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "p":
            mapping[log_odds] = sp.atanh(2 * _exact_number(value, "p") - 1)
        elif name in _PARAMETERS:
            mapping[_PARAMETERS[name]] = _exact_number(value, name)
        else:
            raise ValueError(
                f"unknown parameter {name!r}: pass kappa, sigma, log_odds or p"
            )
    return mapping


@functools.lru_cache(maxsize=None)
def _overlap_limits_cached(piece, time, values) -> dict[str, sp.Expr]:
    coefficients = {alpha: piece.alpha.subs(t, time), beta: piece.beta.subs(t, time)}
    return {
        name: limit_large_d(expression.subs(coefficients).subs(dict(values)))
        for name, expression in model.optimal_overlaps().items()
    }


def overlap_limits(schedule, time, side: str = "right", **values) -> dict[str, sp.Expr]:
    """Return lim_{d -> oo} of each optimal overlap at a fixed schedule time.

    ``values`` may fix ``kappa``, ``sigma``, ``log_odds`` or ``p``, and the
    others stay symbolic. Diverging overlaps (``omega`` and ``r`` wherever
    ``beta`` stays of order one) are ``sympy.oo``. ``side`` selects the
    piece at a boundary, and at the schedule's end the left piece is used.
    """
    exact_time = _exact_number(time, "time")
    if exact_time >= schedule.end:
        side = "left"
    piece = schedule.piece_at(exact_time, side)
    substitutions = tuple(sorted(parameter_values(**values).items(), key=str))
    return dict(_overlap_limits_cached(piece, exact_time, substitutions))


@dataclass(frozen=True)
class PieceLimits:
    """The large-``d`` overlaps on one schedule piece, as functions of time.

    ``overlaps`` are expressions in ``symbols.t``, which here is the time
    since ``start`` (``tau - 1`` on phase 2 of the dilated schedule). They
    hold for ``t`` strictly inside ``(0, end - start)``.
    """

    start: sp.Expr
    end: sp.Expr
    overlaps: dict[str, sp.Expr]


def overlap_limit_functions(schedule) -> list[PieceLimits]:
    """Derive the large-``d`` overlaps on each piece, symbolic in time.

    On each piece ``t`` is replaced by ``start + t_local`` with ``t_local``
    positive, the limit is taken, and ``t_local`` is written back as
    ``symbols.t``.
    """
    result = []
    for piece in schedule.pieces:
        coefficients = {
            alpha: piece.alpha.subs(t, piece.start + _local_time),
            beta: piece.beta.subs(t, piece.start + _local_time),
        }
        overlaps = {
            name: limit_large_d(expression.subs(coefficients)).subs(_local_time, t)
            for name, expression in model.optimal_overlaps().items()
        }
        result.append(PieceLimits(piece.start, piece.end, overlaps))
    return result


def _leading_term(expression: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Return ``(coefficient, exponent of d)`` of the leading term in ``epsilon``."""
    leading = sp.powsimp(sp.cancel(expression).as_leading_term(epsilon))
    coefficient, exponent = leading.as_coeff_exponent(epsilon)
    return sp.factor(coefficient), -exponent / 2


def overlap_rate(
    schedule, time, side: str = "right", **values
) -> dict[str, tuple[sp.Expr, sp.Expr]]:
    """Derive the leading large-``d`` correction of each optimal overlap.

    For a finite limit ``L``, ``overlap - L ~ coefficient * d**exponent``,
    read off the leading term of the series in ``epsilon = 1/sqrt(d)``.
    The exponent is ``-1/2`` for a ``1/sqrt(d)`` correction, so the
    distance to the limit has slope ``-1/2`` against ``d`` on a log-log
    plot. For a diverging overlap the pair describes the overlap itself,
    ``overlap ~ coefficient * d**exponent``. An overlap equal to its limit
    at every ``d`` gives ``(0, -oo)``.
    """
    exact_time = _exact_number(time, "time")
    side = "left" if exact_time >= schedule.end else side
    alpha_value, beta_value, _, _ = schedule.coefficient_expressions(exact_time, side)
    limits = overlap_limits(schedule, exact_time, side=side, **values)
    substitutions = {alpha: alpha_value, beta: beta_value}
    substitutions_after = parameter_values(**values)
    rates = {}
    for name, expression in model.optimal_overlaps().items():
        exact = expression.subs(substitutions).subs(substitutions_after)
        series_input = large_d(exact)
        if limits[name].is_finite:
            series_input = sp.together(series_input - limits[name])
        if sp.cancel(series_input) == 0:
            rates[name] = (sp.S.Zero, -sp.oo)
            continue
        rates[name] = _leading_term(series_input)
    return rates
