"""Tests of the training-time densities: normalisation and sampling law.

Oracles: the trapezoid integral of the density and a Kolmogorov-Smirnov
test of the samples against the integrated density.
"""

import numpy as np
import pytest
from scipy import stats

from flowphase.validation.time_density import IntervalTimes, UniformTimes


@pytest.mark.parametrize("density", [UniformTimes(), IntervalTimes(0.1, 0.4, 0.5),
                                     IntervalTimes(0.0, 1.0, 1.0), IntervalTimes(0.2, 0.3, 0.0)])
def test_density_integrates_to_one(density):
    t = np.linspace(0.0, 1.0, 200_001)
    assert abs(np.trapezoid(density.pdf(t), t) - 1.0) < 1e-3


def test_interval_samples_follow_density():
    density = IntervalTimes(0.1, 0.4, 0.6)
    samples = density.sample(20_000, np.random.default_rng(0))
    grid = np.linspace(0.0, 1.0, 100_001)
    cdf_values = np.concatenate([[0.0], np.cumsum(density.pdf(grid)[1:] * np.diff(grid))])

    def cdf(x):
        return np.interp(x, grid, cdf_values)

    result = stats.kstest(samples, cdf)
    print(f"KS statistic {result.statistic:.4f}, p-value {result.pvalue:.3f}")
    assert result.pvalue > 1e-3
    inside = np.mean((samples >= 0.1) & (samples <= 0.4))
    assert abs(inside - (0.6 + 0.4 * 0.3)) < 0.015


@pytest.mark.parametrize("values, message", [
    (dict(low=0.5, high=0.4), "non-empty"),
    (dict(low=-0.1, high=0.4), "inside"),
    (dict(low=0.1, high=0.4, weight=1.5), "weight"),
])
def test_interval_rejects_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        IntervalTimes(**values)


def test_uniform_rejects_reversed_range():
    with pytest.raises(ValueError, match="start < end"):
        UniformTimes(1.0, 0.0)
