"""The collapsing window of the linear schedule, for ``flowphase dynamics``.

On the linear schedule the bias ``b``, the only overlap that carries the
mode weight ``p``, moves under SGD only for ``t`` of order ``1/sqrt(d)``
(:mod:`flowphase.theory.sgd_undilated`). This module measures that window
three ways:

- the finite-``d`` drift ``db/dT`` against ``t`` at each dimension, beside
  its ``d -> oo`` limit at ``t = theta/sqrt(d)``;
- the half-width of the window against ``d``, with a fitted log-log slope
  (the theory gives ``-1/2``);
- online SGD from the same network inside the window, at
  ``t = 1/sqrt(d)``, and at a fixed ``t``: the change of ``b`` over the run.
"""

from __future__ import annotations

import logging
import math

logger = logging.getLogger(__name__)

#: Fixed time of the linear schedule at which SGD runs outside the window.
FIXED_TIME = 0.5
#: Number of points of each drift curve, log-spaced in ``theta = t sqrt(d)``.
N_CURVE = 40


def undilated_results(config, progress=None) -> dict:
    """Return the window measurements for a :class:`DynamicsConfig`."""
    import numpy as np
    from scipy.stats import linregress

    from flowphase.numerics import sgd_undilated

    b_index = 1
    thetas = np.logspace(-2, math.log10(6.0), N_CURVE)
    limit_curve = [float(sgd_undilated.window_drift(theta, config.p)[b_index])
                   for theta in thetas]
    rows = []
    for d in config.dims:
        logger.info("linear schedule window, d = %d", d)
        times = thetas / math.sqrt(d)
        curve = [float(sgd_undilated.finite_d_drift(time, d, config.p, config.sigma)[b_index])
                 for time in times]
        rows.append({
            "d": d,
            "times": times.tolist(),
            "drift_b": curve,
            "half_width": sgd_undilated.half_width(d, config.p, config.sigma),
            "drift_b_at_fixed_time": float(sgd_undilated.finite_d_drift(
                FIXED_TIME, d, config.p, config.sigma)[b_index]),
            "sgd_bias_change": _sgd_bias_change(config, d, progress),
        })
    widths = [row["half_width"] for row in rows]
    slope = None
    if len(rows) >= 3:
        fit = linregress(np.log(config.dims), np.log(widths))
        slope = {"slope": float(fit.slope), "stderr": float(fit.stderr), "expected": -0.5}
    return {
        "state": list(sgd_undilated.WINDOW_STATE),
        "thetas": thetas.tolist(),
        "limit_drift_b": limit_curve,
        "window_half_theta": sgd_undilated.window_half_width(config.p),
        "fixed_time": FIXED_TIME,
        "dims": rows,
        "half_width_slope": slope,
    }


def _sgd_bias_change(config, d, progress):
    """Return the largest ``|b(T_end) - b(0)|`` over seeds inside and outside the window."""
    import numpy as np

    from flowphase.numerics import sgd_undilated
    from flowphase.validation import online_sgd

    seeds = tuple(range(config.seed, config.seed + config.n_seeds))
    start = np.array(sgd_undilated.WINDOW_STATE)
    changes = {}
    for label, time in (("window", 1.0 / math.sqrt(d)), ("fixed", FIXED_TIME)):
        run = online_sgd.run_online_sgd(
            start, d=d, alpha=1.0 - time, beta=time, p=config.p, sigma=config.sigma,
            eta=config.eta, times=[0.0, config.T_end], seeds=seeds, progress=progress,
        )
        change = np.abs(run.overlaps[-1, :, 1] - run.overlaps[0, :, 1])
        changes[label] = {"t": time, "min": float(change.min()), "max": float(change.max())}
    return changes


def undilated_figure(plt, window):
    """Plot ``db/dT`` against ``t`` per ``d`` and the half-width against ``d``."""
    import numpy as np

    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    thetas = np.array(window["thetas"])
    for color, row in zip(colors, window["dims"]):
        left.plot(row["times"], row["drift_b"], color=color, label=f"d={row['d']}")
        left.plot(thetas / math.sqrt(row["d"]), window["limit_drift_b"], color=color,
                  linestyle=":", linewidth=2)
    left.set_xscale("log")
    left.set_xlabel("time t of the linear schedule")
    left.set_ylabel("db/dT")
    left.set_title("drift of b (dotted: d -> oo at t = theta/sqrt(d))", fontsize=9)
    left.legend(fontsize=7)

    dims = np.array([row["d"] for row in window["dims"]], dtype=float)
    widths = [row["half_width"] for row in window["dims"]]
    right.loglog(dims, widths, "o", color="C3", label="finite d")
    right.loglog(dims, window["window_half_theta"] / np.sqrt(dims), "k--",
                 label="theta_half / sqrt(d)")
    slope = window["half_width_slope"]
    title = "half-width of the window"
    if slope is not None:
        title += f": slope {slope['slope']:.3f} +- {slope['stderr']:.3f}"
    right.set_title(title, fontsize=9)
    right.set_xlabel("d")
    right.set_ylabel("half-width in t")
    # Label only the measured dimensions, because log-axis minor labels overlap.
    right.set_xticks(dims, [f"{d:g}" for d in dims])
    right.xaxis.set_minor_formatter(plt.NullFormatter())
    right.legend(fontsize=7)
    fig.suptitle("linear schedule: b learns p only for t = O(1/sqrt(d))")
    fig.tight_layout()
    return fig
