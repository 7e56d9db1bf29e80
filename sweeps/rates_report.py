"""Convergence rates of chosen statistics over a sweep, as a new folder.

A statistic is ``p_hat``, ``sigma2_hat``, ``M``, or an overlap at a grid
time such as ``c@0.5``. For each one and each configuration of the sweep
apart from ``d`` and ``seed``, the folder gets the fit
``|mean over seeds - limit| ~ C d^(-a)`` with its bootstrap interval
(:func:`flowphase.sweeps.analysis.rate_rows`) and the expected exponent.
It contains ``rates.md``, ``rates.png`` and ``.pdf``, and ``results.json``.
"""

from __future__ import annotations

import math
from pathlib import Path

from flowphase.sweeps import analysis
from flowphase.sweeps.run import OVERLAPS, SAMPLER_QUANTITIES

__all__ = ["GENERATOR", "parse_statistic", "write_rates"]

GENERATOR = "flowphase sweep rates"

SAMPLER_EXPECTED = analysis.SAMPLER_EXPECTED

GROUP_KEYS = ("schedule", "p", "sigma", "kappa", "steps", "n_samples", "velocity",
              "training")


def parse_statistic(text: str) -> tuple[str, float | None]:
    """Parse ``NAME`` or ``NAME@TIME`` into ``(name, time)``; raise ValueError if invalid."""
    name, _, time_text = text.partition("@")
    allowed = (*SAMPLER_QUANTITIES, *OVERLAPS)
    if name not in allowed:
        raise ValueError(f"--rate {text!r}: unknown statistic {name!r}; use one of "
                         f"{', '.join(allowed)} (overlaps as NAME@TIME, e.g. c@0.5)")
    if name in SAMPLER_QUANTITIES:
        if time_text:
            raise ValueError(f"--rate {text!r}: {name} is taken at the end of the grid; "
                             "leave out @TIME")
        return name, None
    try:
        time_value = float(time_text)
    except ValueError:
        raise ValueError(f"--rate {text!r}: an overlap needs a grid time, e.g. {name}@0.5"
                         ) from None
    if not math.isfinite(time_value):
        raise ValueError(f"--rate {text!r}: the time must be finite")
    return name, time_value


def _groups(rows):
    groups = {}
    for row in rows:
        key = tuple(row[name] for name in GROUP_KEYS)
        groups.setdefault(key, dict(zip(GROUP_KEYS, key)))
    return list(groups.values())


def _expected(name, time_value, group):
    if name in SAMPLER_QUANTITIES:
        return SAMPLER_EXPECTED
    return analysis.expected_exponent(group["schedule"], time_value, name, p=group["p"],
                                      sigma=group["sigma"], kappa=group["kappa"] or 1.0)


def _label(name, time_value, group):
    where = "" if time_value is None else f" at {time_value:g}"
    kappa = f", kappa={group['kappa']:g}" if group["schedule"] == "dilated" else ""
    return (f"{name}{where}: {group['schedule']}, p={group['p']:g}, "
            f"sigma={group['sigma']:g}{kappa}, {group['velocity']}")


def _has_time(rows, name, time_value):
    return any(record["quantity"] == name and abs(record["time"] - time_value) < 1e-9
               for row in rows for record in row["results"]["records"])


def rate_table(rows, statistics, resamples=2000):
    """Return one rate row per statistic and configuration group with two or more ``d``."""
    cases = []
    for name, time_value in statistics:
        if time_value is not None and not _has_time(rows, name, time_value):
            raise ValueError(f"--rate {name}@{time_value:g}: no stored run has the grid "
                             f"time {time_value:g}; pick a time of the sweep's time grid")
        for group in _groups(rows):
            matching = [row for row in rows if all(row[k] == v for k, v in group.items())]
            if len({row["d"] for row in matching}) < 2:
                continue
            # A grid time of one schedule may not be on another's grid.
            if time_value is not None and not _has_time(matching, name, time_value):
                continue
            cases.append((_label(name, time_value, group), name, time_value,
                          _expected(name, time_value, group), None, group))
    if not cases:
        raise ValueError("no configuration of the sweep has two or more dimensions d, "
                         "so no rate can be fitted")
    return analysis.rate_rows(rows, cases, resamples=resamples)


def write_rates(rows, statistics, folder: Path, configuration: dict | None = None) -> list:
    """Fit the rates of ``statistics`` and write figure, table and JSON into ``folder``.

    ``configuration`` (the sweep's name, id and grid) is stored in
    ``results.json`` beside the package versions.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from flowphase.report import output
    from flowphase.sweeps.build import rate_markdown
    from flowphase.sweeps.figures import rates_figure

    table = rate_table(rows, statistics)
    names = rates_figure(plt, table, folder, "rates")
    text = "# Convergence rates of the sweep\n\n" + rate_markdown(table) + "\n"
    text += "\n".join(f"![{name}]({name})" for name in names if name.endswith(".png")) + "\n"
    (folder / "rates.md").write_text(text, encoding="utf-8")
    from flowphase.sweeps.run import package_versions

    output.write_json(folder / "results.json", {
        "generator": GENERATOR, "configuration": configuration or {},
        "statistics": [[name, time_value] for name, time_value in statistics],
        "versions": package_versions(), "rates": table, "figures": names})
    return table
