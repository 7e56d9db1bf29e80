"""Online SGD of the autoencoder reduced to ODEs of its overlaps.

The network is ``f(x) = c x + u tanh(w.x/sqrt(d) + b)``, trained on the
per-sample loss ``L = |f(x_t) - x1|^2 / 2`` with a fresh sample at every
step. SGD moves ``u, w`` by ``-(eta/d) grad L`` and ``c, b`` by
``-(eta/d^2) dL/dc`` (resp. ``dL/db``); training time is
``T = steps*eta/d``, so the drift of an overlap ``X`` is
``dX/dT = (d/eta) E[Delta X]``.

Derivation, all done by SymPy here:

1. One coordinate ``i`` stands for every coordinate. A sample is
   ``x = s beta mu + sqrt(Gamma) g`` and
   ``x1 = s mu + sigma (beta sigma g + alpha z') / sqrt(Gamma)``, with
   ``g, z'`` independent ``N(0, I)``; this is ``x0, z`` rotated so that
   ``x`` involves ``g`` alone.
2. The gradients are derivatives of the coordinate loss
   ``(c x_i + u_i tanh(a) - x1_i)^2 / 2``; a sum over coordinates is
   replaced by ``d`` times the overlap of the two vectors
   (:data:`OVERLAP_TABLE`). Overlaps of ``g`` or ``z'`` with ``mu, u, w``
   are ``1/sqrt(d)`` times Gaussians ``zeta, theta, xi`` (primed for
   ``z'``).
3. ``gaussian.gaussian_expectation`` takes the expectation over these
   Gaussians and ``s`` by Isserlis' theorem and Stein's lemma, leaving the
   moments ``M_j_k = E[s^j tanh(a)^k]``.
4. With ``d = 1/epsilon^2`` the leading order in ``epsilon`` is kept.

NOTE: ``|g|^2/d``, ``|z'|^2/d`` and ``g.z'/d`` are replaced by their means
1, 1, 0. Their fluctuations are ``O(1/sqrt(d))`` and change the drifts
only beyond leading order, so the ``epsilon^1`` terms of
:func:`overlap_rates` are not complete finite-``d`` corrections.

| symbol        | meaning                                   | name            |
|---------------|-------------------------------------------|-----------------|
| c, b          | skip weight, bias                         | ``c``, ``b``    |
| m, q          | u.mu/d, abs(u)^2/d                        | ``m``, ``q``    |
| omega, r      | w.mu/d, abs(w)^2/d                        | ``omega``, ``r``|
| v             | u.w/d (drops out at leading order)        | ``v``           |
| eta, T        | learning rate, training time              | ``lr``, ``T``   |
| epsilon       | 1/sqrt(d)                                 | ``epsilon``     |
| a, phi        | pre-activation, tanh(a)                   | ``a``, ``phi``  |
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from .cache import disk_cached
from . import gaussian
from .gaussian import phi, s, xi
from .model import gamma_expr
from .schedules import dilated_schedule
from .symbols import alpha, beta, d, epsilon, kappa, sigma, t

__all__ = [
    "STATE_NAMES",
    "STATES",
    "OVERLAP_TABLE",
    "lr",
    "preactivation",
    "overlap_increments",
    "overlap_rates",
    "reduced_loss",
    "PhaseOneDynamics",
    "phase_one_dynamics",
]

c, b, m, q, omega, r, v = sp.symbols("c b m q omega r v", real=True)
lr = sp.Symbol("eta", positive=True)

#: States of the overlap ODEs, in the order used by the numerics.
STATES = (c, b, m, q, omega, r)
STATE_NAMES = tuple(symbol.name for symbol in STATES)

# Gaussians of the projections of g and z', in units of 1/sqrt(d).
zeta, theta = sp.symbols("zeta theta", real=True)
xi_z, zeta_z, theta_z = sp.symbols("xi_z zeta_z theta_z", real=True)

# Coordinate stand-ins of mu, u, w, g, z'.
_mu_i, _u_i, _w_i, _g_i, _z_i = sp.symbols("mu_i u_i w_i g_i zp_i", real=True)
_COORDINATES = (_mu_i, _u_i, _w_i, _g_i, _z_i)

#: ``sum_i a_i b_i / d`` for each pair of coordinate stand-ins.
OVERLAP_TABLE = {
    frozenset([_mu_i]): sp.Integer(1),
    frozenset([_mu_i, _u_i]): m,
    frozenset([_mu_i, _w_i]): omega,
    frozenset([_u_i]): q,
    frozenset([_u_i, _w_i]): v,
    frozenset([_w_i]): r,
    frozenset([_g_i]): sp.Integer(1),
    frozenset([_z_i]): sp.Integer(1),
    frozenset([_g_i, _z_i]): sp.Integer(0),
    frozenset([_g_i, _mu_i]): epsilon * zeta,
    frozenset([_g_i, _w_i]): epsilon * sp.sqrt(r) * xi,
    frozenset([_g_i, _u_i]): epsilon * theta,
    frozenset([_z_i, _mu_i]): epsilon * zeta_z,
    frozenset([_z_i, _w_i]): epsilon * sp.sqrt(r) * xi_z,
    frozenset([_z_i, _u_i]): epsilon * theta_z,
}

# Each Gaussian is load*xi + residual. The residuals' covariances follow
# from the overlaps, e.g. Cov(zeta, xi) = omega/sqrt(r), Var(theta) = q.
_LOADS = {
    zeta: omega / sp.sqrt(r),
    theta: v / sp.sqrt(r),
    xi_z: sp.Integer(0),
    zeta_z: sp.Integer(0),
    theta_z: sp.Integer(0),
}
_RESIDUAL_COVARIANCE = {
    (zeta, zeta): 1 - omega**2 / r,
    (theta, theta): q - v**2 / r,
    (zeta, theta): m - omega * v / r,
    (xi_z, xi_z): sp.Integer(1),
    (zeta_z, zeta_z): sp.Integer(1),
    (theta_z, theta_z): q,
    (xi_z, zeta_z): omega / sp.sqrt(r),
    (xi_z, theta_z): v / sp.sqrt(r),
    (zeta_z, theta_z): m,
}
for _left in (zeta, theta):
    for _right in (xi_z, zeta_z, theta_z):
        _RESIDUAL_COVARIANCE[(_left, _right)] = sp.Integer(0)

_a = sp.Symbol("a", real=True)
_gamma = sp.Symbol("Gamma", positive=True)


def sum_coordinates(expression: sp.Expr) -> sp.Expr:
    """Replace ``sum_i`` of a quadratic form in the stand-ins by ``d`` overlaps.

    Raises ValueError when a term is not of degree exactly 2 in the
    coordinate stand-ins.
    """
    expression = sp.expand(expression)
    total = sp.Integer(0)
    for powers, coefficient in sp.Poly(expression, *_COORDINATES).terms():
        if sum(powers) != 2:
            raise ValueError(
                f"cannot sum a term of degree {sum(powers)} over coordinates "
                f"in {expression}. Only quadratic forms are supported."
            )
        pair = frozenset(
            symbol for symbol, power in zip(_COORDINATES, powers) if power
        )
        total += coefficient * OVERLAP_TABLE[pair] / epsilon**2
    return sp.expand(total)


def _sample_coordinates():
    """Return the stand-ins ``(x_i, x1_i)`` of a sample."""
    x_i = s * beta * _mu_i + sp.sqrt(_gamma) * _g_i
    noise = (beta * sigma * _g_i + alpha * _z_i) / sp.sqrt(_gamma)
    x1_i = s * _mu_i + sigma * noise
    return x_i, x1_i


@functools.lru_cache(maxsize=None)
def preactivation() -> sp.Expr:
    """Derive ``a = w.x/sqrt(d) + b`` in terms of ``xi``, ``s`` and overlaps."""
    x_i, _ = _sample_coordinates()
    return sp.expand(epsilon * sum_coordinates(_w_i * x_i) + b)


@functools.lru_cache(maxsize=None)
def _gradients():
    """Derive the per-sample gradients; vectors as coordinate stand-ins."""
    x_i, x1_i = _sample_coordinates()
    loss_i = (c * x_i + _u_i * sp.tanh(_a) - x1_i) ** 2 / 2

    def to_phi(expression):
        return sp.expand(expression.subs(sp.tanh(_a), phi))

    dloss_da = sum_coordinates(to_phi(sp.diff(loss_i, _a)))
    # a = sum_j w_j x_j / sqrt(d) + b, so da/dw_i = x_i / sqrt(d).
    da_dw_i = sp.diff(epsilon * _w_i * x_i, _w_i)
    return {
        "u": to_phi(sp.diff(loss_i, _u_i)),
        "w": dloss_da * da_dw_i,
        "c": sum_coordinates(to_phi(sp.diff(loss_i, c))),
        "b": dloss_da,
    }


@functools.lru_cache(maxsize=None)
def overlap_increments() -> dict[str, sp.Expr]:
    """Derive ``(d/eta) Delta X`` of one SGD step for each state ``X``.

    The result depends on the sample through ``xi``, ``s`` and the other
    projection Gaussians, and keeps the ``O(eta)`` terms of
    ``|Delta u|^2`` and ``|Delta w|^2``.
    """
    gradient = _gradients()
    step = lr * epsilon**2  # eta/d
    delta_u = -step * gradient["u"]
    delta_w = -step * gradient["w"]
    per_step = {
        "c": -step * epsilon**2 * gradient["c"],
        "b": -step * epsilon**2 * gradient["b"],
        "m": sum_coordinates(delta_u * _mu_i) * epsilon**2,
        "q": sum_coordinates(2 * _u_i * delta_u + delta_u**2) * epsilon**2,
        "omega": sum_coordinates(delta_w * _mu_i) * epsilon**2,
        "r": sum_coordinates(2 * _w_i * delta_w + delta_w**2) * epsilon**2,
    }
    return {name: sp.expand(value / step) for name, value in per_step.items()}


def _slope_and_shift() -> tuple[sp.Expr, sp.Expr]:
    """Split the pre-activation as ``slope*xi + shift``."""
    a_expression = preactivation()
    slope = a_expression.coeff(xi)
    shift = sp.expand(a_expression - slope * xi)
    randoms = {zeta, theta, xi_z, zeta_z, theta_z}
    if shift.free_symbols & randoms or slope.free_symbols & randoms:
        raise ValueError(f"the pre-activation {a_expression} is not affine in xi")
    return slope, shift


@functools.lru_cache(maxsize=None)
@disk_cached
def overlap_rates() -> dict[str, sp.Expr]:
    """Derive ``dX/dT = (d/eta) E[Delta X]`` in the moments ``M_j_k``.

    Expressions are in ``alpha, beta, Gamma, epsilon``, the overlaps, ``eta``
    and the moments, with the moments taken at the pre-activation of
    :func:`preactivation`.
    """
    slope, _ = _slope_and_shift()
    return {
        name: gaussian.gaussian_expectation(
            increment, slope, _LOADS, _RESIDUAL_COVARIANCE
        )
        for name, increment in overlap_increments().items()
    }


@functools.lru_cache(maxsize=None)
@disk_cached
def reduced_loss() -> sp.Expr:
    """Derive the population loss per coordinate, ``E|f(x) - x1|^2 / (2d)``."""
    x_i, x1_i = _sample_coordinates()
    error_i = c * x_i + _u_i * phi - x1_i
    per_coordinate = sum_coordinates(error_i**2) * epsilon**2 / 2
    slope, _ = _slope_and_shift()
    return gaussian.gaussian_expectation(
        per_coordinate, slope, _LOADS, _RESIDUAL_COVARIANCE
    )


def _phase_one_substitution():
    """Return ``beta`` of phase 1 in ``epsilon`` and the limits of ``alpha, Gamma``.

    ``beta = kappa tau/sqrt(d)`` is substituted exactly, so the drifts
    become Laurent polynomials in ``epsilon``. ``alpha`` and ``Gamma`` tend
    to 1, and only their values at ``epsilon = 0`` enter the limit.
    """
    piece = dilated_schedule().pieces[0]
    in_epsilon = {d: epsilon**-2}
    beta_value = sp.expand(piece.beta.subs(in_epsilon))
    alpha_limit = sp.limit(piece.alpha.subs(in_epsilon), epsilon, 0)
    gamma_limit = gamma_expr.subs({alpha: alpha_limit, beta: 0})
    return {beta: beta_value}, {alpha: alpha_limit, _gamma: gamma_limit}


def _leading_order(expression: sp.Expr, substitution) -> sp.Expr:
    """Return the ``epsilon -> 0`` limit, checking that no power diverges.

    Raises ValueError when a negative power of ``epsilon`` survives, which
    would mean the step scaling has no ``d -> oo`` limit.
    """
    exact, limits = substitution
    expression = sp.expand(expression.subs(exact))
    lowest = sp.Poly(expression * epsilon**8, epsilon).monoms()[-1][0] - 8
    for power in range(lowest, 0):
        coefficient = sp.simplify(expression.coeff(epsilon, power))
        if coefficient != 0:
            raise ValueError(
                f"the drift diverges like epsilon^{power} with coefficient "
                f"{coefficient}; the step scaling does not give a d -> oo limit"
            )
    return sp.expand(expression.coeff(epsilon, 0).subs(limits))


@dataclass(frozen=True)
class PhaseOneDynamics:
    """Large-``d`` overlap ODEs on phase 1 of the dilated schedule.

    ``rates[name]`` is ``d name/dT`` in the states, ``eta``, ``kappa``,
    ``t`` (tau) and the moments ``M_j_k = E[s^j tanh(a)^k]`` with
    ``a = slope*xi + shift`` (``shift`` contains ``s``).
    """

    rates: dict
    loss: sp.Expr
    slope: sp.Expr
    shift: sp.Expr
    moments: tuple


@functools.lru_cache(maxsize=None)
@disk_cached
def phase_one_dynamics() -> PhaseOneDynamics:
    """Derive the ``d -> oo`` overlap ODEs of phase 1 (``beta = kappa tau/sqrt(d)``)."""
    substitution = _phase_one_substitution()
    rates = {
        name: _leading_order(rate, substitution)
        for name, rate in overlap_rates().items()
    }
    loss = _leading_order(reduced_loss(), substitution)
    slope, shift = _slope_and_shift()
    slope = _leading_order(slope, substitution)
    shift = _leading_order(shift, substitution)
    moments = set()
    for expression in [*rates.values(), loss]:
        moments.update(gaussian.moment_indices(expression))
    return PhaseOneDynamics(
        rates={name: rates[name] for name in STATE_NAMES},
        loss=loss,
        slope=slope,
        shift=shift,
        moments=tuple(sorted(moments)),
    )
