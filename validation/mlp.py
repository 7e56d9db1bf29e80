"""A time-conditioned denoiser in NumPy, trained with Adam.

The network estimates the denoiser ``D_t(x) = E[x1 | x_t = x]`` of an
interpolant ``x_t = alpha(t) x0 + beta(t) x1`` with ``x0 ~ N(0, I)``:

    f(x, t) = c_skip(t) x + W3 h2 + b3,
    h2 = silu(W2 h1 + b2),  h1 = silu(W1 [x, e(t)] + b1),
    c_skip(t) = s2 beta / (alpha^2 + s2 beta^2),

where ``e(t)`` contains ``t`` and ``sin, cos`` of ``pi k t`` for
``k = 1 .. n_frequencies``, and ``s2`` is the mean per-coordinate variance
of the data. ``c_skip`` is the skip weight of the exact denoiser of
Gaussian data with that variance (``c*`` of the mixture with ``sigma^2 = s2``),
so the hidden layers learn only the correction to it. Training minimises
the interpolant loss ``E |f(x_t, t) - x1|^2 / dim`` over fresh ``x0`` and
times drawn from a pluggable time density.

| symbol | meaning                                  | name          |
|--------|------------------------------------------|---------------|
| x, t   | point and time where f is evaluated      | ``x, t``      |
| e(t)   | time features                            | ``features``  |
| s2     | mean per-coordinate variance of the data | ``data_variance`` |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from threadpoolctl import threadpool_limits

logger = logging.getLogger(__name__)

PARAMETER_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _silu(a):
    # expit is the logistic function without overflow for large |a|.
    return a * expit(a)


def _silu_grad(a):
    sigmoid = expit(a)
    return sigmoid * (1.0 + a * (1.0 - sigmoid))


@dataclass(frozen=True)
class MLPConfig:
    """Width, time features and Adam settings of the denoiser."""

    hidden: int = 128
    n_frequencies: int = 8
    learning_rate: float = 2e-3
    beta1: float = 0.9
    beta2: float = 0.999
    adam_epsilon: float = 1e-8
    batch_size: int = 128

    def __post_init__(self):
        for name in ("hidden", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"MLP `{name}` must be a positive integer, got {value!r}")
        if not isinstance(self.n_frequencies, int) or self.n_frequencies < 0:
            raise ValueError(
                f"MLP `n_frequencies` must be a non-negative integer, got {self.n_frequencies!r}")
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(
                f"MLP `learning_rate` must be positive and finite, got {self.learning_rate!r}")


class TimeConditionedMLP:
    """The denoiser ``f(x, t)`` of the module docstring on a schedule.

    ``schedule`` maps an array of times to ``(alpha, beta, alpha_dot,
    beta_dot)`` arrays (see :mod:`flowphase.validation.flow_sampler`).
    """

    def __init__(self, dim, schedule, data_variance, rng, config=MLPConfig()):
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"`dim` must be a positive integer, got {dim!r}")
        if not (np.isfinite(data_variance) and data_variance > 0):
            raise ValueError(f"`data_variance` must be positive, got {data_variance!r}")
        self.dim = dim
        self.schedule = schedule
        self.data_variance = float(data_variance)
        self.config = config
        n_in = dim + 1 + 2 * config.n_frequencies
        hidden = config.hidden
        # He-style scaling keeps the silu activations of order one; the
        # output layer starts at zero, so f starts as the skip term.
        self.params = {
            "W1": rng.standard_normal((n_in, hidden)) * np.sqrt(2.0 / n_in),
            "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, hidden)) * np.sqrt(2.0 / hidden),
            "b2": np.zeros(hidden),
            "W3": np.zeros((hidden, dim)),
            "b3": np.zeros(dim),
        }
        self._moments = {name: (np.zeros_like(v), np.zeros_like(v))
                         for name, v in self.params.items()}
        self.n_steps = 0

    def features(self, t):
        """Return the time features ``e(t)``, one row per entry of ``t``."""
        t = np.asarray(t, dtype=float).reshape(-1, 1)
        k = np.pi * np.arange(1, self.config.n_frequencies + 1)[None, :]
        return np.hstack([t, np.sin(k * t), np.cos(k * t)])

    def skip_weight(self, t):
        """Return ``c_skip(t) = s2 beta / (alpha^2 + s2 beta^2)`` per time."""
        alpha, beta, _, _ = self.schedule(np.asarray(t, dtype=float))
        return self.data_variance * beta / (alpha**2 + self.data_variance * beta**2)

    def _forward(self, x, t):
        t = np.broadcast_to(np.asarray(t, dtype=float), (x.shape[0],))
        p = self.params
        inputs = np.hstack([x, self.features(t)])
        a1 = inputs @ p["W1"] + p["b1"]
        h1 = _silu(a1)
        a2 = h1 @ p["W2"] + p["b2"]
        h2 = _silu(a2)
        out = self.skip_weight(t)[:, None] * x + h2 @ p["W3"] + p["b3"]
        return out, (inputs, a1, h1, a2, h2)

    def denoise(self, t, x):
        """Evaluate ``f(x, t)`` on the rows of ``x`` at a scalar or per-row ``t``."""
        out, _ = self._forward(np.asarray(x, dtype=float), t)
        return out

    def loss_and_gradients(self, x, t, target):
        """Return the loss ``mean_i |f(x_i, t_i) - target_i|^2 / dim`` and its gradients."""
        out, (inputs, a1, h1, a2, h2) = self._forward(x, t)
        n = x.shape[0]
        residual = out - target
        loss = float(np.sum(residual**2) / (n * self.dim))
        g_out = 2.0 * residual / (n * self.dim)
        p = self.params
        g_a2 = (g_out @ p["W3"].T) * _silu_grad(a2)
        g_a1 = (g_a2 @ p["W2"].T) * _silu_grad(a1)
        grads = {
            "W3": h2.T @ g_out, "b3": g_out.sum(axis=0),
            "W2": h1.T @ g_a2, "b2": g_a2.sum(axis=0),
            "W1": inputs.T @ g_a1, "b1": g_a1.sum(axis=0),
        }
        return loss, grads

    def adam_step(self, grads, learning_rate=None):
        """Apply one Adam update with bias-corrected first and second moments."""
        cfg = self.config
        rate = cfg.learning_rate if learning_rate is None else learning_rate
        self.n_steps += 1
        k = self.n_steps
        for name in PARAMETER_NAMES:
            first, second = self._moments[name]
            first *= cfg.beta1
            first += (1.0 - cfg.beta1) * grads[name]
            second *= cfg.beta2
            second += (1.0 - cfg.beta2) * grads[name] ** 2
            corrected = first / (1.0 - cfg.beta1**k)
            scale = np.sqrt(second / (1.0 - cfg.beta2**k)) + cfg.adam_epsilon
            self.params[name] -= rate * corrected / scale


def train_denoiser(model, draw_data, time_density, n_steps, rng, *, progress=None):
    """Train ``model`` for ``n_steps`` Adam steps on the interpolant loss.

    Each step draws ``batch_size`` data points ``x1 = draw_data(n, rng)``,
    fresh ``x0 ~ N(0, I)`` and times ``t = time_density.sample(n, rng)``,
    and fits ``f(x_t, t)`` to ``x1``. The learning rate decays as a cosine
    from its configured value to a tenth of it. Returns the losses per step.
    """
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"`n_steps` must be a positive integer, got {n_steps!r}")
    with threadpool_limits(limits=1, user_api="blas"):
        losses = _adam_loop(model, draw_data, time_density, n_steps, rng, progress)
    logger.debug("trained %d steps, final loss %.4g", n_steps, losses[-50:].mean())
    return losses


def _adam_loop(model, draw_data, time_density, n_steps, rng, progress):
    # One BLAS thread, because the matrices are small: on a shared 2-core
    # virtual machine, benchmarks/bench_mlp_threads.py measured 7 to 24
    # times more CPU time per step with a second OpenBLAS thread.
    n = model.config.batch_size
    losses = np.empty(n_steps)
    base = model.config.learning_rate
    for step in range(n_steps):
        x1 = draw_data(n, rng)
        x0 = rng.standard_normal(x1.shape)
        t = time_density.sample(n, rng)
        alpha, beta, _, _ = model.schedule(t)
        xt = alpha[:, None] * x0 + beta[:, None] * x1
        losses[step], grads = model.loss_and_gradients(xt, t, x1)
        rate = base * (0.55 + 0.45 * np.cos(np.pi * step / n_steps))
        model.adam_step(grads, rate)
        if progress is not None:
            progress.update(1)
    return losses
