"""Tables behind ``flowphase figures``: rates and statistics per parameter.

Every function reads the rows of a sweep store (see
:meth:`flowphase.sweeps.store.SweepStore.rows`) and returns plain dicts,
so the figures and ``results.json`` show the same numbers.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict

import numpy as np

from flowphase.numerics.rates import fit_rate

logger = logging.getLogger(__name__)

#: Expected exponent of ``p_hat``, ``sigma2_hat`` and ``M`` against their
#: limits. NOTE: argued, not derived. Every Euler step coefficient is a
#: rational function of 1/sqrt(d), so a first-order term in 1/sqrt(d) is
#: generic.
SAMPLER_EXPECTED = 0.5

__all__ = ["values_by", "rate_rows", "theory_rate_row", "expected_exponent",
           "sampler_theory_sweep"]


def _record(row, quantity, time=None):
    for record in row["results"]["records"]:
        if record["quantity"] == quantity and (time is None or
                                               abs(record["time"] - time) < 1e-9):
            return record
    raise KeyError(f"no record {quantity} at time {time} in run {row['run_key']}")


def values_by(rows, parameter, quantity, time=None, **fixed):
    """Group a record's simulation, theory and limit by ``parameter``.

    Returns ``{value: {"simulation": [per seed], "theory": x, "limit": x}}``
    for the rows whose configuration matches ``fixed``.
    """
    groups = defaultdict(lambda: {"simulation": [], "theory": None, "limit": None})
    for row in rows:
        if any(row[key] != value for key, value in fixed.items()):
            continue
        record = _record(row, quantity, time)
        group = groups[row[parameter]]
        if record["simulation"] is not None:
            group["simulation"].append(record["simulation"])
        group["theory"], group["limit"] = record["theory"], record["limit"]
    return dict(sorted(groups.items()))


def expected_exponent(schedule_name, time, quantity, *, p, sigma, kappa):
    """Return ``a`` of the derived leading correction ``overlap - limit ~ C d^(-a)``.

    It comes from :func:`flowphase.theory.limits.overlap_rate`, so the
    expected slope is derived, not assumed.
    """
    from flowphase.theory.limits import overlap_rate
    from flowphase.theory.schedules import dilated_schedule, linear_schedule

    schedule = dilated_schedule(kappa) if schedule_name == "dilated" else linear_schedule()
    _, exponent = overlap_rate(schedule, time, sigma=sigma, p=p)[quantity]
    return float(-exponent)


#: Width of the 95% interval of ``a`` beyond which a fit cannot test an exponent.
INCONCLUSIVE_WIDTH = 1.0


def _verdict(fit, expected, exact_exponent):
    """Compare the fitted interval with the expected and the exact finite-``d`` exponent."""
    if expected is None:
        return "no convergence to the target expected"
    if math.isinf(expected):
        return "no d-dependence expected (exact at every d)"
    agrees = fit.agrees_with(expected)
    if agrees is None:
        return "no interval (one seed)"
    low, high = fit.interval
    if high - low > INCONCLUSIVE_WIDTH:
        return f"inconclusive (interval wider than {INCONCLUSIVE_WIDTH:g})"
    if agrees:
        return "agrees"
    if exact_exponent is not None and fit.agrees_with(exact_exponent):
        return "DISAGREES; matches the exact finite-d exponent, so not yet asymptotic"
    return "DISAGREES"


def _fit_or_none(dims, values, targets, resamples):
    try:
        return fit_rate(dims, values, targets, resamples=resamples).to_dict()
    except ValueError as error:
        # An exact value equal to its limit at every d has error 0.
        logger.info("no rate fit: %s", error)
        return None


def rate_rows(rows, cases, *, resamples=2000):
    """Fit the rate of each case ``(label, quantity, time, expected, target, fixed)``.

    ``fixed`` selects the runs (for example ``schedule="dilated"``). The
    error is ``|mean simulation - target|`` with a bootstrap over seeds,
    where a ``target`` of None means the limit at each ``d``. A second fit
    uses the exact finite-``d`` value (one value per ``d``). ``expected``
    is the exponent the theory gives: ``inf`` where the value does not
    depend on ``d``, and None where no convergence to the target is expected.
    """
    results = []
    for label, quantity, time, expected, target, fixed in cases:
        groups = values_by(rows, "d", quantity, time, **fixed)
        known = {d: g for d, g in groups.items() if g["limit"] is not None}
        simulated = [d for d, g in known.items() if g["simulation"]]
        exact_dims = [d for d, g in known.items() if g["theory"] is not None]
        row = {"label": label, "quantity": quantity, "time": time,
               "dims": simulated or exact_dims,
               "expected": None if expected is None or math.isinf(expected) else expected,
               "expected_text": "-" if expected is None else
               ("exact" if math.isinf(expected) else f"{expected:g}")}

        exact_value = expected is not None and math.isinf(expected)
        theory = None
        if len(exact_dims) > 1 and not exact_value:
            targets = [known[d]["limit"] if target is None else target for d in exact_dims]
            theory = _fit_or_none(exact_dims, [[known[d]["theory"]] for d in exact_dims],
                                  targets, resamples)
        row["theory"] = theory

        if not known:
            row.update(simulation=None, verdict="no finite d -> oo limit to fit against")
            results.append(row)
            continue
        if not simulated:
            row.update(simulation=None, verdict="no simulation (exact values only)")
            results.append(row)
            continue
        targets = [known[d]["limit"] if target is None else target for d in simulated]
        try:
            fit = fit_rate(simulated, [known[d]["simulation"] for d in simulated], targets,
                           resamples=resamples)
            exact_exponent = None if theory is None else theory["exponent"]
            row.update(simulation=fit.to_dict(),
                       verdict=_verdict(fit, expected, exact_exponent))
        except ValueError as error:
            row.update(simulation=None, verdict=f"no fit: {error}")
        results.append(row)
    return results


def theory_rate_row(label, dims, theory, limit, expected):
    """Fit the exact finite-``d`` error ``|theory(d) - limit|`` on a wide range of ``d``."""
    fit = fit_rate(dims, [[value] for value in theory], limit)
    errors = np.array(fit.errors)
    # Slope between the two largest dimensions: the fit over all of them
    # mixes in higher-order corrections.
    last = -math.log(errors[-1] / errors[-2]) / math.log(dims[-1] / dims[-2])
    return {"label": label, "expected": expected, "fit": fit.to_dict(), "last_slope": last}


def sampler_theory_sweep(schedule_name, dims, *, p, sigma, kappa, steps):
    """Return the exact finite-``d`` sampler statistics at each of ``dims`` and the limit."""
    from flowphase.numerics.sampler_stats import sampler_statistics
    from flowphase.sweeps.run import time_grid
    from flowphase.theory.schedules import dilated_schedule, linear_schedule

    schedule = dilated_schedule(kappa) if schedule_name == "dilated" else linear_schedule()
    grid = time_grid(schedule_name, steps)
    finite = [sampler_statistics(schedule, grid, d=int(d), p=p, sigma=sigma) for d in dims]
    limit = sampler_statistics(schedule, grid, d=math.inf, p=p, sigma=sigma)
    return {name: np.array([row[name] for row in finite]) for name in limit}, limit
