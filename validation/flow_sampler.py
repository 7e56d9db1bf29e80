"""Probability-flow and SDE samplers for a denoiser ``denoise(t, x)``.

With the denoiser ``D`` the velocity of the interpolant is

    v(t, x) = A x + B D_t(x),  A = alpha_dot/alpha,  B = beta_dot - alpha_dot beta/alpha,

and the score of ``x_t`` is ``(beta D_t(x) - x)/alpha^2``. The probability
flow integrates ``dX/dt = v`` with Heun's method (or explicit Euler); the
SDE sampler integrates

    dX = [v + (eps(t)/2) score] dt + sqrt(eps(t)) dW,  eps(t) = eps0 alpha(t)^2,

by Euler-Maruyama. Any ``eps(t) >= 0`` keeps the marginals of ``x_t``;
this one vanishes at the end, where the score diverges. Both stop one step
before ``alpha = 0``: the last step is Euler's, which uses only the
denoiser at its left end and never divides by ``alpha = 0``.

A schedule is a function of an array of times returning the arrays
``(alpha, beta, alpha_dot, beta_dot)``.
"""

from __future__ import annotations

import numpy as np


def linear_rates(t):
    """Return ``(alpha, beta, alpha_dot, beta_dot)`` of ``alpha = 1 - t``, ``beta = t``."""
    t = np.asarray(t, dtype=float)
    ones = np.ones_like(t)
    return 1.0 - t, t, -ones, ones


def dilated_rates(kappa, d):
    """Return the rates of the dilated two-phase schedule on ``tau`` in ``[0, 2]``.

    Phase 1: ``beta = kappa tau/sqrt(d)``; phase 2 (``t = tau - 1``):
    ``beta = kappa/sqrt(d) + (1 - kappa/sqrt(d)) t``; ``alpha = 1 - beta``.
    At ``tau = 1`` the rates are the right derivative (phase 2).
    """
    shift = kappa / np.sqrt(d)
    if not 0.0 < shift < 1.0:
        raise ValueError(f"the dilated schedule needs 0 < kappa < sqrt(d), got kappa={kappa}, d={d}")

    def rates(tau):
        tau = np.asarray(tau, dtype=float)
        first = tau < 1.0
        beta = np.where(first, shift * tau, shift + (1.0 - shift) * (tau - 1.0))
        beta_dot = np.where(first, shift, 1.0 - shift)
        return 1.0 - beta, beta, -beta_dot, beta_dot

    return rates


def rates_at(schedule, t):
    """Return ``(alpha, beta, alpha_dot, beta_dot)`` of ``schedule`` at one time as floats."""
    return tuple(float(v[0]) for v in schedule(np.array([t], dtype=float)))


def velocity(schedule, denoise, t, x):
    """Evaluate ``v(t, x) = A x + B D_t(x)`` at one time ``t < end``."""
    alpha, beta, alpha_dot, beta_dot = rates_at(schedule, t)
    if alpha <= 0.0:
        raise ValueError(f"velocity needs alpha > 0, got alpha({t}) = {alpha}")
    a_coef = alpha_dot / alpha
    b_coef = beta_dot - alpha_dot * beta / alpha
    return a_coef * x + b_coef * denoise(t, x)


def _check_grid(grid):
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("sampler grid needs at least two strictly increasing times")
    return grid


def probability_flow(schedule, denoise, x, grid, method="heun"):
    """Integrate ``dX/dt = v(t, X)`` from ``grid[0]`` to ``grid[-1]``, starting at ``x``.

    ``method`` is ``"heun"`` (second order) or ``"euler"``. The last step is
    always Euler's, because ``v`` diverges where ``alpha = 0``.
    """
    if method not in ("heun", "euler"):
        raise ValueError(f"method must be 'heun' or 'euler', got {method!r}")
    grid = _check_grid(grid)
    x = np.array(x, dtype=float)
    n_steps = grid.size - 1
    for k in range(n_steps):
        t, step = grid[k], grid[k + 1] - grid[k]
        drift = velocity(schedule, denoise, t, x)
        if method == "euler" or k == n_steps - 1:
            x = x + step * drift
            continue
        predicted = x + step * drift
        drift_next = velocity(schedule, denoise, grid[k + 1], predicted)
        x = x + 0.5 * step * (drift + drift_next)
    return x


def sde_sample(schedule, denoise, x, grid, rng, eps0=1.0):
    """Integrate the SDE of the module docstring by Euler-Maruyama on ``grid``."""
    if not (np.isfinite(eps0) and eps0 >= 0):
        raise ValueError(f"`eps0` must be finite and >= 0, got {eps0!r}")
    grid = _check_grid(grid)
    x = np.array(x, dtype=float)
    for k in range(grid.size - 1):
        t, step = grid[k], grid[k + 1] - grid[k]
        alpha, beta, _, _ = rates_at(schedule, t)
        denoised = denoise(t, x)
        drift = velocity(schedule, lambda _t, _x: denoised, t, x)
        # eps/2 times the score is eps0/2 (beta D - x), because eps = eps0 alpha^2.
        drift += 0.5 * eps0 * (beta * denoised - x)
        x = x + step * drift + np.sqrt(eps0 * step) * alpha * rng.standard_normal(x.shape)
    return x


def grid_from(start, end, step):
    """Return a uniform grid from ``start`` to ``end`` with steps at most ``step``."""
    n = max(1, int(np.ceil((end - start) / step - 1e-9)))
    return np.linspace(start, end, n + 1)
