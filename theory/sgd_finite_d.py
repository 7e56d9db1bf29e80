"""Finite-``d`` variant of the phase-1 overlap ODEs of online SGD.

:func:`flowphase.theory.sgd.phase_one_dynamics` keeps only the
``d -> oo`` limit, where ``alpha = Gamma = 1`` and the skip weight relaxes
to 0. Here ``beta = kappa tau/sqrt(d)``, ``alpha = 1 - beta`` and
``Gamma = alpha^2 + sigma^2 beta^2`` keep their finite-``d`` values, in the
drifts and in the pre-activation ``a = s kappa tau omega + sqrt(Gamma r) xi + b``,
and the terms of order ``epsilon = 1/sqrt(d)`` and beyond are kept. These
terms involve ``v = u.w/d``, so ``v`` joins the states.

NOTE: :mod:`flowphase.theory.sgd` replaces ``|g|^2/d``, ``|z'|^2/d`` and
``g.z'/d`` by their means, so the kept ``epsilon`` terms are not the
complete finite-``d`` correction. Only a comparison with online SGD
measures how much of the gap they remove.
"""

from __future__ import annotations

import functools

import sympy as sp

from .cache import disk_cached
from . import gaussian, sgd
from .symbols import epsilon

__all__ = ["STATES", "STATE_NAMES", "coupling_rate", "finite_d_rates"]

#: States of the finite-``d`` ODEs: those of :data:`sgd.STATES`, then ``v``.
STATES = (*sgd.STATES, sgd.v)
STATE_NAMES = tuple(symbol.name for symbol in STATES)


@functools.lru_cache(maxsize=None)
@disk_cached
def coupling_rate() -> sp.Expr:
    """Derive ``dv/dT = (d/eta) E[Delta(u.w)/d]`` in the moments ``M_j_k``."""
    gradient = sgd._gradients()
    step = sgd.lr * epsilon**2  # eta/d
    delta_u = -step * gradient["u"]
    delta_w = -step * gradient["w"]
    change = sgd._u_i * delta_w + delta_u * sgd._w_i + delta_u * delta_w
    increment = sp.expand(sgd.sum_coordinates(change) * epsilon**2 / step)
    slope, _ = sgd._slope_and_shift()
    return gaussian.gaussian_expectation(
        increment, slope, sgd._LOADS, sgd._RESIDUAL_COVARIANCE
    )


@functools.lru_cache(maxsize=None)
def finite_d_rates() -> dict[str, sp.Expr]:
    """Derive the drifts of ``(c, b, m, q, omega, r, v)`` with every order kept.

    The drifts are in the states, ``alpha``, ``beta``, ``Gamma``, ``eta``,
    ``sigma``, ``epsilon`` and the moments ``M_j_k`` taken at the
    pre-activation of :func:`preactivation`. On phase 1,
    ``beta = kappa tau epsilon`` and ``alpha = 1 - beta``. These stay
    symbols because substituting them into the drift of ``r`` and expanding
    takes SymPy several seconds.
    """
    rates = {**sgd.overlap_rates(), "v": coupling_rate()}
    return {name: rates[name] for name in STATE_NAMES}


def preactivation() -> tuple[sp.Expr, sp.Expr]:
    """Return ``(slope, shift)`` of ``a = slope*xi + shift`` in ``beta, Gamma, epsilon``."""
    return sgd._slope_and_shift()
