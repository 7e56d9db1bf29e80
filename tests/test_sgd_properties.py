"""Property tests of the SGD overlap ODEs and the dynamics configuration.

Invariant: the overlaps are those of vectors, so ``q >= m^2`` and
``r >= omega^2`` (Cauchy-Schwarz with ``|mu|^2 = d``) must hold along every
trajectory that starts from a valid state. Invalid configurations must
raise ValueError.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowphase.numerics import sgd_ode, sgd_phase_two
from flowphase.report.dynamics import DynamicsConfig

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
# Slack for the invariants: the solver's tolerance is 1e-8 relative.
SLACK = 1e-7


@st.composite
def valid_states(draw):
    """Draw ``(c, b, m, q, omega, r)`` with ``q >= m^2`` and ``r >= omega^2``."""
    m = draw(st.floats(-1.0, 1.0))
    omega = draw(st.floats(-1.0, 1.0))
    q = m * m + draw(st.floats(0.0, 1.0))
    r = omega * omega + draw(st.floats(0.01, 1.0))
    return np.array([draw(st.floats(-0.5, 0.5)), draw(st.floats(-1.0, 1.0)), m, q, omega, r])


@SETTINGS
@given(state=valid_states(), kappa=st.floats(0.5, 3.0), tau=st.floats(0.0, 1.0),
       p=st.floats(0.05, 0.95), eta=st.floats(0.0, 1.0))
def test_phase_one_keeps_cauchy_schwarz(state, kappa, tau, p, eta):
    params = sgd_ode.phase_one_params(kappa, tau, eta, p, max_slope=4.0)
    solution = sgd_ode.integrate_phase_one(state, 2.0, params, max_slope=4.0)
    assert solution.success, solution.message
    c, b, m, q, omega, r = solution.y.T
    assert np.all(np.isfinite(solution.y))
    assert np.all(q - m**2 >= -SLACK * (1 + q))
    assert np.all(r - omega**2 >= -SLACK * (1 + r))


@SETTINGS
@given(m=st.floats(-1.0, 1.0), excess=st.floats(0.0, 1.0), c=st.floats(-1.0, 1.0),
       t=st.floats(0.0, 1.0), sigma=st.floats(0.2, 5.0))
def test_phase_two_keeps_cauchy_schwarz(m, excess, c, t, sigma):
    params = sgd_phase_two.phase_two_params(2.0, t, sigma)
    solution = sgd_phase_two.integrate_phase_two(np.array([c, m, m * m + excess]), 5.0,
                                                 params)
    assert solution.success, solution.message
    _, m_path, q_path = solution.y.T
    assert np.all(q_path - m_path**2 >= -SLACK * (1 + q_path))


@SETTINGS
@given(field=st.sampled_from(["p", "sigma", "kappa", "eta", "T_end", "n_seeds"]),
       data=st.data())
def test_dynamics_config_rejects_invalid(field, data):
    bad = {
        "p": st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0),
                       st.just(math.nan)),
        "sigma": st.one_of(st.floats(max_value=0.0), st.just(math.inf)),
        "kappa": st.one_of(st.floats(max_value=0.0), st.just(math.nan)),
        "eta": st.one_of(st.floats(max_value=0.0), st.just(math.inf)),
        "T_end": st.one_of(st.floats(max_value=0.0), st.just(math.nan)),
        "n_seeds": st.integers(max_value=0),
    }[field]
    value = data.draw(bad)
    with pytest.raises(ValueError):
        DynamicsConfig(**{field: value})
