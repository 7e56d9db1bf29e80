"""Training of one autoencoder per grid time on fresh interpolant samples.

The network is ``f(x) = c*x + u*tanh(w.x/sqrt(d) + b)``, trained on the
population loss ``E|f(x_t) - x1|^2`` with fresh samples at every step.
All grid times share each batch of ``(x0, x1)`` draws, so one pair of
matrix products serves every network.

Optimiser (chosen because constant-step SGD stalls at a noise floor that
biases the overlaps, and plain Adam converges too slowly in the flat
direction of ``|w|``): write ``w = rho*v`` with ``|v|^2 = d``.

1. Stage "explore": each step takes a damped Gauss-Newton step on
   ``(c, u, rho, b)`` jointly (``u`` is eliminated exactly, because its
   Gauss-Newton block is a multiple of the identity) and a preconditioned
   gradient step on the direction ``v``, with a step gain that decays like
   ``k^-0.7`` after the first 40% of the stage. ``w`` is averaged over the
   second half of the stage (Polyak-Ruppert averaging).
2. Stage "refine": ``v`` is frozen at the averaged direction, because a
   noisy instantaneous ``v`` attenuates the fitted ``rho``; the
   Gauss-Newton steps on ``(c, u, rho, b)`` continue with a decaying gain
   and are averaged over the second half.

Every network of a schedule starts from a network trained alone at an
anchor time (where the direction is easy to learn), the warm start from
a neighbouring time that gradient flow needs to converge in reasonable
time.
"""

import logging
from dataclasses import dataclass, field

import numpy as np

from .data import Mixture

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """Sizes and step rules of the optimiser (see the module docstring)."""

    batch_size: int = 1024
    anchor_steps: int = 200
    explore_steps: int = 200
    refine_steps: int = 150
    direction_rate: float = 0.5
    damping: float = 1e-3

    def __post_init__(self):
        for name in ("batch_size", "anchor_steps", "explore_steps", "refine_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2:
                raise ValueError(
                    f"training `{name}` must be an integer >= 2, got {value!r}"
                )
        if not 0 < self.direction_rate <= 1:
            raise ValueError(
                "training `direction_rate` must be in (0, 1], "
                f"got {self.direction_rate!r}"
            )


@dataclass
class Autoencoders:
    """Parameters of ``K`` autoencoders, one per column.

    ``c`` and ``b`` have shape ``(K,)``; ``u`` and ``w`` have shape ``(d, K)``.
    """

    c: np.ndarray
    u: np.ndarray
    w: np.ndarray
    b: np.ndarray
    stats: dict = field(default_factory=dict)

    def overlaps(self, mu: np.ndarray) -> dict:
        """Return ``c, b, m, q, omega, r`` and ``m_tanh_b`` per network.

        ``(u, w, b) -> (-u, -w, -b)`` leaves the network unchanged, so the
        sign is fixed by ``m >= 0``.
        """
        d = mu.shape[0]
        m = mu @ self.u / d
        sign = np.where(m < 0, -1.0, 1.0)
        omega = mu @ self.w / d
        return {
            "c": self.c.copy(),
            "b": sign * self.b,
            "m": sign * m,
            "q": np.einsum("ik,ik->k", self.u, self.u) / d,
            "omega": sign * omega,
            "r": np.einsum("ik,ik->k", self.w, self.w) / d,
            "m_tanh_b": m * np.tanh(self.b),
        }

    def denoise(self, k: int, x: np.ndarray) -> np.ndarray:
        """Evaluate network ``k`` on the rows of ``x``."""
        d = x.shape[1]
        a = x @ self.w[:, k] / np.sqrt(d) + self.b[k]
        return self.c[k] * x + np.tanh(a)[:, None] * self.u[None, :, k]

    def select(self, indices) -> "Autoencoders":
        indices = np.asarray(indices)
        return Autoencoders(
            self.c[indices], self.u[:, indices], self.w[:, indices],
            self.b[indices],
        )


@dataclass
class _State:
    """Optimiser state: ``w = rho*v`` with ``|v|^2 = d`` per column."""

    v: np.ndarray
    rho: np.ndarray
    b: np.ndarray
    u: np.ndarray
    c: np.ndarray

    def copy_columns(self, n: int) -> "_State":
        return _State(
            np.repeat(self.v[:, :1], n, axis=1), np.repeat(self.rho[:1], n),
            np.repeat(self.b[:1], n), np.repeat(self.u[:, :1], n, axis=1),
            np.repeat(self.c[:1], n),
        )


class _Average:
    """Running mean of ``(w, b, u, c, rho)``."""

    def __init__(self):
        self.count = 0
        self.sums = None

    def add(self, state: _State):
        values = (state.v * state.rho, state.b, state.u, state.c, state.rho)
        if self.sums is None:
            self.sums = [np.zeros_like(x) for x in values]
        for total, x in zip(self.sums, values):
            total += x
        self.count += 1

    def mean(self):
        return [total / self.count for total in self.sums]


from .gauss_newton import gauss_newton_step  # noqa: E402


def _decaying_gain(step: int, n_steps: int) -> float:
    """1 for the first 40% of a stage, then ``(k0/k)^0.7``."""
    k0 = max(1, int(0.4 * n_steps))
    return 1.0 if step < k0 else (k0 / step) ** 0.7


def _run_stage(mixture, alphas, betas, state, n_steps, rng, config, *,
               update_direction, progress=None):
    average = _Average()
    losses = []
    for step in range(n_steps):
        x0, x1, _ = mixture.draw(config.batch_size, rng)
        loss = gauss_newton_step(
            x0, x1, alphas, betas, state,
            gain=_decaying_gain(step, n_steps),
            direction_rate=config.direction_rate, damping=config.damping,
            update_direction=update_direction,
        )
        losses.append(loss)
        if step >= n_steps // 2:
            average.add(state)
        if progress is not None:
            progress.update(1)
    return average.mean(), np.array(losses)


def _initial_state(d, n_networks, rng) -> _State:
    v = rng.standard_normal((d, n_networks))
    v *= np.sqrt(d) / np.linalg.norm(v, axis=0)
    return _State(v, np.full(n_networks, 0.1), np.zeros(n_networks),
                  np.zeros((d, n_networks)), np.zeros(n_networks))


def train_autoencoders(mixture: Mixture, alphas, betas, *, anchor: int,
                       rng: np.random.Generator,
                       config: TrainingConfig = TrainingConfig(),
                       progress=None) -> Autoencoders:
    """Train one autoencoder per ``(alpha_k, beta_k)`` on fresh samples.

    ``anchor`` indexes the time whose network is trained first, alone, to
    warm-start all the others. ``progress`` is an optional object with an
    ``update(n)`` method (a tqdm bar), advanced once per optimiser step.
    """
    alphas = np.asarray(alphas, dtype=float)[None, :]
    betas = np.asarray(betas, dtype=float)[None, :]
    n_networks = alphas.shape[1]
    d = mixture.d

    anchor_state = _initial_state(d, 1, rng)
    _, anchor_losses = _run_stage(
        mixture, alphas[:, anchor:anchor + 1], betas[:, anchor:anchor + 1],
        anchor_state, config.anchor_steps, rng, config,
        update_direction=True, progress=progress,
    )
    state = anchor_state.copy_columns(n_networks)

    (w_mean, *_), explore_losses = _run_stage(
        mixture, alphas, betas, state, config.explore_steps, rng, config,
        update_direction=True, progress=progress,
    )
    norms = np.linalg.norm(w_mean, axis=0)
    state.v = w_mean * (np.sqrt(d) / np.maximum(norms, 1e-300))
    state.rho = norms / np.sqrt(d)

    (w, b, u, c, _), refine_losses = _run_stage(
        mixture, alphas, betas, state, config.refine_steps, rng, config,
        update_direction=False, progress=progress,
    )
    stats = {
        "final_loss": refine_losses[-10:].mean(axis=0),
        "samples_per_network": config.batch_size * (
            config.explore_steps + config.refine_steps),
    }
    logger.debug("trained %d networks at d=%d", n_networks, d)
    return Autoencoders(c=c, u=u, w=w, b=b, stats=stats)
