"""The U-turn probe: at which time of the flow is a feature decided?

For held-out data ``x1`` with feature labels ``s`` and a start time
``t0``, draw ``x_t0 = alpha(t0) x0 + beta(t0) x1`` with fresh
``x0 ~ N(0, I)``, generate back from ``t0`` to the end of the schedule
with a sampler, and compare the feature of the result with ``s``. The
flip rate ``F(t0)`` is the fraction that changed. At the start of the
schedule ``x_t0`` carries no information, so ``F`` is the rate at which
two independent draws disagree. For two classes of weights ``p`` and
``1 - p`` that rate is ``2 p (1 - p)``. At the end ``F`` is 0. The decision interval is
where ``F`` falls from ``upper`` to ``lower`` times its value at the
first ``t0``.
"""

from __future__ import annotations

import logging

import numpy as np

from .flow_sampler import grid_from, probability_flow, rates_at
from .time_density import IntervalTimes

logger = logging.getLogger(__name__)


def uturn_flips(schedule, generate, classify, x1, labels, t0s, rng, *, n_repeats=1,
                progress=None):
    """Return flips of shape ``(len(t0s), len(x1), n_repeats)`` as booleans.

    ``generate(t0, x)`` carries the points ``x`` at time ``t0`` to the end
    of the schedule; ``classify(x)`` returns the feature of each row.
    """
    x1 = np.asarray(x1, dtype=float)
    labels = np.asarray(labels)
    flips = np.empty((len(t0s), x1.shape[0], n_repeats), dtype=bool)
    repeated = np.repeat(x1, n_repeats, axis=0)
    for i, t0 in enumerate(t0s):
        alpha, beta, _, _ = rates_at(schedule, t0)
        x0 = rng.standard_normal(repeated.shape)
        generated = generate(float(t0), alpha * x0 + beta * repeated)
        predicted = np.asarray(classify(generated)).reshape(x1.shape[0], n_repeats)
        flips[i] = predicted != labels[:, None]
        if progress is not None:
            progress.update(1)
    return flips


def flow_generator(schedule, denoise, end=1.0, step=0.02, method="heun"):
    """Return ``generate(t0, x)``: the probability flow from ``t0`` to ``end``."""

    def generate(t0, x):
        return probability_flow(schedule, denoise, x, grid_from(t0, end, step), method)

    return generate


def flip_curve(flips, rng, *, n_boot=1000, level=0.95):
    """Return the flip rate per ``t0`` and a bootstrap band ``(rate, low, high)``.

    The band resamples the held-out points (all repeats of a point
    together), because repeats of one point are not independent.
    """
    per_point = flips.mean(axis=2)
    rate = per_point.mean(axis=1)
    n_points = per_point.shape[1]
    draws = rng.integers(0, n_points, size=(n_boot, n_points))
    # One start time at a time keeps the memory at n_boot * n_points values.
    boot = np.array([row[draws].mean(axis=1) for row in per_point])
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(boot, [tail, 100.0 - tail], axis=1)
    return rate, low, high


def _first_crossing(times, values, level):
    """Return the first time where ``values`` falls to ``level``, interpolated linearly.

    Returns ``None`` when ``values`` stays above ``level``.
    """
    below = np.flatnonzero(values <= level)
    if below.size == 0:
        return None
    k = below[0]
    if k == 0:
        return float(times[0])
    t_a, t_b, v_a, v_b = times[k - 1], times[k], values[k - 1], values[k]
    return float(t_a + (v_a - level) / (v_a - v_b) * (t_b - t_a))


def decision_interval(t0s, rate, *, upper=0.9, lower=0.1):
    """Return ``(low, high)``, where ``F`` first falls to ``upper`` and ``lower`` times ``F(t0s[0])``.

    ``F`` is replaced by its running minimum, so sampling noise after a
    crossing cannot move it.
    """
    t0s = np.asarray(t0s, dtype=float)
    envelope = np.minimum.accumulate(np.asarray(rate, dtype=float))
    start = envelope[0]
    if not start > 0:
        raise ValueError("the flip rate is 0 at the first t0, so no decision interval exists; "
                         "start the probe at an earlier time")
    low = _first_crossing(t0s, envelope, upper * start)
    high = _first_crossing(t0s, envelope, lower * start)
    if high is None:
        raise ValueError(
            f"the flip rate stays above {lower:g} times its start value {start:.3g} up to "
            f"t0 = {t0s[-1]:g}, so the decision interval has no end; probe later start "
            "times or train the reference model longer")
    if high <= low:
        high = min(float(t0s[-1]), low + (t0s[1] - t0s[0]))
    return low, high


def interval_density(low, high, weight=0.5, start=0.0, end=1.0):
    """Return the phase-aware training-time density on the decision interval."""
    return IntervalTimes(low=low, high=high, weight=weight, start=start, end=end)
