"""Distributions of the training times of a denoiser.

``UniformTimes`` draws ``t ~ U[start, end]``. ``IntervalTimes`` is the
phase-aware density: with probability ``weight`` the time is drawn
uniformly from the interval ``[low, high]`` where a feature is decided,
otherwise uniformly from ``[start, end]``, so that its density is

    rho(t) = (1 - weight)/(end - start) + weight * 1[low <= t <= high]/(high - low).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _check_range(start, end):
    if not (np.isfinite(start) and np.isfinite(end) and start < end):
        raise ValueError(f"time range needs finite start < end, got [{start}, {end}]")


@dataclass(frozen=True)
class UniformTimes:
    """Uniform training times on ``[start, end]``."""

    start: float = 0.0
    end: float = 1.0

    def __post_init__(self):
        _check_range(self.start, self.end)

    def sample(self, n, rng):
        return rng.uniform(self.start, self.end, size=n)

    def pdf(self, t):
        t = np.asarray(t, dtype=float)
        inside = (t >= self.start) & (t <= self.end)
        return np.where(inside, 1.0 / (self.end - self.start), 0.0)

    def describe(self):
        return {"kind": "uniform", "start": self.start, "end": self.end}


@dataclass(frozen=True)
class IntervalTimes:
    """Uniform times mixed with extra times on the decision interval ``[low, high]``."""

    low: float
    high: float
    weight: float = 0.5
    start: float = 0.0
    end: float = 1.0

    def __post_init__(self):
        _check_range(self.start, self.end)
        if not (self.start <= self.low < self.high <= self.end):
            raise ValueError(
                f"decision interval [{self.low}, {self.high}] must be non-empty and "
                f"lie inside [{self.start}, {self.end}]")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"interval weight must lie in [0, 1], got {self.weight}")

    def sample(self, n, rng):
        uniform = rng.uniform(self.start, self.end, size=n)
        focused = rng.uniform(self.low, self.high, size=n)
        return np.where(rng.random(n) < self.weight, focused, uniform)

    def pdf(self, t):
        t = np.asarray(t, dtype=float)
        base = UniformTimes(self.start, self.end).pdf(t) * (1.0 - self.weight)
        inside = (t >= self.low) & (t <= self.high)
        return base + np.where(inside, self.weight / (self.high - self.low), 0.0)

    def describe(self):
        return {"kind": "interval", "low": self.low, "high": self.high,
                "weight": self.weight, "start": self.start, "end": self.end}
