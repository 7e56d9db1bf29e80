"""The window of the linear schedule in which SGD moves the bias ``b``.

On the linear schedule ``alpha = 1 - t``, ``beta = t`` the drift of ``b``
is of order one only for ``t`` of order ``1/sqrt(d)``
(:mod:`flowphase.theory.sgd_undilated`). This module evaluates that drift
at a fixed network state:

- :func:`finite_d_drift`: the finite-``d`` drift, from the compiled
  finite-``d`` phase-1 ODEs of :mod:`flowphase.numerics.sgd_finite_d`. With
  ``kappa tau = t sqrt(d)`` those ODEs have exactly ``beta = t`` and
  ``alpha = 1 - t``;
- :func:`window_drift`: its ``d -> oo`` limit at ``t = theta/sqrt(d)``, from the
  phase-1 ODEs of :mod:`flowphase.numerics.sgd_ode` with ``kappa tau = theta``;
- :func:`half_width`: the time at which ``|db/dT|`` has fallen to half its
  value at ``t = 0``, which shrinks like ``1/sqrt(d)``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from flowphase.numerics import sgd_finite_d, sgd_ode

__all__ = ["WINDOW_STATE", "finite_d_drift", "window_drift", "half_width", "window_half_width"]

#: A network aligned with ``mu`` with unit norms and zero bias:
#: ``(c, b, m, q, omega, r)``. At this state ``b`` has its mode weight to learn.
WINDOW_STATE = (0.0, 0.0, 1.0, 1.0, 1.0, 1.0)

_B = sgd_ode.STATE_NAMES.index("b")


def finite_d_drift(t: float, d: int, p: float, sigma: float, state=WINDOW_STATE,
                   eta: float = 0.0) -> np.ndarray:
    """Return the finite-``d`` drifts ``d(c, b, m, q, omega, r)/dT`` at time ``t``.

    ``v = u.w/d`` is set to ``m omega``, its value for ``u`` and ``w`` along
    ``mu``.
    """
    if not 0.0 <= t < 1.0:
        raise ValueError(f"the linear schedule needs t in [0, 1), got t={t!r}")
    scaled = t * math.sqrt(d)
    # kappa*tau = t sqrt(d) with tau = 1; kappa > 0 is needed, so t = 0
    # takes tau = 0 instead.
    kappa_value, tau = (scaled, 1.0) if scaled > 0.0 else (1.0, 0.0)
    params = sgd_finite_d.finite_d_params(kappa_value, tau, eta, p, sigma, d)
    y = np.array([*state, state[2] * state[4]], dtype=float)
    return sgd_finite_d.finite_d_rhs()(0.0, y, params)[:6]


def window_drift(theta: float, p: float, state=WINDOW_STATE, eta: float = 0.0) -> np.ndarray:
    """Return the ``d -> oo`` drifts at ``t = theta/sqrt(d)``."""
    if not theta >= 0.0:
        raise ValueError(f"theta = t sqrt(d) must be >= 0, got theta={theta!r}")
    kappa_value, tau = (theta, 1.0) if theta > 0.0 else (1.0, 0.0)
    params = sgd_ode.phase_one_params(kappa_value, tau, eta, p)
    return sgd_ode.phase_one_rhs()(0.0, np.array(state, dtype=float), params)


def _half_point(drift_at, upper):
    """Return where ``|drift_at(x)|`` falls to half of ``|drift_at(0)|`` on ``[0, upper]``."""
    target = 0.5 * abs(drift_at(0.0))
    if target == 0.0:
        raise ValueError("the drift of b vanishes at t = 0; choose a state with b "
                         "away from its optimum")
    return brentq(lambda x: abs(drift_at(x)) - target, 0.0, upper, xtol=1e-12)


def half_width(d: int, p: float, sigma: float, state=WINDOW_STATE) -> float:
    """Return the ``t`` at which the finite-``d`` ``|db/dT|`` halves from ``t = 0``."""
    upper = min(0.99, 12.0 / math.sqrt(d))
    return _half_point(lambda t: finite_d_drift(t, d, p, sigma, state)[_B], upper)


def window_half_width(p: float, state=WINDOW_STATE) -> float:
    """Return the ``theta`` at which the ``d -> oo`` ``|db/dT|`` halves from ``theta = 0``."""
    return _half_point(lambda theta: window_drift(theta, p, state)[_B], 12.0)
