"""Summary-statistic ODEs of the generative flow dX/dt = v(t, X).

A generated sample is split as ``X = a mu + e`` with ``e`` orthogonal to
``mu``. Under the exact velocity field ``v = A X + B D_t(X)`` the two parts
evolve separately, so at any ``d`` the flow reduces to

    dy/dt = (A + B c*) y + B m sqrt(d) tanh(omega y + l),
    dP/dt = 2 (A + B c*) P,

for ``y = mu.X/sqrt(d)`` and ``P = |e|^2/d``. The large-``d`` limits are
taken with ``sympy.limit`` in ``epsilon = 1/sqrt(d)``, either with ``y``
fixed (phase 1 of the dilated schedule) or with ``M = y/sqrt(d) > 0``
fixed (phase 2 and the undilated schedule).

| symbol | meaning                                    | name           |
|--------|--------------------------------------------|----------------|
| a, e   | mu-coefficient and orthogonal part of X    | ``_a``, ``_e`` |
| y, M, P| mu.X/sqrt(d), y/sqrt(d), |e|^2/d           | ``y, M, P``    |
| lin    | A + B c*, growth rate of y and sqrt(P)     | ``"linear"``   |
| amp    | B m sqrt(d), amplitude of the tanh drive   | ``"amplitude"``|
"""

from __future__ import annotations

import functools

import sympy as sp

from . import model
from .limits import large_d, limit_large_d
from .symbols import M, P, alpha, alpha_dot, beta, beta_dot, d, epsilon, log_odds, t, y

__all__ = [
    "velocity_components",
    "summary_odes",
    "y_ode_parts",
    "piece_substitution",
    "summary_odes_on",
    "order_one_limit",
    "saturated_limit",
]

# Commutative stand-ins for the vectors mu and e and the scalar a.
_mu, _e = sp.symbols("mu e", commutative=True)
_a = sp.Symbol("a", real=True)
_e_norm2 = sp.Symbol("e_norm2", nonnegative=True)

# Positive stand-ins that let the limits know signs: the time since a
# piece's start and the magnitude of M.
_local_time = sp.Symbol("t_local", positive=True)
_positive_m = sp.Symbol("M_positive", positive=True)


def _dot(left: sp.Expr, right: sp.Expr) -> sp.Expr:
    """Inner product on span(mu, e) with mu.mu = d, mu.e = 0, e.e = e_norm2."""
    left, right = sp.expand(left), sp.expand(right)
    gram = {(_mu, _mu): d, (_mu, _e): 0, (_e, _mu): 0, (_e, _e): _e_norm2}
    return sum(
        left.coeff(u) * right.coeff(v) * value for (u, v), value in gram.items()
    )


@functools.lru_cache(maxsize=None)
def velocity_components() -> dict[str, sp.Expr]:
    """Derive da/dt and de/dt for X = a mu + e under v = A X + B D_t(X).

    Returns ``{"mu": da/dt, "orthogonal": rate}`` with ``de/dt = rate * e``,
    read off as the coefficients of ``mu`` and ``e`` in ``v``.
    """
    position = _a * _mu + _e
    coefficients = model.velocity_coefficients()
    denoised = model.denoiser(position, _mu, _dot(_mu, position))
    velocity = sp.expand(coefficients["A"] * position + coefficients["B"] * denoised)
    return {
        "mu": sp.collect(velocity.coeff(_mu), sp.tanh(sp.Wild("w")), evaluate=True),
        "orthogonal": sp.factor(velocity.coeff(_e)),
    }


@functools.lru_cache(maxsize=None)
def _derived_summary_odes() -> tuple[sp.Expr, sp.Expr]:
    """Derive ``(dy/dt, dP/dt)`` from the velocity components.

    ``y = a sqrt(d)`` gives ``dy/dt = sqrt(d) da/dt``, and
    ``dP/dt = 2 e.(de/dt)/d = 2 rate P``.
    """
    components = velocity_components()
    dy_dt = sp.sqrt(d) * components["mu"].subs(_a, y / sp.sqrt(d))
    e_rate = components["orthogonal"]
    p_rate = 2 * _dot(_e, e_rate * _e) / d
    dp_dt = p_rate.subs(_e_norm2, d * P)
    return sp.expand(dy_dt), sp.factor(dp_dt)


@functools.lru_cache(maxsize=None)
def y_ode_parts() -> dict[str, sp.Expr]:
    """Split dy/dt = linear * y + amplitude * tanh(omega * y + bias).

    The parts are read off the derived dy/dt: the one tanh term gives
    ``amplitude`` and its argument ``omega`` and ``bias``, and the rest is
    ``linear * y``. They equal ``A + B c*``, ``B m sqrt(d)``,
    ``beta sqrt(d)/Gamma`` and ``l``.
    """
    dy_dt, _ = _derived_summary_odes()
    (tanh_term,) = dy_dt.atoms(sp.tanh)
    argument = sp.expand(tanh_term.args[0])
    amplitude = sp.factor(dy_dt.coeff(tanh_term))
    remainder = sp.expand(dy_dt - amplitude * tanh_term)
    return {
        "linear": sp.factor(remainder.coeff(y)),
        "amplitude": amplitude,
        "omega": sp.factor(argument.coeff(y)),
        "bias": sp.simplify(argument.subs(y, 0)),
    }


def summary_odes() -> tuple[sp.Expr, sp.Expr]:
    """Return ``(dy/dt, dP/dt)`` at finite ``d`` for y = mu.X/sqrt(d), P = |e|^2/d.

    ``dy/dt = (A + B c*) y + B m sqrt(d) tanh(omega y + l)`` and
    ``dP/dt = 2 (A + B c*) P``, in ``alpha, beta, alpha_dot, beta_dot,
    sigma, d, log_odds, y, P``, rebuilt from :func:`y_ode_parts`.
    """
    parts = y_ode_parts()
    drive = parts["amplitude"] * sp.tanh(parts["omega"] * y + parts["bias"])
    _, dp_dt = _derived_summary_odes()
    return parts["linear"] * y + drive, dp_dt


def piece_substitution(piece, time: sp.Expr = t) -> dict[sp.Symbol, sp.Expr]:
    """Map alpha, beta and their derivatives to a piece's expressions at ``time``."""
    return {
        alpha: piece.alpha.subs(t, time),
        beta: piece.beta.subs(t, time),
        alpha_dot: piece.alpha_dot.subs(t, time),
        beta_dot: piece.beta_dot.subs(t, time),
    }


def summary_odes_on(piece) -> tuple[sp.Expr, sp.Expr]:
    """Return ``(dy/dt, dP/dt)`` on one schedule piece, in ``t, y, P``.

    ``d``, ``kappa``, ``sigma`` and ``log_odds`` stay symbolic.
    """
    values = piece_substitution(piece)
    dy_dt, dp_dt = summary_odes()
    return dy_dt.subs(values), sp.factor(dp_dt.subs(values))


def _local(expression: sp.Expr, piece) -> sp.Expr:
    """Write ``expression`` of a piece in the positive time since its start."""
    return expression.subs(piece_substitution(piece, piece.start + _local_time))


def order_one_limit(piece) -> sp.Expr:
    """Derive lim_{d -> oo} of dy/dt with ``y`` fixed, in local time ``t``.

    ``t`` is the time since the piece's start. On phase 1 of the dilated
    schedule this is ``kappa tanh(kappa t y + l)``. Raises
    NotImplementedError where ``omega`` diverges, because the tanh term
    then tends to ``sign(y)`` and ``y`` grows like ``sqrt(d)``.
    """
    omega = limit_large_d(_local(y_ode_parts()["omega"], piece))
    if not omega.is_finite:
        raise NotImplementedError(
            f"omega tends to {omega} on the piece [{piece.start}, {piece.end}], "
            "so y is not of order one there; use saturated_limit for M = y/sqrt(d)"
        )
    dy_dt, _ = summary_odes()
    return limit_large_d(_local(dy_dt, piece)).subs(_local_time, t)


def saturated_limit(piece) -> tuple[sp.Expr, sp.Expr]:
    """Derive lim_{d -> oo} of ``(dM/dt, dP/dt)`` for M = y/sqrt(d) > 0 fixed.

    ``dM/dt = lim(linear) M + lim(amplitude/sqrt(d)) tanh(lim(argument))``
    where the tanh argument ``omega M sqrt(d) + l`` is taken to its limit
    first (``+oo`` wherever ``omega`` stays positive, so tanh becomes 1).
    A negative ``M`` is the mirror image with ``s = -1``. Expressions are
    in the time ``t`` since the piece's start, ``M`` and ``P``.
    """
    parts = {name: _local(part, piece) for name, part in y_ode_parts().items()}
    linear = limit_large_d(parts["linear"])
    drive = limit_large_d(parts["amplitude"] * epsilon)
    argument = large_d(parts["omega"]) * _positive_m / epsilon + parts["bias"]
    saturation = sp.tanh(sp.limit(argument, epsilon, 0, "+"))
    dm_dt = sp.factor(linear * _positive_m + drive * saturation)
    dp_dt = sp.factor(2 * linear * P)
    return (
        dm_dt.subs({_positive_m: M, _local_time: t}),
        dp_dt.subs(_local_time, t),
    )
