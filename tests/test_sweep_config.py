"""Sweep files: validation messages, and that a rejected file writes nothing."""

import os
import subprocess
import sys

import pytest

from flowphase.sweeps.config import SweepConfigError, parse_sweep

GOOD = {"grid": {"d": [16, 64], "seed": [0, 1]}}

BAD = [
    ({"grid": {"d": [16], "dims": [3]}}, "grid.dims: unknown key"),
    ({"grid": {"d": [16]}, "extra": {}}, "unknown table or key 'extra'"),
    ({"sweep": {"stor": "x"}, "grid": {"d": [16]}}, "sweep.stor: unknown key"),
    ({"grid": {"d": ["16"]}}, "grid.d: expected an integer"),
    ({"grid": {"d": [16.5]}}, "grid.d: expected an integer"),
    ({"grid": {"d": [16], "p": ["0.8"]}}, "grid.p: expected a number"),
    ({"grid": {"d": [16], "p": [True]}}, "grid.p: expected a number"),
    ({"grid": {"d": [16], "schedule": [1]}}, "grid.schedule: expected text"),
    ({"grid": {"d": [1]}}, "grid.d: 1 is out of range; allowed 2 <= d"),
    ({"grid": {"d": [16], "p": [1.5]}}, "grid.p: 1.5 is out of range"),
    ({"grid": {"d": [16], "sigma": [0.0]}}, "grid.sigma: 0.0 is out of range"),
    ({"grid": {"d": [16], "seed": [-1]}}, "grid.seed: -1 is out of range"),
    ({"grid": {"d": [16], "p": [float("nan")]}}, "grid.p: must be finite"),
    ({"grid": {"d": [16], "schedule": ["cosine"]}}, "grid.schedule: 'cosine' is not allowed"),
    ({"grid": {"d": []}}, "grid.d: the list is empty"),
    ({"grid": {"d": [16], "seed": []}}, "grid.seed: the list is empty"),
    ({"grid": {"d": [16, 16]}}, "grid.d: lists a value twice"),
    ({"grid": {"d": [4]}}, "grid.kappa: the dilated schedule needs kappa < sqrt(d)"),
    ({"grid": {"p": [0.8]}}, "grid.d: missing"),
    ({}, "grid: missing table [grid]"),
]


def test_good_file_expands_grid(tmp_path):
    config = parse_sweep(GOOD, base=tmp_path)
    assert len(config.runs) == 4
    assert len({run.key for run in config.runs}) == 4
    assert config.store == tmp_path / "sweep.sqlite"


def test_sweep_id_follows_runs(tmp_path):
    first = parse_sweep(GOOD, base=tmp_path)
    second = parse_sweep({"grid": {"d": [16, 64], "seed": [0, 2]}}, base=tmp_path)
    assert first.sweep_id == parse_sweep(GOOD, base=tmp_path).sweep_id
    assert first.sweep_id != second.sweep_id


def test_linear_runs_drop_kappa(tmp_path):
    data = {"grid": {"d": [16], "schedule": ["linear"], "kappa": [1.0, 2.0]}}
    (run,) = parse_sweep(data, base=tmp_path).runs
    assert run.kappa == 0.0


@pytest.mark.parametrize("data, message", BAD, ids=[m.split(":")[0] + str(i)
                                                      for i, (_, m) in enumerate(BAD)])
def test_bad_file_names_key(data, message, tmp_path):
    with pytest.raises(SweepConfigError) as caught:
        parse_sweep(data, base=tmp_path)
    assert message in str(caught.value)


BAD_TOML = [
    ("[grid]\nd = [16]\ncolour = [1]\n", "grid.colour: unknown key"),
    ("[grid]\nd = ['a']\n", "grid.d: expected an integer"),
    ("[grid]\nd = [16]\np = [2.0]\n", "grid.p: 2.0 is out of range"),
    ("[grid]\nd = []\n", "grid.d: the list is empty"),
    ("[grid\nd = [16]\n", "is not valid TOML"),
]


@pytest.mark.parametrize("text, message", BAD_TOML, ids=range(len(BAD_TOML)))
def test_bad_toml_exits_and_writes_nothing(text, message, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config),
                             "--csv", str(tmp_path / "out.csv")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == ["bad.toml"]


def test_existing_csv_kept(tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text("[grid]\nd = [16]\n")
    (tmp_path / "out.csv").write_text("earlier")
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config),
                             "--csv", str(tmp_path / "out.csv")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert (tmp_path / "out.csv").read_text() == "earlier"
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "sweep.toml"]


RATE_ERRORS = [
    (["--rate", "foo"], "unknown statistic 'foo'"),
    (["--rate", "c"], "an overlap needs a grid time, e.g. c@0.5"),
    (["--rate", "p_hat@1"], "p_hat is taken at the end of the grid"),
    (["--rate", "c@0.33"], "no run has the grid time 0.33"),
    (["--rates-out", "r"], "--rates-out needs at least one --rate"),
]


@pytest.mark.parametrize("extra, message", RATE_ERRORS, ids=range(len(RATE_ERRORS)))
def test_bad_rate_writes_nothing(extra, message, tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text("[grid]\nd = [16, 36]\nsteps = 4\n")
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config), *extra],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["sweep.toml"]


@pytest.mark.slow
def test_rate_of_exact_overlap(tmp_path):
    import json
    import math

    config = tmp_path / "sweep.toml"
    config.write_text("[grid]\nd = [16, 36]\nsteps = 4\nn_samples = 200\n")
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config),
                             "--no-progress", "--workers", "1", "--rate", "c@0.5"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads((tmp_path / "sweep-rates" / "results.json").read_text())["rates"]
    # c* = beta/(alpha^2 + beta^2) at tau = 0.5 with beta = 1/sqrt(d), and its limit is 0.
    c_star = [(1 / math.sqrt(d)) / ((1 - 1 / math.sqrt(d)) ** 2 + 1 / d) for d in (16, 36)]
    slope = -math.log(c_star[1] / c_star[0]) / math.log(36 / 16)
    assert row["theory"]["exponent"] == pytest.approx(slope, rel=1e-9)
    assert row["expected"] == 0.5
    assert (tmp_path / "sweep-rates" / "rates.png").exists()


@pytest.mark.parametrize("target, message", [("store.sqlite", "is the sweep store"),
                                             ("sweep.toml", "is the sweep file"),
                                             ("folder", "is a folder")])
def test_csv_never_replaces_inputs(target, message, tmp_path):
    config = tmp_path / "sweep.toml"
    config.write_text("[grid]\nd = [16]\n")
    (tmp_path / "store.sqlite").write_bytes(b"earlier store")
    (tmp_path / "folder").mkdir()
    before = {name: (tmp_path / name).read_bytes() for name in ("sweep.toml", "store.sqlite")}
    result = subprocess.run([sys.executable, "-m", "flowphase", "sweep", str(config),
                             "--store", str(tmp_path / "store.sqlite"),
                             "--csv", str(tmp_path / target), "--force"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert message in result.stderr
    for name, content in before.items():
        assert (tmp_path / name).read_bytes() == content
    assert sorted(os.listdir(tmp_path)) == ["folder", "store.sqlite", "sweep.toml"]


def test_huge_grid_rejected(tmp_path):
    values = list(range(2, 2 + 400))
    with pytest.raises(SweepConfigError, match="more than the 100000 a sweep may have"):
        parse_sweep({"grid": {"d": values, "seed": values}}, base=tmp_path)
