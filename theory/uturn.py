"""The U-turn flip curve of the mixture in the ``d -> oo`` limit.

Noise a data point ``x1 = s mu + sigma z`` to ``tau0`` on the dilated
schedule, generate back with the exact probability flow, and ask whether
the mode sign of the result differs from ``s``. In phase 1 the
projection ``y = mu.x/sqrt(d)`` of the noised point is, given ``s``,
Gaussian with mean ``sqrt(d) beta s`` and variance ``alpha^2 + sigma^2 beta^2``,
which tend to ``kappa tau0 s`` and 1 (derived below with ``sympy.limit``).

With the exact velocity the flow of ``y`` is a one-dimensional ODE, so it
keeps the order of its points. It carries the law ``rho_tau0`` of ``y``
to the data law, where a fraction ``p`` has ``s = +1``. Hence the
generated sign is ``+1`` exactly when ``y(tau0) > y*``, where ``y*`` is the
``1 - p`` quantile of the large-``d`` law ``p N(kappa tau0, 1) +
(1 - p) N(-kappa tau0, 1)``:

    p Phi(y* - kappa tau0) + (1 - p) Phi(y* + kappa tau0) = 1 - p,
    F(tau0) = p Phi(y* - kappa tau0) + (1 - p) (1 - Phi(y* + kappa tau0))
            = 2 p Phi(y* - kappa tau0)   (using the quantile equation).

``F(0) = 2 p (1 - p)``. For ``tau0 > 1`` (phase 2, ``t`` fixed) the
projection is of order ``sqrt(d)`` and keeps its sign, so ``F -> 0``: the
limit curve drops from ``F(1)`` to 0 at the phase boundary.

| symbol | meaning                                  | name         |
|--------|------------------------------------------|--------------|
| tau0   | start time of the probe                  | ``tau0``     |
| y*     | quantile boundary of the mode decision   | ``y_star``   |
| Phi    | standard normal distribution function    | ``normal_cdf`` |
| F      | flip rate                                | ``flip``     |
"""

from __future__ import annotations

import functools

import sympy as sp

from .limits import limit_large_d
from .schedules import dilated_schedule
from .symbols import alpha, beta, d, p, sigma, t

tau0 = sp.Symbol("tau_0", nonnegative=True)
y_star = sp.Symbol("y_star", real=True)
_s = sp.Symbol("s", real=True)

__all__ = ["tau0", "y_star", "normal_cdf", "noised_projection_law", "boundary_equation",
           "flip_rate", "flip_rate_reduced"]


def normal_cdf(x: sp.Expr) -> sp.Expr:
    """Return ``Phi(x) = (1 + erf(x/sqrt(2)))/2``."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


@functools.lru_cache(maxsize=None)
def noised_projection_law() -> dict[str, sp.Expr]:
    """Derive the limit mean (for ``s = +1``) and variance of ``y`` at ``tau0`` in phase 1.

    ``y = mu.(alpha x0 + beta x1)/sqrt(d) = alpha g0 + beta (s sqrt(d) + sigma g1)``
    with ``g0, g1 ~ N(0, 1)`` independent, because ``|mu|^2 = d``.
    """
    mean = beta * _s * sp.sqrt(d)
    variance = alpha**2 + sigma**2 * beta**2
    piece = dilated_schedule().pieces[0]
    values = {alpha: piece.alpha.subs(t, tau0),
              beta: piece.beta.subs(t, tau0)}
    return {
        "mean": limit_large_d(mean.subs(values).subs(_s, 1)),
        "variance": limit_large_d(variance.subs(values)),
    }


def _limit_law_cdf(x: sp.Expr) -> sp.Expr:
    """Distribution function of ``p N(m, v) + (1 - p) N(-m, v)`` from the limit law."""
    law = noised_projection_law()
    scale = sp.sqrt(law["variance"])
    return (p * normal_cdf((x - law["mean"]) / scale)
            + (1 - p) * normal_cdf((x + law["mean"]) / scale))


@functools.lru_cache(maxsize=None)
def boundary_equation() -> sp.Expr:
    """Return the expression in ``y_star`` whose root is the decision boundary.

    It is ``F_tau0(y*) - (1 - p)``, the limit law's distribution function
    minus the mass of the ``-mu`` mode.
    """
    return sp.simplify(_limit_law_cdf(y_star) - (1 - p))


@functools.lru_cache(maxsize=None)
def flip_rate() -> sp.Expr:
    """Return ``F(tau0)`` in ``y_star, tau0, p, kappa`` before using the boundary equation.

    A ``+mu`` point flips when ``y < y*`` and a ``-mu`` point when ``y > y*``.
    """
    law = noised_projection_law()
    scale = sp.sqrt(law["variance"])
    plus = normal_cdf((y_star - law["mean"]) / scale)
    minus = 1 - normal_cdf((y_star + law["mean"]) / scale)
    return p * plus + (1 - p) * minus


@functools.lru_cache(maxsize=None)
def flip_rate_reduced() -> sp.Expr:
    """Return ``F(tau0) = 2 p Phi(y* - kappa tau0)``, checked against :func:`flip_rate`.

    The full form minus the reduced one must simplify to minus the
    boundary equation, or this raises ``ArithmeticError``.
    """
    law = noised_projection_law()
    reduced = 2 * p * normal_cdf((y_star - law["mean"]) / sp.sqrt(law["variance"]))
    difference = sp.simplify(flip_rate() - reduced + boundary_equation())
    if difference != 0:
        raise ArithmeticError(f"the reduced flip rate does not follow: residual {difference}")
    return reduced

