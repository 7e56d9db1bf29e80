"""Compiled reduced overlap ODEs of online SGD on phase 2, and their fixed points.

The drifts of ``(c, m, q)`` come from
:func:`flowphase.theory.sgd_phase_two.phase_two_dynamics` through
:func:`flowphase.numerics.codegen.generate_rhs`, with
``params = (beta, Gamma, sigma)``. :func:`phase_two_params` fills them
either with their ``d -> oo`` values ``beta = t``,
``Gamma = (1 - t)^2 + sigma^2 t^2`` or with the exact values of the
dilated schedule at a finite ``d`` (the finite-``d`` variant).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from flowphase.numerics.codegen import generate_rhs
from flowphase.numerics.integrate import ODESolution, dopri5
from flowphase.numerics.sgd_ode import FixedPoint, _jacobian, fixed_point_result
from flowphase.theory import sgd_phase_two
from flowphase.theory.symbols import beta, sigma

__all__ = [
    "STATE_NAMES",
    "PARAM_NAMES",
    "phase_two_coefficients",
    "phase_two_params",
    "phase_two_rhs",
    "integrate_phase_two",
    "optimum_phase_two",
    "fixed_point_phase_two",
]

STATE_NAMES = sgd_phase_two.STATE_NAMES
PARAM_NAMES = ("beta", "Gamma", "sigma")

_TRAINING_TIME = sp.Symbol("T", real=True)


@functools.lru_cache(maxsize=None)
def phase_two_rhs():
    """Return the generated ``rhs(T, (c, m, q), (beta, Gamma, sigma))``."""
    dynamics = sgd_phase_two.phase_two_dynamics()
    return generate_rhs(
        "sgd_phase_two_drift",
        _TRAINING_TIME,
        sgd_phase_two.STATES,
        (beta, sgd_phase_two.gamma, sigma),
        [dynamics.rates[name] for name in STATE_NAMES],
        doc="Saturated phase-2 overlap drifts of online SGD (w frozen).",
    )


def phase_two_coefficients(
    kappa_value: float, t: float, sigma_value: float, d: int | None = None
) -> tuple[float, float]:
    """Return ``(beta, Gamma)`` of phase 2 at local time ``t = tau - 1``.

    ``d=None`` gives the ``d -> oo`` values; an integer ``d`` gives the
    dilated schedule's ``beta = s + (1 - s) t``, ``alpha = (1 - s)(1 - t)``
    with ``s = kappa/sqrt(d)``.
    """
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"phase 2 needs t = tau - 1 in [0, 1], got t={t!r}")
    if not sigma_value > 0.0:
        raise ValueError(f"sigma must be > 0, got sigma={sigma_value!r}")
    shift = 0.0
    if d is not None:
        if not (kappa_value > 0.0 and d > kappa_value**2):
            raise ValueError(
                f"the dilated schedule needs kappa > 0 and d > kappa**2, got "
                f"kappa={kappa_value!r}, d={d!r}"
            )
        shift = kappa_value / math.sqrt(d)
    beta_value = shift + (1.0 - shift) * t
    alpha_value = (1.0 - shift) * (1.0 - t)
    return beta_value, alpha_value**2 + sigma_value**2 * beta_value**2


def phase_two_params(
    kappa_value: float, t: float, sigma_value: float, d: int | None = None
) -> np.ndarray:
    """Return ``params = (beta, Gamma, sigma)`` for :func:`phase_two_rhs`."""
    beta_value, gamma_value = phase_two_coefficients(kappa_value, t, sigma_value, d)
    return np.array([beta_value, gamma_value, sigma_value])


def optimum_phase_two(params: np.ndarray) -> np.ndarray:
    """Return the optimum ``c = sigma^2 beta/Gamma``, ``m = 1 - c beta``, ``q = m^2``."""
    beta_value, gamma_value, sigma_value = params
    c = sigma_value**2 * beta_value / gamma_value
    m = 1.0 - c * beta_value
    return np.array([c, m, m * m])


def integrate_phase_two(
    y0, T_end: float, params: np.ndarray, *, rtol: float = 1e-8, atol: float = 1e-10
) -> ODESolution:
    """Integrate the reduced phase-2 ODEs from ``T = 0`` to ``T_end`` with DOPRI5."""
    return dopri5(phase_two_rhs(), 0.0, T_end, y0, params, rtol=rtol, atol=atol)


def fixed_point_phase_two(
    y_guess, params: np.ndarray, *, tolerance: float = 1e-13, max_iterations: int = 20
) -> FixedPoint:
    """Solve ``drift(c, m, q) = 0`` by Newton iterations from ``y_guess``.

    The drifts are polynomial, so undamped steps with a central-difference
    Jacobian converge in a few iterations.
    """
    rhs = phase_two_rhs().numba
    y = np.array(y_guess, dtype=float)
    residual = math.inf
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        drift = rhs(0.0, y, params)
        residual = float(np.max(np.abs(drift)))
        if residual < tolerance:
            break
        y = y - np.linalg.solve(_jacobian(rhs, y, params), drift)

    return fixed_point_result(rhs, y, params, residual, iteration,
                              max_iterations, tolerance)
