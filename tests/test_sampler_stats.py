"""Tests of the Euler sampler's statistics at finite d and as d -> oo."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq
from scipy.special import ndtr

from flowphase.numerics.sampler_stats import phase1_y_map, sampler_statistics
from flowphase.theory import sampler
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.theory.symbols import d, kappa, sigma

P_WEIGHT, SIGMA, KAPPA = 0.8, 1.0, 2
ELL = math.atanh(2 * P_WEIGHT - 1)
# p Phi(kappa + l/kappa) + (1 - p) Phi(-kappa + l/kappa): phase 1 integrated exactly.
P_HAT_FINE = P_WEIGHT * ndtr(KAPPA + ELL / KAPPA) + (1 - P_WEIGHT) * ndtr(
    -KAPPA + ELL / KAPPA
)


def _dilated_grid(phase_one_steps, phase_two_steps=20):
    phase_one = [Fraction(k, phase_one_steps) for k in range(phase_one_steps)]
    phase_two = [1 + Fraction(k, phase_two_steps) for k in range(phase_two_steps + 1)]
    return phase_one + phase_two


def _statistics(schedule, grid, dimension, side="right", **params):
    return sampler_statistics(
        schedule, grid, d=dimension, p=P_WEIGHT, sigma=SIGMA, side=side, **params
    )


# -- Monte Carlo of the d-dimensional sampler --------------------------------------


def _monte_carlo(schedule, grid, dimension, samples, seed, side="right", **params):
    """Run X_{k+1} = X_k + Delta_k v(tau_k, X_k) in R^d with the exact velocity.

    v = (alpha'/alpha) x + (beta' - alpha' beta/alpha) D(x), where
    D(x) = c x + (1 - c beta) mu tanh(beta (mu.x)/Gamma + l), c = sigma^2 beta/Gamma.
    """
    rng = np.random.default_rng(seed)
    mu = np.ones(dimension)
    x = rng.normal(size=(samples, dimension))
    times = [float(time) for time in grid]
    for index, (time, next_time) in enumerate(zip(times, times[1:])):
        step_side = "right" if index == 0 and time == 0 else side
        a, b, a_dot, b_dot = schedule.rates(time, d=dimension, side=step_side, **params)
        gamma = a**2 + SIGMA**2 * b**2
        c = SIGMA**2 * b / gamma
        projection = x @ mu
        denoised = c * x + np.outer((1 - c * b) * np.tanh(b * projection / gamma + ELL), mu)
        velocity = (a_dot / a) * x + (b_dot - a_dot * b / a) * denoised
        x = x + (next_time - time) * velocity
    projection = x @ mu
    orthogonal = x - np.outer(projection / dimension, mu)
    return {
        "positive": projection > 0,
        "P": np.sum(orthogonal**2, axis=1) / dimension,
        "M": np.abs(projection) / dimension,
    }


def _assert_matches_monte_carlo(exact, simulated):
    samples = len(simulated["positive"])
    p_error = math.sqrt(exact["p_hat"] * (1 - exact["p_hat"]) / samples)
    assert abs(simulated["positive"].mean() - exact["p_hat"]) < 4 * p_error
    for key, name in (("P", "sigma2_hat"), ("M", "M_end")):
        error = simulated[key].std() / math.sqrt(samples)
        assert abs(simulated[key].mean() - exact[name]) < 4 * error, name


@pytest.mark.parametrize("side", ["right", "left"])
def test_finite_d_matches_monte_carlo_dilated(side):
    schedule = dilated_schedule(KAPPA)
    grid = _dilated_grid(20)
    exact = _statistics(schedule, grid, 128, side=side)
    simulated = _monte_carlo(schedule, grid, 128, 20000, seed=1, side=side)
    _assert_matches_monte_carlo(exact, simulated)


@pytest.mark.parametrize("start", [0.0, 0.05])
def test_finite_d_matches_monte_carlo_linear(start):
    schedule = linear_schedule()
    grid = np.linspace(start, 1.0, 21)
    exact = _statistics(schedule, grid, 128)
    simulated = _monte_carlo(schedule, grid, 128, 20000, seed=2)
    _assert_matches_monte_carlo(exact, simulated)


# -- the limit d -> oo --------------------------------------------------------------


def test_dilated_limit_right_derivative():
    result = _statistics(dilated_schedule(KAPPA), _dilated_grid(20), math.inf)
    assert result["p_hat"] == pytest.approx(0.8081, abs=5e-5)
    assert result["sigma2_hat"] == pytest.approx(0.879, abs=5e-4)


def test_dilated_limit_left_derivative():
    result = _statistics(dilated_schedule(KAPPA), _dilated_grid(20), math.inf, side="left")
    assert result["p_hat"] == pytest.approx(0.7925, abs=5e-5)


def test_dilated_limit_with_symbolic_kappa():
    result = _statistics(dilated_schedule(), _dilated_grid(20), math.inf, kappa=KAPPA)
    assert result["p_hat"] == pytest.approx(0.8081, abs=5e-5)


@pytest.mark.parametrize("dimension", [256, math.inf])
def test_mode_swap_symmetry(dimension):
    schedule = dilated_schedule(KAPPA)
    grid = _dilated_grid(20)
    forward = _statistics(schedule, grid, dimension)
    swapped = sampler_statistics(schedule, grid, d=dimension, p=1 - P_WEIGHT, sigma=SIGMA)
    assert swapped["p_hat"] == pytest.approx(1 - forward["p_hat"], abs=1e-12)
    assert swapped["M_end"] == pytest.approx(forward["M_end"], rel=1e-12)


def test_undilated_limit_at_half_raises():
    with pytest.raises(NotImplementedError, match="p = 1/2"):
        sampler_statistics(linear_schedule(), [0, 0.5, 1], d=math.inf, p=0.5, sigma=1)


def test_undilated_limit_from_zero():
    result = _statistics(linear_schedule(), np.linspace(0, 1, 21), math.inf)
    assert result["p_hat"] == 1.0
    assert result["sigma2_hat"] == pytest.approx(0.879, abs=5e-4)


def test_undilated_limit_from_positive_time():
    result = _statistics(linear_schedule(), np.linspace(0.05, 1, 20), math.inf)
    assert result["p_hat"] == pytest.approx(0.5, abs=1e-14)


def test_sigma2_limit_with_forty_steps():
    result = _statistics(linear_schedule(), np.linspace(0, 1, 41), math.inf)
    assert result["sigma2_hat"] == pytest.approx(0.938, abs=5e-4)


def test_sigma2_limit_is_product_formula():
    grid = np.linspace(0, 1, 21)
    result = _statistics(linear_schedule(), grid, math.inf)
    times = grid[:-1]
    c = SIGMA**2 * times / ((1 - times) ** 2 + SIGMA**2 * times**2)
    expected = np.prod((1 + np.diff(grid) * (c - 1) / (1 - times)) ** 2)
    assert result["sigma2_hat"] == pytest.approx(expected, rel=1e-13)


def _refinement_gaps(phase_one_steps):
    schedule = dilated_schedule(KAPPA)
    return [
        _statistics(schedule, _dilated_grid(count), math.inf)["p_hat"] - P_HAT_FINE
        for count in phase_one_steps
    ]


def test_refinement_approaches_fine_limit():
    counts = [20, 40, 80]
    gaps = _refinement_gaps(counts)
    assert all(gap > 0 for gap in gaps)
    assert gaps[0] > gaps[1] > gaps[2]
    slope = np.polyfit(np.log(counts), np.log(gaps), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.05)


@pytest.mark.slow
def test_refinement_to_1280_steps():
    counts = [20, 80, 320, 1280]
    gaps = _refinement_gaps(counts)
    assert gaps[-1] < 1e-4
    slope = np.polyfit(np.log(counts), np.log(gaps), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.02)


def test_finite_d_close_to_limit_at_2048():
    schedule = dilated_schedule(KAPPA)
    grid = _dilated_grid(20)
    finite = _statistics(schedule, grid, 2048)
    limit = _statistics(schedule, grid, math.inf)
    assert abs(finite["p_hat"] - limit["p_hat"]) < 0.002


def test_finite_d_converges_to_limit():
    schedule = dilated_schedule(KAPPA)
    grid = _dilated_grid(20)
    limit = _statistics(schedule, grid, math.inf)
    for name in ("p_hat", "sigma2_hat", "M_end"):
        gaps = [
            abs(_statistics(schedule, grid, dimension)[name] - limit[name])
            for dimension in (1e4, 1e6, 1e8)
        ]
        assert gaps[0] > gaps[1] > gaps[2], name
        assert gaps[2] < 1e-3, name


def test_no_decision_step_keeps_overlap_zero():
    result = _statistics(dilated_schedule(KAPPA), [Fraction(k, 20) for k in range(21)], math.inf)
    assert result["M_end"] == 0.0
    assert result["sigma2_hat"] == 1.0
    assert 0.5 < result["p_hat"] < 1.0


def test_overlap_quadrature_matches_mpmath():
    """M_end and p_hat at d = 128 against tanh-sinh quadrature in mpmath."""
    schedule = dilated_schedule(KAPPA)
    grid = _dilated_grid(20)
    dimension = 128
    coefficients = sampler.step_coefficients(
        schedule, grid, d=dimension, p=P_WEIGHT, sigma=SIGMA
    )
    steps = list(zip(coefficients["lin"], coefficients["amp"], coefficients["omega"]))

    def final(value):
        y = value
        for lin, amp, omega in steps:
            y = (1 + lin) * y + amp * mpmath.tanh(omega * y + ELL)
        return y

    with mpmath.workdps(20):
        left, right = mpmath.mpf(-3), mpmath.mpf(3)
        for _ in range(80):
            middle = (left + right) / 2
            if final(middle) < 0:
                left = middle
            else:
                right = middle
        root = (left + right) / 2
        integral = mpmath.quad(
            lambda value: abs(final(value)) * mpmath.npdf(value), [-12, root, 12]
        )
        expected_overlap = float(integral / mpmath.sqrt(dimension))
        expected_p = float(mpmath.ncdf(-root))

    result = _statistics(schedule, grid, dimension)
    assert result["M_end"] == pytest.approx(expected_overlap, rel=1e-12)
    assert result["p_hat"] == pytest.approx(expected_p, abs=1e-14)


# -- step coefficients and limits -----------------------------------------------------


def test_step_coefficients_match_symbolic_steps():
    schedule = dilated_schedule(KAPPA)
    grid = _dilated_grid(20)
    numeric = sampler.step_coefficients(schedule, grid, d=300, p=P_WEIGHT, sigma=1.3)
    for index in (0, 7, 20, 33):
        time = sp.Rational(grid[index].numerator, grid[index].denominator)
        step = sp.Rational(grid[index + 1] - grid[index])
        piece = schedule.piece_at(time, "right")
        expressions = sampler.step_expressions(piece, time, step)
        for name in ("lin", "amp", "omega"):
            value = float(expressions[name].subs({d: 300, sigma: sp.Rational(13, 10)}))
            assert numeric[name][index] == pytest.approx(value, rel=1e-12), name


def test_step_limits_at_phase_boundary():
    limits = sampler.step_limits(dilated_schedule(), _dilated_grid(20), kappa=2, sigma=1)
    assert limits[19].jump == 0
    assert limits[19].drive == sp.Rational(1, 10)
    assert limits[20].jump == sp.Rational(1, 20)
    assert limits[20].omega == 2
    assert limits[21].omega == sp.oo


def test_step_limits_exact_and_general_paths_agree():
    schedule = dilated_schedule()
    values = {kappa: sp.Integer(2), sigma: sp.Rational(3, 2)}
    for time in (sp.Rational(1, 2), sp.Integer(1), sp.Rational(3, 2)):
        piece = schedule.piece_at(time, "right")
        step = sp.Rational(1, 20)
        fast = sampler._step_limit_rational(piece, time, step, values)
        general = sampler._step_limit_general(piece, time, step, values)
        assert fast == general


def test_float_grid_is_read_exactly():
    times = sampler.exact_grid(dilated_schedule(), np.linspace(0, 2, 41))
    assert times[3] == sp.Rational(3, 20)
    assert times[20] == 1


# -- the law of y in phase 1 -------------------------------------------------------------


def test_phase1_law_approaches_mixture():
    """The law of y at tau = 1 tends to p N(kappa, 1) + (1 - p) N(-kappa, 1).

    The map y_0 -> y is increasing, so P(y <= level) = Phi(y_0 root).
    """
    count = 160
    grid = _dilated_grid(count)
    schedule = dilated_schedule(KAPPA)
    y_map = phase1_y_map(schedule, grid, count, d=math.inf, p=P_WEIGHT, sigma=SIGMA)
    nodes = np.linspace(-8, 8, 2001)
    assert np.all(np.diff(y_map(nodes)) > 0)
    for level in (-2.0, 0.0, 1.0, 3.0):
        root = brentq(lambda value: y_map(np.array([value]))[0] - level, -12, 12)
        mixture = P_WEIGHT * ndtr(level - KAPPA) + (1 - P_WEIGHT) * ndtr(level + KAPPA)
        assert ndtr(root) == pytest.approx(mixture, abs=2e-3), level


def test_phase1_map_finite_d_near_limit():
    grid = _dilated_grid(20)
    schedule = dilated_schedule(KAPPA)
    limit_map = phase1_y_map(schedule, grid, 20, d=math.inf, p=P_WEIGHT, sigma=SIGMA)
    finite_map = phase1_y_map(schedule, grid, 20, d=1e8, p=P_WEIGHT, sigma=SIGMA)
    y0 = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(finite_map(y0), limit_map(y0), atol=1e-3)


def test_phase1_map_rejects_index_after_decision():
    with pytest.raises(ValueError, match="O\\(sqrt\\(d\\)\\)"):
        phase1_y_map(dilated_schedule(KAPPA), _dilated_grid(20), 22, d=math.inf, p=0.8, sigma=1)


# -- invalid input ------------------------------------------------------------------------


def test_nonpositive_alpha_raises():
    with pytest.raises(ValueError, match="alpha must be positive"):
        _statistics(dilated_schedule(KAPPA), _dilated_grid(20), 4)


def test_invalid_dimension_raises():
    with pytest.raises(ValueError, match="d must be a number"):
        _statistics(linear_schedule(), [0, 0.5, 1], "inf")


def test_unsorted_grid_raises():
    with pytest.raises(ValueError, match="strictly increasing"):
        _statistics(linear_schedule(), [0, 0.5, 0.5, 1], 64)
