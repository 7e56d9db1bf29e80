"""The text of ``report.md``."""


def _fmt(value, digits=4):
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(config, versions, equations_md, summary, sampler_rows, rate_rows,
           figures, elapsed, sections=()):
    """Assemble ``report.md`` from its parts.

    ``sections`` are extra Markdown texts placed before the derived equations.
    """
    lines = [
        "# flowphase report",
        "",
        f"Mixture `p = {config.p}`, `sigma = {config.sigma}`, dilation "
        f"`kappa = {config.kappa}`, dimensions {list(config.dims)}, seed "
        f"{config.seed}, {config.steps_per_phase} Euler steps per phase, "
        f"{config.n_samples} generated samples. Run time {elapsed:.0f} s.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "## Generated statistics (Euler sampler on the training grid)",
        "",
        "`theory` is the exact value of the same sampler with the exact "
        "velocity field at that `d`; `limit` is its `d -> oo` value.",
        "",
        "| sampler | d | quantity | simulation | theory | limit |",
        "|---|---|---|---|---|---|",
    ]
    for r in sampler_rows:
        lines.append(f"| {r['schedule']} | {r['d']} | {r['quantity']} | "
                     f"{_fmt(r['simulation'])} | {_fmt(r['theory'])} | "
                     f"{_fmt(r['limit'])} |")
    lines += [
        "",
        "## Trained overlaps against the exact optimum",
        "",
        "Worst error per schedule, `d` and quantity over the times where the "
        "quantity is identifiable (rules in `flowphase.report.checks`).",
        "",
        "| schedule | d | quantity | worst error | tolerance | at time | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in summary:
        kind = "rel." if r["kind"] == "relative" else "abs."
        verdict = "pass" if r["passed"] else "**FAIL**"
        lines.append(f"| {r['schedule']} | {r['d']} | {r['quantity']} | "
                     f"{r['error']:.4f} | {r['tolerance']} {kind} | "
                     f"{r['time']:.3g} | {verdict} |")
    lines += [
        "",
        "## Distance of the exact optimum to its limit",
        "",
        "| overlap | fitted slope of log distance vs log d | expected |",
        "|---|---|---|",
    ]
    for row in rate_rows:
        lines.append(f"| {row['label']} | {row['slope']:.4f} | -0.5 |")
    lines += ["", "## Figures", ""]
    lines.append(figure_lines(figures))
    lines += list(sections)
    lines += ["## Derived equations", "", equations_md, ""]
    return "\n".join(lines)


def figure_lines(figures):
    """Return Markdown that shows each ``(caption, paths)`` with its PNG file."""
    lines = []
    for caption, paths in figures:
        png = [p for p in paths if p.endswith(".png")][0]
        lines.append(f"![{caption}]({png})")
        lines.append("")
        lines.append(f"*{caption}* (also as PDF)")
        lines.append("")
    return "\n".join(lines)
