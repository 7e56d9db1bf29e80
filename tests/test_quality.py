"""Tests of the squared MMD against its closed form for Gaussian samples.

For ``x ~ N(a, s^2 I_k)``, ``y ~ N(b, s^2 I_k)`` and the kernel of width
``h``, ``E k(x, y) = (h^2/(h^2 + 2 s^2))^(k/2) exp(-|a - b|^2/(2 (h^2 + 2 s^2)))``.
"""

import numpy as np

from flowphase.validation.quality import median_bandwidth, mmd2


def _expected_kernel(shift2, s, h, k):
    return (h**2 / (h**2 + 2 * s**2)) ** (k / 2) * np.exp(-shift2 / (2 * (h**2 + 2 * s**2)))


def test_mmd_matches_gaussian_closed_form():
    rng = np.random.default_rng(0)
    k, s, h = 3, 1.0, 1.5
    shift = np.array([0.8, 0.0, 0.0])
    x = s * rng.standard_normal((3000, k))
    y = shift + s * rng.standard_normal((3000, k))
    expected = 2 * (_expected_kernel(0.0, s, h, k) - _expected_kernel(0.64, s, h, k))
    got = mmd2(x, y, h)
    print(f"MMD^2 {got:.5f}, closed form {expected:.5f}")
    assert abs(got - expected) < 0.1 * expected


def test_mmd_unbiased_for_equal_laws():
    rng = np.random.default_rng(1)
    values = [mmd2(rng.standard_normal((200, 2)), rng.standard_normal((200, 2)), 1.0)
              for _ in range(30)]
    mean, error = np.mean(values), np.std(values) / np.sqrt(len(values))
    assert abs(mean) < 4 * error


def test_median_bandwidth_of_two_points():
    assert median_bandwidth(np.array([[0.0, 0.0], [3.0, 4.0]])) == 5.0
