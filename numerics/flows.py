"""Compiled right-hand sides of the generative summary flows.

The expressions come from ``flowphase.theory.flow``; nothing here is typed
by hand. Three flows:

- ``phase_one_limit``: ``dy/dtau = kappa tanh(kappa tau y + l)``, the
  ``d -> oo`` flow of ``y = mu.X/sqrt(d)`` on phase 1 of the dilated
  schedule; states ``(y,)``, parameters ``(kappa, l)``.
- ``saturated_limit``: ``(dM/dt, dP/dt)``, the ``d -> oo`` flow of the
  signed overlap and the orthogonal norm on the linear schedule. It is
  also phase 2 of the dilated schedule in the local time ``t = tau - 1``.
  States ``(M, P)``, parameters ``(sigma,)``.
- ``finite_d``: the exact ``(dy/dt, dP/dt)`` at finite ``d`` on one piece
  of a schedule; states ``(y, P)``, parameters ``(d, kappa, sigma, l)``.
"""

from functools import lru_cache

import numpy as np
from scipy.special import ndtri

from flowphase.numerics.codegen import generate_rhs
from flowphase.numerics.integrate import RHS_SIGNATURE, transport_many
from flowphase.theory import flow
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.theory.symbols import M, P, d, kappa, log_odds, sigma, t, y


@lru_cache(maxsize=None)
def phase_one_limit():
    """Generated ``dy/dtau = kappa tanh(kappa tau y + l)``."""
    expression = flow.order_one_limit(dilated_schedule().pieces[0])
    return generate_rhs("phase_one_limit", t, (y,), (kappa, log_odds), (expression,),
                        doc="Large-d flow of y on phase 1 of the dilated schedule.")


@lru_cache(maxsize=None)
def saturated_limit():
    """Generated ``(dM/dt, dP/dt)`` of the large-``d`` saturated flow."""
    dm_dt, dp_dt = flow.saturated_limit(linear_schedule().pieces[0])
    return generate_rhs("saturated_limit", t, (M, P), (sigma,), (dm_dt, dp_dt),
                        doc="Large-d flow of (M, P) once the mode is decided.")


@lru_cache(maxsize=None)
def finite_d(schedule_name: str, piece_index: int):
    """Generated exact ``(dy/dt, dP/dt)`` on a piece of a built-in schedule."""
    schedules = {"linear": linear_schedule, "dilated": dilated_schedule}
    piece = schedules[schedule_name]().pieces[piece_index]
    dy_dt, dp_dt = flow.summary_odes_on(piece)
    return generate_rhs(f"finite_d_{schedule_name}_{piece_index}", t, (y, P),
                        (d, kappa, sigma, log_odds), (dy_dt, dp_dt),
                        doc="Exact flow of (y, P) at finite d on one schedule piece.")


def quantile_points(n: int) -> np.ndarray:
    """Return the ``n`` standard normal quantiles at levels ``(i + 1/2)/n``."""
    return ndtri((np.arange(n) + 0.5) / n)


def transport_phase_one(y0, kappa_value, log_odds_value, *, rtol=1e-12, atol=1e-12):
    """Carry the points ``y0`` from ``tau = 0`` to ``tau = 1`` along the limit flow."""
    y0 = np.ascontiguousarray(np.asarray(y0, dtype=float).reshape(-1, 1))
    params = np.array([kappa_value, log_odds_value], dtype=float)
    rhs = phase_one_limit().numba
    rhs.compile(RHS_SIGNATURE)
    result = transport_many(rhs, 0.0, 1.0, y0, params, rtol, atol)
    return result[:, 0]
