"""flowphase figures: bad input writes nothing; a tiny run writes every file."""

import json
import os

import pytest

from flowphase.cli import main
from flowphase.sweeps.build import build_figure_folder
from flowphase.sweeps.figures import FigureSizes

TINY = FigureSizes(trained_dims=(16, 36), trained_seeds=(0, 1), sampler_dims=(16, 36),
                   sampler_seeds=(0, 1), sampler_samples=300, kappa_d=36,
                   kappas=(1.0, 2.0), sigma_dims=(16,), sigmas=(0.5, 1.0),
                   theory_dims=(10**5, 10**6))


def test_figures_existing_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert main(["figures", "--out", "out"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert os.listdir(tmp_path / "out") == []


def test_figures_bad_workers(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["figures", "--workers", "0"]) == 2
    assert "--workers must be >= 1, got 0" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_figures_tiny_run(tmp_path):
    out = tmp_path / "figs"
    failed = build_figure_folder(out, sizes=TINY, workers=2, show_progress=False)
    assert failed == []

    results = json.loads((out / "results.json").read_text())
    assert results["generator"] == "flowphase figures"
    expected = {row["label"]: row["expected"] for row in results["rates"]}
    # The derived leading corrections: c and omega ~ d^(-1/2), m ~ d^(-1) in
    # phase 1, c and m ~ d^(-1/2) in phase 2.
    assert expected["c at tau = 0.5"] == 0.5
    assert expected["omega at tau = 0.5"] == 0.5
    assert expected["m at tau = 0.5"] == 1.0
    assert expected["m at tau = 1.5"] == 0.5

    texts = {row["label"]: row["expected_text"] for row in results["rates"]}
    assert texts["b at tau = 0.5"] == "exact"
    linear = {row["label"]: row for row in results["rates_linear"]}
    assert linear["c at t = 0.5"]["expected_text"] == "exact"
    assert linear["|p_hat - p|, trained"]["verdict"] == "no convergence to the target expected"

    for row in results["rates"]:
        assert row["simulation"]["interval"] is not None, row["label"]
    for row in results["digits"]:
        for name in ("grid_p_hat", "grid_sigma2_hat", "flow_p_hat"):
            assert row[name]["difference"] < 1e-12, (row["kappa"], name)

    for name in ("p_hat_kappa", "sigma2_sigma", "rates_dilated", "rates_linear",
                 "targets_by_schedule"):
        assert (out / f"{name}.png").stat().st_size > 0
        assert (out / f"{name}.pdf").stat().st_size > 0
    assert "DISAGREES" in (out / "figures.md").read_text() or "agrees" in (
        out / "figures.md").read_text()

    with pytest.raises(OSError, match="appeared while"):
        build_figure_folder(out, sizes=TINY, workers=1, show_progress=False)
