"""Samples of the Gaussian mixture and of the interpolant.

A data sample is ``x1 = s*mu + sigma*z`` with ``P(s = +1) = p`` and
``z ~ N(0, I)``; a base sample is ``x0 ~ N(0, I)``; the interpolant at a
time with coefficients ``(alpha, beta)`` is ``x_t = alpha*x0 + beta*x1``.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mixture:
    """The target ``p*N(mu, sigma^2 I) + (1-p)*N(-mu, sigma^2 I)``.

    ``mu`` defaults to the all-ones vector, so that ``|mu|^2 = d``.
    """

    d: int
    p: float
    sigma: float

    @property
    def mu(self) -> np.ndarray:
        return np.ones(self.d)

    def draw(self, n: int, rng: np.random.Generator):
        """Draw ``n`` base samples and ``n`` data samples.

        Returns ``(x0, x1, s)`` with shapes ``(n, d)``, ``(n, d)``, ``(n,)``.
        """
        x0 = rng.standard_normal((n, self.d))
        s = np.where(rng.random(n) < self.p, 1.0, -1.0)
        x1 = rng.standard_normal((n, self.d))
        x1 *= self.sigma
        x1 += s[:, None] * self.mu[None, :]
        return x0, x1, s
