"""One run of a sweep: simulation against exact finite-``d`` theory and limit.

A run takes one :class:`~flowphase.sweeps.config.RunSpec` and returns tidy
records ``{quantity, time, simulation, theory, limit}``:

- the overlaps ``c, m, q, omega, b`` at each training time, with the exact
  optimum at ``d`` (``flowphase.theory.model``) as ``theory`` and the
  large-``d`` limit (``flowphase.theory.limits``) as ``limit``. With
  ``velocity = "trained"`` the simulation is the trained network
  (``flowphase.validation.training``); with ``"exact"`` it is ``None``;
- the generated ``p_hat``, ``sigma2_hat`` and ``M`` of the explicit Euler
  sampler run in dimension ``d`` on ``n_samples`` samples, with the exact
  sampler statistics at ``d`` and as ``d -> oo``
  (``flowphase.numerics.sampler_stats``) as ``theory`` and ``limit``.
  The sampler uses the trained networks, or the exact denoiser
  ``D_t(x) = c* x + (1 - c* beta) mu tanh(beta (mu.x)/Gamma + l)``.

Every random number comes from ``numpy.random.default_rng(seed)``, so a run
gives the same numbers on any worker.
"""

from __future__ import annotations

import math
import socket
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np

__all__ = ["run_one", "package_versions", "time_grid", "SAMPLER_CHUNK"]

OVERLAPS = ("c", "m", "q", "omega", "b")
SAMPLER_QUANTITIES = ("p_hat", "sigma2_hat", "M")

#: Samples generated at once by the exact-velocity sampler, to bound memory.
SAMPLER_CHUNK = 2000

PACKAGES = ("flowphase", "numpy", "scipy", "sympy", "mpmath", "numba", "dask",
            "distributed")


def package_versions() -> dict:
    """Return the Python version and the versions of the packages a run uses."""
    from flowphase.report.versions import package_versions as versions_of

    return versions_of(PACKAGES)


def time_grid(schedule: str, steps: int) -> np.ndarray:
    """Return the uniform grid: ``steps`` per phase on ``[0, 2]``, or ``steps`` on ``[0, 1]``."""
    if schedule == "dilated":
        return np.linspace(0.0, 2.0, 2 * steps + 1)
    return np.linspace(0.0, 1.0, steps + 1)


def _schedule(spec):
    from flowphase.theory.schedules import dilated_schedule, linear_schedule

    return dilated_schedule(spec.kappa) if spec.schedule == "dilated" else linear_schedule()


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _record(quantity, time_value, simulation, theory, limit):
    return {"quantity": quantity, "time": round(float(time_value), 12),
            "simulation": _finite(simulation), "theory": _finite(theory),
            "limit": _finite(limit)}


def _exact_denoiser(rates, d, p, sigma):
    """Return ``denoise(k, x)``: the exact ``D_t`` at grid time ``k``, all-ones ``mu``."""
    ell = math.atanh(2.0 * p - 1.0)

    def denoise(k, x):
        alpha, beta = rates[k, 0], rates[k, 1]
        gamma = alpha**2 + sigma**2 * beta**2
        c_star = sigma**2 * beta / gamma
        mode = np.tanh(beta * x.sum(axis=1) / gamma + ell)
        return c_star * x + (1.0 - c_star * beta) * mode[:, None]

    return denoise


def _simulate(denoise, grid, rates, d, n_samples, rng):
    """Run the Euler sampler in chunks and combine the sample means."""
    from flowphase.validation.sampling import euler_sample

    mu = np.ones(d)
    totals = dict.fromkeys(SAMPLER_QUANTITIES, 0.0)
    done = 0
    while done < n_samples:
        size = min(SAMPLER_CHUNK, n_samples - done)
        result = euler_sample(denoise, grid, rates, mu, size, rng)
        for name in SAMPLER_QUANTITIES:
            totals[name] += getattr(result, name) * size
        done += size
    return {name: total / n_samples for name, total in totals.items()}


def _training_config(name):
    from flowphase.report.config import quick_config
    from flowphase.validation.training import TrainingConfig

    return quick_config().training if name == "quick" else TrainingConfig()


def _sampler_limit(schedule, grid, spec):
    """Return the ``d -> oo`` sampler statistics, ``None`` where no limit is derived."""
    from flowphase.numerics.sampler_stats import sampler_statistics

    try:
        return sampler_statistics(schedule, grid, d=math.inf, p=spec.p, sigma=spec.sigma)
    except NotImplementedError:
        # For example p = 1/2 on a grid whose first step decides the mode.
        return {"p_hat": None, "sigma2_hat": None, "M_end": None}


def _worker_name() -> str:
    """Return the Dask worker address, or the host name outside a worker."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()


def run_one(spec) -> dict:
    """Compute the records of the run ``spec`` and time it.

    Returns ``{"started_utc", "seconds", "cpu_seconds", "worker", "versions",
    "results"}``
    with ``results = {"records": [...], "grid": [...]}``.
    """
    from flowphase.numerics.sampler_stats import sampler_statistics
    from flowphase.report.pipeline import limit_values
    from flowphase.theory.model import optimal_overlaps_numeric
    from flowphase.validation.data import Mixture
    from flowphase.validation.training import train_autoencoders

    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    clock = time.perf_counter()
    cpu_clock = time.process_time()
    rng = np.random.default_rng(spec.seed)
    schedule = _schedule(spec)
    grid = time_grid(spec.schedule, spec.steps)
    times = grid[:-1]
    rates = np.array([schedule.rates(t, d=spec.d) for t in times])

    simulated = dict.fromkeys(OVERLAPS)
    if spec.velocity == "trained":
        mixture = Mixture(spec.d, spec.p, spec.sigma)
        # The direction of w is learned first at an informative time, as in
        # the report: tau = 1 on the dilated grid, the first t > 0 otherwise.
        anchor = int(np.argmin(np.abs(times - 1.0))) if spec.schedule == "dilated" else 1
        networks = train_autoencoders(mixture, rates[:, 0], rates[:, 1], anchor=anchor,
                                      rng=rng, config=_training_config(spec.training))
        simulated = networks.overlaps(mixture.mu)
        denoise = networks.denoise
    else:
        denoise = _exact_denoiser(rates, spec.d, spec.p, spec.sigma)

    exact = optimal_overlaps_numeric(schedule, times, d=spec.d, p=spec.p, sigma=spec.sigma)
    limit_config = SimpleNamespace(kappa=spec.kappa, sigma=spec.sigma,
                                   log_odds=math.atanh(2.0 * spec.p - 1.0))
    limits = limit_values(schedule, times, limit_config)
    records = []
    for name in OVERLAPS:
        for k, time_value in enumerate(times):
            value = None if simulated[name] is None else simulated[name][k]
            records.append(_record(name, time_value, value, exact[name][k], limits[name][k]))

    sample = _simulate(denoise, grid, rates, spec.d, spec.n_samples, rng)
    finite = sampler_statistics(schedule, grid, d=spec.d, p=spec.p, sigma=spec.sigma)
    limit = _sampler_limit(schedule, grid, spec)
    for name in SAMPLER_QUANTITIES:
        key = "M_end" if name == "M" else name
        records.append(_record(name, grid[-1], sample[name], finite[key], limit[key]))
    return {
        "started_utc": started,
        "seconds": time.perf_counter() - clock,
        # CPU time of the whole worker process (all its threads) during the run.
        "cpu_seconds": time.process_time() - cpu_clock,
        "worker": _worker_name(),
        "versions": package_versions(),
        "results": {"records": records, "grid": np.round(grid, 12).tolist()},
    }
