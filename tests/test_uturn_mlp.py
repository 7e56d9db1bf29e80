"""Tests of the time-conditioned MLP denoiser and its Adam training.

Oracles: central finite differences of the loss, the closed form of the
first Adam step, and the exact denoiser of a Gaussian mixture.
"""

import math

import numpy as np
import pytest

from flowphase.validation.flow_sampler import linear_rates
from flowphase.validation.mlp import MLPConfig, TimeConditionedMLP, train_denoiser
from flowphase.validation.time_density import UniformTimes


def _model(dim=3, hidden=5, seed=0):
    rng = np.random.default_rng(seed)
    model = TimeConditionedMLP(dim, linear_rates, 0.7, rng, MLPConfig(hidden=hidden,
                                                                      n_frequencies=2))
    # A non-zero output layer, so that every gradient is exercised.
    model.params["W3"] = rng.standard_normal(model.params["W3"].shape) * 0.3
    model.params["b3"] = rng.standard_normal(model.params["b3"].shape) * 0.3
    return model, rng


def test_gradients_match_finite_differences():
    model, rng = _model()
    x = rng.standard_normal((7, 3))
    t = rng.uniform(0.05, 0.95, size=7)
    target = rng.standard_normal((7, 3))
    _, grads = model.loss_and_gradients(x, t, target)
    h = 1e-6
    for name, value in model.params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + h
            up, _ = model.loss_and_gradients(x, t, target)
            value[index] = saved - h
            down, _ = model.loss_and_gradients(x, t, target)
            value[index] = saved
            numeric[index] = (up - down) / (2 * h)
        error = np.max(np.abs(numeric - grads[name]))
        assert error < 1e-7, f"{name}: max gradient error {error:.2e}"


def test_first_adam_step_is_signed_rate():
    model, rng = _model()
    before = {name: value.copy() for name, value in model.params.items()}
    grads = {name: rng.standard_normal(value.shape) for name, value in model.params.items()}
    model.adam_step(grads, learning_rate=0.01)
    for name in before:
        # After one step the bias-corrected moments are g and g^2, so the
        # update is -rate * g / (|g| + eps).
        g = grads[name]
        expected = before[name] - 0.01 * g / (np.abs(g) + model.config.adam_epsilon)
        np.testing.assert_allclose(model.params[name], expected, rtol=1e-12, atol=1e-15)


def test_skip_weight_is_gaussian_optimum():
    model, _ = _model()
    t = np.array([0.0, 0.3, 1.0])
    expected = 0.7 * t / ((1 - t) ** 2 + 0.7 * t**2)
    np.testing.assert_allclose(model.skip_weight(t), expected, rtol=1e-14)


def _mixture_denoiser(x, t, p, mean, sigma):
    """E[x1 | x_t = x] of p N(mean, sigma^2) + (1-p) N(-mean, sigma^2) by Bayes' rule."""
    alpha, beta = 1 - t, t
    gamma = alpha**2 + sigma**2 * beta**2
    log_plus = math.log(p) - np.sum((x - beta * mean) ** 2, axis=1) / (2 * gamma)
    log_minus = math.log(1 - p) - np.sum((x + beta * mean) ** 2, axis=1) / (2 * gamma)
    weight = 1 / (1 + np.exp(log_minus - log_plus))
    shrink = sigma**2 * beta / gamma
    plus = mean + shrink * (x - beta * mean)
    minus = -mean + shrink * (x + beta * mean)
    return weight[:, None] * plus + (1 - weight[:, None]) * minus


def test_training_learns_mixture_denoiser():
    p, sigma = 0.8, 0.5
    mean = np.array([1.0, 1.0])
    rng = np.random.default_rng(1)

    def draw(n, generator):
        s = np.where(generator.random(n) < p, 1.0, -1.0)
        return s[:, None] * mean + sigma * generator.standard_normal((n, 2))

    variance = float(draw(100_000, rng).var(axis=0).mean())
    model = TimeConditionedMLP(2, linear_rates, variance, rng,
                               MLPConfig(hidden=64, batch_size=256, learning_rate=3e-3))
    losses = train_denoiser(model, draw, UniformTimes(), 1500, rng)
    assert losses[-100:].mean() < losses[:100].mean()
    for t in (0.3, 0.5, 0.8):
        # Points drawn from the law of x_t, where the loss is measured.
        x = (1 - t) * rng.standard_normal((2000, 2)) + t * draw(2000, rng)
        exact = _mixture_denoiser(x, t, p, mean, sigma)
        error = np.sqrt(np.mean((model.denoise(t, x) - exact) ** 2))
        spread = np.sqrt(np.mean((exact - exact.mean(axis=0)) ** 2))
        print(f"t={t}: rms error {error:.3f}, rms spread of D {spread:.3f}")
        assert error < 0.1 * spread


@pytest.mark.parametrize("values, message", [
    (dict(hidden=0), "hidden"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(learning_rate=math.nan), "learning_rate"),
    (dict(n_frequencies=-1), "n_frequencies"),
])
def test_config_rejects_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        MLPConfig(**values)


def test_train_rejects_zero_steps():
    model, rng = _model()
    with pytest.raises(ValueError, match="n_steps"):
        train_denoiser(model, lambda n, r: np.zeros((n, 3)), UniformTimes(), 0, rng)
