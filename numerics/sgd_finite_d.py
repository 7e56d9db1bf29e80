"""Compiled finite-``d`` variant of the phase-1 overlap ODEs.

The drifts come from :func:`flowphase.theory.sgd_finite_d.finite_d_rates`.
The right-hand side ``rhs(T, y, params)`` has

- ``y = (c, b, m, q, omega, r, v)`` (:data:`STATE_NAMES`);
- ``params = (kappa, tau, eta, p, sigma, epsilon, nodes..., weights...)``,
  built by :func:`finite_d_params`.

NOTE: like :mod:`flowphase.numerics.sgd_ode`, the right-hand side is a
closure over generated functions, so Numba compiles it in every process.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
import sympy as sp

from flowphase.numerics import expectations, sgd_ode
from flowphase.numerics.codegen import generate_function
from flowphase.numerics.integrate import RHS_SIGNATURE, ODESolution, dopri5
from flowphase.theory import gaussian, sgd, sgd_finite_d
from flowphase.theory.symbols import alpha, beta, epsilon, sigma

__all__ = [
    "STATE_NAMES",
    "PARAM_NAMES",
    "finite_d_params",
    "finite_d_rhs",
    "integrate_finite_d",
]

STATE_NAMES = sgd_finite_d.STATE_NAMES
PARAM_NAMES = ("kappa", "tau", "eta", "p", "sigma", "epsilon")

# The finite-d drifts use powers of tanh(a) up to 7.
_N_POWERS = 8
_MOMENTS = tuple((j, k) for j in (0, 1) for k in range(_N_POWERS))
_GAMMA = sp.Symbol("Gamma", positive=True)


@functools.lru_cache(maxsize=None)
def _generated():
    rates = sgd_finite_d.finite_d_rates()
    needed = set()
    for rate in rates.values():
        needed.update(gaussian.moment_indices(rate))
    missing = needed - set(_MOMENTS)
    if missing:
        raise ValueError(
            f"the finite-d drifts need moments {sorted(missing)} beyond k < {_N_POWERS}"
        )

    moment_symbols = [gaussian.moment_symbol(j, k) for j, k in _MOMENTS]
    drift = generate_function(
        "sgd_finite_d_drift",
        (*sgd_finite_d.STATES, alpha, beta, _GAMMA, sgd.lr, sigma, epsilon,
         *moment_symbols),
        [rates[name] for name in STATE_NAMES],
        doc="Finite-d overlap drifts of online SGD on phase 1 (t is tau).",
        output_names=[f"d{name}/dT" for name in STATE_NAMES],
    )
    slope, shift = sgd_finite_d.preactivation()
    shifts = [shift.subs(gaussian.s, sign) for sign in (1, -1)]
    preactivation = generate_function(
        "sgd_finite_d_preactivation",
        (*sgd.STATES, beta, _GAMMA, epsilon),
        [slope, *shifts],
        doc="Slope and mode shifts of the finite-d phase-1 pre-activation.",
        output_names=["slope", "shift_plus", "shift_minus"],
    )
    return drift.numba, preactivation.numba


def _build_rhs(drift, preactivation):
    moments_into = expectations.mode_moments

    @numba.njit
    def rhs(time, y, params):
        kappa_value, tau, eta, p = params[0], params[1], params[2], params[3]
        sigma_value, epsilon_value = params[4], params[5]
        n_nodes = (params.shape[0] - 6) // 2
        nodes = params[6 : 6 + n_nodes]
        weights = params[6 + n_nodes :]
        c, b, m, q, omega, r, v = y[0], y[1], y[2], y[3], y[4], y[5], y[6]
        beta_value = kappa_value * tau * epsilon_value
        alpha_value = 1.0 - beta_value
        gamma_value = alpha_value**2 + (sigma_value * beta_value) ** 2

        slope, shift_plus, shift_minus = preactivation(
            c, b, m, q, omega, r, beta_value, gamma_value, epsilon_value
        )
        mo = np.empty((2, 8))
        moments_into(slope, shift_plus, shift_minus, p, nodes, weights, mo)

        rates = drift(
            c, b, m, q, omega, r, v, alpha_value, beta_value, gamma_value, eta,
            sigma_value, epsilon_value,
            mo[0, 0], mo[0, 1], mo[0, 2], mo[0, 3], mo[0, 4], mo[0, 5], mo[0, 6], mo[0, 7],
            mo[1, 0], mo[1, 1], mo[1, 2], mo[1, 3], mo[1, 4], mo[1, 5], mo[1, 6], mo[1, 7],
        )
        dydt = np.empty(7)
        for index in range(7):
            dydt[index] = rates[index]
        return dydt

    rhs.compile(RHS_SIGNATURE)
    return rhs


@functools.lru_cache(maxsize=None)
def finite_d_rhs():
    """Return the njit ``rhs(T, y, params)`` of the finite-``d`` phase-1 ODEs."""
    return _build_rhs(*_generated())


def finite_d_params(
    kappa_value: float,
    tau: float,
    eta: float,
    p: float,
    sigma_value: float,
    d: int,
    *,
    max_slope: float = sgd_ode.DEFAULT_MAX_SLOPE,
    tolerance: float = sgd_ode.DEFAULT_TOLERANCE,
) -> np.ndarray:
    """Return ``params`` for :func:`finite_d_rhs` with a measured trapezoid rule."""
    if not d > kappa_value**2:
        raise ValueError(f"phase 1 needs d > kappa**2, got d={d!r}, kappa={kappa_value!r}")
    if not sigma_value > 0.0:
        raise ValueError(f"sigma must be > 0, got sigma={sigma_value!r}")
    head = sgd_ode.phase_one_params(
        kappa_value, tau, eta, p, max_slope=max_slope, tolerance=tolerance
    )
    extra = np.array([sigma_value, 1.0 / math.sqrt(d)])
    return np.concatenate([head[:4], extra, head[4:]])


def integrate_finite_d(
    y0, T_end: float, params: np.ndarray, *, rtol: float = 1e-8, atol: float = 1e-10
) -> ODESolution:
    """Integrate the finite-``d`` phase-1 ODEs from ``T = 0`` to ``T_end`` with DOPRI5.

    Raises ValueError when ``y0`` is not a valid state of :data:`STATE_NAMES`.
    """
    y0 = sgd_ode.check_state(y0, STATE_NAMES)
    return dopri5(finite_d_rhs(), 0.0, T_end, y0, params, rtol=rtol, atol=atol)
