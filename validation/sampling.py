"""The time-discretised sampler: explicit Euler on the training grid.

The step from ``t_k`` to ``t_{k+1}`` uses the network trained at ``t_k``
and the schedule's rates at ``t_k`` (its right derivative, so that the
step leaving ``tau = 1`` on the dilated schedule is a phase-2 step):

    X_{k+1} = X_k + Delta_k * (A_k X_k + B_k f_k(X_k)),
    A_k = alpha_dot/alpha,  B_k = beta_dot - alpha_dot*beta/alpha,

which is ``v = (alpha_dot/alpha) x + (beta_dot - alpha_dot beta/alpha) D``
with the trained network ``f_k`` in place of the denoiser ``D``. Only
``alpha`` at ``t_0 .. t_{K-1}`` enters, so the last step never divides by
``alpha = 0``.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class SamplerResult:
    """Generated statistics of the Euler sampler.

    ``p_hat`` is the fraction with ``mu.X > 0``, ``sigma2_hat`` the mean of
    ``P = |X - (mu.X/d) mu|^2/d``, ``M`` the mean of ``s*mu.X/d`` with
    ``s = sign(mu.X)``, and ``y_snapshots`` maps a grid index to the values
    of ``y = mu.X/sqrt(d)`` there.
    """

    p_hat: float
    sigma2_hat: float
    M: float
    n_samples: int
    y_snapshots: dict


def euler_coefficients(rates):
    """Return ``(A_k, B_k)`` from rows ``(alpha, beta, alpha_dot, beta_dot)``."""
    rates = np.asarray(rates, dtype=float)
    alpha, beta, alpha_dot, beta_dot = rates.T
    if np.any(alpha <= 0):
        bad = int(np.argmax(alpha <= 0))
        raise ValueError(
            f"Euler sampler step {bad} starts where alpha = {alpha[bad]!r}; "
            "every step except the last grid point needs alpha > 0: end the "
            "grid at the schedule's final time"
        )
    a_coef = alpha_dot / alpha
    b_coef = beta_dot - alpha_dot * beta / alpha
    return a_coef, b_coef


def euler_sample(denoise, grid, rates, mu, n_samples, rng, *,
                 snapshot_indices=()):
    """Run the Euler sampler from ``X_0 ~ N(0, I)`` over ``grid``.

    ``denoise(k, x)`` evaluates the network trained at ``grid[k]`` on the
    rows of ``x``. ``rates[k]`` contains ``(alpha, beta, alpha_dot, beta_dot)``
    at ``grid[k]`` for ``k < len(grid) - 1``.
    """
    grid = np.asarray(grid, dtype=float)
    steps = np.diff(grid)
    if np.any(steps <= 0):
        raise ValueError("the sampler grid must be strictly increasing")
    a_coef, b_coef = euler_coefficients(rates[: len(steps)])
    d = mu.shape[0]
    x = rng.standard_normal((n_samples, d))
    snapshots = {}
    for k, step in enumerate(steps):
        if k in snapshot_indices:
            snapshots[k] = x @ mu / np.sqrt(d)
        x += step * (a_coef[k] * x + b_coef[k] * denoise(k, x))
    if len(steps) in snapshot_indices:
        snapshots[len(steps)] = x @ mu / np.sqrt(d)
    return summarize(x, mu, snapshots)


def summarize(x, mu, snapshots=None) -> SamplerResult:
    """Compute ``p_hat``, ``sigma2_hat`` and ``M`` of the samples ``x``."""
    n, d = x.shape
    projection = x @ mu / d
    orthogonal = x - projection[:, None] * mu[None, :]
    sign = np.where(projection > 0, 1.0, -1.0)
    return SamplerResult(
        p_hat=float(np.mean(projection > 0)),
        sigma2_hat=float(np.mean(np.einsum("ij,ij->i", orthogonal, orthogonal)) / d),
        M=float(np.mean(sign * projection) * d / (mu @ mu)),
        n_samples=n,
        y_snapshots=snapshots or {},
    )
