"""Sample quality: the squared maximum mean discrepancy with a Gaussian kernel.

For samples ``x_1..x_n`` and ``y_1..y_m`` and the kernel
``k(a, b) = exp(-|a - b|^2 / (2 h^2))``, the unbiased estimator
of the squared maximum mean discrepancy is

    MMD^2 = sum_{i != j} k(x_i, x_j)/(n(n-1)) + sum_{i != j} k(y_i, y_j)/(m(m-1))
            - 2 sum_{i, j} k(x_i, y_j)/(n m).

It is 0 in expectation when both samples come from one law, and may be
slightly negative. The bandwidth ``h`` is the median distance between
points of the reference sample, fixed once so that every scheme is
measured with the same kernel.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist, pdist


def median_bandwidth(reference):
    """Return the median pairwise Euclidean distance of the rows of ``reference``."""
    return float(np.median(pdist(np.asarray(reference, dtype=float))))


def _mean_off_diagonal(kernel):
    n = kernel.shape[0]
    return (kernel.sum() - np.trace(kernel)) / (n * (n - 1))


def mmd2(x, y, bandwidth):
    """Return the unbiased squared MMD between the rows of ``x`` and ``y``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("MMD needs at least two points in each sample")
    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"MMD bandwidth must be positive and finite, got {bandwidth!r}")
    scale = -0.5 / bandwidth**2
    k_xx = np.exp(scale * cdist(x, x, "sqeuclidean"))
    k_yy = np.exp(scale * cdist(y, y, "sqeuclidean"))
    k_xy = np.exp(scale * cdist(x, y, "sqeuclidean"))
    return float(_mean_off_diagonal(k_xx) + _mean_off_diagonal(k_yy) - 2.0 * k_xy.mean())
