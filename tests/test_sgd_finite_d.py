"""Tests of the finite-d variant of the phase-1 overlap ODEs.

Oracles: the d -> oo ODEs of :mod:`flowphase.numerics.sgd_ode` at very
large d, a Monte Carlo average of the one-step SGD increment of the
finite-d network, and online SGD runs over several seeds.
"""

import math

import numpy as np

from flowphase.numerics import sgd_finite_d, sgd_ode
from flowphase.numerics.integrate import dense_eval
from flowphase.validation import online_sgd

KAPPA, TAU, P, SIGMA = 2.0, 0.5, 0.8, 1.0
START = np.array([0.0, 0.0, 0.3, 0.2, 0.3, 0.2])


def _with_coupling(state):
    """Append v = m omega, the value for u and w with independent orthogonal parts."""
    return np.append(state, state[2] * state[4])


def test_finite_d_drift_tends_to_limit():
    state = np.array([0.2, -0.3, 0.6, 0.8, 0.9, 1.4])
    eta = 0.4
    limit = sgd_ode.phase_one_rhs()(0.0, state, sgd_ode.phase_one_params(KAPPA, TAU, eta, P))
    params = sgd_finite_d.finite_d_params(KAPPA, TAU, eta, P, SIGMA, 10**12)
    finite = sgd_finite_d.finite_d_rhs()(0.0, _with_coupling(state), params)
    np.testing.assert_allclose(finite[:6], limit, atol=1e-5)


def test_finite_d_drift_matches_monte_carlo():
    d, eta = 2048, 1.0
    state = np.array([0.1, 0.2, 0.5, 0.6, 0.5, 0.8])
    beta = KAPPA * TAU / math.sqrt(d)
    mean, error = online_sgd.expected_increment(
        state, d=d, alpha=1.0 - beta, beta=beta, p=P, sigma=SIGMA, eta=eta,
        n_samples=20000, seed=1,
    )
    params = sgd_finite_d.finite_d_params(KAPPA, TAU, eta, P, SIGMA, d)
    finite = sgd_finite_d.finite_d_rhs()(0.0, _with_coupling(state), params)[:6]
    limit = sgd_ode.phase_one_rhs()(0.0, state, sgd_ode.phase_one_params(KAPPA, TAU, eta, P))
    print("Monte Carlo:", np.round(mean, 5), "+-", np.round(error, 5))
    print("finite-d ODE:", np.round(finite, 5), " d -> oo ODE:", np.round(limit, 5))

    # The initial network has v = m omega + O(1/sqrt(d)), and the
    # fluctuations of |x|^2/d are left out of the drifts.
    tolerance = 4 * error + 2.0 / d
    for index, name in enumerate(online_sgd.OVERLAP_ORDER):
        assert abs(mean[index] - finite[index]) < tolerance[index], name
    assert abs(mean[0] - finite[0]) < 4 * error[0] + 2.0 / d
    assert abs(mean[0] - limit[0]) > 50 * error[0]


def test_finite_d_ode_closes_sgd_gap():
    d, eta = 1024, 0.5
    times = np.linspace(0.0, 5.0, 11)
    beta = KAPPA * TAU / math.sqrt(d)
    run = online_sgd.run_online_sgd(
        START, d=d, alpha=1.0 - beta, beta=beta, p=P, sigma=SIGMA, eta=eta,
        times=times, seeds=(0, 1, 2, 3),
    )
    mean = run.overlaps.mean(axis=1)
    params = sgd_finite_d.finite_d_params(KAPPA, TAU, eta, P, SIGMA, d)
    finite = sgd_finite_d.integrate_finite_d(_with_coupling(START), 5.0, params)
    limit = sgd_ode.integrate_phase_one(START, 5.0, sgd_ode.phase_one_params(KAPPA, TAU, eta, P))
    deviation_finite = np.max(np.abs(mean - dense_eval(finite, run.times)[:, :6]), axis=0)
    deviation_limit = np.max(np.abs(mean - dense_eval(limit, run.times)), axis=0)
    print("max deviation from the finite-d ODE:", np.round(deviation_finite, 4))
    print("max deviation from the d -> oo ODE:", np.round(deviation_limit, 4))

    assert finite.status == 0
    assert deviation_finite[0] < 0.1 * deviation_limit[0]
    assert np.max(deviation_finite) < 0.5 * np.max(deviation_limit)
