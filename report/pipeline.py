"""The computations behind ``flowphase report``: train, sample, compare.

For every dimension ``d`` and schedule, the pipeline trains one
autoencoder per grid time, runs the Euler sampler with the trained
networks, and pairs every simulated number with the exact value at that
``d`` (``theory``) and its ``d -> oo`` limit (``limit``).
"""

import logging
import math

import numpy as np

from flowphase.numerics.sampler_stats import sampler_statistics
from flowphase.theory.limits import overlap_limits
from flowphase.theory.model import optimal_overlaps_numeric
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.validation.data import Mixture
from flowphase.validation.sampling import euler_sample
from flowphase.validation.training import train_autoencoders

logger = logging.getLogger(__name__)

OVERLAPS = ("c", "b", "m", "q", "omega", "r", "m_tanh_b")
SAMPLER_QUANTITIES = ("p_hat", "sigma2_hat", "M")


def build_grids(config):
    """Return ``{name: (schedule, grid)}`` for the report's two schedules."""
    n = config.steps_per_phase
    return {
        "dilated": (dilated_schedule(config.kappa), np.linspace(0.0, 2.0, 2 * n + 1)),
        "linear": (linear_schedule(), np.linspace(0.0, 1.0, n + 1)),
    }


def schedule_parameters(schedule, config):
    """Return the keyword values of the schedule's free parameters."""
    known = {"kappa": config.kappa}
    return {s.name: known[s.name] for s in schedule.free_symbols if s.name in known}


def _float_or_none(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _record(schedule, d, seed, quantity, time, simulation, theory, limit):
    return {
        "schedule": schedule, "d": d, "seed": seed, "quantity": quantity,
        "time": round(float(time), 12), "simulation": _float_or_none(simulation),
        "theory": _float_or_none(theory), "limit": _float_or_none(limit),
    }


def limit_values(schedule, times, config):
    """Return the ``d -> oo`` limit of every overlap at ``times`` as arrays.

    An overlap that diverges (``omega`` and ``r`` in phase 2) is ``inf``.
    """
    values = {name: [] for name in OVERLAPS}
    numbers = {"kappa": config.kappa, "sigma": config.sigma, "ell": config.log_odds}
    for time in times:
        limits = overlap_limits(schedule, float(time))
        for name in OVERLAPS:
            expr = limits[name]
            subs = {s: numbers[s.name] for s in expr.free_symbols if s.name in numbers}
            values[name].append(float(expr.subs(subs)))
    return {name: np.array(v) for name, v in values.items()}


def _sampler_theory(schedule, grid, d, config):
    """Exact (finite ``d``) or limit (``d = inf``) sampler statistics.

    Where the limit is not implemented (for example ``p = 1/2`` on a grid
    whose first step decides the mode), the values are ``None``.
    """
    try:
        return sampler_statistics(schedule, grid, d=d, p=config.p, sigma=config.sigma,
                                  **schedule_parameters(schedule, config))
    except NotImplementedError as error:
        logger.warning("no sampler statistics at d=%s on the %s grid: %s",
                       d, schedule.name, error)
        return {"p_hat": None, "sigma2_hat": None, "M_end": None}


def run_schedule(name, schedule, grid, d, config, rng, progress=None):
    """Train, sample and compare on one schedule at one ``d``.

    Returns ``(records, y_at_phase_boundary)``. The second item contains the
    simulated ``y = mu.X/sqrt(d)`` at ``tau = 1`` on the dilated schedule.
    """
    mixture = Mixture(d, config.p, config.sigma)
    times = grid[:-1]
    params = schedule_parameters(schedule, config)
    rates = np.array([schedule.rates(t, d=d, **params) for t in times])
    # The direction of w is learned first at an informative time: the end
    # of phase 1 (tau = 1) on the dilated grid, the first positive time on
    # the linear one.
    anchor = int(np.argmin(np.abs(times - 1.0))) if name == "dilated" else 1
    networks = train_autoencoders(
        mixture, rates[:, 0], rates[:, 1], anchor=anchor, rng=rng,
        config=config.training, progress=progress,
    )
    simulated = networks.overlaps(mixture.mu)
    exact = optimal_overlaps_numeric(schedule, times, d=d, p=config.p,
                                     sigma=config.sigma, **params)
    limits = limit_values(schedule, times, config)

    records = []
    for quantity in OVERLAPS:
        for k, time in enumerate(times):
            records.append(_record(name, d, config.seed, quantity, time,
                                   simulated[quantity][k], exact[quantity][k],
                                   limits[quantity][k]))

    boundary = int(np.argmin(np.abs(grid - 1.0))) if name == "dilated" else None
    runs = [(name, grid, networks, rates, boundary)]
    if name == "linear":
        runs.append(("linear_without_t0", grid[1:], networks.select(np.arange(1, len(times))),
                     rates[1:], None))
    y_boundary = None
    for label, run_grid, nets, run_rates, snap in runs:
        result = euler_sample(
            nets.denoise, run_grid, run_rates, mixture.mu, config.n_samples,
            rng, snapshot_indices=() if snap is None else (snap,),
        )
        finite = _sampler_theory(schedule, run_grid, d, config)
        limit = _sampler_theory(schedule, run_grid, math.inf, config)
        for quantity in SAMPLER_QUANTITIES:
            simulated_value = getattr(result, quantity)
            key = "M_end" if quantity == "M" else quantity
            records.append(_record(label, d, config.seed, quantity, run_grid[-1],
                                   simulated_value, finite[key], limit[key]))
        if snap is not None:
            y_boundary = result.y_snapshots[snap]
    return records, y_boundary
