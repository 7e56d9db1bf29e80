"""Tests of ``flowphase dynamics``: output folder, overwrite rules, numbers.

Oracles: the closed-form optima of both phases, written here from the
exact denoiser, and the files the command must create.
"""

import json
import math

import numpy as np
import pytest

from flowphase.cli import main

P, SIGMA, KAPPA = 0.8, 1.0, 2.0
ARGUMENTS = ["--quick", "--dims", "64,256", "--seeds", "2", "--T", "1"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("dynamics") / "run"
    status = main(["dynamics", *ARGUMENTS, "--out", str(out)])
    return status, out


def test_dynamics_writes_folder(written):
    status, out = written
    assert status == 0
    results = json.loads((out / "results.json").read_text())
    assert results["generator"] == "flowphase dynamics"
    assert results["configuration"]["dims"] == [64, 256]
    assert "numpy" in results["versions"]
    for name in results["figures"]:
        assert (out / name).stat().st_size > 0
    assert any(name.endswith(".pdf") for name in results["figures"])
    assert [case["phase"] for case in results["cases"]] == [1, 2]
    equations = (out / "equations.tex").read_text()
    assert r"\label{eq:sgd-phase-2-c}" in equations


def test_dynamics_fixed_points_match_optima(written):
    _, out = written
    rows = json.loads((out / "results.json").read_text())["fixed_points"]
    for row in rows:
        time = row["time"]
        if row["phase"] == 1:
            expected = [0.0, math.atanh(2 * P - 1), 1.0, 1.0, KAPPA * time,
                        (KAPPA * time) ** 2]
        else:
            c = SIGMA**2 * time / ((1 - time) ** 2 + SIGMA**2 * time**2)
            expected = [c, 1 - c * time, (1 - c * time) ** 2]
        print(f"phase {row['phase']} fixed point error: "
              f"{np.max(np.abs(np.array(row['newton']) - expected)):.2e}")
        np.testing.assert_allclose(row["newton"], expected, atol=1e-8)
        assert row["stable"]


def test_dynamics_finite_d_ode_closer(written):
    _, out = written
    cases = json.loads((out / "results.json").read_text())["cases"]
    for case in cases:
        for d, row in case["sgd"].items():
            deviation = row["max_deviation"]
            print(f"phase {case['phase']}, d={d}: max deviation {deviation}")
            assert deviation["finite_d"] < 0.5 * deviation["limit"], d
    for d, row in cases[1]["sgd"].items():
        assert row["frozen_max_change"] < 1e-3, d


def test_dynamics_eta_shift_moves_omega(written):
    _, out = written
    shift = json.loads((out / "results.json").read_text())["eta_shift"]
    omega = [final[shift["names"].index("omega")] for final in shift["ode_end"]]
    print("omega at T against eta:", dict(zip(shift["etas"], np.round(omega, 4))))
    assert shift["etas"][0] == 0.0
    assert np.all(np.diff(omega) > 0)
    assert (out / "eta_shift.png").exists()


def test_dynamics_omega_passes_optimum(written):
    """At eta = 0.5, omega overshoots kappa tau by over 10% by T = 20 and keeps growing."""
    _, out = written
    shift = json.loads((out / "results.json").read_text())["eta_shift"]
    index = shift["names"].index("omega")
    optimum = KAPPA * shift["tau"]
    growth = [row[index] for row in shift["growth"]["ode"]]
    print("omega(T):", dict(zip(shift["growth"]["times"], np.round(growth, 4))),
          "SGD:", shift["sgd_end"][index])
    assert shift["T"] == 20.0
    assert shift["etas"][3] == 0.5
    assert shift["ode_end"][3][index] > 1.1 * optimum
    assert np.all(np.diff(growth) > 0)
    assert shift["sgd_min"][index] > 1.1 * optimum


def test_dynamics_linear_window(written):
    _, out = written
    window = json.loads((out / "results.json").read_text())["undilated"]
    assert (out / "undilated_window.png").exists()
    for row in window["dims"]:
        change = row["sgd_bias_change"]
        print(f"d={row['d']}: half-width {row['half_width']:.5f}, SGD change {change}")
        assert change["window"]["min"] > 0.05
        assert change["fixed"]["max"] < 1e-3
        assert abs(row["drift_b_at_fixed_time"]) < 1e-3


def test_dynamics_rejects_existing_folder(written, capsys):
    _, out = written
    before = (out / "results.json").read_text()
    assert main(["dynamics", *ARGUMENTS, "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (out / "results.json").read_text() == before


def test_dynamics_force_replaces_own_folder(written):
    _, out = written
    (out / "marker.txt").write_text("old")
    assert main(["dynamics", *ARGUMENTS, "--T", "0.5", "--out", str(out), "--force"]) == 0
    assert not (out / "marker.txt").exists()
    results = json.loads((out / "results.json").read_text())
    assert results["configuration"]["T_end"] == 0.5


def test_dynamics_force_keeps_foreign_folder(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "data.txt").write_text("keep")
    assert main(["dynamics", *ARGUMENTS, "--out", str(foreign), "--force"]) == 2
    assert (foreign / "data.txt").read_text() == "keep"


def test_dynamics_rejects_small_dimension(tmp_path):
    assert main(["dynamics", "--quick", "--dims", "4", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
