"""Property tests: valid random parameters keep the invariants, invalid ones raise.

The parameter box is p in [0.05, 0.95], sigma in [0.2, 5], kappa in
[0.5, 4] and d > kappa**2 (the dilated schedule needs kappa < sqrt(d)).
The large-d sampler limit is not implemented at p = 1/2 on grids whose
first step decides the mode, so the limit tests keep p at least 0.05
away from 1/2.
"""

import math
import string
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowphase.numerics.sampler_stats import sampler_statistics
from flowphase.report.config import ConfigError, ReportConfig
from flowphase.theory.expressions import FUNCTION_NAMES, ExpressionError, parse_expression
from flowphase.theory.model import optimal_overlaps_numeric
from flowphase.theory.schedules import ScheduleError, dilated_schedule, linear_schedule
from flowphase.theory.symbols import d as d_symbol
from flowphase.theory.symbols import kappa as kappa_symbol
from flowphase.theory.symbols import t as t_symbol

# Few examples and no deadline: the first call of each function compiles or
# lambdifies, and the whole file must stay well under a minute.
QUICK_SETTINGS = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.too_slow])

# Relative slack for q >= m**2 and r >= omega**2, which hold with equality
# in exact arithmetic and so only up to float64 rounding.
ROUNDING = 1e-12

VARIABLES = {"t": t_symbol, "d": d_symbol, "kappa": kappa_symbol}
LINEAR_GRID = [0, 0.5, 1]

p_values = st.floats(0.05, 0.95)
p_away_from_half = p_values.filter(lambda p: abs(p - 0.5) >= 0.05)
sigma_values = st.floats(0.2, 5.0)
kappa_values = st.floats(0.5, 4.0)


@st.composite
def kappa_and_dimension(draw):
    """Draw kappa in the box and an integer d >= 2 with d > kappa**2."""
    kappa = draw(kappa_values)
    d = draw(st.integers(max(2, math.floor(kappa**2) + 1), 4096))
    return kappa, d


def _dilated_grid(steps_per_phase):
    phase_1 = [Fraction(k, steps_per_phase) for k in range(steps_per_phase)]
    phase_2 = [1 + Fraction(k, steps_per_phase) for k in range(steps_per_phase + 1)]
    return phase_1 + phase_2


def _linear_grid(steps, from_zero):
    grid = [Fraction(k, steps) for k in range(steps + 1)]
    return grid if from_zero else grid[1:]


def _end_side(schedule, time):
    """Return the side that has a piece at ``time`` (only "left" at the end)."""
    return "left" if time >= float(schedule.end) else "right"


# -- schedules: alpha + beta = 1 ---------------------------------------------


@QUICK_SETTINGS
@given(time=st.floats(0.0, 1.0))
def test_linear_schedule_sums_to_one(time):
    schedule = linear_schedule()
    alpha, beta, alpha_dot, beta_dot = schedule.rates(
        time, d=None, side=_end_side(schedule, time)
    )
    assert alpha + beta == pytest.approx(1.0, abs=1e-15)
    assert alpha_dot + beta_dot == 0.0
    assert 0.0 <= alpha <= 1.0


@QUICK_SETTINGS
@given(parameters=kappa_and_dimension(), time=st.floats(0.0, 2.0),
       symbolic=st.booleans())
def test_dilated_schedule_sums_to_one(parameters, time, symbolic):
    kappa, d = parameters
    if symbolic:
        schedule, params = dilated_schedule(), {"kappa": kappa}
    else:
        schedule, params = dilated_schedule(kappa), {}
    side = _end_side(schedule, time)

    alpha, beta, alpha_dot, beta_dot = schedule.rates(time, d=d, side=side, **params)

    assert alpha + beta == pytest.approx(1.0, abs=1e-12)
    assert alpha_dot + beta_dot == pytest.approx(0.0, abs=1e-12)
    assert 0.0 <= alpha <= 1.0 + 1e-15
    assert alpha_dot <= 0.0


# -- optimal overlaps: finite, q >= m**2, r >= omega**2 -------------------------


def _check_overlaps(overlaps):
    for name, values in overlaps.items():
        assert np.all(np.isfinite(values)), f"{name} not finite: {values}"
    m, q = overlaps["m"], overlaps["q"]
    omega, r = overlaps["omega"], overlaps["r"]
    assert np.all(q >= m**2 - ROUNDING * np.maximum(1.0, q))
    assert np.all(r >= omega**2 - ROUNDING * np.maximum(1.0, r))
    assert np.all(np.abs(overlaps["m_tanh_b"]) <= np.abs(m) + ROUNDING)


@QUICK_SETTINGS
@given(parameters=kappa_and_dimension(), p=p_values, sigma=sigma_values,
       times=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=6))
def test_dilated_overlaps_keep_invariants(parameters, p, sigma, times):
    kappa, d = parameters
    overlaps = optimal_overlaps_numeric(
        dilated_schedule(kappa), times, d=d, p=p, sigma=sigma
    )
    _check_overlaps(overlaps)


@QUICK_SETTINGS
@given(d=st.integers(2, 4096), p=p_values, sigma=sigma_values,
       times=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6))
def test_linear_overlaps_keep_invariants(d, p, sigma, times):
    overlaps = optimal_overlaps_numeric(linear_schedule(), times, d=d, p=p, sigma=sigma)
    _check_overlaps(overlaps)


# -- sampler statistics: finite, 0 <= p_hat <= 1 --------------------------------


def _check_statistics(statistics):
    for name, value in statistics.items():
        assert math.isfinite(value), f"{name} = {value}"
    assert 0.0 <= statistics["p_hat"] <= 1.0
    assert statistics["sigma2_hat"] > 0.0
    assert statistics["M_end"] >= 0.0


@QUICK_SETTINGS
@given(parameters=kappa_and_dimension(), p=p_values, sigma=sigma_values,
       steps=st.integers(2, 8))
def test_dilated_sampler_finite_d(parameters, p, sigma, steps):
    kappa, d = parameters
    statistics = sampler_statistics(
        dilated_schedule(kappa), _dilated_grid(steps), d=d, p=p, sigma=sigma
    )
    _check_statistics(statistics)


@QUICK_SETTINGS
@given(kappa=kappa_values, p=p_away_from_half, sigma=sigma_values,
       steps=st.integers(2, 8))
def test_dilated_sampler_limit(kappa, p, sigma, steps):
    statistics = sampler_statistics(
        dilated_schedule(), _dilated_grid(steps), d=math.inf, p=p, sigma=sigma,
        kappa=kappa,
    )
    _check_statistics(statistics)


@QUICK_SETTINGS
@given(d=st.integers(2, 4096), p=p_values, sigma=sigma_values,
       steps=st.integers(2, 12), from_zero=st.booleans())
def test_linear_sampler_finite_d(d, p, sigma, steps, from_zero):
    statistics = sampler_statistics(
        linear_schedule(), _linear_grid(steps, from_zero), d=d, p=p, sigma=sigma
    )
    _check_statistics(statistics)


@QUICK_SETTINGS
@given(p=p_away_from_half, sigma=sigma_values, steps=st.integers(2, 12),
       from_zero=st.booleans())
def test_linear_sampler_limit(p, sigma, steps, from_zero):
    statistics = sampler_statistics(
        linear_schedule(), _linear_grid(steps, from_zero), d=math.inf, p=p, sigma=sigma
    )
    _check_statistics(statistics)


# -- ReportConfig: valid values build, invalid ones raise ConfigError -----------


@QUICK_SETTINGS
@given(p=p_values, sigma=sigma_values, parameters=kappa_and_dimension())
def test_config_accepts_valid(p, sigma, parameters):
    kappa, d = parameters
    config = ReportConfig(p=p, sigma=sigma, kappa=kappa, dims=(d,))
    assert math.isfinite(config.log_odds)


non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
not_numbers = st.one_of(st.none(), st.booleans(), st.text(max_size=3),
                        st.lists(st.floats(), max_size=2))

invalid_p = st.one_of(st.floats(max_value=0.0, allow_nan=False),
                      st.floats(min_value=1.0, allow_nan=False),
                      st.floats(0.0, 1e-10), non_finite, not_numbers)
invalid_sigma = st.one_of(st.floats(max_value=0.0, allow_nan=False),
                          st.floats(0.0, 9.99e-4),
                          st.floats(min_value=1.001e3, allow_nan=False),
                          non_finite, not_numbers)
invalid_kappa = st.one_of(st.floats(max_value=0.0, allow_nan=False),
                          non_finite, not_numbers)
invalid_dims = st.one_of(
    st.just(()),
    st.lists(st.integers(max_value=1), min_size=1, max_size=3).map(tuple),
    st.integers(2, 100).map(lambda d: (d, d)),
    st.floats(2.0, 100.0).map(lambda d: (d,)),
    # The default kappa is 2, so every d <= 4 breaks kappa < sqrt(d).
    st.integers(2, 4).map(lambda d: (d,)),
)


@QUICK_SETTINGS
@given(field=st.sampled_from(["p", "sigma", "kappa", "dims"]), data=st.data())
def test_config_rejects_invalid(field, data):
    strategies = {"p": invalid_p, "sigma": invalid_sigma,
                  "kappa": invalid_kappa, "dims": invalid_dims}
    value = data.draw(strategies[field], label=field)
    with pytest.raises(ConfigError):
        ReportConfig(**{field: value})


# -- schedules and numerics: invalid values raise ----------------------------------


@QUICK_SETTINGS
@given(kappa=st.one_of(st.floats(max_value=0.0, allow_nan=False), non_finite))
def test_dilated_schedule_rejects_kappa(kappa):
    with pytest.raises(ScheduleError):
        dilated_schedule(kappa)


@QUICK_SETTINGS
@given(kappa=kappa_values, data=st.data())
def test_dilated_rates_reject_small_d(kappa, data):
    d = data.draw(st.floats(kappa**2 / 100, kappa**2 * 0.99), label="d")
    # Phase 2 at tau = 1.5 has alpha = (1 - kappa/sqrt(d))/2 < 0 when d < kappa**2.
    with pytest.raises(ScheduleError):
        dilated_schedule(kappa).rates(1.5, d=d)


invalid_probability = st.one_of(st.floats(max_value=0.0), st.floats(min_value=1.0))
invalid_deviation = st.one_of(st.floats(max_value=0.0), non_finite)


@QUICK_SETTINGS
@given(p=invalid_probability, sigma=sigma_values, in_limit=st.booleans())
def test_sampler_rejects_invalid_p(p, sigma, in_limit):
    d = math.inf if in_limit else 64
    with pytest.raises(ValueError):
        sampler_statistics(linear_schedule(), LINEAR_GRID, d=d, p=p, sigma=sigma)


@QUICK_SETTINGS
@given(p=p_values, sigma=invalid_deviation)
def test_sampler_rejects_invalid_sigma(p, sigma):
    with pytest.raises(ValueError):
        sampler_statistics(linear_schedule(), LINEAR_GRID, d=64, p=p, sigma=sigma)


@QUICK_SETTINGS
@given(p=p_values, sigma=sigma_values,
       d=st.one_of(st.floats(max_value=0.0), non_finite))
def test_overlaps_reject_invalid_d(p, sigma, d):
    with pytest.raises(ValueError):
        optimal_overlaps_numeric(linear_schedule(), [0.5], d=d, p=p, sigma=sigma)


# -- formula parser: any text parses or raises ExpressionError -----------------


formula_characters = string.ascii_letters + string.digits + " +-*/^().,_'\"[]{}:;=<>!%&|~@#\\"


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=formula_characters, max_size=30))
def test_parser_raises_only_expression_error(text):
    try:
        result = parse_expression(text, VARIABLES)
    except ExpressionError:
        return
    assert isinstance(result, sympy.Expr)
    assert result.free_symbols <= set(VARIABLES.values())


WHITELISTED_NAMES = {*VARIABLES, "pi", "E", "e", *FUNCTION_NAMES}
# Python keywords among these names make a syntax error, which the parser
# also reports as ExpressionError.
unknown_names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}\Z").filter(
    lambda name: name not in WHITELISTED_NAMES
)
forbidden_pieces = st.one_of(
    unknown_names,
    unknown_names.map(lambda name: f"t.{name}"),
    unknown_names.map(lambda name: f"{name}(t)"),
    unknown_names.map(lambda name: f"'{name}'"),
    unknown_names.map(lambda name: f"__{name}__"),
    st.sampled_from([
        "__import__('os').system('echo owned')",
        "t.__class__",
        "(lambda: 1)()",
        "[t][0]",
        "t if t else 1",
        "t < 1",
        "t // 2",
        "t % 2",
        "not t",
        "(t := 1)",
        "f'{t}'",
        "sqrt(x=t)",
        "1/0",
        "log(0)",
        "sqrt(-1)",
    ]),
)
valid_parts = st.sampled_from(["1 - t", "kappa*t/sqrt(d)", "t^2", "exp(-t)", "2"])


@QUICK_SETTINGS
@given(piece=forbidden_pieces, prefix=valid_parts,
       operator=st.sampled_from(["+", "-", "*", "/"]))
def test_parser_rejects_non_whitelisted(piece, prefix, operator):
    text = f"{prefix} {operator} {piece}"
    assume(len(text) <= 400)
    with pytest.raises(ExpressionError):
        parse_expression(text, VARIABLES)
