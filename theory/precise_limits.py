"""Large-``d`` limits of the generated statistics to 30 digits (mpmath).

Two families of limits are evaluated with ``mpmath`` at ``dps`` decimal
digits (default 30, with 10 guard digits):

- the continuous phase-1 flow. At ``tau = 1`` the projection
  ``y = mu.X/sqrt(d)`` has the law ``p N(kappa, 1) + (1-p) N(-kappa, 1)``,
  and the first phase-2 step keeps the sign of ``kappa y + l``, so

      p_hat_oo(kappa) = P(kappa y + l > 0)
                      = p Phi(kappa + l/kappa) + (1-p) Phi(-kappa + l/kappa).

  :func:`p_hat_gap_leading` derives the leading behaviour of
  ``p_hat_oo - p`` as ``kappa -> oo`` with SymPy, from the asymptotic
  series of ``erfc``;
- the Euler sampler on a given grid, from the exact step limits of
  :func:`flowphase.theory.sampler.step_limits`: ``p_hat`` is the Gaussian
  mass of the initial projections ``y_0`` whose image keeps a positive
  sign at the deciding step, and ``sigma2_hat = prod_k (1 + lin_k)^2``.

| symbol | meaning                        | name        |
|--------|--------------------------------|-------------|
| l      | log-odds artanh(2p - 1)        | ``ell``     |
| Phi    | standard normal distribution   | ``mp.ncdf`` |
"""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import sympy as sp

from .sampler import step_limits
from .symbols import kappa, log_odds

__all__ = [
    "p_hat_flow_expression",
    "p_hat_gap_leading",
    "p_hat_flow_limit",
    "p_hat_flow_gap",
    "sampler_limits_precise",
    "DIGITS",
]

#: Default number of significant decimal digits of the results.
DIGITS = 30
_GUARD_DIGITS = 10
#: Initial projections are integrated over [-_Y0_BOUND, _Y0_BOUND]; the
#: neglected Gaussian mass is below 1e-32 and is added back by sign.
_Y0_BOUND = 12
_SCAN_POINTS = 24001

_p = sp.Symbol("p", positive=True)


def _normal_cdf(x):
    return sp.erfc(-x / sp.sqrt(2)) / 2


def p_hat_flow_expression() -> sp.Expr:
    """Build ``P(kappa y + l > 0)`` for ``y ~ p N(kappa, 1) + (1-p) N(-kappa, 1)``.

    The result is in ``p``, ``kappa`` and ``log_odds``; ``p`` is the mixture
    weight of the ``+kappa`` component, the symbol returned second.
    """
    threshold = -log_odds / kappa
    upper_tail = 1 - _normal_cdf(threshold - kappa)
    lower_tail = 1 - _normal_cdf(threshold + kappa)
    return _p * upper_tail + (1 - _p) * lower_tail


@functools.lru_cache(maxsize=None)
def p_hat_gap_leading() -> sp.Expr:
    """Derive the leading term of ``p_hat_oo(kappa) - p`` as ``kappa -> oo``.

    ``p`` is written as ``(1 + tanh l)/2``, and each ``erfc(z)`` is replaced
    by its asymptotic series to three terms (the first two give the leading
    order). Then the ``exp(-kappa^2/2)`` factor is divided out, and the
    lowest nonzero term of the series in ``x = 1/kappa`` is kept. Returns an expression in ``kappa``
    and ``log_odds``.
    """
    z = sp.Symbol("z", positive=True)
    x = sp.Symbol("x", positive=True)
    series = sp.expand(sp.erfc(z).series(z, sp.oo, 6)).removeO()
    gap = p_hat_flow_expression() - _p
    gap = gap.subs(_p, (1 + sp.tanh(log_odds)) / 2)

    def asymptotic(argument):
        # erfc(-z) = 2 - erfc(z) turns a tail at -oo into one at +oo.
        direction = sp.limit(argument, kappa, sp.oo)
        if direction == sp.oo:
            return series.subs(z, argument)
        if direction == -sp.oo:
            return 2 - series.subs(z, -argument)
        raise NotImplementedError(f"erfc({argument}) has no tail as kappa -> oo")

    gap = gap.replace(sp.erfc, asymptotic)
    scaled = sp.expand((gap * sp.exp(kappa**2 / 2)).rewrite(sp.exp))
    # Merging the exponentials leaves factors exp(+-l - l^2 x^2/2), analytic at x = 0.
    scaled = sp.powsimp(sp.expand(sp.powsimp(scaled, combine="exp")), combine="exp")
    in_x = sp.expand(scaled.subs(kappa, 1 / x))
    for order in (2, 4, 6):
        polynomial = sp.expand(sp.series(in_x, x, 0, order).removeO())
        terms = {power: sp.simplify(coefficient) for power, coefficient
                 in sp.collect(polynomial, x, evaluate=False).items()}
        terms = {power: coefficient for power, coefficient in terms.items()
                 if coefficient != 0}
        if terms:
            break
    else:
        raise NotImplementedError("the gap vanishes to order x^5; take more erfc terms")
    lowest = min(terms, key=lambda power: sp.degree(power, x))
    leading = terms[lowest] * lowest
    return leading.subs(x, 1 / kappa) * sp.exp(-kappa**2 / 2)


def _context(dps):
    if not isinstance(dps, int) or dps < 15:
        raise ValueError(f"dps must be an integer >= 15, got {dps!r}")
    return mp.workdps(dps + _GUARD_DIGITS)


def _log_odds(p):
    return mp.atanh(2 * mp.mpf(p) - 1)


def p_hat_flow_limit(p, kappa_value, dps: int = DIGITS) -> mp.mpf:
    """Evaluate ``p Phi(kappa + l/kappa) + (1-p) Phi(-kappa + l/kappa)`` to ``dps`` digits.

    ``p`` and ``kappa_value`` are read exactly from their decimal strings
    (``0.8`` is 4/5, not the nearest double).
    """
    with _context(dps):
        p_value, k = mp.mpf(str(p)), mp.mpf(str(kappa_value))
        ell = _log_odds(p_value)
        value = p_value * mp.ncdf(k + ell / k) + (1 - p_value) * mp.ncdf(-k + ell / k)
    return value


def p_hat_flow_gap(p, kappa_value, dps: int = DIGITS) -> mp.mpf:
    """Evaluate ``p_hat_oo(kappa) - p`` without cancelling against ``p``.

    ``p_hat_oo - p = (1-p) Phi(-kappa + l/kappa) - p Phi(-kappa - l/kappa)``,
    a difference of two tails whose ratio tends to 1 only like
    ``1 + O(l/kappa^2)``, so few digits cancel even where the gap is 1e-200.
    """
    with _context(dps):
        p_value, k = mp.mpf(str(p)), mp.mpf(str(kappa_value))
        ell = _log_odds(p_value)
        value = (1 - p_value) * mp.ncdf(-k + ell / k) - p_value * mp.ncdf(-k - ell / k)
    return value


def _to_mp(expression):
    if expression is None:
        return None
    if expression == sp.oo:
        return mp.inf
    if expression == -sp.oo:
        return -mp.inf
    return mp.mpf(str(sp.N(expression, mp.mp.dps + 5)))


def _order_one_map(steps, ell):
    """Return ``y_0 -> y`` through steps ``y -> (1 + lin) y + drive tanh(omega y + l)``."""

    def apply(y0):
        y = y0
        for lin, omega, _, drive in steps:
            y = (1 + lin) * y + drive * mp.tanh(omega * y + ell)
        return y

    return apply


def _roots(function, float_function):
    """Find the sign changes of ``function`` on a float scan and refine them in mpmath."""
    scan = np.linspace(-_Y0_BOUND, _Y0_BOUND, _SCAN_POINTS)
    signs = np.sign(float_function(scan))
    roots = []
    for index in np.nonzero(signs[:-1] * signs[1:] < 0)[0]:
        bracket = (mp.mpf(scan[index]), mp.mpf(scan[index + 1]))
        roots.append(mp.findroot(function, bracket, solver="illinois"))
    if np.any(signs == 0):
        # NOTE: an exact zero on the scan is taken as a root without refinement.
        roots.extend(mp.mpf(value) for value in scan[signs == 0])
    return sorted(roots)


def _positive_mass(function, roots):
    """Return ``P(function(y_0) > 0)`` for ``y_0 ~ N(0, 1)``, sign fixed between roots."""
    edges = [-mp.inf, *roots, mp.inf]
    mass = mp.mpf(0)
    for left, right in zip(edges, edges[1:]):
        if left == -mp.inf and right == mp.inf:
            probe = mp.mpf(0)
        elif left == -mp.inf:
            probe = right - 1
        elif right == mp.inf:
            probe = left + 1
        else:
            probe = (left + right) / 2
        if function(probe) > 0:
            mass += mp.ncdf(right) - mp.ncdf(left)
    return mass


def sampler_limits_precise(schedule, grid, *, p, sigma, dps: int = DIGITS,
                           side: str = "right") -> dict:
    """Evaluate ``p_hat`` and ``sigma2_hat`` of the Euler sampler as ``d -> oo``.

    The step limits are exact SymPy numbers, evaluated at ``dps`` plus guard
    digits. Returns ``{"p_hat", "sigma2_hat"}`` as mpmath numbers. Raises
    NotImplementedError where a step has no finite large-``d`` form, or
    where the decision step has ``omega -> 0`` at ``p = 1/2`` (see
    :mod:`flowphase.numerics.sampler_stats`, which treats more cases).
    NOTE: ``M_end`` is not evaluated here.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must lie in (0, 1), got p={p!r}")
    exact_sigma = sp.nsimplify(str(sigma), rational=True)
    limits = step_limits(schedule, grid, side=side, sigma=exact_sigma)
    with _context(dps):
        ell = _log_odds(mp.mpf(str(p)))
        steps = [(_to_mp(s.lin), _to_mp(s.omega), _to_mp(s.jump), _to_mp(s.drive))
                 for s in limits]
        for index, (lin, _, _, drive) in enumerate(steps):
            if not mp.isfinite(lin) or (drive is not None and not mp.isfinite(drive)):
                raise NotImplementedError(f"step {index} has no finite large-d form")
        growth = mp.fprod((1 + lin) ** 2 for lin, _, _, _ in steps)
        decisions = [index for index, step in enumerate(steps) if step[2] != 0]
        if not decisions:
            value = _order_one_map(steps, ell)
            sign_of = value
        else:
            decision = decisions[0]
            before = _order_one_map(steps[:decision], ell)
            _, omega, jump, _ = steps[decision]
            if omega == 0 and ell == 0:
                raise NotImplementedError(
                    f"the deciding step {decision} has omega -> 0 and p = 1/2, so the "
                    "limit needs the next order of omega"
                )
            if mp.isinf(omega):
                orientation = mp.sign(jump) * mp.sign(omega)
                sign_of = before
                value = lambda y0: orientation * mp.sign(before(y0))  # noqa: E731
            else:
                sign_of = lambda y0: omega * before(y0) + ell  # noqa: E731
                value = lambda y0: jump * mp.tanh(omega * before(y0) + ell)  # noqa: E731

        def float_sign_of(y0_values):
            return np.array([float(sign_of(mp.mpf(v))) for v in y0_values])

        roots = _roots(sign_of, _float_scan(steps, decisions, ell, float_sign_of))
        p_hat = _positive_mass(value, roots)
    return {"p_hat": p_hat, "sigma2_hat": growth}


def _float_scan(steps, decisions, ell, fallback):
    """Return a float64 version of the sign function, for the root scan only."""
    stop = decisions[0] if decisions else len(steps)
    rows = [(float(lin), float(drive)) for lin, _, _, drive in steps[:stop]]
    omegas = [float(omega) for _, omega, _, _ in steps[:stop]]
    ell_value = float(ell)
    final_omega = None
    if decisions and not mp.isinf(steps[stop][1]):
        final_omega = float(steps[stop][1])

    def scan(y0):
        y = np.array(y0, dtype=float)
        for (lin, drive), omega in zip(rows, omegas):
            y = (1.0 + lin) * y + drive * np.tanh(omega * y + ell_value)
        if final_omega is not None:
            return final_omega * y + ell_value
        return y

    if any(not math.isfinite(value) for value in omegas):
        return fallback
    return scan
