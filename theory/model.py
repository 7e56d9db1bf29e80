"""Exact denoiser, velocity field and optimal autoencoder of the mixture.

The data are ``x1 = s mu + sigma z`` with ``P(s = +1) = p``, ``|mu|^2 = d``
and ``z ~ N(0, I)``. The interpolant is ``x_t = alpha x0 + beta x1`` with
``x0 ~ N(0, I)``. Every result below is exact at any dimension ``d``.

| symbol | meaning                                         | name          |
|--------|-------------------------------------------------|---------------|
| Gamma  | alpha^2 + sigma^2 beta^2, variance of x_t | s   | ``gamma_expr``|
| c*     | sigma^2 beta / Gamma, skip weight of D_t       | ``c_star``    |
| D_t    | denoiser E[x1 | x_t = x]                        | ``denoiser``  |
| A, B   | velocity v = A x + B D_t                       | ``"A"``, ``"B"`` |
| c, m, q, omega, r, b | overlaps of the optimal network  | dict keys     |
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from .cache import disk_cached
from .symbols import alpha, alpha_dot, beta, beta_dot, d, log_odds, sigma

__all__ = [
    "gamma_expr",
    "c_star",
    "mu_dot_x",
    "denoiser_coefficients",
    "denoiser",
    "mode_posterior_mean",
    "velocity_coefficients",
    "optimal_overlaps",
    "optimal_overlaps_on",
    "optimal_overlaps_numeric",
    "OVERLAP_NAMES",
]

#: Per-coordinate variance of ``x_t`` within one mode.
gamma_expr = alpha**2 + sigma**2 * beta**2

#: Skip weight of the exact denoiser.
c_star = sigma**2 * beta / gamma_expr

#: The projection ``mu . x`` of the point where the denoiser is evaluated.
mu_dot_x = sp.Symbol("mu_dot_x", real=True)

#: Keys of the dictionaries returned by the overlap functions, in order.
OVERLAP_NAMES = ("c", "m", "q", "omega", "r", "b", "m_tanh_b")

# Scalar stand-ins for one coordinate of x_t, x1, mu, and the mode sign s.
_x_i, _x1_i, _mu_i = sp.symbols("x_i x1_i mu_i", real=True)
_s = sp.Symbol("s", real=True)
_x_norm2 = sp.Symbol("x_norm2", nonnegative=True)


@functools.lru_cache(maxsize=None)
def _conditional_mean_given_mode() -> tuple[sp.Expr, sp.Expr]:
    """Derive E[x1 | x_t = x, s] = a x + b s mu; return ``(a, b)``.

    Given ``s``, the coordinates are independent and the log-density of
    ``x1_i`` given ``x_i`` is, up to a constant,
    ``-(x_i - beta x1_i)^2 / (2 alpha^2) - (x1_i - s mu_i)^2 / (2 sigma^2)``.
    It is quadratic, so the conditional mean is its stationary point.
    """
    log_density = (
        -((_x_i - beta * _x1_i) ** 2) / (2 * alpha**2)
        - (_x1_i - _s * _mu_i) ** 2 / (2 * sigma**2)
    )
    (mean,) = sp.solve(sp.diff(log_density, _x1_i), _x1_i)
    mean = sp.expand(mean)
    x_weight = sp.factor(mean.coeff(_x_i))
    mu_weight = sp.factor(mean.coeff(_mu_i).coeff(_s))
    return x_weight, mu_weight


@functools.lru_cache(maxsize=None)
def mode_posterior_mean() -> sp.Expr:
    """Derive E[s | x_t = x] = tanh(beta (mu.x) / Gamma + l).

    Given ``s``, ``x_t ~ N(s beta mu, Gamma I)``, so the log-weight of ``s``
    is ``s l - |x - s beta mu|^2 / (2 Gamma)`` up to an ``s``-independent
    term, because ``p / (1 - p) = exp(2 l)``. With ``h`` half the log-odds
    of ``s = +1``, ``E[s | x] = (e^h - e^-h) / (e^h + e^-h) = tanh(h)``.
    """

    def log_weight(sign: int) -> sp.Expr:
        square = _x_norm2 - 2 * sign * beta * mu_dot_x + beta**2 * d
        return sign * log_odds - square / (2 * gamma_expr)

    half_log_odds = sp.expand((log_weight(1) - log_weight(-1)) / 2)
    slope = sp.factor(half_log_odds.coeff(mu_dot_x))
    bias = sp.simplify(half_log_odds.subs(mu_dot_x, 0))
    return sp.tanh(slope * mu_dot_x + bias)


@functools.lru_cache(maxsize=None)
def denoiser_coefficients() -> dict[str, sp.Expr]:
    """Derive the exact denoiser D_t(x) = c* x + m mu tanh(slope (mu.x) + l).

    Averaging ``E[x1 | x, s] = c* x + (alpha^2/Gamma) s mu`` over the mode
    posterior gives ``D_t(x) = c* x + (1 - c* beta) mu tanh(beta (mu.x)/Gamma
    + l)``. Returns ``{"c": c*, "m": 1 - c* beta, "slope": beta/Gamma,
    "bias": l}``, with ``m`` in the cancellation-free form ``alpha^2/Gamma``.
    """
    x_weight, mu_weight = _conditional_mean_given_mode()
    argument = sp.expand(mode_posterior_mean().args[0])
    return {
        "c": x_weight,
        "m": mu_weight,
        "slope": sp.factor(argument.coeff(mu_dot_x)),
        "bias": sp.simplify(argument.subs(mu_dot_x, 0)),
    }


def denoiser(x, mu, projection):
    """Build D_t(x) = c* x + (1 - c* beta) mu tanh(beta (mu.x)/Gamma + l).

    ``x`` and ``mu`` may be SymPy expressions (vector stand-ins) and
    ``projection`` is the value of ``mu . x``.
    """
    coefficients = denoiser_coefficients()
    argument = coefficients["slope"] * projection + coefficients["bias"]
    return coefficients["c"] * x + coefficients["m"] * mu * sp.tanh(argument)


@functools.lru_cache(maxsize=None)
@disk_cached
def velocity_coefficients() -> dict[str, sp.Expr]:
    """Derive v(t, x) = A x + B D_t(x) with A = alpha'/alpha, B = beta' - alpha' beta/alpha.

    ``v = alpha' E[x0 | x] + beta' E[x1 | x]`` and ``x = alpha x0 + beta x1``
    gives ``E[x0 | x] = (x - beta D_t(x)) / alpha``; the returned
    ``{"A": ..., "B": ...}`` are read off as the coefficients of ``x`` and
    ``D_t(x)``.
    """
    x_symbol, denoised = sp.symbols("x D", real=True)
    velocity = alpha_dot * (x_symbol - beta * denoised) / alpha + beta_dot * denoised
    velocity = sp.expand(velocity)
    return {
        "A": sp.simplify(velocity.coeff(x_symbol)),
        "B": sp.simplify(velocity.coeff(denoised)),
    }


@functools.lru_cache(maxsize=None)
@disk_cached
def optimal_overlaps() -> dict[str, sp.Expr]:
    """Derive the overlaps of the network equal to the exact denoiser.

    The network is ``f(x) = c x + u tanh(w.x/sqrt(d) + b)``. Only the
    ``mu`` direction enters the tanh term of ``D_t``, so ``u = u_1 mu`` and
    ``w = w_1 mu``, and ``f = D_t`` for every ``x`` requires ``c = c*``,
    ``u_1 = 1 - c* beta``, ``w_1/sqrt(d) = beta/Gamma`` and ``b = l``.
    With ``|mu|^2 = d`` the overlaps are ``m = u.mu/d = u_1``,
    ``q = |u|^2/d = u_1^2``, ``omega = w.mu/d = w_1 = beta sqrt(d)/Gamma``,
    ``r = |w|^2/d = w_1^2`` and ``b = l``; ``m_tanh_b`` is ``m tanh(b)``.
    Expressions are in ``alpha, beta, sigma, d, log_odds``.
    """
    target = denoiser_coefficients()
    c, u_1, w_1, b = sp.symbols("c u_1 w_1 b", real=True)
    matching = [
        sp.Eq(c, target["c"]),
        sp.Eq(u_1, target["m"]),
        sp.Eq(w_1 / sp.sqrt(d), target["slope"]),
        sp.Eq(b, target["bias"]),
    ]
    (solution,) = sp.solve(matching, [c, u_1, w_1, b], dict=True)
    m = solution[u_1]
    return {
        "c": solution[c],
        "m": m,
        "q": m**2,
        "omega": solution[w_1],
        "r": solution[w_1] ** 2,
        "b": solution[b],
        "m_tanh_b": m * sp.tanh(solution[b]),
    }


def optimal_overlaps_on(schedule, time, side: str = "right") -> dict[str, sp.Expr]:
    """Return the optimal overlaps with ``alpha(time)``, ``beta(time)`` substituted.

    ``d``, ``kappa``, ``sigma`` and ``log_odds`` stay symbolic; ``time`` is
    a number, made exact by the schedule. alpha and beta are continuous, so
    ``side`` only selects the piece, and it is switched to the side that
    exists at the schedule's start and end.
    """
    side = _existing_side(schedule, time, side)
    alpha_value, beta_value, _, _ = schedule.coefficient_expressions(time, side=side)
    return dict(_overlaps_on_cached(alpha_value, beta_value))


@functools.lru_cache(maxsize=None)
def _overlaps_on_cached(alpha_value, beta_value) -> dict[str, sp.Expr]:
    values = {alpha: alpha_value, beta: beta_value}
    return {
        name: sp.simplify(expression.subs(values))
        for name, expression in optimal_overlaps().items()
    }


def _existing_side(schedule, time, side: str) -> str:
    """Return ``side``, or the only side with a piece at the start or end."""
    if float(time) >= float(schedule.end):
        return "left"
    if float(time) <= float(schedule.start):
        return "right"
    return side


@functools.lru_cache(maxsize=None)
def _overlap_evaluator():
    arguments = (alpha, beta, sigma, d, log_odds)
    expressions = [optimal_overlaps()[name] for name in OVERLAP_NAMES]
    return sp.lambdify(arguments, expressions, modules="numpy")


def optimal_overlaps_numeric(
    schedule, times, *, d, p, sigma, side: str = "right", **params
) -> dict[str, np.ndarray]:
    """Evaluate the optimal overlaps in float64 at each of ``times``.

    ``alpha`` and ``beta`` come from ``schedule.rates`` and the overlap
    expressions of :func:`optimal_overlaps` are evaluated with
    ``log_odds = artanh(2p - 1)``. Extra keyword arguments (e.g. ``kappa``)
    go to ``schedule.rates``.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got p={p!r}")
    if not 0 < sigma < math.inf:
        raise ValueError(f"sigma must be positive and finite, got sigma={sigma!r}")
    if not 0 < d < math.inf:
        raise ValueError(f"d must be a positive finite dimension, got d={d!r}")
    times = np.atleast_1d(np.asarray(times, dtype=float))
    coefficients = np.array(
        [
            schedule.rates(
                time, d=d, side=_existing_side(schedule, time, side), **params
            )[:2]
            for time in times
        ]
    ).reshape(-1, 2)
    ell = np.arctanh(2.0 * p - 1.0)
    values = _overlap_evaluator()(
        coefficients[:, 0], coefficients[:, 1], float(sigma), float(d), ell
    )
    return {
        name: np.broadcast_to(np.asarray(value, dtype=float), times.shape).copy()
        for name, value in zip(OVERLAP_NAMES, values)
    }
