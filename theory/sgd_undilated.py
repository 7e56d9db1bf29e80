"""Overlap ODEs of online SGD on the linear (undilated) schedule.

The linear schedule has ``alpha = 1 - t``, ``beta = t``. The pre-activation
``a = s beta sqrt(d) omega + sqrt(Gamma r) xi + b`` of
:func:`flowphase.theory.sgd.preactivation` then has two regimes as
``d -> oo``:

1. **The window**, ``t = theta/sqrt(d)`` with ``theta`` fixed. Then
   ``beta sqrt(d) = theta``, ``alpha -> 1`` and ``Gamma -> 1``, and the
   leading-order drifts are those of phase 1 of the dilated schedule with
   ``kappa tau`` replaced by ``theta`` (:func:`window_dynamics`). Only here
   does the bias ``b`` move, and ``b`` is the only overlap that carries the
   mode weight ``p``.
2. **A fixed time** ``t`` in ``(0, 1)``. Then ``beta sqrt(d) omega`` grows like
   ``sqrt(d)``, ``tanh(a)`` saturates to ``s``, the drifts of ``b, omega, r``
   vanish, and ``c, m, q`` follow the reduced dynamics of
   :func:`flowphase.theory.sgd_phase_two.phase_two_dynamics` with
   ``beta = t`` and ``Gamma = (1 - t)^2 + sigma^2 t^2``
   (:func:`fixed_time_dynamics`). Its fixed point is
   ``c = sigma^2 t/((1 - t)^2 + sigma^2 t^2)``, ``m = 1 - c t``, ``q = m^2``.

So ``p`` is learnable only for ``t`` of order ``1/sqrt(d)``. Once ``d``
is large, a grid of a fixed number of times in ``[0, 1]`` has no point in
that window apart from ``t = 0`` itself. This is the collapse of the first
phase, which the dilated schedule undoes. At ``t = theta/sqrt(d)`` both
schedules have the same ``alpha`` and ``beta`` at every ``d``, so the window
is phase 1 itself, stretched by the dilation to a time interval of order one.

| symbol        | meaning                                     | name        |
|---------------|---------------------------------------------|-------------|
| theta         | t sqrt(d), the time inside the window       | ``theta``   |
| c, b, m, q    | skip weight, bias, u.mu/d, abs(u)^2/d       | as written  |
| omega, r      | w.mu/d, abs(w)^2/d                          | as written  |
"""

from __future__ import annotations

import functools

import sympy as sp

from .cache import disk_cached
from . import sgd, sgd_phase_two
from .model import gamma_expr
from .schedules import linear_schedule
from .symbols import alpha, beta, epsilon, kappa, t

__all__ = [
    "theta",
    "window_dynamics",
    "window_as_phase_one",
    "fixed_time_coefficients",
    "fixed_time_dynamics",
]

#: ``theta = t sqrt(d)``, the time inside the window of the linear schedule.
theta = sp.Symbol("theta", nonnegative=True)


def _window_substitution():
    """Return ``beta`` of the linear schedule at ``t = theta epsilon``, and the limits.

    ``beta`` is substituted exactly, and ``alpha`` and ``Gamma`` enter only
    through their ``epsilon -> 0`` limits, as in the phase-1 derivation.
    """
    piece = linear_schedule().pieces[0]
    in_window = {t: theta * epsilon}
    beta_value = sp.expand(piece.beta.subs(in_window))
    alpha_limit = sp.limit(piece.alpha.subs(in_window), epsilon, 0)
    gamma_limit = gamma_expr.subs({alpha: alpha_limit, beta: 0})
    return {beta: beta_value}, {alpha: alpha_limit, sgd._gamma: gamma_limit}


@functools.lru_cache(maxsize=None)
@disk_cached
def window_dynamics() -> sgd.PhaseOneDynamics:
    """Derive the ``d -> oo`` drifts of the linear schedule at ``t = theta/sqrt(d)``.

    The result has the fields of :class:`flowphase.theory.sgd.PhaseOneDynamics`,
    with ``theta`` where phase 1 of the dilated schedule has ``kappa tau``.
    """
    substitution = _window_substitution()
    rates = {
        name: sgd._leading_order(rate, substitution)
        for name, rate in sgd.overlap_rates().items()
    }
    loss = sgd._leading_order(sgd.reduced_loss(), substitution)
    slope, shift = sgd._slope_and_shift()
    slope = sgd._leading_order(slope, substitution)
    shift = sgd._leading_order(shift, substitution)
    moments = set()
    for expression in [*rates.values(), loss]:
        moments.update(sgd.gaussian.moment_indices(expression))
    return sgd.PhaseOneDynamics(
        rates={name: rates[name] for name in sgd.STATE_NAMES},
        loss=loss,
        slope=slope,
        shift=shift,
        moments=tuple(sorted(moments)),
    )


def fixed_time_coefficients() -> dict[sp.Symbol, sp.Expr]:
    """Return ``beta`` and ``Gamma`` of the linear schedule at a fixed time ``t``."""
    piece = linear_schedule().pieces[0]
    gamma_value = gamma_expr.subs({alpha: piece.alpha, beta: piece.beta})
    return {beta: piece.beta, sgd_phase_two.gamma: sp.expand(gamma_value)}


@functools.lru_cache(maxsize=None)
@disk_cached
def fixed_time_dynamics() -> sgd_phase_two.PhaseTwoDynamics:
    """Derive the saturated drifts of ``c, m, q`` of the linear schedule at fixed ``t``.

    The drifts of ``b, omega, r`` vanish once ``tanh(a) = s``; the
    saturation check of :func:`flowphase.theory.sgd_phase_two.phase_two_dynamics`
    raises if they do not.
    """
    dynamics = sgd_phase_two.phase_two_dynamics()
    values = fixed_time_coefficients()
    return sgd_phase_two.PhaseTwoDynamics(
        rates={name: sp.factor(rate.subs(values)) for name, rate in dynamics.rates.items()},
        fixed_point={
            name: sp.factor(value.subs(values))
            for name, value in dynamics.fixed_point.items()
        },
        loss=sp.expand(dynamics.loss.subs(values)),
    )


def window_as_phase_one(expression: sp.Expr) -> sp.Expr:
    """Rewrite a phase-1 expression of the dilated schedule in ``theta = kappa tau``."""
    return expression.subs(kappa, theta / t)
