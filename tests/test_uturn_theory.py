"""Tests of the large-d U-turn flip curve of the mixture.

Oracles: ``F(0) = 2 p (1 - p)`` and the boundary found with mpmath.
The phase-1 flow ``dy/dtau = kappa tanh(kappa tau y + l)``, typed here
and integrated with SciPy, must carry ``y*(tau0)`` to ``y*(1)``. The gap
of the finite-``d`` simulation must shrink as ``d`` grows.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from flowphase.numerics.uturn_limit import decision_boundary, limit_flip_rate
from flowphase.theory import uturn
from flowphase.theory.symbols import kappa
from flowphase.validation.mixture_uturn import simulate_paired_uturn

P, KAPPA = 0.8, 2.0


def test_noised_projection_law_limit():
    law = uturn.noised_projection_law()
    assert sp.simplify(law["mean"] - kappa * uturn.tau0) == 0
    assert law["variance"] == 1


def test_flip_rate_at_start_is_prior_disagreement():
    for p in (0.5, 0.8, 0.95):
        assert limit_flip_rate([0.0], p, KAPPA)[0] == pytest.approx(2 * p * (1 - p), abs=1e-12)


@pytest.mark.parametrize("tau0", [0.0, 0.3, 0.7, 1.0])
def test_boundary_matches_mpmath(tau0):
    mpmath.mp.dps = 30
    m = KAPPA * tau0

    def cdf(y):
        return P * mpmath.ncdf(y - m) + (1 - P) * mpmath.ncdf(y + m) - (1 - P)

    expected = float(mpmath.findroot(cdf, 0.0))
    assert decision_boundary(tau0, P, KAPPA) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("tau0", [0.0, 0.25, 0.6])
def test_flow_carries_boundary_to_boundary(tau0):
    log_odds = math.atanh(2 * P - 1)

    def rhs(tau, y):
        return KAPPA * np.tanh(KAPPA * tau * y + log_odds)

    start = decision_boundary(tau0, P, KAPPA)
    end = solve_ivp(rhs, (tau0, 1.0), [start], rtol=1e-12, atol=1e-12).y[0, -1]
    assert end == pytest.approx(decision_boundary(1.0, P, KAPPA), abs=1e-8)


def test_flip_rate_is_zero_in_phase_two():
    np.testing.assert_array_equal(limit_flip_rate([1.01, 1.5, 1.99], P, KAPPA), 0.0)


def test_reduced_form_equals_full_form():
    tau = 0.4
    y = decision_boundary(tau, P, KAPPA)
    full = float(uturn.flip_rate().subs({uturn.y_star: y, uturn.tau0: tau,
                                         sp.Symbol("p", positive=True): P, kappa: KAPPA}))
    assert limit_flip_rate([tau], P, KAPPA)[0] == pytest.approx(full, abs=1e-12)


def test_simulation_approaches_limit():
    taus = np.array([0.2, 0.5, 0.8])
    limit = limit_flip_rate(taus, P, KAPPA)
    gaps, paired = {}, {}
    for d in (16, 256):
        run = simulate_paired_uturn(d, P, 1.0, KAPPA, taus, 3000, np.random.default_rng(d),
                                    step=0.04)
        gaps[d] = np.max(np.abs(run["flip_rate"] - limit))
        paired[d] = np.max(np.abs(run["flip_rate"] - run["paired_limit"]))
        # The paired limit process is an unbiased estimate of the limit curve.
        assert np.max(np.abs(run["paired_limit"] - limit)) < 4 * np.sqrt(0.25 / 3000)
    print(f"max gaps {gaps}, max paired gaps {paired}")
    # The bias shrinks like 1/sqrt(d): a factor 4 from d = 16 to 256, and
    # the paired error is about 0.003.
    assert paired[256] < paired[16] / 2
    assert gaps[256] < 0.03

