"""Figures of ``flowphase report``, each saved as PNG and PDF.

Every figure is drawn from the tidy ``records`` list, so a figure shows
exactly the numbers stored in ``results.json``.
"""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402

PANELS = ("c", "m", "q", "omega", "b", "m_tanh_b")
LABELS = {"c": "$c$", "m": "$m$", "q": "$q$", "omega": r"$\omega$",
          "b": "$b$", "m_tanh_b": r"$m\tanh b$", "r": "$r$",
          "p_hat": r"$\hat p$", "sigma2_hat": r"$\hat\sigma^2$", "M": "$M$(end)"}


def _values(rows, field):
    """Return the ``field`` of each row, with ``None`` (not available) as NaN."""
    return [np.nan if r[field] is None else r[field] for r in rows]


def _select(records, **fields):
    return [r for r in records if all(r[k] == v for k, v in fields.items())]


def save_figure(fig, folder, name):
    """Write ``fig`` as ``name.png`` and ``name.pdf`` into ``folder``, close it, return the names."""
    paths = []
    for ext in ("png", "pdf"):
        path = folder / f"{name}.{ext}"
        fig.savefig(path, dpi=120, bbox_inches="tight")
        paths.append(path.name)
    plt.close(fig)
    return paths


def overlaps_figure(records, schedule, dims, folder):
    """Overlaps versus time: limit line, exact finite-``d`` lines, markers."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, len(dims)))
    for ax, quantity in zip(axes.flat, PANELS):
        for color, d in zip(colors, dims):
            rows = _select(records, schedule=schedule, d=d, quantity=quantity)
            time = [r["time"] for r in rows]
            ax.plot(time, _values(rows, "theory"), "-", color=color, lw=1,
                    label=f"exact, d={d}")
            ax.plot(time, _values(rows, "simulation"), "o", ms=3.5,
                    color=color, label=f"trained, d={d}")
        rows = _select(records, schedule=schedule, d=dims[0], quantity=quantity)
        ax.plot([r["time"] for r in rows], _values(rows, "limit"), "k--", lw=1.2,
                label=r"$d\to\infty$")
        ax.set_title(LABELS[quantity])
        if quantity == "omega":
            ax.set_yscale("symlog", linthresh=1.0)
    axes[0, 0].legend(fontsize=7)
    for ax in axes[1]:
        ax.set_xlabel(r"$\tau$" if schedule == "dilated" else "$t$")
    fig.suptitle(f"Autoencoder overlaps on the {schedule} schedule")
    return save_figure(fig, folder, f"overlaps_{schedule}")


def sampler_figure(records, dims, folder):
    """``p_hat``, ``sigma2_hat`` and ``M(end)`` versus ``d`` per sampler."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    styles = {"dilated": "C0", "linear": "C1", "linear_without_t0": "C2"}
    for ax, quantity in zip(axes, ("p_hat", "sigma2_hat", "M")):
        for schedule, color in styles.items():
            rows = sorted(_select(records, schedule=schedule, quantity=quantity),
                          key=lambda r: r["d"])
            if not rows:
                continue
            d = [r["d"] for r in rows]
            ax.plot(d, _values(rows, "simulation"), "o", color=color,
                    label=f"{schedule}: simulation")
            ax.plot(d, _values(rows, "theory"), "x-", color=color, lw=0.8,
                    label=f"{schedule}: exact at d")
            if rows[0]["limit"] is not None:
                ax.axhline(rows[0]["limit"], color=color, ls="--", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("$d$")
        ax.set_title(LABELS[quantity] + r" (dashed: $d\to\infty$)")
    axes[0].legend(fontsize=7)
    return save_figure(fig, folder, "sampler_statistics")


def histogram_figure(y_by_d, exact_by_d, p, kappa, folder):
    """Histogram of ``y`` at ``tau = 1`` against its exact and limit laws.

    ``exact_by_d`` holds ``y`` of the exact-velocity sampler (quantiles
    pushed through its phase-1 steps); the black line is the large-``d``
    law ``p N(kappa, 1) + (1-p) N(-kappa, 1)`` of the continuous flow.
    """
    fig, axes = plt.subplots(1, len(y_by_d), figsize=(4.8 * len(y_by_d), 3.8),
                             squeeze=False)
    grid = np.linspace(-kappa - 5, kappa + 5, 400)
    density = p * norm.pdf(grid, kappa) + (1 - p) * norm.pdf(grid, -kappa)
    for ax, (d, y) in zip(axes[0], sorted(y_by_d.items())):
        bins = np.linspace(grid[0], grid[-1], 81)
        ax.hist(y, bins=bins, density=True, alpha=0.5, label="trained networks")
        ax.hist(exact_by_d[d], bins=bins, density=True, histtype="step", color="C3",
                lw=1.2, label="exact sampler at this d")
        ax.plot(grid, density, "k-", lw=1.0, label=r"$d\to\infty$ flow")
        ax.set_title(f"$y$ at $\\tau=1$, d={d}")
        ax.set_xlabel("$y = \\mu\\cdot X/\\sqrt{d}$")
        ax.set_ylabel("density")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, folder, "y_histogram")


def rate_figure(rate_rows, folder):
    """Distance of the exact optimum to its limit versus ``d``, log-log."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for row, marker in zip(rate_rows, "osd^v"):
        ax.loglog(row["d"], row["distance"], marker + "-", ms=4, fillstyle="none",
                  label=f"{row['label']}: slope {row['slope']:.3f}")
    ds = np.array(rate_rows[0]["d"], dtype=float)
    ax.loglog(ds, 0.5 * ds ** -0.5, "k:", label="slope -1/2")
    ax.set_xlabel("$d$")
    ax.set_ylabel("|exact optimum - limit|")
    ax.legend(fontsize=7)
    return save_figure(fig, folder, "optimum_rate")


def slope(d, distance):
    """Least-squares slope of ``log distance`` against ``log d``."""
    x = np.log(np.asarray(d, dtype=float))
    y = np.log(np.asarray(distance, dtype=float))
    return float(np.polyfit(x, y, 1)[0]) if math.isfinite(y.sum()) else math.nan
