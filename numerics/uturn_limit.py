"""Numbers of the large-``d`` U-turn flip curve of the mixture.

The expressions come from :mod:`flowphase.theory.uturn`: the decision
boundary ``y*(tau0)`` is the root of its boundary equation (found by
Brent's method), and the flip rate is ``2 p Phi(y* - kappa tau0)`` in
phase 1 and 0 in phase 2 (``tau0 > 1``).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from flowphase.theory import uturn
from flowphase.theory.symbols import kappa, p


@lru_cache(maxsize=None)
def _functions():
    arguments = (uturn.y_star, uturn.tau0, p, kappa)
    boundary = sp.lambdify(arguments, uturn.boundary_equation(), modules="scipy")
    flip = sp.lambdify(arguments, uturn.flip_rate_reduced(), modules="scipy")
    return boundary, flip


def _check(p_value, kappa_value):
    if not 0.0 < p_value < 1.0:
        raise ValueError(f"p must lie in (0, 1), got p={p_value}")
    if not (math.isfinite(kappa_value) and kappa_value > 0):
        raise ValueError(f"kappa must be positive and finite, got kappa={kappa_value}")


def decision_boundary(tau0_value, p_value, kappa_value):
    """Return ``y*(tau0)``, the ``1 - p`` quantile of the limit law of ``y`` at ``tau0 <= 1``."""
    _check(p_value, kappa_value)
    boundary, _ = _functions()
    width = kappa_value * tau0_value + 12.0

    def equation(value):
        return boundary(value, tau0_value, p_value, kappa_value)

    return brentq(equation, -width, width, xtol=1e-14, rtol=1e-14)


def limit_flip_rate(taus, p_value, kappa_value):
    """Return the ``d -> oo`` flip rate at each ``tau0`` in ``[0, 2]``."""
    _, flip = _functions()
    rates = []
    for tau in np.asarray(taus, dtype=float):
        if not 0.0 <= tau <= 2.0:
            raise ValueError(f"tau0 must lie in [0, 2], got {tau}")
        if tau > 1.0:
            rates.append(0.0)
            continue
        y = decision_boundary(tau, p_value, kappa_value)
        rates.append(float(flip(y, tau, p_value, kappa_value)))
    return np.array(rates)
