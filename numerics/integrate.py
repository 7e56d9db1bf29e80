"""Numba ODE integrators for right-hand sides ``f(t, y, params) -> dydt``.

``f`` is an ``numba.njit`` function, for example ``GeneratedRHS.numba``
from :mod:`flowphase.numerics.codegen`, that compiles for
:data:`RHS_SIGNATURE`: float ``t``, C-contiguous float64 arrays ``y`` and
``params``, and a new C-contiguous float64 array as result.

The integrators take ``f`` as a first-class function of that signature
(``numba.types.FunctionType``) and call it through a pointer. So Numba
compiles each integrator once, and ``cache=True`` keeps that code between
processes. Typing ``f`` as a plain dispatcher argument instead would
compile one specialization per right-hand side. With Numba 0.68.1 such
code misses the disk cache in every new process and adds a cache file each
time.

- :func:`rk4`: fixed-step classical Runge-Kutta of order 4.
- :func:`dopri5`: adaptive Dormand-Prince 5(4) with dense output, returning
  an :class:`ODESolution`.
- :func:`dopri5_final` and :func:`transport_many`: njit functions that
  return only final states, callable from other njit code.

Notation is the usual Butcher notation: stages ``k_i``, nodes ``c_i``,
matrix ``a_ij``, weights ``b_i`` (order 5) and ``b_hat_i`` (order 4), step
``h``. tests/test_integrate.py checks the tableau and the dense-output
weights against the Runge-Kutta order conditions.

NOTE: importing this module compiles the integrators for
:data:`RHS_SIGNATURE`. That took about 30 s on a 2-core VM the first time,
and later imports load the code from Numba's cache in about 1 s.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import types
from numba.core.errors import NumbaError
from numba.extending import is_jitted

__all__ = [
    "ODESolution",
    "RHS_SIGNATURE",
    "STATUS_MAX_STEPS",
    "STATUS_STEP_UNDERFLOW",
    "STATUS_SUCCESS",
    "dense_eval",
    "dopri5",
    "dopri5_final",
    "rk4",
    "transport_many",
]

_F64 = types.float64
_VECTOR = _F64[::1]

#: Signature that every right-hand side must compile for.
RHS_SIGNATURE = _VECTOR(_F64, _VECTOR, _VECTOR)
_RHS_TYPE = types.FunctionType(RHS_SIGNATURE)
DEFAULT_MAX_STEPS = 100000

STATUS_SUCCESS = 0
STATUS_MAX_STEPS = -1
STATUS_STEP_UNDERFLOW = -2

STATUS_MESSAGES = {
    STATUS_SUCCESS: "The solver reached the end of the interval.",
    STATUS_MAX_STEPS: (
        "The solver stopped after max_steps steps before reaching t1. "
        "Increase max_steps or loosen rtol and atol."
    ),
    STATUS_STEP_UNDERFLOW: (
        "The step size fell below the floating-point resolution of t. The "
        "problem may be stiff or singular, or produce non-finite values."
    ),
}

# Step-size controller: h_new = h * clip(SAFETY * err**(-1/5)), because the
# embedded 4th-order estimate has local error O(h**5).
SAFETY = 0.9
MIN_FACTOR = 0.2
MAX_FACTOR = 10.0
ERROR_EXPONENT = -1.0 / 5.0

# Dormand-Prince 5(4) tableau:
#
#   0    |
#   1/5  | 1/5
#   3/10 | 3/40        9/40
#   4/5  | 44/45      -56/15      32/9
#   8/9  | 19372/6561 -25360/2187 64448/6561 -212/729
#   1    | 9017/3168  -355/33     46732/5247  49/176  -5103/18656
#   1    | 35/384      0          500/1113    125/192 -2187/6784  11/84
#   -----+-------------------------------------------------------------------
#   b    | 35/384      0          500/1113    125/192 -2187/6784  11/84   0
#   b_hat| 5179/57600  0          7571/16695  393/640 -92097/339200
#        |                                            187/2100    1/40
#
# Row 7 equals b, so k7 = f(t + h, y_new) is the next step's k1 (FSAL).
C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
A = np.zeros((7, 7))
A[1, :1] = [1 / 5]
A[2, :2] = [3 / 40, 9 / 40]
A[3, :3] = [44 / 45, -56 / 15, 32 / 9]
A[4, :4] = [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729]
A[5, :5] = [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]
A[6, :6] = [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]
B = A[6].copy()
B_HAT = np.array(
    [5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200,
     187 / 2100, 1 / 40]
)
# Local error estimate y_new - y_hat = h * sum_i E_i k_i.
E = B - B_HAT

# Weights of the standard 4th-order continuous extension of DOPRI5. On a
# step from t with size h, theta = (t_query - t) / h, and
#   y(t_query) = r0 + theta*(r1 + (1-theta)*(r2 + theta*(r3 + (1-theta)*r4)))
# with r0 = y, r1 = y_new - y, r2 = h*k1 - r1, r3 = r1 - h*k7 - r2,
# r4 = h * sum_i D_i k_i.
D = np.array(
    [-12715105075 / 11282082432, 0.0, 87487479700 / 32700410799,
     -10690763975 / 1880347072, 701980252875 / 199316789632,
     -1453857185 / 822651844, 69997945 / 29380423]
)
N_DENSE = 5


@dataclass(frozen=True)
class ODESolution:
    """Result of :func:`dopri5`.

    ``t`` has the accepted times (``t[0] = t0``), ``y[i]`` the state at
    ``t[i]``, and ``dense[i]`` the five coefficient vectors of the
    continuous extension on ``[t[i], t[i+1]]``. Calling the solution
    evaluates that extension. ``status`` is 0 on success, -1 when
    ``max_steps`` was reached, -2 when the step size underflowed. On
    failure ``t[-1] < t1`` and the solution covers ``[t0, t[-1]]`` only.
    """

    t: np.ndarray
    y: np.ndarray
    dense: np.ndarray = field(repr=False)
    status: int
    message: str
    nfev: int
    n_accepted: int
    n_rejected: int
    rtol: float
    atol: float

    @property
    def success(self) -> bool:
        return self.status == STATUS_SUCCESS

    def __call__(self, t_query):
        return dense_eval(self, t_query)


# Shared checks ------------------------------------------------------------


def _check_rhs(f):
    """Return the njit function behind ``f``, compiled for RHS_SIGNATURE.

    Accepts a ``GeneratedRHS`` through its ``numba`` attribute. Raises
    TypeError when ``f`` is not an njit function or does not compile for
    the signature.
    """
    f = getattr(f, "numba", f)
    if not is_jitted(f):
        raise TypeError(
            f"f must be a numba.njit function f(t, y, params) -> dydt, got "
            f"{f!r}. Decorate it with numba.njit or build it with "
            "flowphase.numerics.codegen.generate_rhs."
        )
    if RHS_SIGNATURE.args in f.overloads:
        return f
    try:
        f.compile(RHS_SIGNATURE)
    except (TypeError, NumbaError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise TypeError(
            f"f does not compile for the signature {RHS_SIGNATURE}: "
            f"{first_line}. Return a new C-contiguous float64 array, for "
            "example by building it with numpy.empty."
        ) from error
    return f


def _check_interval(t0, t1):
    for label, value in (("t0", t0), ("t1", t1)):
        if not math.isfinite(value):
            raise ValueError(f"{label} must be finite, got {value}.")
    if not t1 > t0:
        raise ValueError(
            f"t1 must be greater than t0, got t0={t0}, t1={t1}. Integration "
            "backward in time is not supported."
        )
    return float(t0), float(t1)


def _check_vector(label, values, allow_empty=False):
    array = np.array(values, dtype=np.float64, ndmin=1)
    if array.ndim != 1:
        raise ValueError(f"{label} must be 1-D, got shape {array.shape}.")
    if array.size == 0 and not allow_empty:
        raise ValueError(f"{label} is empty. Give at least one value.")

    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        index = bad[0]
        raise ValueError(
            f"{label}[{index}] must be finite, got {array[index]}."
        )
    return array


# Classical RK4 ------------------------------------------------------------


def rk4(f, t0, t1, y0, params, n_steps):
    """Integrate ``dy/dt = f(t, y, params)`` with ``n_steps`` RK4 steps.

    Returns ``(ts, ys)`` with ``ts`` of shape ``(n_steps + 1,)`` equally
    spaced from ``t0`` to ``t1`` and ``ys`` of shape ``(n_steps + 1, n)``.
    """
    f = _check_rhs(f)
    t0, t1 = _check_interval(t0, t1)
    y0 = _check_vector("y0", y0)
    params = _check_vector("params", params, allow_empty=True)
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps}.")
    return _rk4_core(f, t0, t1, y0, params, int(n_steps))


@numba.njit((_RHS_TYPE, _F64, _F64, _VECTOR, _VECTOR, types.int64), cache=True)
def _rk4_core(f, t0, t1, y0, params, n_steps):
    n = y0.shape[0]
    h = (t1 - t0) / n_steps
    ts = np.empty(n_steps + 1)
    ys = np.empty((n_steps + 1, n))
    ts[0] = t0
    ys[0] = y0

    for step in range(n_steps):
        # Times as t0 + step * h avoid accumulating rounding in ts.
        t = t0 + step * h
        y = ys[step]
        k1 = f(t, y, params)
        k2 = f(t + 0.5 * h, y + 0.5 * h * k1, params)
        k3 = f(t + 0.5 * h, y + 0.5 * h * k2, params)
        k4 = f(t + h, y + h * k3, params)

        ys[step + 1] = y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        ts[step + 1] = t0 + (step + 1) * h

    ts[n_steps] = t1
    return ts, ys


# Dormand-Prince 5(4): one step and step-size control ----------------------


# error_model="numpy" makes a division by a zero scale (atol = 0 and a zero
# component) give inf or NaN, so the step is rejected instead of raising
# ZeroDivisionError inside Numba.
@numba.njit(cache=True, error_model="numpy")
def _error_norm(error, y, y_new, rtol, atol):
    """Return the RMS of ``error`` scaled by atol + rtol*max(|y|, |y_new|)."""
    total = 0.0
    for i in range(error.shape[0]):
        scale = atol + rtol * max(abs(y[i]), abs(y_new[i]))
        total += (error[i] / scale) ** 2
    return math.sqrt(total / error.shape[0])


@numba.njit(cache=True)
def _dopri5_step(f, t, y, h, params, k, y_stage, y_new, error):
    """Take one DOPRI5 step of size ``h`` from ``(t, y)``.

    ``k[0]`` must contain ``f(t, y)`` on entry. On return ``k[1:]`` contain
    the other stages, ``k[6] = f(t + h, y_new)``, ``y_new`` the 5th-order
    solution and ``error`` the local error estimate. Makes 6 calls of f.
    """
    n = y.shape[0]
    for stage in range(1, 7):
        for i in range(n):
            increment = 0.0
            for j in range(stage):
                increment += A[stage, j] * k[j, i]
            y_stage[i] = y[i] + h * increment
        k[stage] = f(t + C[stage] * h, y_stage, params)

    # Row 7 of A is B, so the last stage point is the 5th-order solution.
    y_new[:] = y_stage
    for i in range(n):
        estimate = 0.0
        for j in range(7):
            estimate += E[j] * k[j, i]
        error[i] = h * estimate


@numba.njit(cache=True)
def _next_step_factor(error_norm, rejected):
    """Return h_new / h for the scaled error norm of the last step."""
    if not math.isfinite(error_norm):
        return MIN_FACTOR
    if error_norm == 0.0:
        factor = MAX_FACTOR
    else:
        factor = SAFETY * error_norm**ERROR_EXPONENT
    factor = min(MAX_FACTOR, max(MIN_FACTOR, factor))

    # A step right after a rejection may not grow, which avoids repeated
    # rejections when the error estimate is erratic.
    if rejected:
        factor = min(1.0, factor)
    return factor


@numba.njit(cache=True, error_model="numpy")
def _initial_step(f, t0, y0, f0, params, rtol, atol, t_span):
    """Return a starting step size.

    Two guesses, with norms scaled by atol + rtol*|y0|: ``h0`` makes an
    Euler step change ``y`` by about 1%, and ``h1`` makes
    ``h1**5 * max(|f|, |f'|)`` equal to 0.01, with ``f'`` estimated by a
    difference quotient over ``h0``. Returns the smallest of ``100 * h0``,
    ``h1`` and ``t_span``. Makes one call of f.
    """
    n = y0.shape[0]
    scale = atol + rtol * np.abs(y0)
    d0 = math.sqrt(np.sum((y0 / scale) ** 2) / n)
    d1 = math.sqrt(np.sum((f0 / scale) ** 2) / n)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    h0 = min(h0, t_span)

    f1 = f(t0 + h0, y0 + h0 * f0, params)
    d2 = math.sqrt(np.sum(((f1 - f0) / scale) ** 2) / n) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / 5.0)
    h = min(100.0 * h0, h1, t_span)

    # NaN from a zero scale (atol = 0 and y0_i = 0) compares false here.
    if not h > 0.0:
        h = 1e-6 * t_span
    return h


@numba.njit(cache=True)
def _step_too_small(t, h):
    """Return whether ``t + h`` is within 10 float64 spacings of ``t``.

    A NaN ``h`` also counts as too small.
    """
    return not h > 10.0 * abs(np.nextafter(t, np.inf) - t)


@numba.njit(cache=True)
def _dense_coefficients(y, y_new, k, h, out):
    """Store the continuous-extension vectors r0..r4 of one step in ``out``.

    ``out`` has length ``5 * n`` and receives r0, r1, ..., r4 in order.
    """
    n = y.shape[0]
    for i in range(n):
        difference = y_new[i] - y[i]
        slope_gap = h * k[0, i] - difference
        weighted = 0.0
        for j in range(7):
            weighted += D[j] * k[j, i]

        out[i] = y[i]
        out[n + i] = difference
        out[2 * n + i] = slope_gap
        out[3 * n + i] = difference - h * k[6, i] - slope_gap
        out[4 * n + i] = h * weighted


@numba.njit(cache=True)
def _grow_vector(vector, capacity):
    """Return a copy of ``vector`` with length ``capacity``, entries kept."""
    grown = np.empty(capacity)
    grown[: vector.shape[0]] = vector
    return grown


@numba.njit(cache=True)
def _grow_matrix(matrix, capacity):
    """Return a copy of ``matrix`` with ``capacity`` rows, rows kept."""
    grown = np.empty((capacity, matrix.shape[1]))
    grown[: matrix.shape[0]] = matrix
    return grown


# Dormand-Prince 5(4): driver ------------------------------------------------


_LOOP_ARGS = (
    _RHS_TYPE, _F64, _F64, _VECTOR, _VECTOR,
    _F64, _F64, _F64, types.int64, types.boolean,
)


@numba.njit(_LOOP_ARGS, cache=True)
def _dopri5_loop(
    f, t0, t1, y0, params, rtol, atol, first_step, max_steps, record
):
    """Integrate from t0 to t1 and return the trajectory and counters.

    Returns ``(ts, ys, dense, y_final, status, nfev, n_accepted,
    n_rejected)``. With ``record`` false, ``ts``, ``ys`` and ``dense``
    contain only the initial point, which saves the storage in loops over
    many initial conditions. ``max_steps`` counts accepted and rejected
    steps.
    """
    n = y0.shape[0]
    capacity = 64 if record else 1
    ts = np.empty(capacity)
    ys = np.empty((capacity, n))
    # Row i of dense contains the vectors r0..r4 of step i, one after another.
    dense = np.empty((capacity, N_DENSE * n))
    ts[0] = t0
    ys[0] = y0

    k = np.empty((7, n))
    y_stage = np.empty(n)
    y_new = np.empty(n)
    error = np.empty(n)
    y = y0.copy()
    t = t0
    k[0] = f(t, y, params)
    nfev = 1

    h = first_step
    if h <= 0.0:
        h = _initial_step(f, t0, y, k[0], params, rtol, atol, t1 - t0)
        nfev += 1

    n_accepted = 0
    n_rejected = 0
    status = STATUS_SUCCESS
    rejected = False
    while t < t1:
        if n_accepted + n_rejected >= max_steps:
            status = STATUS_MAX_STEPS
            break
        if _step_too_small(t, h):
            status = STATUS_STEP_UNDERFLOW
            break

        # Stretch a step that would stop just short of t1 (up to 1%), so
        # no sliver of a step is left over.
        last = t + 1.01 * h >= t1
        h_step = t1 - t if last else h
        _dopri5_step(f, t, y, h_step, params, k, y_stage, y_new, error)
        nfev += 6

        error_norm = _error_norm(error, y, y_new, rtol, atol)
        factor = _next_step_factor(error_norm, rejected)
        # A NaN error norm compares false, so the step is rejected.
        accepted = error_norm <= 1.0
        if accepted:
            if record:
                if n_accepted + 1 >= ts.shape[0]:
                    capacity = 2 * ts.shape[0]
                    ts = _grow_vector(ts, capacity)
                    ys = _grow_matrix(ys, capacity)
                    dense = _grow_matrix(dense, capacity)
                _dense_coefficients(y, y_new, k, h_step, dense[n_accepted])
                ts[n_accepted + 1] = t1 if last else t + h_step
                ys[n_accepted + 1] = y_new

            t = t1 if last else t + h_step
            y[:] = y_new
            k[0] = k[6]
            n_accepted += 1
        else:
            n_rejected += 1

        rejected = not accepted
        h = h_step * factor

    stored = n_accepted + 1 if record else 1
    return (
        ts[:stored],
        ys[:stored],
        dense[: stored - 1].reshape((stored - 1, N_DENSE, n)),
        y,
        status,
        nfev,
        n_accepted,
        n_rejected,
    )


def dopri5(
    f,
    t0,
    t1,
    y0,
    params,
    rtol=1e-8,
    atol=1e-10,
    first_step=0.0,
    max_steps=DEFAULT_MAX_STEPS,
) -> ODESolution:
    """Integrate ``dy/dt = f(t, y, params)`` from t0 to t1 with DOPRI5.

    A step is accepted when the RMS over components of
    ``error_i / (atol + rtol * max(|y_i|, |y_new_i|))`` is at most 1.
    ``first_step = 0`` selects the first step automatically. ``max_steps``
    counts accepted and rejected steps. A failure is reported through
    ``status`` and ``message`` of the result, not raised.

    Raises ValueError for non-finite ``t0``, ``t1``, ``y0`` or ``params``,
    for ``t1 <= t0``, and for invalid tolerances, ``first_step`` or
    ``max_steps``. Raises TypeError unless ``f`` is an njit function or has
    one as its ``numba`` attribute.
    """
    f = _check_rhs(f)
    t0, t1 = _check_interval(t0, t1)
    y0 = _check_vector("y0", y0)
    params = _check_vector("params", params, allow_empty=True)
    rtol, atol = _check_tolerances(rtol, atol)
    first_step = _check_first_step(first_step, t1 - t0)
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps}.")

    ts, ys, dense, _, status, nfev, n_accepted, n_rejected = _dopri5_loop(
        f, t0, t1, y0, params, rtol, atol, first_step, int(max_steps), True
    )
    return ODESolution(
        t=ts,
        y=ys,
        dense=dense,
        status=int(status),
        message=STATUS_MESSAGES[int(status)],
        nfev=int(nfev),
        n_accepted=int(n_accepted),
        n_rejected=int(n_rejected),
        rtol=rtol,
        atol=atol,
    )


def _check_tolerances(rtol, atol):
    if not (math.isfinite(rtol) and rtol > 0.0):
        raise ValueError(f"rtol must be positive and finite, got {rtol}.")
    if not (math.isfinite(atol) and atol >= 0.0):
        raise ValueError(f"atol must be non-negative and finite, got {atol}.")

    # Below about 100 ulp the error estimate is rounding noise and the
    # controller shrinks h until it underflows.
    min_rtol = 100.0 * np.finfo(np.float64).eps
    if rtol < min_rtol:
        warnings.warn(
            f"rtol={rtol} is below 100 * machine epsilon; using rtol={min_rtol}.",
            stacklevel=3,
        )
        rtol = min_rtol
    return float(rtol), float(atol)


def _check_first_step(first_step, t_span):
    if not (math.isfinite(first_step) and 0.0 <= first_step <= t_span):
        raise ValueError(
            f"first_step must be 0 (automatic) or in (0, t1 - t0] = "
            f"(0, {t_span}], got {first_step}."
        )
    return float(first_step)


# Dense output -------------------------------------------------------------


def dense_eval(solution: ODESolution, t_query):
    """Evaluate the continuous extension of ``solution`` at ``t_query``.

    A scalar ``t_query`` gives an array of shape ``(n,)``, an array of
    shape ``(m,)`` gives ``(m, n)``. Accurate to about the tolerance of
    the solve (4th-order interpolation between accepted steps).

    Raises ValueError for a query outside ``[t[0], t[-1]]``.
    """
    queries = np.asarray(t_query, dtype=np.float64)
    if queries.ndim > 1:
        raise ValueError(f"t_query must be a scalar or 1-D, got shape {queries.shape}.")

    flat = np.atleast_1d(queries)
    t_first, t_last = solution.t[0], solution.t[-1]
    outside = np.flatnonzero(~((flat >= t_first) & (flat <= t_last)))
    if outside.size:
        raise ValueError(
            f"t_query value {flat[outside[0]]} is outside the solved interval "
            f"[{t_first}, {t_last}]."
        )

    if solution.t.shape[0] == 1:
        values = np.repeat(solution.y[:1], flat.shape[0], axis=0)
    else:
        values = _dense_eval_core(solution.t, solution.dense, flat)
    return values[0] if queries.ndim == 0 else values


@numba.njit(cache=True)
def _dense_eval_core(ts, dense, queries):
    n_steps = ts.shape[0] - 1
    values = np.empty((queries.shape[0], dense.shape[2]))
    for q in range(queries.shape[0]):
        step = np.searchsorted(ts, queries[q], side="right") - 1
        step = min(max(step, 0), n_steps - 1)

        theta = (queries[q] - ts[step]) / (ts[step + 1] - ts[step])
        remainder = 1.0 - theta
        r = dense[step]
        values[q] = r[0] + theta * (
            r[1] + remainder * (r[2] + theta * (r[3] + remainder * r[4]))
        )
    return values


# Final states only, for njit callers ----------------------------------------


def _final_signatures(states_type):
    """Return njit signatures with and without the ``max_steps`` argument."""
    leading = (_RHS_TYPE, _F64, _F64, states_type, _VECTOR, _F64, _F64)
    return [
        (*leading, types.int64),
        (*leading, types.Omitted(DEFAULT_MAX_STEPS)),
    ]


@numba.njit(_final_signatures(_VECTOR), cache=True)
def dopri5_final(
    f, t0, t1, y0, params, rtol, atol, max_steps=DEFAULT_MAX_STEPS
):
    """Return ``(y(t1), status)`` by DOPRI5, without storing the trajectory.

    The njit counterpart of :func:`dopri5` for use inside other njit code,
    with the automatic first step. It does not validate its inputs, and
    ``y0`` and ``params`` must be C-contiguous float64 arrays. ``status``
    uses the codes of :class:`ODESolution`, and on failure ``y`` is the
    last accepted state.

    A call from Python has about 0.1 ms of dispatch overhead for the
    function argument (measured on a 2-core VM), so integrate many initial
    points with :func:`transport_many` or in a loop inside njit code.
    """
    result = _dopri5_loop(
        f, t0, t1, y0, params, rtol, atol, 0.0, max_steps, False
    )
    return result[3], result[4]


@numba.njit(cache=True)
def _transport_row(f, t0, t1, y0, params, rtol, atol, max_steps):
    """Return the state at t1, or NaNs if the integration failed."""
    y_final, status = dopri5_final(
        f, t0, t1, y0.copy(), params, rtol, atol, max_steps
    )
    if status != STATUS_SUCCESS:
        y_final[:] = np.nan
    return y_final


# Below this many rows transport_many runs serially, because a parallel
# launch can cost more than the rows it shares out. On a loaded 2-core VM a
# row of a scalar ODE took about 10 microseconds and a parallel launch about
# 7 ms. The value 64 is an estimate, not tuned.
SERIAL_ROWS = 64


@numba.njit(_final_signatures(_F64[:, ::1])[0], cache=True, parallel=True)
def _transport_rows(f, t0, t1, y0s, params, rtol, atol, max_steps):
    finals = np.empty_like(y0s)
    if y0s.shape[0] < SERIAL_ROWS:
        for row in range(y0s.shape[0]):
            finals[row] = _transport_row(
                f, t0, t1, y0s[row], params, rtol, atol, max_steps
            )
    else:
        for row in numba.prange(y0s.shape[0]):
            finals[row] = _transport_row(
                f, t0, t1, y0s[row], params, rtol, atol, max_steps
            )
    return finals


@numba.njit(_final_signatures(_F64[:, ::1]), cache=True)
def transport_many(
    f, t0, t1, y0s, params, rtol, atol, max_steps=DEFAULT_MAX_STEPS
):
    """Return the states at t1 of the rows of ``y0s`` (shape ``(m, n)``).

    Integrates each row with :func:`dopri5_final`, in parallel over rows
    on Numba's threads. A row whose integration fails is set to NaN, so
    call :func:`dopri5` on that row to get the status and message.
    """
    return _transport_rows(f, t0, t1, y0s, params, rtol, atol, max_steps)
