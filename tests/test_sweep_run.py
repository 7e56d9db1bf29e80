"""One sweep run: the d-dimensional simulation against the exact sampler at d."""

import math

import pytest

from flowphase.sweeps.config import RunSpec
from flowphase.sweeps.run import run_one

SPEC = RunSpec(schedule="dilated", d=64, p=0.8, sigma=1.0, kappa=2.0, steps=10, seed=3,
               n_samples=6000, velocity="exact", training="none")


@pytest.fixture(scope="module")
def records():
    return {(r["quantity"], r["time"]): r for r in run_one(SPEC)["results"]["records"]}


def test_run_p_hat_within_noise(records):
    row = records[("p_hat", 2.0)]
    noise = math.sqrt(row["theory"] * (1 - row["theory"]) / SPEC.n_samples)
    assert abs(row["simulation"] - row["theory"]) < 4 * noise


def test_run_sigma2_and_overlap(records):
    # P has mean sigma2_hat and a spread of order sqrt(2/d) sigma2_hat per
    # sample, and M(end) a spread of order 1/sqrt(d).
    sigma2 = records[("sigma2_hat", 2.0)]
    overlap = records[("M", 2.0)]
    assert abs(sigma2["simulation"] - sigma2["theory"]) < 4 * math.sqrt(2 / 64 / 6000)
    assert abs(overlap["simulation"] - overlap["theory"]) < 4 / math.sqrt(64 * 6000) + 0.01


def test_run_overlaps_exact_only(records):
    row = records[("c", 0.5)]
    assert row["simulation"] is None
    # c* = sigma^2 beta / (alpha^2 + sigma^2 beta^2) with beta = kappa tau / sqrt(d).
    beta = 2.0 * 0.5 / 8.0
    assert row["theory"] == pytest.approx(beta / ((1 - beta) ** 2 + beta**2), rel=1e-12)
    assert row["limit"] == 0.0


def test_run_linear_limit_p_hat():
    spec = RunSpec(schedule="linear", d=64, p=0.8, sigma=1.0, kappa=0.0, steps=10, seed=0,
                   n_samples=500, velocity="exact", training="none")
    rows = {r["quantity"]: r for r in run_one(spec)["results"]["records"]
            if r["time"] == 1.0}
    assert rows["p_hat"]["limit"] == 1.0
