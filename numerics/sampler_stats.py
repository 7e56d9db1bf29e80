"""Statistics of the explicit Euler sampler, exact at finite d and as d -> oo.

The sampler's steps act on ``y = mu.X/sqrt(d)`` by the scalar map
``y -> (1 + lin_k) y + amp_k tanh(omega_k y + l)`` and on
``P = |X_perp|^2/d`` by the factor ``(1 + lin_k)^2``, starting from
``y_0 ~ N(0, 1)`` and ``E[P_0] = (d - 1)/d``. So, with ``F`` the composed
map of ``y_0``,

    p_hat      = P(F(y_0) > 0),
    sigma2_hat = E[P_K] = (d - 1)/d * prod_k (1 + lin_k)^2,
    M_end      = E|F(y_0)| / sqrt(d).

``p_hat`` sums the Gaussian mass (``scipy.special.ndtr``) between the
roots of ``F``, and ``M_end`` integrates by composite Gauss-Legendre
quadrature with the roots as breakpoints. Pass ``d=math.inf`` for the limit
``d -> oo``, which follows the step classification of
``flowphase.theory.sampler.step_limits``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from flowphase.theory import sampler

__all__ = ["sampler_statistics", "phase1_y_map", "Y0_BOUND", "SCAN_POINTS"]

#: Initial projections are integrated over [-Y0_BOUND, Y0_BOUND]; the
#: Gaussian mass outside is below 1e-32.
Y0_BOUND = 12.0

#: Points of the uniform scan of [-Y0_BOUND, Y0_BOUND] for sign changes.
SCAN_POINTS = 24001

_ROOT_TOLERANCE = 1e-14
_QUAD_TOLERANCE = 1e-13
_GRADING_DEPTH = 52
_MAX_SPLITS = 6
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(16)


def _gaussian_density(y0):
    return np.exp(-0.5 * np.square(y0)) / math.sqrt(2.0 * math.pi)


def _roots(function: Callable, lower: float, upper: float) -> list[float]:
    """Locate every sign change of ``function`` on a scan and refine it by brentq.

    NOTE: two roots closer than the scan spacing (24/SCAN_POINTS) cancel
    and are missed.
    """
    scan = np.linspace(lower, upper, SCAN_POINTS)
    signs = np.sign(function(scan))
    changes = np.nonzero(signs[:-1] * signs[1:] <= 0)[0]

    def scalar(value: float) -> float:
        return float(function(np.array([value]))[0])

    roots = []
    for index in changes:
        left, right = scan[index], scan[index + 1]
        if signs[index] == 0:
            roots.append(float(left))
            continue
        if signs[index + 1] == 0:
            continue  # the next interval starts at this root
        roots.append(brentq(scalar, left, right, xtol=_ROOT_TOLERANCE))
    return roots


def _breakpoints(roots: list[float]) -> np.ndarray:
    return np.array([-Y0_BOUND, *roots, Y0_BOUND])


def _positive_mass(function: Callable, breakpoints: np.ndarray) -> float:
    """Return P(function(y_0) > 0) for y_0 ~ N(0, 1), sign fixed between breakpoints."""
    mass = 0.0
    for left, right in zip(breakpoints, breakpoints[1:]):
        middle = np.array([0.5 * (left + right)])
        if function(middle)[0] > 0:
            mass += ndtr(right) - ndtr(left)
    if function(np.array([Y0_BOUND]))[0] > 0:
        mass += ndtr(-Y0_BOUND)
    if function(np.array([-Y0_BOUND]))[0] > 0:
        mass += ndtr(-Y0_BOUND)
    return float(mass)


def _graded_edges(left: float, right: float) -> np.ndarray:
    """Return panel edges on [left, right] that halve in width towards both ends.

    Near a root of the sampler's map, |F| changes by O(1) over every decade
    of distance (each saturated step multiplies a small y by a large
    factor), so the panels shrink geometrically to _GRADING_DEPTH halvings.
    """
    halvings = 0.5 ** np.arange(1, _GRADING_DEPTH + 1)
    inner = np.concatenate([halvings[::-1], 1.0 - halvings])
    return left + (right - left) * np.concatenate([[0.0], inner, [1.0]])


def _gauss_legendre(function: Callable, edges: np.ndarray) -> float:
    centres = 0.5 * (edges[:-1] + edges[1:])
    half_widths = 0.5 * np.diff(edges)
    points = (centres[:, None] + half_widths[:, None] * _GAUSS_NODES[None, :]).ravel()
    values = function(points) * _gaussian_density(points)
    return float(np.sum(values.reshape(len(centres), -1) @ _GAUSS_WEIGHTS * half_widths))


def _expectation(function: Callable, breakpoints: np.ndarray) -> float:
    """Return E[function(y_0)] over [-Y0_BOUND, Y0_BOUND], split at breakpoints.

    Each piece uses Gauss-Legendre quadrature on graded panels, splitting
    every panel in two until two estimates agree to _QUAD_TOLERANCE
    (relative). Raises RuntimeError if they still differ after
    _MAX_SPLITS splits.
    """
    total = 0.0
    for left, right in zip(breakpoints, breakpoints[1:]):
        if right <= left:
            continue
        edges = _graded_edges(left, right)
        estimate = _gauss_legendre(function, edges)
        for _ in range(_MAX_SPLITS):
            midpoints = 0.5 * (edges[:-1] + edges[1:])
            edges = np.sort(np.concatenate([edges, midpoints]))
            refined = _gauss_legendre(function, edges)
            converged = abs(refined - estimate) <= _QUAD_TOLERANCE * max(abs(refined), 1.0)
            estimate = refined
            if converged:
                break
        else:
            raise RuntimeError(
                f"quadrature on [{left:.6g}, {right:.6g}] did not converge "
                f"after {_MAX_SPLITS} panel splits"
            )
        total += estimate
    return total


# -- finite d -----------------------------------------------------------------


def _finite_map(coefficients: dict, stop: int | None = None) -> Callable:
    """Return the vectorised map y_0 -> y after the first ``stop`` steps."""
    lin = coefficients["lin"][:stop]
    amp = coefficients["amp"][:stop]
    omega = coefficients["omega"][:stop]
    ell = coefficients["log_odds"]

    def apply(y0):
        y = np.array(y0, dtype=float, copy=True)
        for step in range(len(lin)):
            y = (1.0 + lin[step]) * y + amp[step] * np.tanh(omega[step] * y + ell)
        return y

    return apply


def _finite_statistics(coefficients: dict, d: float) -> dict[str, float]:
    final = _finite_map(coefficients)
    breakpoints = _breakpoints(_roots(final, -Y0_BOUND, Y0_BOUND))
    growth = float(np.prod(np.square(1.0 + coefficients["lin"])))
    mean_magnitude = _expectation(lambda y0: np.abs(final(y0)), breakpoints)
    return {
        "p_hat": _positive_mass(final, breakpoints),
        "sigma2_hat": (d - 1.0) / d * growth,
        "M_end": mean_magnitude / math.sqrt(d),
    }


# -- the limit d -> oo ----------------------------------------------------------


def _float_limits(limits: list) -> list[tuple[float, float, float, float | None]]:
    """Convert each StepLimit to ``(lin, omega, jump, drive)`` floats.

    Raises NotImplementedError for an infinite ``lin`` or ``drive``, where
    the step has no finite large-``d`` form.
    """
    converted = []
    for index, limit in enumerate(limits):
        drive = None if limit.drive is None else float(limit.drive)
        lin = float(limit.lin)
        if not math.isfinite(lin) or (drive is not None and not math.isfinite(drive)):
            raise NotImplementedError(
                f"step {index} has lin -> {limit.lin} and drive -> {limit.drive} "
                "as d -> oo, so it has no finite large-d form"
            )
        converted.append((lin, float(limit.omega), float(limit.jump), drive))
    return converted


def _saturated_tanh(omega: float, y, ell: float):
    """Return tanh(omega y + l), or its limit sign(omega y) when omega is infinite."""
    if math.isinf(omega):
        return np.sign(omega) * np.sign(y)
    return np.tanh(omega * y + ell)


def _order_one_map(steps: list, ell: float) -> Callable:
    """Return y_0 -> y after O(1) steps y -> (1 + lin) y + drive tanh(omega y + l)."""

    def apply(y0):
        y = np.array(y0, dtype=float, copy=True)
        for lin, omega, _, drive in steps:
            y = (1.0 + lin) * y + drive * _saturated_tanh(omega, y, ell)
        return y

    return apply


def _overlap_after_decision(steps: list, decision: int) -> tuple[float, float]:
    """Return ``(slope, intercept)`` with M_end = slope * M_start + intercept.

    After the decision ``y = s M sqrt(d)`` with ``M > 0``. A later step with
    ``jump == 0`` scales ``M`` by ``1 + lin`` (its O(1) drive vanishes on the
    scale of ``M``). A step with ``jump != 0`` adds ``jump sign(omega)``,
    because ``omega y`` diverges and the tanh saturates, which needs
    ``omega_inf != 0``. Raises NotImplementedError otherwise, or when ``M``
    could turn negative.
    """
    slope, intercept = 1.0, 0.0
    for index in range(decision + 1, len(steps)):
        lin, omega, jump, _ = steps[index]
        slope *= 1.0 + lin
        intercept *= 1.0 + lin
        if jump != 0.0:
            if omega == 0.0:
                raise NotImplementedError(
                    f"step {index} moves M by an O(1) amount but omega -> 0 there, "
                    "so tanh(omega y + l) is not saturated and the limit needs the "
                    "next order of omega"
                )
            intercept += jump * math.copysign(1.0, omega)
        if not (slope > 0.0 and intercept >= 0.0):
            raise NotImplementedError(
                f"after step {index} the overlap M may change sign "
                f"(M = {slope:.6g} M_start + {intercept:.6g}), which the limit does not cover"
            )
    return slope, intercept


def _decision_value(step: tuple, before: Callable, ell: float) -> Callable:
    """Return y_0 -> a value whose sign is the final sign and whose size is M_start."""
    _, omega, jump, _ = step
    if math.isinf(omega):
        return lambda y0: jump * math.copysign(1.0, omega) * np.sign(before(y0))
    return lambda y0: jump * np.tanh(omega * before(y0) + ell)


def _limit_statistics(steps: list, ell: float) -> dict[str, float]:
    growth = float(np.prod([(1.0 + lin) ** 2 for lin, _, _, _ in steps]))
    decisions = [index for index, step in enumerate(steps) if step[2] != 0.0]
    if not decisions:
        # Every step is O(1): y stays of order one and M_end = 0.
        final = _order_one_map(steps, ell)
        breakpoints = _breakpoints(_roots(final, -Y0_BOUND, Y0_BOUND))
        return {"p_hat": _positive_mass(final, breakpoints), "sigma2_hat": growth, "M_end": 0.0}

    decision = decisions[0]
    if steps[decision][1] == 0.0 and ell == 0.0:
        raise NotImplementedError(
            f"at step {decision} omega -> 0 and p = 1/2, so the O(sqrt(d)) move "
            "amp tanh(omega y) is only O(1) and the limit needs the next order of omega"
        )
    before = _order_one_map(steps[:decision], ell)
    value = _decision_value(steps[decision], before, ell)
    if math.isinf(steps[decision][1]):
        roots = _roots(before, -Y0_BOUND, Y0_BOUND)
    else:
        roots = _roots(value, -Y0_BOUND, Y0_BOUND)
    breakpoints = _breakpoints(roots)
    slope, intercept = _overlap_after_decision(steps, decision)
    start_mean = _expectation(lambda y0: np.abs(value(y0)), breakpoints)
    return {
        "p_hat": _positive_mass(value, breakpoints),
        "sigma2_hat": growth,
        "M_end": slope * start_mean + intercept,
    }


# -- public interface ---------------------------------------------------------------


def _is_limit(d) -> bool:
    if isinstance(d, (int, float, np.integer, np.floating)) and not isinstance(d, bool):
        if math.isinf(d) and d > 0:
            return True
        if math.isfinite(d) and d > 1:
            return False
    raise ValueError(
        f"d must be a number greater than 1 or math.inf for the limit d -> oo, got d={d!r}"
    )


def sampler_statistics(
    schedule, grid, *, d, p, sigma, side: str = "right", **params
) -> dict[str, float]:
    """Return ``{"p_hat", "sigma2_hat", "M_end"}`` of the Euler sampler on ``grid``.

    ``d`` is the dimension, or ``math.inf`` for the limit ``d -> oo``.
    ``side`` selects the one-sided derivative at each grid time (``"right"``
    is the sampler's definition, ``"left"`` the alternative convention).
    ``params`` are the schedule's parameters, e.g. ``kappa=2``. At finite
    ``d`` the values are exact up to root finding (1e-14) and quadrature
    (about 1e-12). The limit raises NotImplementedError for grids whose
    steps have no finite large-``d`` form.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), got p={p!r}")
    if not 0 < sigma < math.inf:
        raise ValueError(f"sigma must be positive and finite, got sigma={sigma!r}")
    ell = float(np.arctanh(2.0 * p - 1.0))
    if _is_limit(d):
        limits = sampler.step_limits(schedule, grid, side=side, sigma=sigma, **params)
        return _limit_statistics(_float_limits(limits), ell)
    coefficients = sampler.step_coefficients(
        schedule, grid, d=d, p=p, sigma=sigma, side=side, **params
    )
    return _finite_statistics(coefficients, float(d))


def phase1_y_map(
    schedule, grid, index: int, *, d, p, sigma, side: str = "right", **params
) -> Callable[[np.ndarray], np.ndarray]:
    """Return the vectorised map y_0 -> y at grid time ``grid[index]``.

    With ``d=math.inf`` the map is the large-``d`` limit of the first
    ``index`` steps, which exists only while ``y`` stays of order one;
    ValueError is raised if a step before ``index`` moves ``y`` by
    O(sqrt(d)). Pushing y_0 ~ N(0, 1) through the map gives the law of
    ``y`` at that time, e.g. at ``tau = 1`` on the dilated schedule.
    """
    count = len(np.asarray(grid, dtype=object).ravel())
    if not 0 <= index < count:
        raise ValueError(f"index must lie in [0, {count - 1}], got index={index}")
    if not _is_limit(d):
        coefficients = sampler.step_coefficients(
            schedule, grid, d=d, p=p, sigma=sigma, side=side, **params
        )
        return _finite_map(coefficients, stop=index)
    limits = _float_limits(
        sampler.step_limits(schedule, grid, side=side, sigma=sigma, **params)
    )[:index]
    jumps = [step for step, (_, _, jump, _) in enumerate(limits) if jump != 0.0]
    if jumps:
        raise ValueError(
            f"step {jumps[0]} moves y by O(sqrt(d)), so y at grid index {index} "
            "has no O(1) limit. Pass an earlier index or a finite d."
        )
    return _order_one_map(limits, float(np.arctanh(2.0 * p - 1.0)))
