"""30-digit limits of the generated statistics beside the float64 numerics.

Both ``flowphase report`` and ``flowphase figures`` print these tables.
The first has the Euler-grid limits of ``p_hat`` and ``sigma2_hat`` and
the continuous-flow ``p_hat`` of the dilated schedule, each evaluated with
mpmath (``flowphase.theory.precise_limits``) and in double precision. The
second has the gap ``p_hat_oo - p`` beside its derived leading term as
``kappa`` grows.
"""

import logging
import math

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["digits_rows", "leading_gap_rows", "markdown_section"]

STATISTICS = ("grid_p_hat", "grid_sigma2_hat", "flow_p_hat", "flow_gap")


def digits_rows(kappas, *, p, sigma, steps, dps=30):
    """Compare 30-digit limits with the double-precision numerics.

    Per ``kappa``: the Euler-grid limit of ``p_hat`` and ``sigma2_hat`` from
    :func:`flowphase.theory.precise_limits.sampler_limits_precise` against
    :func:`flowphase.numerics.sampler_stats.sampler_statistics` at
    ``d = inf``, and the continuous-flow ``p_hat`` and its gap to ``p``
    against the same closed forms in float64 (``scipy.special.ndtr``).
    """
    import mpmath as mp
    from scipy.special import ndtr

    from flowphase.numerics.sampler_stats import sampler_statistics
    from flowphase.theory import precise_limits
    from flowphase.theory.schedules import dilated_schedule

    grid = np.linspace(0.0, 2.0, 2 * steps + 1)
    ell = math.atanh(2 * p - 1)
    rows = []
    for kappa in kappas:
        schedule = dilated_schedule(kappa)
        try:
            precise = precise_limits.sampler_limits_precise(schedule, grid, p=p,
                                                            sigma=sigma, dps=dps)
        except NotImplementedError as error:
            logger.warning("no 30-digit grid limit at kappa=%g: %s", kappa, error)
            continue
        double = sampler_statistics(schedule, grid, d=math.inf, p=p, sigma=sigma)
        flow = precise_limits.p_hat_flow_limit(p, kappa, dps=dps)
        flow_double = p * ndtr(kappa + ell / kappa) + (1 - p) * ndtr(-kappa + ell / kappa)
        gap = precise_limits.p_hat_flow_gap(p, kappa, dps=dps)
        row = {"kappa": kappa}
        for name, exact, value in (("grid_p_hat", precise["p_hat"], double["p_hat"]),
                                   ("grid_sigma2_hat", precise["sigma2_hat"],
                                    double["sigma2_hat"]),
                                   ("flow_p_hat", flow, flow_double),
                                   ("flow_gap", gap, flow_double - p)):
            relative = None if exact == 0 else float(abs(exact - value) / abs(exact))
            row[name] = {"digits": mp.nstr(exact, dps), "double": float(value),
                         "difference": float(abs(exact - value)), "relative": relative}
        rows.append(row)
    return rows


def leading_gap_rows(kappas, *, p):
    """Return the 30-digit gap ``p_hat_oo - p`` beside its derived leading term."""
    import mpmath as mp
    import sympy as sp

    from flowphase.theory import precise_limits
    from flowphase.theory.symbols import kappa, log_odds

    expression = precise_limits.p_hat_gap_leading()
    leading = sp.lambdify((kappa, log_odds), expression, modules="mpmath")
    rows = []
    with mp.workdps(40):
        ell = mp.atanh(2 * mp.mpf(str(p)) - 1)
        for value in kappas:
            gap = precise_limits.p_hat_flow_gap(p, value)
            term = leading(mp.mpf(value), ell)
            rows.append({"kappa": value, "gap": mp.nstr(gap, 30),
                         "leading": mp.nstr(term, 30), "ratio": float(gap / term)})
    return {"expression": str(expression), "latex": sp.latex(expression), "rows": rows}


def markdown_section(kappas, *, p, sigma, steps):
    """Return the report section with both tables, and the rows for ``results.json``."""
    rows = digits_rows(kappas, p=p, sigma=sigma, steps=steps)
    # At p = 1/2 the gap is 0 for every kappa, so there is no leading term.
    gap = None if p == 0.5 else leading_gap_rows(tuple(2.0 * 2**k for k in range(5)), p=p)
    lines = ["", "## Limits to 30 digits against double precision", "",
             f"`grid_*`: the `d -> oo` limit of the Euler sampler with {steps} steps "
             "per phase on the dilated schedule, evaluated with mpmath from the exact "
             "step limits, against the float64 sampler statistics at `d = inf`. "
             "`flow_*`: the continuous phase-1 limit "
             "`p Phi(kappa + l/kappa) + (1-p) Phi(-kappa + l/kappa)` and its gap to `p`, "
             "in mpmath against float64 (`scipy.special.ndtr`). Below about 1e-16 the "
             "float64 gap is only rounding noise of `p_hat - p`.", "",
             "| kappa | statistic | 30 digits | float64 | abs. difference | rel. difference |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        for name in STATISTICS:
            cell = row[name]
            relative = "-" if cell["relative"] is None else f"{cell['relative']:.2e}"
            lines.append(f"| {row['kappa']:g} | {name} | {cell['digits']} | "
                         f"{cell['double']:.17g} | {cell['difference']:.2e} | {relative} |")
    if gap is None:
        return "\n".join(lines) + "\n", {"digits": rows, "gap": None}
    lines += ["", "Leading term of `p_hat_oo - p` as `kappa -> oo`, derived with SymPy: "
              f"`{gap['expression']}`.", "",
              "| kappa | gap (30 digits) | leading term | ratio |", "|---|---|---|---|"]
    for row in gap["rows"]:
        lines.append(f"| {row['kappa']:g} | {row['gap']} | {row['leading']} | "
                     f"{row['ratio']:.6f} |")
    return "\n".join(lines) + "\n", {"digits": rows, "gap": gap}
