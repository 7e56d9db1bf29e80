"""Gaussian and mode expectations reduced to named one-dimensional integrals.

The expressions handled here are polynomials in

- ``xi``, a standard Gaussian, and ``phi = tanh(a)`` with the pre-activation
  ``a = slope*xi + shift`` affine in ``xi``;
- other centred Gaussians, given as ``G = load*xi + R`` where the residual
  ``R`` is independent of ``xi`` (its covariances are supplied);
- the mode sign ``s`` (``s**2 = 1``).

:func:`gaussian_expectation` removes the residuals by Isserlis' theorem,
then removes every power of ``xi`` by Stein's lemma
``E[xi H(xi)] = E[H'(xi)]``, where ``H' = dH/dxi + slope (1 - phi^2) dH/dphi``.
What is left is a linear combination of the moments
``E[s^j phi^k]`` (:func:`moment_symbol`), each a sum over the two modes of
a one-dimensional Gaussian integral.

| symbol            | meaning                                  | name           |
|-------------------|------------------------------------------|----------------|
| xi                | standard Gaussian of the pre-activation  | ``xi``         |
| phi               | tanh(a)                                  | ``phi``        |
| s                 | mode sign, P(s = +1) = p                 | ``s``          |
| E[s^j phi^k]      | named moment                             | ``M_j_k``      |
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import sympy as sp

__all__ = [
    "xi",
    "phi",
    "s",
    "moment_symbol",
    "moment_indices",
    "isserlis",
    "stein_reduce",
    "gaussian_expectation",
]

xi = sp.Symbol("xi", real=True)
phi = sp.Symbol("phi", real=True)
s = sp.Symbol("s", real=True)


def moment_symbol(j: int, k: int) -> sp.Symbol:
    """Return the symbol ``M_j_k`` standing for ``E[s^j phi^k]``, ``j`` in {0, 1}."""
    if j not in (0, 1) or k < 0:
        raise ValueError(
            f"moment indices must satisfy j in (0, 1) and k >= 0, got j={j}, k={k}"
        )
    return sp.Symbol(f"M_{j}_{k}", real=True)


def moment_indices(expression: sp.Expr) -> list[tuple[int, int]]:
    """Return the sorted ``(j, k)`` of the moment symbols in ``expression``."""
    indices = []
    for symbol in expression.free_symbols:
        parts = symbol.name.split("_")
        if len(parts) == 3 and parts[0] == "M":
            indices.append((int(parts[1]), int(parts[2])))
    return sorted(indices)


def isserlis(factors: Sequence[sp.Symbol], covariance) -> sp.Expr:
    """Return E[prod factors] of centred jointly Gaussian variables.

    ``covariance(a, b)`` returns the covariance of two of them. The sum runs
    over all pairings of the factors, so an odd count gives zero.
    """
    factors = list(factors)
    if not factors:
        return sp.Integer(1)
    if len(factors) % 2:
        return sp.Integer(0)

    first, rest = factors[0], factors[1:]
    total = sp.Integer(0)
    for index, partner in enumerate(rest):
        others = rest[:index] + rest[index + 1 :]
        total += covariance(first, partner) * isserlis(others, covariance)
    return total


def _xi_derivative(polynomial: sp.Expr, slope: sp.Expr) -> sp.Expr:
    """Differentiate a polynomial in ``xi`` and ``phi = tanh(slope*xi + shift)``."""
    chain = slope * (1 - phi**2) * sp.diff(polynomial, phi)
    return sp.expand(sp.diff(polynomial, xi) + chain)


def stein_reduce(polynomial: sp.Expr, slope: sp.Expr) -> sp.Expr:
    """Replace ``E[xi^n H]`` by ``E[xi^(n-1) H'] + (n-1) E[xi^(n-2) H]``.

    Applied until no ``xi`` is left, so the result is a polynomial in
    ``phi`` and ``s`` with the same expectation as ``polynomial``.
    """
    polynomial = sp.expand(polynomial)
    result = sp.Integer(0)
    for (power,), coefficient in sp.Poly(polynomial, xi).terms():
        result += _stein_power(power, coefficient, slope)
    return sp.expand(result)


def _stein_power(power: int, factor: sp.Expr, slope: sp.Expr) -> sp.Expr:
    """Return an ``xi``-free polynomial with the expectation of ``xi^power factor``."""
    if power == 0:
        return factor
    lowered = _stein_power(power - 1, _xi_derivative(factor, slope), slope)
    if power >= 2:
        lowered += (power - 1) * _stein_power(power - 2, factor, slope)
    return lowered


def _to_moments(polynomial: sp.Expr) -> sp.Expr:
    """Replace each ``s^j phi^k`` by the moment symbol ``M_(j mod 2)_k``."""
    polynomial = sp.expand(polynomial)
    result = sp.Integer(0)
    for (j, k), coefficient in sp.Poly(polynomial, s, phi).terms():
        if j % 2 == 0 and k == 0:
            result += coefficient  # E[1] = 1
        else:
            result += coefficient * moment_symbol(j % 2, k)
    return result


def gaussian_expectation(
    expression: sp.Expr,
    slope: sp.Expr,
    loads: Mapping[sp.Symbol, sp.Expr],
    residual_covariance: Mapping[tuple[sp.Symbol, sp.Symbol], sp.Expr],
) -> sp.Expr:
    """Return E[expression] as a combination of the moments ``E[s^j phi^k]``.

    ``expression`` is a polynomial in ``xi``, ``phi``, ``s`` and the
    Gaussians that are keys of ``loads``. Each such Gaussian ``G`` is
    ``loads[G]*xi + R_G`` with ``R_G`` independent of ``xi`` and of ``s``,
    and ``residual_covariance[(G, H)]`` is the covariance of ``R_G`` and
    ``R_H`` (either key order). ``slope`` is ``da/dxi``.
    """
    gaussians = list(loads)
    residuals = {g: sp.Symbol(f"R_{g.name}", real=True) for g in gaussians}
    names = {residuals[g]: g for g in gaussians}

    def covariance(left, right):
        key = (names[left], names[right])
        if key in residual_covariance:
            return residual_covariance[key]
        return residual_covariance[key[::-1]]

    substituted = sp.expand(
        expression.subs({g: loads[g] * xi + residuals[g] for g in gaussians})
    )
    generators = list(residuals.values())
    if not generators:
        return sp.expand(_to_moments(stein_reduce(substituted, slope)))

    free_of_residuals = sp.Integer(0)
    for powers, coefficient in sp.Poly(substituted, *generators).terms():
        factors = list(
            itertools.chain.from_iterable(
                [symbol] * power for symbol, power in zip(generators, powers)
            )
        )
        free_of_residuals += coefficient * isserlis(factors, covariance)

    return sp.expand(_to_moments(stein_reduce(free_of_residuals, slope)))
