"""Compiled overlap ODEs of online SGD on phase 1, their solutions and fixed points.

The drifts and the pre-activation come from
:func:`flowphase.theory.sgd.phase_one_dynamics` through
:func:`flowphase.numerics.codegen.generate_function`; the moments
``E[s^j tanh(a)^k]`` they need come from
:func:`flowphase.numerics.expectations.mode_moments`. The right-hand side
``rhs(T, y, params)`` has

- ``y = (c, b, m, q, omega, r)`` (:data:`STATE_NAMES`);
- ``params = (kappa, tau, eta, p, nodes..., weights...)``, with the
  quadrature rule appended by :func:`phase_one_params`.

NOTE: the right-hand side is a closure over generated functions, so Numba
compiles it in every process (a few seconds) instead of loading it from
its disk cache.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import numba
import numpy as np

from flowphase.numerics import expectations
from flowphase.numerics.codegen import generate_function
from flowphase.numerics.integrate import RHS_SIGNATURE, ODESolution, dopri5
from flowphase.theory import gaussian, sgd
from flowphase.theory.symbols import kappa, t

__all__ = [
    "STATE_NAMES",
    "PARAM_NAMES",
    "FixedPoint",
    "check_state",
    "fixed_point",
    "generated_functions",
    "integrate_phase_one",
    "optimum_phase_one",
    "phase_one_params",
    "phase_one_rhs",
]

logger = logging.getLogger(__name__)

STATE_NAMES = sgd.STATE_NAMES

#: Leading entries of ``params``, followed by the quadrature nodes and weights.
PARAM_NAMES = ("kappa", "tau", "eta", "p")

#: Default largest slope ``sqrt(r)`` at which the quadrature must be exact
#: to :data:`DEFAULT_TOLERANCE`.
DEFAULT_MAX_SLOPE = 3.0
DEFAULT_TOLERANCE = 1e-12

_MOMENTS = tuple(
    (j, k) for j in (0, 1) for k in range(expectations.MAX_POWER + 1)
)


@functools.lru_cache(maxsize=None)
def _generated():
    """Generate the drift and the pre-activation functions of phase 1."""
    dynamics = sgd.phase_one_dynamics()
    missing = set(dynamics.moments) - set(_MOMENTS)
    if missing:
        raise ValueError(
            f"the drifts need moments {sorted(missing)} beyond the powers "
            f"k <= {expectations.MAX_POWER} that the quadrature computes"
        )

    moment_symbols = [gaussian.moment_symbol(j, k) for j, k in _MOMENTS]
    drift = generate_function(
        "sgd_phase_one_drift",
        (*sgd.STATES, kappa, t, sgd.lr, *moment_symbols),
        [dynamics.rates[name] for name in STATE_NAMES],
        doc="Large-d overlap drifts of online SGD on phase 1 (t is tau).",
        output_names=[f"d{name}/dT" for name in STATE_NAMES],
    )
    shifts = [dynamics.shift.subs(gaussian.s, sign) for sign in (1, -1)]
    preactivation = generate_function(
        "sgd_phase_one_preactivation",
        (*sgd.STATES, kappa, t),
        [dynamics.slope, *shifts],
        doc="Slope and mode shifts of the phase-1 pre-activation a = slope*xi + shift.",
        output_names=["slope", "shift_plus", "shift_minus"],
    )
    return drift, preactivation


def _build_rhs(drift, preactivation):
    moments_into = expectations.mode_moments
    n_powers = expectations.MAX_POWER + 1

    @numba.njit
    def rhs(time, y, params):
        kappa_value, tau, eta, p = params[0], params[1], params[2], params[3]
        n_nodes = (params.shape[0] - 4) // 2
        nodes = params[4 : 4 + n_nodes]
        weights = params[4 + n_nodes :]
        c, b, m, q, omega, r = y[0], y[1], y[2], y[3], y[4], y[5]

        slope, shift_plus, shift_minus = preactivation(
            c, b, m, q, omega, r, kappa_value, tau
        )
        mo = np.empty((2, n_powers))
        moments_into(slope, shift_plus, shift_minus, p, nodes, weights, mo)

        rates = drift(
            c, b, m, q, omega, r, kappa_value, tau, eta,
            mo[0, 0], mo[0, 1], mo[0, 2], mo[0, 3], mo[0, 4], mo[0, 5], mo[0, 6],
            mo[1, 0], mo[1, 1], mo[1, 2], mo[1, 3], mo[1, 4], mo[1, 5], mo[1, 6],
        )
        dydt = np.empty(6)
        for index in range(6):
            dydt[index] = rates[index]
        return dydt

    rhs.compile(RHS_SIGNATURE)
    return rhs


@functools.lru_cache(maxsize=None)
def phase_one_rhs():
    """Return the njit ``rhs(T, y, params)`` of the phase-1 overlap ODEs."""
    drift, preactivation = _generated()
    return _build_rhs(drift.numba, preactivation.numba)


def generated_functions():
    """Return the generated ``(drift, preactivation)`` with their NumPy backends."""
    return _generated()


def phase_one_params(
    kappa_value: float,
    tau: float,
    eta: float,
    p: float,
    *,
    max_slope: float = DEFAULT_MAX_SLOPE,
    tolerance: float = DEFAULT_TOLERANCE,
    rule: str = "trapezoid",
) -> np.ndarray:
    """Return ``params`` for :func:`phase_one_rhs`, with a measured quadrature rule.

    The node count is the smallest whose measured error at
    ``slope = max_slope`` is below ``tolerance``.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got p={p!r}")
    if not eta >= 0.0:
        raise ValueError(f"eta must be >= 0, got eta={eta!r}")
    if not (kappa_value > 0.0 and 0.0 <= tau <= 1.0):
        raise ValueError(
            f"phase 1 needs kappa > 0 and tau in [0, 1], got kappa={kappa_value!r}, "
            f"tau={tau!r}"
        )
    n_nodes = _node_count(rule, float(max_slope), float(tolerance))
    nodes, weights = expectations.quadrature_rule(rule, n_nodes)
    head = np.array([kappa_value, tau, eta, p], dtype=float)
    return np.concatenate([head, nodes, weights])


@functools.lru_cache(maxsize=None)
def _node_count(rule, max_slope, tolerance):
    return expectations.node_count(rule, max_slope, tolerance)


def optimum_phase_one(kappa_value: float, tau: float, p: float) -> np.ndarray:
    """Return the large-``d`` phase-1 optimum ``(0, l, 1, 1, kappa tau, (kappa tau)^2)``."""
    log_odds = math.atanh(2.0 * p - 1.0)
    kt = kappa_value * tau
    return np.array([0.0, log_odds, 1.0, 1.0, kt, kt * kt])


def integrate_phase_one(
    y0,
    T_end: float,
    params: np.ndarray,
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_slope: float = DEFAULT_MAX_SLOPE,
) -> ODESolution:
    """Integrate the phase-1 overlap ODEs from ``T = 0`` to ``T_end`` with DOPRI5.

    Logs a warning when ``sqrt(r)`` exceeds ``max_slope``, the slope at
    which the quadrature rule in ``params`` was measured. Raises ValueError
    when ``y0`` is not a valid state (see :func:`check_state`).
    """
    y0 = check_state(y0)
    solution = dopri5(phase_one_rhs(), 0.0, T_end, y0, params, rtol=rtol, atol=atol)
    reached = float(np.sqrt(np.max(np.abs(solution.y[:, 5]))))
    if reached > max_slope:
        logger.warning(
            "sqrt(r) reached %.3g, above the slope %.3g at which the quadrature "
            "error was measured. Build params with a larger max_slope.",
            reached,
            max_slope,
        )
    return solution


def check_state(y0, names=STATE_NAMES) -> np.ndarray:
    """Return ``y0`` as a float array, or raise ValueError unless it is a valid state.

    A state lists ``names`` (at least ``c, b, m, q, omega, r``), is finite,
    and has ``r > 0``, ``q >= m^2`` and ``r >= omega^2``, as the overlaps of
    vectors with ``|mu|^2 = d`` must.
    """
    y = np.array(y0, dtype=float)
    if y.shape != (len(names),):
        raise ValueError(f"a state needs {len(names)} entries ({', '.join(names)}), "
                         f"got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError(f"a state must be finite, got {y.tolist()}")
    m, q, omega, r = y[2], y[3], y[4], y[5]
    # A relative slack lets q = m^2 given in decimal pass despite rounding.
    if not (r > 0.0 and q >= m * m * (1 - 1e-12) and r >= omega * omega * (1 - 1e-12)):
        raise ValueError(
            f"a state needs r > 0, q >= m^2 and r >= omega^2, got m={m}, q={q}, "
            f"omega={omega}, r={r}"
        )
    return y


@dataclass(frozen=True)
class FixedPoint:
    """Result of :func:`fixed_point`.

    ``state`` is ordered as :data:`STATE_NAMES`; ``eigenvalues`` are those
    of the Jacobian of the drift at ``state``; ``stable`` is true when all
    have negative real part.
    """

    state: np.ndarray
    residual: float
    eigenvalues: np.ndarray
    iterations: int
    converged: bool
    message: str

    @property
    def stable(self) -> bool:
        return bool(np.all(self.eigenvalues.real < 0.0))


def _jacobian(rhs, y, params, step=1e-6):
    """Return the central-difference Jacobian of ``rhs(0, y, params)``."""
    size = y.shape[0]
    jacobian = np.empty((size, size))
    for column in range(size):
        h = step * max(1.0, abs(y[column]))
        plus = y.copy()
        minus = y.copy()
        plus[column] += h
        minus[column] -= h
        jacobian[:, column] = (rhs(0.0, plus, params) - rhs(0.0, minus, params)) / (2 * h)
    return jacobian


def _damped_step(rhs, y, params, drift, residual, max_halvings=30):
    """Return the Newton step, halved until the drift is finite and smaller.

    The halving keeps ``r`` positive, where ``sqrt(r)`` is defined.
    """
    try:
        step = np.linalg.solve(_jacobian(rhs, y, params), drift)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"the Jacobian of the phase-1 drift is singular at {np.round(y, 6).tolist()}, "
            "so Newton's method cannot continue. This happens where tanh saturates "
            "(b far from 0, as for p near 0 or 1); start closer to the fixed point"
        ) from None
    for _ in range(max_halvings):
        candidate = y - step
        if candidate[5] > 0.0:
            new_drift = rhs(0.0, candidate, params)
            if np.all(np.isfinite(new_drift)) and np.max(np.abs(new_drift)) < residual:
                return candidate
        step = step / 2
    return y - step


def fixed_point(
    y_guess, params: np.ndarray, *, tolerance: float = 1e-13, max_iterations: int = 50
) -> FixedPoint:
    """Solve ``drift(y) = 0`` by damped Newton iterations from ``y_guess``.

    The Jacobian is a central difference of the compiled drift. Stops when
    the largest drift component is below ``tolerance``.
    """
    rhs = phase_one_rhs()
    y = np.array(y_guess, dtype=float)
    residual = math.inf
    for iteration in range(1, max_iterations + 1):
        drift = rhs(0.0, y, params)
        residual = float(np.max(np.abs(drift)))
        if residual < tolerance:
            break
        y = _damped_step(rhs, y, params, drift, residual)
    else:
        iteration = max_iterations

    return fixed_point_result(rhs, y, params, residual, iteration,
                              max_iterations, tolerance)


def fixed_point_result(rhs, y, params, residual, iteration, max_iterations,
                       tolerance) -> FixedPoint:
    """Package the end state of a Newton solve, with the Jacobian eigenvalues."""
    converged = residual < tolerance
    message = (
        f"converged to max |drift| = {residual:.2e} in {iteration} iterations"
        if converged
        else f"no convergence after {max_iterations} iterations, max |drift| = "
        f"{residual:.2e}. Start closer to the fixed point."
    )
    return FixedPoint(
        state=y,
        residual=residual,
        eigenvalues=np.linalg.eigvals(_jacobian(rhs, y, params)),
        iterations=iteration,
        converged=converged,
        message=message,
    )
