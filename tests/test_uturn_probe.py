"""Tests of the U-turn probe, its bootstrap band and the decision interval.

Oracles: with the identity as generator and ``sign(x)`` as classifier on
data ``x1 = +-1``, a point flips with probability ``Phi(-beta/alpha)``.
A piecewise-linear flip curve has crossings computable by hand.
"""

import numpy as np
import pytest
from scipy.stats import norm

from flowphase.validation.flow_sampler import linear_rates
from flowphase.validation.uturn import (decision_interval, flip_curve, interval_density,
                                        uturn_flips)


def test_flips_with_identity_generator():
    rng = np.random.default_rng(0)
    x1 = np.repeat([[1.0], [-1.0]], 200, axis=0)
    labels = np.sign(x1[:, 0])
    t0s = np.array([0.2, 0.5, 0.8])
    flips = uturn_flips(linear_rates, lambda t0, x: x, lambda x: np.sign(x[:, 0]), x1, labels,
                        t0s, rng, n_repeats=50)
    assert flips.shape == (3, 400, 50)
    rate = flips.mean(axis=(1, 2))
    expected = norm.cdf(-t0s / (1 - t0s))
    print(f"flip rates {rate}, expected {expected}")
    np.testing.assert_allclose(rate, expected, atol=4 * np.sqrt(0.25 / flips[0].size) + 1e-3)


def test_band_contains_rate_and_narrows():
    rng = np.random.default_rng(1)
    few = rng.random((2, 20, 5)) < 0.3
    many = rng.random((2, 2000, 5)) < 0.3
    rate, low, high = flip_curve(few, rng, n_boot=500)
    assert np.all(low <= rate)
    assert np.all(rate <= high)
    _, low_many, high_many = flip_curve(many, rng, n_boot=500)
    assert np.all(high_many - low_many < (high - low) / 3)


def test_band_width_matches_binomial_error():
    rng = np.random.default_rng(2)
    flips = rng.random((1, 4000, 1)) < 0.2
    rate, low, high = flip_curve(flips, rng, n_boot=2000)
    expected = 2 * 1.96 * np.sqrt(0.2 * 0.8 / 4000)
    assert abs((high - low)[0] - expected) < 0.15 * expected


def test_decision_interval_of_linear_fall():
    t0s = np.linspace(0.0, 1.0, 11)
    rate = np.clip(0.4 * (0.7 - t0s) / 0.5, 0.0, 0.32)
    # The curve is 0.32 up to t = 0.3, then falls linearly to 0 at t = 0.7.
    low, high = decision_interval(t0s, rate)
    assert low == pytest.approx(0.3 + 0.1 * 0.4, abs=1e-12)
    assert high == pytest.approx(0.3 + 0.9 * 0.4, abs=1e-12)


def test_decision_interval_ignores_late_noise():
    t0s = np.linspace(0.0, 1.0, 11)
    rate = np.array([0.3, 0.3, 0.2, 0.1, 0.0, 0.05, 0.0, 0.04, 0.0, 0.0, 0.0])
    low, high = decision_interval(t0s, rate)
    assert low == pytest.approx(0.1 + 0.1 * 0.03 / 0.1)
    assert high == pytest.approx(0.3 + 0.1 * 0.07 / 0.1)


def test_decision_interval_needs_positive_start():
    with pytest.raises(ValueError, match="no decision interval"):
        decision_interval([0.0, 0.5, 1.0], [0.0, 0.0, 0.0])


def test_interval_density_puts_weight_inside():
    density = interval_density(0.2, 0.4, weight=0.5)
    samples = density.sample(10_000, np.random.default_rng(3))
    inside = np.mean((samples >= 0.2) & (samples <= 0.4))
    assert abs(inside - 0.6) < 0.02


def test_decision_interval_needs_an_end():
    with pytest.raises(ValueError, match="has no end"):
        decision_interval([0.0, 0.5, 0.9], [0.3, 0.25, 0.2])
