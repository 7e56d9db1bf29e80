"""Convergence rates: fit ``error ~ C d^(-a)`` with a bootstrap over seeds.

At each dimension ``d_i`` a statistic has one value per seed. The error is
``e_i = |mean over seeds - target_i|``, and ``a`` and ``log C`` come from
least squares of ``log e_i`` on ``log d_i``. The 95% interval of ``a`` is
the 2.5 and 97.5 percentiles of ``a`` refitted on bootstrap resamples:
each resample draws, at every ``d_i`` separately, as many seeds as there
are, with replacement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["RateFit", "fit_rate", "DEFAULT_RESAMPLES"]

DEFAULT_RESAMPLES = 2000


@dataclass(frozen=True)
class RateFit:
    """Fitted ``error ~ constant * d**(-exponent)``.

    ``interval`` is the bootstrap 95% interval of ``exponent``, or None
    with a single seed per ``d``. ``errors`` are ``|mean - target|`` per
    ``d``.
    """

    exponent: float
    constant: float
    interval: tuple | None
    dims: tuple
    errors: tuple
    n_seeds: tuple
    resamples: int

    def agrees_with(self, expected: float) -> bool | None:
        """Tell whether ``expected`` lies in the 95% interval; None without one."""
        if self.interval is None:
            return None
        return self.interval[0] <= expected <= self.interval[1]

    def to_dict(self) -> dict:
        return {"exponent": self.exponent, "constant": self.constant,
                "interval": None if self.interval is None else list(self.interval),
                "dims": list(self.dims), "errors": list(self.errors),
                "n_seeds": list(self.n_seeds), "resamples": self.resamples}


def _slope(log_d, errors):
    """Return ``(exponent, constant)`` of the least-squares line through ``log errors``."""
    slope, intercept = np.polyfit(log_d, np.log(errors), 1)
    return -float(slope), float(math.exp(intercept))


def fit_rate(dims, values, targets, *, resamples: int = DEFAULT_RESAMPLES,
             seed: int = 0) -> RateFit:
    """Fit ``|mean(values[i]) - targets[i]| ~ C dims[i]**(-a)``.

    ``values[i]`` is the sequence of per-seed values at ``dims[i]``, and
    ``targets`` is one number or one per dimension. Needs at least two
    distinct dimensions and nonzero errors, otherwise raises ValueError.
    Resamples whose error is zero at some ``d`` are dropped from the
    interval.
    """
    dims = np.asarray(dims, dtype=float)
    samples = [np.asarray(v, dtype=float) for v in values]
    targets = np.broadcast_to(np.asarray(targets, dtype=float), dims.shape)
    if len(samples) != len(dims):
        raise ValueError(f"values has {len(samples)} entries for {len(dims)} dimensions")
    if len(np.unique(dims)) < 2:
        raise ValueError(f"a rate needs at least two distinct dimensions, got {dims.tolist()}")
    if any(len(s) == 0 or not np.all(np.isfinite(s)) for s in samples):
        raise ValueError("every dimension needs at least one finite value per seed")
    if not np.all(np.isfinite(targets)):
        raise ValueError(f"targets must be finite, got {targets.tolist()}")

    errors = np.array([abs(s.mean() - t) for s, t in zip(samples, targets)])
    if np.any(errors == 0):
        raise ValueError(f"an error is exactly 0 at d = {dims[errors == 0].tolist()}; "
                         "log-log fits need nonzero errors")
    log_d = np.log(dims)
    exponent, constant = _slope(log_d, errors)

    interval = None
    if any(len(s) > 1 for s in samples):
        rng = np.random.default_rng(seed)
        boot = np.empty((resamples, len(samples)))
        for column, (sample, target) in enumerate(zip(samples, targets)):
            picks = rng.integers(0, len(sample), size=(resamples, len(sample)))
            boot[:, column] = np.abs(sample[picks].mean(axis=1) - target)
        positive = boot[np.all(boot > 0, axis=1)]
        if len(positive):
            # Least-squares slopes of every resample at once.
            centred = log_d - log_d.mean()
            logs = np.log(positive)
            slopes = (logs - logs.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
            low, high = np.percentile(-slopes, [2.5, 97.5])
            interval = (float(low), float(high))
    return RateFit(exponent=exponent, constant=constant, interval=interval,
                   dims=tuple(int(d) for d in dims), errors=tuple(errors.tolist()),
                   n_seeds=tuple(len(s) for s in samples), resamples=resamples)
