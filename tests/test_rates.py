"""Bootstrap rate fits against data with a known exponent."""

import numpy as np
import pytest

from flowphase.numerics.rates import fit_rate

DIMS = np.array([64, 256, 1024, 4096])


def _synthetic(rng, exponent, noise, seeds=8):
    """Per-seed values ``1 + 0.7 d^(-exponent) + noise``, target 1."""
    return [1.0 + 0.7 * d**-exponent + noise * rng.standard_normal(seeds) for d in DIMS]


def test_rate_exact_power_law():
    values = [[1.0 + 0.7 * d**-0.5] for d in DIMS]
    fit = fit_rate(DIMS, values, 1.0)
    assert fit.exponent == pytest.approx(0.5, abs=1e-12)
    assert fit.constant == pytest.approx(0.7, rel=1e-12)
    assert fit.interval is None


def test_rate_interval_covers_truth():
    rng = np.random.default_rng(1)
    covered = 0
    trials = 100
    for trial in range(trials):
        fit = fit_rate(DIMS, _synthetic(rng, 0.5, 2e-3), 1.0, resamples=300, seed=trial)
        covered += fit.agrees_with(0.5)
    # A 95% percentile interval from 8 seeds covers somewhat less often.
    assert covered >= 80


def test_rate_flags_wrong_exponent():
    rng = np.random.default_rng(2)
    fit = fit_rate(DIMS, _synthetic(rng, 1.0, 1e-4), 1.0, resamples=500)
    assert fit.agrees_with(1.0)
    assert not fit.agrees_with(0.5)


def test_rate_rejects_single_dimension():
    with pytest.raises(ValueError, match="two distinct dimensions"):
        fit_rate([64, 64], [[1.1], [1.2]], 1.0)


def test_rate_rejects_zero_error():
    with pytest.raises(ValueError, match="exactly 0"):
        fit_rate([64, 256], [[1.0], [1.2]], 1.0)


def test_rate_table_exact_overlap(tmp_path):
    import math

    from flowphase.sweeps.config import RunSpec
    from flowphase.sweeps.rates_report import rate_table
    from flowphase.sweeps.run import run_one

    rows = []
    for d in (16, 36):
        spec = RunSpec(schedule="dilated", d=d, p=0.8, sigma=1.0, kappa=2.0, steps=4,
                       seed=0, n_samples=200, velocity="exact", training="none")
        rows.append({**spec.to_dict(), "run_key": spec.key,
                     "results": run_one(spec)["results"]})
    (row,) = rate_table(rows, [("c", 0.5)])
    # c* = beta/(alpha^2 + beta^2) at tau = 0.5 with beta = 1/sqrt(d), and its limit is 0.
    c_star = [(1 / math.sqrt(d)) / ((1 - 1 / math.sqrt(d)) ** 2 + 1 / d) for d in (16, 36)]
    slope = -math.log(c_star[1] / c_star[0]) / math.log(36 / 16)
    assert row["theory"]["exponent"] == pytest.approx(slope, rel=1e-9)
    assert row["expected"] == 0.5
    assert row["verdict"] == "no simulation (exact values only)"
