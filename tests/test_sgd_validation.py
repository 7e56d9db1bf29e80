"""Finite-d online SGD against the phase-1 overlap ODEs.

Oracles: a Monte Carlo average of the one-step SGD increment of the
finite-d network, and online SGD runs over several seeds.
"""

import math

import numpy as np
import pytest

from flowphase.numerics import sgd_ode
from flowphase.numerics.integrate import dense_eval
from flowphase.validation import online_sgd

KAPPA, TAU, P, SIGMA = 2.0, 0.5, 0.8, 1.0
START = np.array([0.0, 0.0, 0.3, 0.2, 0.3, 0.2])


def _coefficients(d):
    beta = KAPPA * TAU / math.sqrt(d)
    return 1.0 - beta, beta


def _ode_at(times, eta, start=START):
    params = sgd_ode.phase_one_params(KAPPA, TAU, eta, P)
    solution = sgd_ode.integrate_phase_one(start, float(times[-1]), params)
    return dense_eval(solution, times)


def test_drift_matches_monte_carlo_increment():
    d, eta = 2048, 1.0
    state = np.array([0.1, 0.2, 0.5, 0.6, 0.5, 0.8])
    alpha, beta = _coefficients(d)
    mean, error = online_sgd.expected_increment(
        state, d=d, alpha=alpha, beta=beta, p=P, sigma=SIGMA, eta=eta,
        n_samples=20000, seed=1,
    )
    rhs = sgd_ode.phase_one_rhs()
    drift = rhs(0.0, state, sgd_ode.phase_one_params(KAPPA, TAU, eta, P))
    gradient_flow = rhs(0.0, state, sgd_ode.phase_one_params(KAPPA, TAU, 0.0, P))
    # The finite-d drift differs from the limit by O(1/sqrt(d)).
    tolerance = 4 * error + 0.5 / math.sqrt(d)
    for index, name in enumerate(sgd_ode.STATE_NAMES):
        print(f"{name}: ODE {drift[index]:+.4f}, Monte Carlo {mean[index]:+.4f} "
              f"+- {error[index]:.4f}")
        if name == "c":
            # c relaxes towards c* = O(1/sqrt(d)), not 0, at finite d.
            assert abs(mean[index] - drift[index]) < 2.5 / math.sqrt(d)
        else:
            assert abs(mean[index] - drift[index]) < tolerance[index], name

    r_index = sgd_ode.STATE_NAMES.index("r")
    # The eta term of dr/dT is visible at this tolerance.
    assert abs(mean[r_index] - gradient_flow[r_index]) > tolerance[r_index]


def test_online_sgd_follows_ode():
    d, eta = 1024, 0.5
    times = np.linspace(0.0, 5.0, 11)
    alpha, beta = _coefficients(d)
    run = online_sgd.run_online_sgd(
        START, d=d, alpha=alpha, beta=beta, p=P, sigma=SIGMA, eta=eta,
        times=times, seeds=(0, 1, 2),
    )
    mean = run.overlaps.mean(axis=1)
    deviation = np.max(np.abs(mean - _ode_at(run.times, eta)), axis=0)
    without_eta = np.max(np.abs(mean - _ode_at(run.times, 0.0)), axis=0)
    print("max deviation (c, b, m, q, omega, r):", np.round(deviation, 4))
    print("max deviation from the eta = 0 ODE:", np.round(without_eta, 4))

    assert deviation[0] < 2.5 / math.sqrt(d)
    assert np.all(deviation[1:] < 0.05)
    r_index = sgd_ode.STATE_NAMES.index("r")
    assert without_eta[r_index] > 2 * deviation[r_index]


def test_initial_network_has_requested_overlaps():
    mu = np.ones(512)
    state = np.array([0.1, -0.2, 0.4, 0.5, -0.3, 0.7])
    network = online_sgd.initial_network(state, mu, 3, np.random.default_rng(0))
    np.testing.assert_allclose(online_sgd.overlaps(network, mu), np.tile(state, (3, 1)))


@pytest.mark.slow
def test_deviation_shrinks_with_dimension():
    eta = 0.5
    times = np.linspace(0.0, 5.0, 11)
    dims = np.array([256, 1024, 4096])
    worst = []
    for d in dims:
        alpha, beta = _coefficients(d)
        run = online_sgd.run_online_sgd(
            START, d=int(d), alpha=alpha, beta=beta, p=P, sigma=SIGMA, eta=eta,
            times=times, seeds=(0, 1, 2, 3),
        )
        mean = run.overlaps.mean(axis=1)
        worst.append(np.max(np.abs(mean - _ode_at(run.times, eta))))
    slope = np.polyfit(np.log(dims), np.log(worst), 1)[0]
    print("largest deviations:", np.round(worst, 4), "log-log slope:", round(slope, 3))
    assert worst[-1] < worst[0]
    assert slope < -0.25
