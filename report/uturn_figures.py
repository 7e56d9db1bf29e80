"""Figures of ``flowphase uturn``, each written as PNG and PDF."""

from __future__ import annotations

import numpy as np

from flowphase.validation.time_density import IntervalTimes

SCHEME_LABELS = {"uniform": "uniform times", "phase_aware": "phase-aware times"}


def _save(plt, fig, folder, stem):
    from flowphase.report.figures import save_figure

    return save_figure(fig, folder, stem)


def digits_uturn_figure(plt, probe, folder):
    """Plot the digits flip rate against ``t0`` with its band, interval and density."""
    fig, axis = plt.subplots(figsize=(6.0, 3.6))
    t0 = np.array(probe["t0"])
    axis.fill_between(t0, probe["band_low"], probe["band_high"], color="C0", alpha=0.25,
                      label="95% bootstrap band over held-out images")
    axis.plot(t0, probe["flip_rate"], "o-", color="C0", markersize=3, label="flip rate")
    axis.axhline(probe["prior_flip_rate"], color="gray", linestyle=":",
                 label="2p(1-p), independent draws")
    low, high = probe["interval"]
    axis.axvspan(low, high, color="C1", alpha=0.15, label="decision interval")
    density = IntervalTimes(**{k: v for k, v in probe["density"].items() if k != "kind"})
    times = np.linspace(0.0, 1.0, 400)
    twin = axis.twinx()
    twin.plot(times, density.pdf(times), color="C1", linewidth=1.0)
    twin.set_ylabel("phase-aware time density", color="C1")
    twin.set_ylim(0, None)
    axis.set_xlabel("start time t0 (0 = noise, 1 = data)")
    axis.set_ylabel("fraction whose class flips")
    axis.set_xlim(0, 1)
    axis.legend(fontsize=7, loc="center right")
    axis.set_title("U-turn on the 0/1 digits")
    fig.tight_layout()
    return _save(plt, fig, folder, "uturn_digits")


def mixture_uturn_figure(plt, mixture, folder):
    """Plot simulated flip curves per ``d`` against the limit, and the gaps against ``d``."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.6),
                                      gridspec_kw={"width_ratios": [2, 1]})
    left.plot(mixture["fine_taus"], mixture["fine_limit"], color="black",
              label="d -> oo (theory)")
    taus = np.array(mixture["taus"])
    for index, (d, row) in enumerate(mixture["simulated"].items()):
        left.errorbar(taus, row["flip_rate"], yerr=1.96 * np.array(row["standard_error"]),
                      fmt="o", markersize=3, capsize=2, color=f"C{index}",
                      label=f"exact denoiser, d={d}")
    if "autoencoder" in mixture:
        auto = mixture["autoencoder"]
        left.plot(auto["taus"], auto["flip_rate"], "x", color="C7",
                  label=f"trained autoencoders, d={auto['d']} (Euler grid)")
    left.axvline(1.0, color="gray", linestyle=":", linewidth=0.8)
    left.set_xlabel("start time tau0 (dilated schedule)")
    left.set_ylabel("flip rate of the mode")
    left.legend(fontsize=7)
    dims = [int(d) for d in mixture["simulated"]]
    gaps = [row["max_gap"] for row in mixture["simulated"].values()]
    noise = [1.96 * row["max_standard_error"] for row in mixture["simulated"].values()]
    paired = [row["max_paired_gap"] for row in mixture["simulated"].values()]
    paired_noise = [1.96 * row["max_paired_standard_error"]
                    for row in mixture["simulated"].values()]
    right.loglog(dims, gaps, "o-", color="black", label="max |simulation - theory curve|")
    right.loglog(dims, noise, "--", color="gray", label="1.96 x its max standard error")
    right.loglog(dims, paired, "s-", color="C3", label="max paired gap (same draws)")
    right.loglog(dims, paired_noise, ":", color="C3", label="1.96 x its max standard error")
    right.set_xlabel("d")
    right.legend(fontsize=7)
    fig.suptitle("U-turn on the mixture: simulation against the large-d flow")
    fig.tight_layout()
    return _save(plt, fig, folder, "uturn_mixture")


def experiment_figure(plt, runs, summaries, folder):
    """Plot the class-ratio error and the MMD per scheme and budget with 95% intervals."""
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4))
    budgets = [row["budget"] for row in summaries]
    for axis, quantity, title in zip(axes, ("ratio_error", "mmd2"),
                                     ("|fraction of zeros - 0.8|", "squared MMD to held-out")):
        for offset, scheme in zip((-0.12, 0.12), ("uniform", "phase_aware")):
            positions = np.arange(len(budgets)) + offset
            values = [row[f"{scheme}_{quantity}"] for row in summaries]
            means = np.array([v[0] for v in values])
            errors = np.array([[v[0] - v[1] for v in values], [v[2] - v[0] for v in values]])
            color = "C0" if scheme == "uniform" else "C1"
            axis.errorbar(positions, means, yerr=errors, fmt="s", color=color, capsize=3,
                          label=SCHEME_LABELS[scheme])
            for position, budget in zip(positions, budgets):
                dots = [r[quantity] for r in runs if r["budget"] == budget
                        and r["scheme"] == scheme]
                axis.plot(np.full(len(dots), position + 0.05), dots, ".", color=color,
                          alpha=0.4)
        axis.set_xticks(np.arange(len(budgets)), [f"{b} steps" for b in budgets])
        axis.set_title(title)
    axes[0].legend(fontsize=7)
    fig.suptitle("Same Adam budget: mean and 95% t-interval over seeds (dots: seeds)")
    fig.tight_layout()
    return _save(plt, fig, folder, "experiment")


def sample_grid_figure(plt, samples, side, title, folder, stem, columns=10):
    """Draw generated images as a grid."""
    rows = int(np.ceil(len(samples) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.6, rows * 0.6 + 0.4))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, image in zip(np.ravel(axes), samples):
        axis.imshow(np.clip(image.reshape(side, side), -1, 1), cmap="gray_r", vmin=-1, vmax=1)
    fig.suptitle(title, fontsize=8)
    return _save(plt, fig, folder, stem)
