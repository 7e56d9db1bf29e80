"""Build the ``flowphase figures`` folder: sweeps, figures, tables, files."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from flowphase.report import output
from flowphase.sweeps import figures
from flowphase.sweeps.driver import run_sweep
from flowphase.sweeps.run import package_versions
from flowphase.sweeps.store import SweepStore

logger = logging.getLogger(__name__)


def _interval_text(fit):
    if fit is None or fit["interval"] is None:
        return "-"
    low, high = fit["interval"]
    return f"[{low:.3f}, {high:.3f}]"


def rate_markdown(table) -> str:
    """Return the Markdown table of rate rows from :func:`flowphase.sweeps.analysis.rate_rows`."""
    lines = ["| quantity | dims | expected a | fitted a | 95% interval | verdict | exact a |",
             "|---|---|---|---|---|---|---|"]
    for row in table:
        fit, theory = row["simulation"], row["theory"]
        fitted = "-" if fit is None else f"{fit['exponent']:.3f}"
        if fit is None and theory is not None:
            fitted = f"{theory['exponent']:.3f} (exact values)"
        exact = "-" if theory is None else f"{theory['exponent']:.3f}"
        lines.append(f"| {row['label']} | {row['dims']} | {row['expected_text']} | "
                     f"{fitted} | {_interval_text(fit)} | {row['verdict']} | {exact} |")
    return "\n".join(lines)


def _markdown(tables, section, names, sizes, summary, elapsed):
    lines = ["# flowphase figures", "",
             f"p = {figures.P}, sigma = {figures.SIGMA}, kappa = {figures.KAPPA}; "
             f"{summary.total} sweep runs ({summary.completed} run now on "
             f"{summary.workers} Dask workers), {elapsed:.0f} s.", "",
             "## Convergence rates", "",
             "Fit of |mean over seeds - limit| ~ C d^(-a), with the 95% interval of a "
             "from a bootstrap over seeds. The expected a of each overlap comes from "
             "the derived leading 1/sqrt(d) expansion of the exact optimum ('exact': "
             "the optimum equals its limit at every d, so only training noise "
             "remains). 'exact a' fits the exact finite-d value on the same "
             "dimensions. The interval covers the noise over seeds only; where "
             "'exact a' also differs from the expected a, these dimensions are not "
             "yet in the asymptotic regime."]
    for title, key in (("Dilated schedule", "rates"), ("Linear schedule", "rates_linear")):
        lines += ["", f"### {title}", "", rate_markdown(tables[key])]
    lines += ["", "Exact sampler statistics against their limit on d = "
              f"{list(sizes.theory_dims)} (no sampling noise, expected a = "
              f"{figures.P_HAT_EXPECTED}):", "",
              "| quantity | fitted a | a between the two largest d | errors |",
              "|---|---|---|---|"]
    for row in tables["theory_rates"]:
        errors = ", ".join(f"{e:.3g}" for e in row["fit"]["errors"])
        lines.append(f"| {row['label']} | {row['fit']['exponent']:.3f} | "
                     f"{row['last_slope']:.3f} | {errors} |")
    lines.append(section)
    lines += ["", "## Figures", ""]
    lines += [f"![{name}]({name})" for name in names if name.endswith(".png")]
    return "\n".join(lines) + "\n"


def build_figure_folder(out, *, quick=False, force=False, scheduler=None, workers=None,
                        show_progress=True, sizes=None, store=None):
    """Run the built-in sweeps and write the figures folder ``out`` atomically.

    ``sizes`` (a :class:`~flowphase.sweeps.figures.FigureSizes`) overrides
    the grids chosen by ``quick``. With ``store`` the sweeps run into that
    SQLite file, which outlives an interrupted run, so a rerun skips
    finished runs. A copy of it goes into the folder. Returns the list of
    failed runs (empty when every run finished).
    """
    out = Path(out)
    if sizes is None:
        sizes = figures.QUICK if quick else figures.FigureSizes()
    started = time.perf_counter()
    staging = output.staging_folder(out)
    try:
        store_path = Path(store) if store is not None else staging / "sweep.sqlite"
        config = figures.builtin_sweep(sizes, store_path)
        summary = run_sweep(config, scheduler=scheduler, workers=workers,
                            show_progress=show_progress)
        opened = SweepStore.open(store_path, config.sweep_id, {})
        try:
            rows = opened.rows()
            opened.export_csv(staging / "records.csv")
        finally:
            opened.close()
        if store is not None:
            shutil.copyfile(store_path, staging / "sweep.sqlite")
        names, tables, section = figures.build_figures(rows, sizes, staging)
        elapsed = time.perf_counter() - started
        (staging / "figures.md").write_text(_markdown(tables, section, names, sizes,
                                                              summary, elapsed),
                                            encoding="utf-8")
        output.write_json(staging / "results.json", {
            "generator": figures.GENERATOR, "sizes": asdict(sizes),
            "versions": package_versions(), "elapsed_seconds": elapsed,
            "failed_runs": [[spec.to_dict(), error] for spec, error in summary.failed],
            "figures": names, **tables})
        output.publish(staging, out, force)
    except BaseException:
        output.discard(staging)
        raise
    return summary.failed
