"""A small report, end to end: files, records, reproducibility."""

import json
import math

import pytest

from flowphase.report.build import build_report
from flowphase.report.config import quick_config
from flowphase.report.output import OutputError

FIELDS = {"schedule", "d", "seed", "quantity", "time", "simulation", "theory", "limit"}


@pytest.fixture(scope="module")
def small_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    config = quick_config(dims=(64,), seed=3)
    first, checks = build_report(config, folder / "first", show_progress=False)
    second, _ = build_report(config, folder / "second", show_progress=False)
    return config, first, second, checks


def load(folder):
    return json.loads((folder / "results.json").read_text())


def test_report_files_exist(small_report):
    _, first, _, _ = small_report
    names = {p.name for p in first.iterdir()}
    assert {"report.md", "equations.tex", "results.json"} <= names
    for figure in ("overlaps_dilated", "overlaps_linear", "sampler_statistics",
                   "y_histogram", "optimum_rate"):
        assert f"{figure}.png" in names
        assert f"{figure}.pdf" in names


def test_results_records_are_tidy(small_report):
    _, first, _, _ = small_report
    results = load(first)
    assert results["generator"] == "flowphase report"
    assert results["configuration"]["seed"] == 3
    assert "numpy" in results["versions"]
    assert set(results["grids"]) == {"dilated", "linear"}
    for record in results["records"]:
        assert set(record) == FIELDS
        assert record["simulation"] is not None
        assert math.isfinite(record["simulation"])


def test_results_cover_sampler_quantities(small_report):
    _, first, _, _ = small_report
    records = load(first)["records"]
    found = {(r["schedule"], r["quantity"]) for r in records
             if r["quantity"] in ("p_hat", "sigma2_hat", "M")}
    for schedule in ("dilated", "linear", "linear_without_t0"):
        for quantity in ("p_hat", "sigma2_hat", "M"):
            assert (schedule, quantity) in found


def test_same_seed_same_records(small_report):
    _, first, second, _ = small_report
    assert load(first)["records"] == load(second)["records"]


def test_existing_report_needs_force(small_report, tmp_path):
    config, first, _, _ = small_report
    with pytest.raises(OutputError, match="exists already"):
        build_report(config, first, show_progress=False)


def test_checks_returned(small_report):
    _, _, _, checks = small_report
    assert len(checks) > 0
    assert all("passed" in row for row in checks)
