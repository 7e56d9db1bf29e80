"""Integrated summary flows against their closed forms."""

import math

import numpy as np
import pytest
from scipy.special import ndtr

from flowphase.numerics.flows import (finite_d, quantile_points, saturated_limit,
                                      transport_phase_one)
from flowphase.numerics.integrate import dopri5, rk4


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0])
def test_saturated_flow_closed_form(sigma):
    solution = dopri5(saturated_limit(), 0.0, 1.0, np.array([0.0, 1.0]),
                      np.array([sigma]), rtol=1e-11, atol=1e-12)
    times = np.linspace(0.0, 1.0, 41)
    values = solution(times)
    m_error = np.max(np.abs(values[:, 0] - times))
    p_exact = (1 - times) ** 2 + sigma**2 * times**2
    p_error = np.max(np.abs(values[:, 1] - p_exact))
    assert solution.success
    assert m_error < 1e-8
    assert p_error < 1e-8


def test_saturated_flow_rk4_order():
    errors = []
    steps = [20, 40, 80, 160]
    for n in steps:
        _, ys = rk4(saturated_limit(), 0.0, 1.0, np.array([0.0, 1.0]),
                    np.array([0.7]), n)
        errors.append(abs(ys[-1, 1] - 0.49))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope + 4) < 0.3


@pytest.mark.parametrize("p, kappa", [(0.8, 2.0), (0.6, 1.0), (0.3, 3.0)])
def test_phase_one_transport_law(p, kappa):
    """The flow carries N(0,1) to p N(kappa,1) + (1-p) N(-kappa,1) at tau = 1."""
    n = 20000
    y0 = quantile_points(n)
    y1 = transport_phase_one(y0, kappa, math.atanh(2 * p - 1))
    mixture_cdf = p * ndtr(y1 - kappa) + (1 - p) * ndtr(y1 + kappa)
    kolmogorov = np.max(np.abs(mixture_cdf - ndtr(y0)))
    assert np.all(np.diff(y1) > 0)
    assert kolmogorov < 1e-6


def test_finite_d_flow_reaches_saturated_limit():
    """At large d the exact phase-2 flow of P approaches the limit law."""
    sigma, kappa, d = 1.0, 2.0, 1e8
    rhs = finite_d("dilated", 1)
    ell = math.atanh(0.6)
    solution = dopri5(rhs, 1.0, 1.999, np.array([1.0, 1.0]),
                      np.array([d, kappa, sigma, ell]), rtol=1e-10, atol=1e-12)
    t_local = 0.999
    p_limit = (1 - t_local) ** 2 + sigma**2 * t_local**2
    assert solution.success
    assert abs(solution.y[-1, 1] - p_limit) < 1e-3
