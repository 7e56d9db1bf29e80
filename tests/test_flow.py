"""Tests of the summary-statistic ODEs of the generative flow."""

import numpy as np
import pytest
import sympy as sp

from flowphase.theory import flow
from flowphase.theory.schedules import dilated_schedule, linear_schedule
from flowphase.theory.symbols import (
    M,
    P,
    alpha,
    alpha_dot,
    beta,
    beta_dot,
    d,
    kappa,
    log_odds,
    sigma,
    t,
    y,
)

GAMMA = alpha**2 + sigma**2 * beta**2
C_STAR = sigma**2 * beta / GAMMA
A_RATE = alpha_dot / alpha
B_RATE = beta_dot - alpha_dot * beta / alpha


def _is_zero(expression):
    return sp.simplify(expression) == 0


def _phase_two_c(time):
    return sigma**2 * time / ((1 - time) ** 2 + sigma**2 * time**2)


def test_summary_odes_closed_form():
    dy_dt, dp_dt = flow.summary_odes()
    m = 1 - C_STAR * beta
    omega = beta * sp.sqrt(d) / GAMMA
    expected_dy = A_RATE * y + B_RATE * (
        C_STAR * y + m * sp.sqrt(d) * sp.tanh(omega * y + log_odds)
    )
    assert _is_zero(dy_dt - expected_dy)
    assert _is_zero(dp_dt - 2 * (A_RATE + B_RATE * C_STAR) * P)


def test_y_ode_parts():
    parts = flow.y_ode_parts()
    assert _is_zero(parts["linear"] - (A_RATE + B_RATE * C_STAR))
    assert _is_zero(parts["amplitude"] - B_RATE * (1 - C_STAR * beta) * sp.sqrt(d))
    assert _is_zero(parts["omega"] - beta * sp.sqrt(d) / GAMMA)
    assert parts["bias"] == log_odds


def _exact_velocity_numpy(x, mu, a, b, a_dot, b_dot, s_dev, ell):
    """v = a_dot E[x0|x] + b_dot E[x1|x] from the two Gaussian components."""
    gamma = a**2 + s_dev**2 * b**2
    log_weights = np.stack(
        [
            sign * ell - np.sum((x - sign * b * mu) ** 2, axis=1) / (2 * gamma)
            for sign in (1.0, -1.0)
        ]
    )
    weights = np.exp(log_weights - np.logaddexp(log_weights[0], log_weights[1]))
    mean1 = np.zeros_like(x)
    for weight, sign in zip(weights, (1.0, -1.0)):
        residual = x - sign * b * mu
        mean1 += weight[:, None] * (sign * mu + b * s_dev**2 / gamma * residual)
    mean0 = (x - b * mean1) / a
    return a_dot * mean0 + b_dot * mean1


def test_projection_of_d_dimensional_velocity():
    rng = np.random.default_rng(11)
    dim = 64
    mu = np.ones(dim)
    numbers = {alpha: 0.55, beta: 0.35, alpha_dot: -0.9, beta_dot: 1.3}
    numbers.update({sigma: 0.8, log_odds: 0.6, d: dim})
    x = rng.normal(size=(5, dim)) + 0.3 * mu
    velocity = _exact_velocity_numpy(
        x, mu, 0.55, 0.35, -0.9, 1.3, 0.8, 0.6
    )

    dy_dt, dp_dt = (expression.subs(numbers) for expression in flow.summary_odes())
    projection = x @ mu / np.sqrt(dim)
    orthogonal = x - np.outer(x @ mu / dim, mu)
    p_values = np.sum(orthogonal**2, axis=1) / dim
    velocity_orthogonal = velocity - np.outer(velocity @ mu / dim, mu)
    for row in range(len(x)):
        expected_dy = velocity[row] @ mu / np.sqrt(dim)
        found_dy = float(dy_dt.subs(y, projection[row]))
        assert found_dy == pytest.approx(expected_dy, rel=1e-12, abs=1e-12)

        expected_dp = 2 * orthogonal[row] @ velocity_orthogonal[row] / dim
        found_dp = float(dp_dt.subs(P, p_values[row]))
        assert found_dp == pytest.approx(expected_dp, rel=1e-12, abs=1e-12)


def test_summary_odes_on_piece_match_substitution():
    piece = dilated_schedule().pieces[0]
    dy_dt, dp_dt = flow.summary_odes_on(piece)
    assert dy_dt.free_symbols <= {t, y, d, kappa, sigma, log_odds}
    assert dp_dt.free_symbols <= {t, P, d, kappa, sigma}
    values = {t: sp.Rational(3, 10), d: 100, kappa: 2, sigma: sp.Rational(6, 5)}
    values.update({y: sp.Rational(-1, 3), log_odds: sp.Rational(1, 2), P: 1})
    generic_dy, _ = flow.summary_odes()
    tau = values[t]
    scale = values[kappa] / sp.sqrt(values[d])
    generic_values = {
        alpha: 1 - scale * tau,
        beta: scale * tau,
        alpha_dot: -scale,
        beta_dot: scale,
        **values,
    }
    assert float(dy_dt.subs(values)) == pytest.approx(
        float(generic_dy.subs(generic_values)), rel=1e-14
    )


def test_phase_one_limit():
    found = flow.order_one_limit(dilated_schedule().pieces[0])
    assert _is_zero(found - kappa * sp.tanh(kappa * t * y + log_odds))


@pytest.mark.parametrize("schedule_name", ["dilated", "linear"])
def test_saturated_limit_closed_form(schedule_name):
    if schedule_name == "dilated":
        piece = dilated_schedule().pieces[1]
    else:
        piece = linear_schedule().pieces[0]
    dm_dt, dp_dt = flow.saturated_limit(piece)
    c = _phase_two_c(t)
    assert _is_zero(dm_dt - ((c - 1) * M + 1 - c * t) / (1 - t))
    assert _is_zero(dp_dt - 2 * (c - 1) * P / (1 - t))


def test_phase_two_closed_form_solutions():
    dm_dt, dp_dt = flow.saturated_limit(dilated_schedule().pieces[1])
    m_solution = t
    p_solution = (1 - t) ** 2 + sigma**2 * t**2
    assert _is_zero(sp.diff(m_solution, t) - dm_dt.subs(M, m_solution))
    assert m_solution.subs(t, 0) == 0
    assert _is_zero(sp.diff(p_solution, t) - dp_dt.subs(P, p_solution))
    assert p_solution.subs(t, 0) == 1
    assert p_solution.subs(t, 1) == sigma**2


def test_order_one_limit_raises_where_omega_diverges():
    with pytest.raises(NotImplementedError, match="saturated_limit"):
        flow.order_one_limit(dilated_schedule().pieces[1])
