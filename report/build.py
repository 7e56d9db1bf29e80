"""``flowphase report``: run the pipeline and write the output folder.

The folder contains ``report.md``, ``equations.tex``, the figures as PNG and
PDF, and ``results.json`` (configuration, grids, versions and every
plotted number as tidy ``records``). It is built in a hidden staging
folder and renamed into place at the end.
"""

import logging
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtri
from tqdm.auto import tqdm

from flowphase.numerics.sampler_stats import phase1_y_map
from flowphase.report import (checks, dynamics_section, figures, markdown, precise,
                              proof_figures)
from flowphase.report.versions import package_versions
from flowphase.report.output import (GENERATOR, check_destination, discard, publish,
                                     staging_folder, write_json)
from flowphase.report.pipeline import (build_grids, limit_values, run_schedule,
                                       schedule_parameters)
from flowphase.theory.latex import to_latex_document, to_markdown
from flowphase.theory.model import optimal_overlaps_numeric

logger = logging.getLogger(__name__)



def _steps_per_dimension(config, grids):
    training = config.training
    per_schedule = training.anchor_steps + training.explore_steps + training.refine_steps
    return per_schedule * len(grids)


def optimum_rate_rows(config, grids):
    """Distance of the exact optimum to its ``d -> oo`` limit on a sweep of ``d``.

    The limits come from the symbolic layer; the slope is fitted on
    ``d`` from 10^3 to 10^7, where the leading ``1/sqrt(d)`` term dominates.
    """
    schedule, _ = grids["dilated"]
    cases = [("c, phase 1, tau = 0.5", 0.5, "c"),
             ("omega, phase 1, tau = 0.5", 0.5, "omega"),
             ("c, phase 2, tau = 1.5", 1.5, "c"),
             ("m, phase 2, tau = 1.5", 1.5, "m")]
    dims = np.unique(np.round(np.logspace(3, 7, 9)).astype(int))
    rows = []
    for label, tau, quantity in cases:
        limit = limit_values(schedule, [tau], config)[quantity][0]
        distance = [abs(optimal_overlaps_numeric(
            schedule, [tau], d=int(d), p=config.p, sigma=config.sigma,
            **schedule_parameters(schedule, config))[quantity][0] - limit)
            for d in dims]
        rows.append({"label": label, "d": dims.tolist(), "distance": distance,
                     "slope": figures.slope(dims, distance)})
    return rows


def exact_phase_one_law(config, grids, n_points=100_000):
    """Return, per ``d``, ``y`` at ``tau = 1`` of the exact-velocity Euler sampler.

    The exact map ``y_0 -> y`` of the discrete phase-1 steps is applied to
    ``n_points`` standard normal quantiles, so a histogram of the result is
    the sampler's exact law at that ``d``.
    """
    schedule, grid = grids["dilated"]
    boundary = int(np.argmin(np.abs(grid - 1.0)))
    levels = (np.arange(n_points) + 0.5) / n_points
    quantiles = ndtri(levels)
    return {
        d: phase1_y_map(schedule, grid, boundary, d=d, p=config.p, sigma=config.sigma,
                        **schedule_parameters(schedule, config))(quantiles)
        for d in config.dims
    }


def build_report(config, out, *, force=False, show_progress=True):
    """Run the report for ``config`` and write it to the folder ``out``.

    Returns ``(out, checks)``: the folder and one row per theory-versus-
    simulation check (see ``flowphase.report.checks``). On any error or
    interrupt the unfinished folder is removed and nothing is published.
    """
    out = Path(out)
    check_destination(out, force)
    started = time.perf_counter()
    grids = build_grids(config)
    rng = np.random.default_rng(config.seed)
    staging = staging_folder(out)
    logger.info("building report in %s", staging)
    try:
        checked = _build(config, grids, rng, staging, started, show_progress)
        publish(staging, out, force)
    except BaseException:
        discard(staging)
        raise
    failed = sum(not r["passed"] for r in checked)
    logger.info("%d of %d checks passed", len(checked) - failed, len(checked))
    return out, checked


def _build(config, grids, rng, staging, started, show_progress):
    """Compute everything and write the files into ``staging``."""
    records, y_by_d = [], {}
    total = _steps_per_dimension(config, grids) * len(config.dims)
    with tqdm(total=total, desc="training", unit="step", disable=not show_progress) as bar:
        for d in config.dims:
            for name, (schedule, grid) in grids.items():
                bar.set_postfix_str(f"d={d} {name}")
                rows, y = run_schedule(name, schedule, grid, d, config, rng, bar)
                records += rows
                if y is not None:
                    y_by_d[d] = y

    rate_rows = optimum_rate_rows(config, grids)
    checked = checks.evaluate(records)
    summary = checks.summarize(checked)
    sampler_rows = [r for r in records if r["quantity"] in ("p_hat", "sigma2_hat", "M")]

    dims = list(config.dims)
    figure_list = [
        ("Overlaps on the dilated schedule (both phases)",
         figures.overlaps_figure(records, "dilated", dims, staging)),
        ("Overlaps on the linear schedule",
         figures.overlaps_figure(records, "linear", dims, staging)),
        ("Generated p_hat, sigma2_hat and M(end) versus d",
         figures.sampler_figure(records, dims, staging)),
        ("Law of y at tau = 1: trained sampler, exact sampler at d, and the limit law",
         figures.histogram_figure(y_by_d, exact_phase_one_law(config, grids), config.p,
                                  config.kappa, staging)),
        ("Distance of the exact optimum to its limit versus d",
         figures.rate_figure(rate_rows, staging)),
        ("p_hat versus kappa: exact sampler at each d, and its limits (theory only)",
         proof_figures.kappa_figure(config, staging)),
        ("sigma2_hat versus sigma: exact sampler at each d, and its limit (theory only)",
         proof_figures.sigma_figure(config, staging)),
    ]

    logger.info("training dynamics section")
    dynamics_results, dynamics_figures = dynamics_section.run_section(config, staging,
                                                                     show_progress)

    precise_section, precise_tables = precise.markdown_section(
        (config.kappa,), p=config.p, sigma=config.sigma, steps=config.steps_per_phase)

    versions = package_versions()
    (staging / "equations.tex").write_text(to_latex_document(), encoding="utf-8")
    elapsed = time.perf_counter() - started
    sections = []
    if dynamics_results is not None:
        sections.append("\n".join(dynamics_section.render(dynamics_results)))
        sections.append(markdown.figure_lines(dynamics_figures))
    sections.append(precise_section)
    text = markdown.render(config, versions, to_markdown(), summary, sampler_rows,
                           rate_rows, figure_list, elapsed, sections)
    (staging / "report.md").write_text(text, encoding="utf-8")
    write_json(staging / "results.json", {
        "generator": GENERATOR,
        "configuration": config.to_dict(),
        "grids": {name: np.round(grid, 12).tolist() for name, (_, grid) in grids.items()},
        "versions": versions,
        "elapsed_seconds": elapsed,
        "optimum_rates": rate_rows,
        "precise_limits": precise_tables,
        "checks": [{k: r[k] for k in ("schedule", "d", "quantity", "time", "error",
                                       "tolerance", "kind", "passed")} for r in checked],
        "records": records,
        "dynamics": dynamics_results,
    })
    return checked
