"""Tests of the exact denoiser, velocity field and optimal overlaps."""

import numpy as np
import pytest
import sympy as sp
from scipy.special import logsumexp

from flowphase.theory import model
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.theory.symbols import (
    alpha,
    alpha_dot,
    beta,
    beta_dot,
    d,
    kappa,
    log_odds,
    sigma,
)

GAMMA = alpha**2 + sigma**2 * beta**2
C_STAR = sigma**2 * beta / GAMMA


def _is_zero(expression):
    return sp.simplify(expression) == 0


def test_denoiser_coefficients_closed_form():
    coefficients = model.denoiser_coefficients()
    assert _is_zero(coefficients["c"] - C_STAR)
    assert _is_zero(coefficients["m"] - (1 - C_STAR * beta))
    assert _is_zero(coefficients["slope"] - beta / GAMMA)
    assert _is_zero(coefficients["bias"] - log_odds)
    assert _is_zero(model.gamma_expr - GAMMA)
    assert _is_zero(model.c_star - C_STAR)


def test_velocity_coefficients_closed_form():
    coefficients = model.velocity_coefficients()
    assert _is_zero(coefficients["A"] - alpha_dot / alpha)
    assert _is_zero(coefficients["B"] - (beta_dot - alpha_dot * beta / alpha))


def _posterior_means_by_linear_algebra(x, mu, a, b, s_dev, p):
    """E[x0 | x_t = x] and E[x1 | x_t = x] from the joint Gaussian per mode.

    The covariances given the mode are assembled as matrices and each
    conditional mean uses a linear solve. The mode posterior comes from the
    Gaussian log-densities of x_t.
    """
    dim = len(x)
    eye = np.eye(dim)
    cov_tt = a**2 * eye + b**2 * s_dev**2 * eye
    cov_1t = b * s_dev**2 * eye
    cov_0t = a * eye
    log_weights, mean0, mean1 = [], [], []
    for sign, prior in ((1, p), (-1, 1 - p)):
        centre = sign * b * mu
        residual = np.linalg.solve(cov_tt, x - centre)
        _, logdet = np.linalg.slogdet(cov_tt)
        log_weights.append(
            np.log(prior) - 0.5 * (x - centre) @ residual - 0.5 * logdet
        )
        mean0.append(cov_0t @ residual)
        mean1.append(sign * mu + cov_1t @ residual)
    weights = np.exp(np.array(log_weights) - logsumexp(log_weights))
    return weights @ np.array(mean0), weights @ np.array(mean1), weights


def _numeric(expression, values):
    return float(expression.subs(values))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_denoiser_matches_linear_algebra(seed):
    rng = np.random.default_rng(seed)
    dim = 6
    mu = rng.choice([-1.0, 1.0], size=dim)
    a, b = rng.uniform(0.2, 1.0, size=2)
    s_dev = rng.uniform(0.5, 2.0)
    p_value = rng.uniform(0.1, 0.9)
    x = rng.normal(size=dim) + b * mu
    _, expected, weights = _posterior_means_by_linear_algebra(
        x, mu, a, b, s_dev, p_value
    )
    values = {
        alpha: a,
        beta: b,
        sigma: s_dev,
        d: dim,
        log_odds: np.arctanh(2 * p_value - 1),
        model.mu_dot_x: float(mu @ x),
    }
    posterior_sign = _numeric(model.mode_posterior_mean(), values)
    assert posterior_sign == pytest.approx(weights[0] - weights[1], abs=1e-12)

    coefficients = model.denoiser_coefficients()
    tanh_value = np.tanh(
        _numeric(coefficients["slope"], values) * float(mu @ x)
        + _numeric(coefficients["bias"], values)
    )
    denoised = (
        _numeric(coefficients["c"], values) * x
        + _numeric(coefficients["m"], values) * mu * tanh_value
    )
    np.testing.assert_allclose(denoised, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [3, 4])
def test_velocity_matches_posterior_means(seed):
    rng = np.random.default_rng(seed)
    dim = 5
    mu = np.ones(dim)
    a, b, a_dot, b_dot = 0.6, 0.4, -1.3, 0.7
    s_dev, p_value = 0.8, 0.7
    x = rng.normal(size=dim)
    mean0, mean1, _ = _posterior_means_by_linear_algebra(x, mu, a, b, s_dev, p_value)
    expected = a_dot * mean0 + b_dot * mean1

    values = {
        alpha: a,
        beta: b,
        alpha_dot: a_dot,
        beta_dot: b_dot,
        sigma: s_dev,
        d: dim,
        log_odds: np.arctanh(2 * p_value - 1),
    }
    coefficients = model.denoiser_coefficients()
    argument = _numeric(coefficients["slope"], values) * (mu @ x)
    argument += _numeric(coefficients["bias"], values)
    denoised = _numeric(coefficients["c"], values) * x
    denoised += _numeric(coefficients["m"], values) * mu * np.tanh(argument)
    velocity = model.velocity_coefficients()
    result = _numeric(velocity["A"], values) * x
    result += _numeric(velocity["B"], values) * denoised
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12)


def test_optimal_overlaps_closed_form():
    overlaps = model.optimal_overlaps()
    m_closed = 1 - C_STAR * beta
    omega_closed = beta * sp.sqrt(d) / GAMMA
    assert _is_zero(overlaps["c"] - C_STAR)
    assert _is_zero(overlaps["m"] - m_closed)
    assert _is_zero(overlaps["q"] - m_closed**2)
    assert _is_zero(overlaps["omega"] - omega_closed)
    assert _is_zero(overlaps["r"] - omega_closed**2)
    assert _is_zero(overlaps["b"] - log_odds)
    assert _is_zero(overlaps["m_tanh_b"] - m_closed * sp.tanh(log_odds))
    assert tuple(overlaps) == model.OVERLAP_NAMES


def test_network_with_optimal_overlaps_is_denoiser():
    rng = np.random.default_rng(5)
    dim = 9
    mu = np.ones(dim)
    values = {alpha: 0.7, beta: 0.3, sigma: 1.4, d: dim, log_odds: 0.4}
    overlaps = {
        name: _numeric(expression, values)
        for name, expression in model.optimal_overlaps().items()
    }
    u = overlaps["m"] * mu
    w = overlaps["omega"] * mu
    x = rng.normal(size=dim)
    network = overlaps["c"] * x + u * np.tanh(w @ x / np.sqrt(dim) + overlaps["b"])
    values[model.mu_dot_x] = float(mu @ x)
    coefficients = model.denoiser_coefficients()
    exact = _numeric(coefficients["c"], values) * x + _numeric(
        coefficients["m"], values
    ) * mu * np.tanh(
        _numeric(coefficients["slope"] * model.mu_dot_x + coefficients["bias"], values)
    )
    np.testing.assert_allclose(network, exact, rtol=0, atol=1e-14)
    assert overlaps["q"] == pytest.approx(u @ u / dim, abs=1e-14)
    assert overlaps["r"] == pytest.approx(w @ w / dim, abs=1e-12)


def test_overlaps_on_dilated_phase_one():
    tau = sp.Rational(1, 2)
    overlaps = model.optimal_overlaps_on(dilated_schedule(), tau)
    beta_value = kappa * tau / sp.sqrt(d)
    gamma_value = (1 - beta_value) ** 2 + sigma**2 * beta_value**2
    assert _is_zero(overlaps["c"] - sigma**2 * beta_value / gamma_value)
    assert _is_zero(overlaps["omega"] - kappa * tau / gamma_value)


def test_overlaps_at_schedule_end_use_left_piece():
    overlaps = model.optimal_overlaps_on(linear_schedule(), 1)
    assert overlaps["c"] == 1
    assert _is_zero(overlaps["omega"] - sp.sqrt(d) / sigma**2)


@pytest.mark.parametrize("schedule_name", ["linear", "dilated"])
def test_overlaps_numeric_match_symbolic(schedule_name):
    schedule = linear_schedule() if schedule_name == "linear" else dilated_schedule(2)
    rng = np.random.default_rng(6)
    end = float(schedule.end)
    times = np.concatenate([[0.0, end], rng.uniform(0.0, end, size=6)])
    dim, p_value, s_dev = 256, 0.8, 1.3
    numeric = model.optimal_overlaps_numeric(
        schedule, times, d=dim, p=p_value, sigma=s_dev
    )
    values = {d: dim, sigma: s_dev, log_odds: sp.atanh(2 * sp.Rational("0.8") - 1)}
    for index, time in enumerate(times):
        side = "left" if time == end else "right"
        alpha_value, beta_value, _, _ = schedule.coefficient_expressions(time, side)
        values.update({alpha: alpha_value, beta: beta_value})
        for name in model.OVERLAP_NAMES:
            expected = float(model.optimal_overlaps()[name].subs(values))
            assert numeric[name][index] == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_overlaps_numeric_rejects_bad_p():
    with pytest.raises(ValueError, match="p must lie in"):
        model.optimal_overlaps_numeric(linear_schedule(), [0.5], d=8, p=1.0, sigma=1.0)
