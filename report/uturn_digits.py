"""The digits part of ``flowphase uturn``: U-turn interval and the training comparison.

1. Train a reference denoiser with uniform times for ``reference_steps``.
2. Run the U-turn probe on the held-out set with it, and turn the flip
   curve into the decision interval and the phase-aware time density.
3. For every budget and seed, train one denoiser with uniform times and
   one with the phase-aware density, from the same initial weights and
   data draws. Generate from noise with the probability flow, and
   measure the class-ratio error ``|fraction of zeros - zero_fraction|``
   and the squared MMD to the held-out set.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import stats

from flowphase.validation import digits, mlp, quality, uturn
from flowphase.validation.flow_sampler import grid_from, linear_rates, probability_flow
from flowphase.validation.time_density import UniformTimes

logger = logging.getLogger(__name__)

SCHEMES = ("uniform", "phase_aware")


def load_sets(config, rng):
    """Load the images (sklearn digits, or MNIST from ``mnist_dir``) and build the sets."""
    if config.mnist_dir is None:
        images, labels, side = digits.load_sklearn_digits()
    else:
        images, labels, side = digits.load_mnist(config.mnist_dir, config.mnist_pool)
    return digits.unbalanced_sets(images, labels, side, rng, zero_fraction=config.zero_fraction)


def _new_model(sets, config, rng):
    settings = mlp.MLPConfig(hidden=config.hidden, batch_size=config.batch_size,
                             learning_rate=config.learning_rate)
    variance = float(sets.train.var(axis=0).mean())
    return mlp.TimeConditionedMLP(sets.dim, linear_rates, variance, rng, settings)


def _draw(sets):
    def draw(n, rng):
        return sets.train[rng.integers(0, sets.train.shape[0], size=n)]

    return draw


def generate(model, n, rng, step):
    """Generate ``n`` samples from noise with the Heun probability flow."""
    x = rng.standard_normal((n, model.dim))
    return probability_flow(linear_rates, model.denoise, x, grid_from(0.0, 1.0, step))


def train(sets, config, density, n_steps, seed, progress=None):
    """Train a denoiser with the time ``density``; equal seeds give equal weights and data."""
    init_rng = np.random.default_rng([seed, 0])
    model = _new_model(sets, config, init_rng)
    data_rng = np.random.default_rng([seed, 1])
    losses = mlp.train_denoiser(model, _draw(sets), _TimesFrom(density, seed), n_steps,
                                data_rng, progress=progress)
    return model, losses


class _TimesFrom:
    """Draw times from ``density`` with a generator of their own.

    The data and noise draws then do not depend on the density, so the two
    schemes see the same images and base noise at every step.
    """

    def __init__(self, density, seed):
        self.density = density
        self.rng = np.random.default_rng([seed, 2])

    def sample(self, n, _rng):
        return self.density.sample(n, self.rng)


def probe(sets, classifier, config, rng, progress=None):
    """Train the reference model and return its U-turn results and the model."""
    reference, losses = train(sets, config, UniformTimes(), config.reference_steps,
                              config.seed + 10_000, progress)
    t0s = np.linspace(0.0, config.last_start_time, config.n_start_times)
    labels = classifier.predict(sets.held_out)
    generator = uturn.flow_generator(linear_rates, reference.denoise, step=config.sampler_step)
    flips = uturn.uturn_flips(linear_rates, generator, classifier.predict, sets.held_out,
                              labels, t0s, rng, n_repeats=config.n_repeats, progress=progress)
    rate, low, high = uturn.flip_curve(flips, rng, n_boot=config.bootstrap)
    interval = uturn.decision_interval(t0s, rate)
    density = uturn.interval_density(*interval, weight=config.weight)
    return {
        "t0": t0s.tolist(), "flip_rate": rate.tolist(), "band_low": low.tolist(),
        "band_high": high.tolist(), "interval": list(interval),
        "density": density.describe(), "reference_final_loss": float(losses[-100:].mean()),
        "prior_flip_rate": 2 * config.zero_fraction * (1 - config.zero_fraction),
    }, density, reference


def t_interval(values, level=0.95):
    """Return ``(mean, low, high)``: the Student-t interval of the mean over seeds."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + level / 2, values.size - 1)
                 * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half, mean + half


def ratio_interval(numerator, denominator, rng, n_boot, level=0.95):
    """Return the ratio of means and a paired bootstrap interval over seeds.

    Seeds are resampled jointly because each seed gives both schemes the
    same initial weights and data.
    """
    numerator, denominator = np.asarray(numerator), np.asarray(denominator)
    if not denominator.mean() > 0:
        raise ValueError("the ratio of errors needs a mean phase-aware error > 0; "
                         "generate more samples per run")
    ratio = float(numerator.mean() / denominator.mean())
    draws = rng.integers(0, numerator.size, size=(n_boot, numerator.size))
    boot_denominator = denominator[draws].mean(axis=1)
    # A resample of seeds whose errors are all 0 has no ratio; it is left out.
    defined = boot_denominator > 0
    boot = numerator[draws].mean(axis=1)[defined] / boot_denominator[defined]
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(boot, [tail, 100.0 - tail])
    return ratio, float(low), float(high)


def compare(sets, classifier, config, density, rng, progress=None):
    """Train both schemes at every budget and seed; return runs, summaries and sample grids."""
    densities = {"uniform": UniformTimes(), "phase_aware": density}
    bandwidth = quality.median_bandwidth(sets.held_out)
    runs, grids = [], {}
    for budget in config.budgets:
        for seed in range(config.seed, config.seed + config.n_seeds):
            for scheme in SCHEMES:
                model, losses = train(sets, config, densities[scheme], budget, seed, progress)
                samples = generate(model, config.n_generated,
                                   np.random.default_rng([seed, 3]), config.sampler_step)
                zeros = float(np.mean(classifier.predict(samples) == 0))
                runs.append({"budget": budget, "seed": seed, "scheme": scheme,
                             "zero_fraction": zeros,
                             "ratio_error": abs(zeros - config.zero_fraction),
                             "mmd2": quality.mmd2(samples, sets.held_out, bandwidth),
                             "final_loss": float(losses[-50:].mean())})
                if seed == config.seed:
                    grids[(budget, scheme)] = samples[:60]
    return runs, _summaries(runs, config, rng), grids, bandwidth


def _summaries(runs, config, rng):
    rows = []
    for budget in config.budgets:
        chosen = {scheme: [r for r in runs if r["budget"] == budget and r["scheme"] == scheme]
                  for scheme in SCHEMES}
        row = {"budget": budget}
        for scheme, group in chosen.items():
            for quantity in ("ratio_error", "mmd2"):
                row[f"{scheme}_{quantity}"] = t_interval([r[quantity] for r in group])
        row["error_ratio_uniform_over_phase_aware"] = ratio_interval(
            [r["ratio_error"] for r in chosen["uniform"]],
            [r["ratio_error"] for r in chosen["phase_aware"]], rng, config.bootstrap)
        rows.append(row)
    return rows
