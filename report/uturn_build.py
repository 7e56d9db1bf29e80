"""``flowphase uturn``: run both parts and write the output folder atomically.

The folder contains ``report.md``, the figures as PNG and PDF, and
``results.json`` with the configuration, package versions, the flip
curves, every training run and the summaries.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from flowphase.report import output, uturn_digits, uturn_figures, uturn_markdown, uturn_mixture
from flowphase.report.versions import package_versions
from flowphase.validation import digits

logger = logging.getLogger(__name__)

#: Value of ``generator`` in ``results.json``.
GENERATOR = "flowphase uturn"


def _progress_total(config):
    digits_steps = config.reference_steps + 2 * config.n_seeds * sum(config.budgets)
    mixture_steps = len(config.mixture_taus) * (len(config.dims) + bool(config.autoencoder_d))
    return digits_steps + config.n_start_times + mixture_steps


def build_uturn(config, out, *, force=False, show_progress=True):
    """Compute everything, write the folder ``out`` and return ``(path, results)``."""
    started, cpu_started = time.time(), time.process_time()
    staging = output.staging_folder(out)
    try:
        # Small matrix products dominate, and a second BLAS thread only
        # competes for the cores (see flowphase.validation.mlp).
        with tqdm(total=_progress_total(config), disable=not show_progress,
                  desc="flowphase uturn", unit="step") as progress, \
                threadpool_limits(limits=1, user_api="blas"):
            results = _compute(config, progress)
        results["seconds"] = time.time() - started
        results["cpu_seconds"] = time.process_time() - cpu_started
        results["figures"] = _figures(results, staging)
        (staging / "report.md").write_text(uturn_markdown.render(results), encoding="utf-8")
        output.write_json(staging / "results.json", results)
        output.publish(staging, out, force)
    except BaseException:
        output.discard(staging)
        raise
    return Path(out), results


def _compute(config, progress):
    rng = np.random.default_rng(config.seed)
    sets = uturn_digits.load_sets(config, rng)
    classifier, accuracy = digits.fit_classifier(sets, config.seed)
    probe, density, _ = uturn_digits.probe(sets, classifier, config, rng, progress)
    runs, summary, grids, bandwidth = uturn_digits.compare(sets, classifier, config,
                                                           density, rng, progress)
    mixture = uturn_mixture.compare_mixture(config, rng, progress)
    versions = package_versions()
    versions["scikit-learn"] = _sklearn_version()
    return {
        "generator": GENERATOR,
        "configuration": config.to_json(),
        "versions": versions,
        "digits": {
            "data": {"source": "MNIST IDX files" if config.mnist_dir else "sklearn digits",
                     "dim": sets.dim, "side": sets.side, "n_train": int(sets.train.shape[0]),
                     "n_held_out": int(sets.held_out.shape[0]),
                     "train_zero_fraction": float(np.mean(sets.train_labels == 0)),
                     "classifier_accuracy": accuracy},
            "probe": probe, "runs": runs, "summary": summary, "mmd_bandwidth": bandwidth,
            "grids": {f"{budget}_{scheme}": samples.tolist()
                      for (budget, scheme), samples in grids.items()},
        },
        "mixture": mixture,
    }


def _sklearn_version():
    import sklearn

    return sklearn.__version__


def _figures(results, folder):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    digits_part = results["digits"]
    names = uturn_figures.digits_uturn_figure(plt, digits_part["probe"], folder)
    names += uturn_figures.mixture_uturn_figure(plt, results["mixture"], folder)
    names += uturn_figures.experiment_figure(plt, digits_part["runs"], digits_part["summary"],
                                             folder)
    grid_names = []
    side = digits_part["data"]["side"]
    for key, samples in digits_part["grids"].items():
        budget, scheme = key.split("_", 1)
        title = f"{uturn_figures.SCHEME_LABELS[scheme]}, {budget} steps, first seed"
        grid_names += uturn_figures.sample_grid_figure(plt, np.array(samples), side, title,
                                                       folder, f"samples_{key}")
    digits_part["sample_grids"] = grid_names
    return names + grid_names
