"""Reduced overlap ODEs of online SGD on phase 2 of the dilated schedule.

In phase 2, ``beta = kappa/sqrt(d) + (1 - kappa/sqrt(d)) t`` is of order
one, so the pre-activation ``a = s beta omega sqrt(d) + sqrt(Gamma r) xi + b``
(:func:`flowphase.theory.sgd.preactivation`) has a mean of order
``sqrt(d)``. Under the rescaling ``omega_hat = sqrt(d) omega`` the
activation ``tanh(a)`` keeps a limit. But the drift of ``omega_hat`` is of
order ``d``, because the signal ``beta`` is of order one, so on the time
scale ``T`` the input weight leaves that window at once and saturates. The reduced
dynamics therefore takes ``omega > 0`` and ``sqrt(d) beta omega`` large,
where ``tanh(a) = s`` up to terms exponentially small in
``sqrt(d) beta omega / sqrt(Gamma r)``:

1. every moment ``E[s^j tanh(a)^k]`` of :func:`flowphase.theory.sgd.overlap_rates`
   becomes ``E[s^(j+k)]``, that is 1 for even ``j + k`` and ``2p - 1``
   otherwise;
2. the drifts of ``b, omega, r`` then vanish identically, because each
   carries a factor ``1 - tanh(a)^2``, so these overlaps are frozen;
3. the drifts of ``c, m, q`` are gradient flow on the reduced loss, and
   the ``eta`` terms are of order ``eta/d``.

:func:`phase_two_dynamics` keeps ``beta`` and ``Gamma`` as symbols, which
gives the finite-``d`` form (``Gamma`` at its finite-``d`` value);
:func:`phase_two_limit` substitutes the schedule and takes ``d -> oo``.

| symbol        | meaning                                   | name            |
|---------------|-------------------------------------------|-----------------|
| c, m, q       | skip weight, u.mu/d, abs(u)^2/d           | ``c, m, q``     |
| b, omega, r   | bias, w.mu/d, abs(w)^2/d (frozen)         | ``b, omega, r`` |
| t             | phase-2 time, tau - 1, in [0, 1]          | ``t``           |
| beta, Gamma   | data coefficient, alpha^2 + sigma^2 beta^2| ``beta, Gamma`` |
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .cache import disk_cached
from . import gaussian, sgd
from .model import gamma_expr
from .schedules import dilated_schedule
from .symbols import alpha, beta, d, epsilon, p, sigma, t

__all__ = [
    "STATES",
    "STATE_NAMES",
    "FROZEN_NAMES",
    "gamma",
    "saturated_moments",
    "PhaseTwoDynamics",
    "phase_two_dynamics",
    "phase_two_limit",
]

#: States of the reduced phase-2 ODEs, in the order used by the numerics.
STATES = (sgd.c, sgd.m, sgd.q)
STATE_NAMES = tuple(symbol.name for symbol in STATES)

#: Overlaps whose drift vanishes once the activation has saturated.
FROZEN_NAMES = ("b", "omega", "r")

#: ``Gamma = alpha^2 + sigma^2 beta^2``, the symbol used by :mod:`sgd`.
gamma = sp.Symbol("Gamma", positive=True)

# Largest power k of tanh(a) given a saturated value. The drifts use k <= 7.
_MAX_POWER = 8


def saturated_moments() -> dict[sp.Symbol, sp.Expr]:
    """Return ``M_j_k -> E[s^(j+k)]``, the moments when ``tanh(a) = s``."""
    values = {}
    for j in (0, 1):
        for k in range(_MAX_POWER + 1):
            even = (j + k) % 2 == 0
            values[gaussian.moment_symbol(j, k)] = sp.Integer(1) if even else 2 * p - 1
    return values


@dataclass(frozen=True)
class PhaseTwoDynamics:
    """Reduced overlap ODEs of phase 2.

    ``rates[name]`` is ``d name/dT`` for ``name`` in :data:`STATE_NAMES`.
    ``fixed_point[name]`` solves ``rates = 0``, and ``loss`` is the reduced
    population loss per coordinate.
    """

    rates: dict
    fixed_point: dict
    loss: sp.Expr


def _check_saturated(rates, moments):
    """Raise ValueError unless the drifts of the frozen overlaps vanish."""
    for name in FROZEN_NAMES:
        drift = sp.simplify(rates[name].subs(moments))
        if drift != 0:
            raise ValueError(
                f"the drift of {name} is {drift} after saturation, not 0, so "
                "the reduced phase-2 dynamics would be incomplete"
            )


def _solve_fixed_point(rates):
    solutions = sp.solve([rates[name] for name in STATE_NAMES], STATES, dict=True)
    if len(solutions) != 1:
        raise ValueError(
            f"expected one fixed point of the phase-2 drifts, found {solutions}"
        )
    return {symbol.name: sp.factor(value) for symbol, value in solutions[0].items()}


@functools.lru_cache(maxsize=None)
@disk_cached
def phase_two_dynamics() -> PhaseTwoDynamics:
    """Derive the saturated drifts of ``c, m, q`` in ``beta``, ``Gamma``, ``sigma``.

    Terms of order ``epsilon = 1/sqrt(d)`` and beyond are dropped, while
    ``beta`` and ``Gamma`` stay symbols, so substituting their finite-``d``
    values gives the finite-``d`` variant of the ODEs.
    """
    moments = saturated_moments()
    all_rates = sgd.overlap_rates()
    _check_saturated(all_rates, moments)

    rates = {}
    for name in STATE_NAMES:
        saturated = sp.expand(all_rates[name].subs(moments))
        rates[name] = sp.factor(saturated.subs(epsilon, 0))
    loss = sp.expand(sgd.reduced_loss().subs(moments).subs(epsilon, 0))
    # Write alpha^2 through Gamma, so that the loss is in beta and Gamma alone.
    loss = sp.simplify(loss.subs(alpha**2, gamma - sigma**2 * beta**2))
    return PhaseTwoDynamics(
        rates=rates, fixed_point=_solve_fixed_point(rates), loss=loss
    )


def _phase_two_coefficients():
    """Return ``beta`` and ``Gamma`` of phase 2 as ``d -> oo``, in local time ``t``.

    The dilated schedule is written in ``tau = t + 1``.
    """
    piece = dilated_schedule().pieces[1]
    local = {t: t + 1}
    in_epsilon = {d: epsilon**-2}
    beta_limit = sp.limit(piece.beta.subs(local).subs(in_epsilon), epsilon, 0)
    alpha_limit = sp.limit(piece.alpha.subs(local).subs(in_epsilon), epsilon, 0)
    gamma_limit = gamma_expr.subs({alpha: alpha_limit, beta: beta_limit})
    return {beta: sp.expand(beta_limit), gamma: sp.expand(gamma_limit)}


@functools.lru_cache(maxsize=None)
@disk_cached
def phase_two_limit() -> PhaseTwoDynamics:
    """Derive the ``d -> oo`` phase-2 drifts in the local time ``t = tau - 1``."""
    dynamics = phase_two_dynamics()
    limit = _phase_two_coefficients()
    rates = {
        name: sp.factor(rate.subs(limit)) for name, rate in dynamics.rates.items()
    }
    fixed_point = {
        name: sp.factor(value.subs(limit))
        for name, value in dynamics.fixed_point.items()
    }
    return PhaseTwoDynamics(
        rates=rates, fixed_point=fixed_point, loss=sp.expand(dynamics.loss.subs(limit))
    )
