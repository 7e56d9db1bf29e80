"""Training of one autoencoder per grid time on fresh interpolant samples.

The network is ``f(x) = c*x + u*tanh(w.x/sqrt(d) + b)``, trained on the
population loss ``E|f(x_t) - x1|^2`` with fresh samples at every step. A
fixed training set is avoided: ``w`` has ``d`` entries but each sample
constrains it only through one pre-activation, so a set of ``n`` samples
lets ``w`` fit noise in about ``d/n`` of its directions, which inflates
``|w|`` towards saturation.
All grid times share each batch of ``(x0, x1)`` draws, so one pair of
matrix products serves every network.

Optimiser (chosen because constant-step SGD stalls at a noise floor that
biases the overlaps, and plain Adam converges too slowly in the flat
direction of ``|w|``): write ``w = rho*v`` with ``|v|^2 = d``. Each step
takes a Levenberg-Marquardt-damped Gauss-Newton step on ``(c, u, rho, b)``,
where ``u`` is eliminated exactly because its Gauss-Newton block is a
multiple of the identity. Unless ``v`` is frozen, the step also moves ``v``
by a preconditioned gradient step that turns it by at most its gain in
radians. Batches hold
``batch_size`` fresh pairs, shared by all networks and drawn by
``sampling_threads`` threads one step ahead, because drawing normal
variates costs more than the step itself at ``d`` in the thousands.
``single_precision`` runs the matrix products in float32.

1. Anchor: one network at the ``anchor`` time learns ``v`` from a random
   start (Gauss-Newton gain 1 decaying like ``1/k``, direction gain
   ``direction_rate`` decaying likewise); ``w`` is averaged over the
   second half of the stage. Every network starts from this one.
2. Explore: over the first ``slide_fraction`` of the stage each network's
   ``(alpha, beta)`` moves from the anchor's to its own at gain 1, so it
   arrives near its optimum along a path of neighbouring optima. Where
   ``omega`` is small the loss is nearly flat in ``(m, b, omega)``, and a
   network started far away drifts along that valley. The gain then
   decays to ``final_gain`` with half-life ``gain_half_life`` steps. The
   direction gain is ``1/(direction_prior + k)``, so the anchor's
   direction counts as ``direction_prior`` batches of evidence: at small
   ``tau`` one batch says little about the direction, and a larger
   direction step only adds noise, which lowers the fitted ``omega``.
3. Refine: ``v`` is frozen at the explore average and ``(c, u, rho, b)``
   take steps at gain ``final_gain``, averaged over the second half.
   Gain 1 would bias ``rho`` and ``b``, because each step then refits the
   ``d`` entries of ``u`` to one batch.
4. Repair and refit (``flowphase.validation.repair``): a network whose
   neighbour's ``(w, b)`` fits its own time better on fresh samples adopts
   it and is refined again, and finally ``(c, u)`` are refitted by least
   squares on ``refit_batches`` fresh batches for the averaged ``(w, b)``.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .data import Mixture

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """Sizes and step rules of the optimiser (see the module docstring)."""

    batch_size: int = 1024
    anchor_steps: int = 500
    explore_steps: int = 200
    refine_steps: int = 400
    direction_rate: float = 0.5
    direction_prior: float = 50.0
    slide_fraction: float = 0.3
    damping: float = 1e-3
    final_gain: float = 0.1
    gain_half_life: float = 10.0
    single_precision: bool = True
    sampling_threads: int = 2
    repair_rounds: int = 2
    repair_batches: int = 8
    refit_batches: int = 32

    def __post_init__(self):
        for name in ("batch_size", "anchor_steps", "explore_steps", "refine_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2:
                raise ValueError(
                    f"training `{name}` must be an integer >= 2, got {value!r}"
                )
        if not 0 < self.final_gain <= 1:
            raise ValueError(
                f"training `final_gain` must be in (0, 1], got {self.final_gain!r}"
            )
        if self.sampling_threads < 1:
            raise ValueError(
                "training `sampling_threads` must be >= 1, "
                f"got {self.sampling_threads!r}"
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
from .repair import choose_neighbours, refit_linear  # noqa: E402


def _decaying_gain(step: int, half_life: float, floor: float) -> float:
    """``half_life / (half_life + step)``, but at least ``floor``."""
    if half_life <= 0:
        return floor
    return max(floor, half_life / (half_life + step))


class _SampleStream:
    """Batches of ``(x0, x1)`` drawn by worker threads one step ahead.

    Each worker draws its share of every batch with ``Mixture.draw`` from
    its own generator spawned from ``rng``, so the stream is reproducible
    for a given ``rng`` and worker count. NumPy releases the GIL while it
    fills arrays with normal variates, so the draws of the next batch run
    in parallel with each other and with the optimiser step on this one.
    """

    def __init__(self, mixture, batch_size, rng, dtype, n_workers):
        self._mixture = mixture
        self._dtype = dtype
        bounds = np.linspace(0, batch_size, n_workers + 1).astype(int)
        self._slices = [slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
        self._generators = rng.spawn(n_workers)
        self._buffers = [
            (np.empty((batch_size, mixture.d), dtype),
             np.empty((batch_size, mixture.d), dtype))
            for _ in range(2)
        ]
        self._executor = ThreadPoolExecutor(max_workers=n_workers)
        self._next = 0
        self._pending = self._submit(self._buffers[0])

    def _fill(self, buffers, part):
        rows = self._slices[part]
        x0, x1, _ = self._mixture.draw(rows.stop - rows.start,
                                       self._generators[part])
        buffers[0][rows] = x0
        buffers[1][rows] = x1

    def _submit(self, buffers):
        return [self._executor.submit(self._fill, buffers, part)
                for part in range(len(self._slices))]

    def next_batch(self):
        """Return the next ``(x0, x1)``, valid until the following call."""
        for future in self._pending:
            future.result()
        ready = self._buffers[self._next]
        self._next = 1 - self._next
        self._pending = self._submit(self._buffers[self._next])
        return ready

    def close(self):
        for future in self._pending:
            future.cancel()
        self._executor.shutdown(wait=True)


def _run_stage(samples, alphas, betas, state, n_steps, config, *,
               start_alphas=None, start_betas=None, slide_steps=0,
               half_life=0.0, direction_gain=None, progress=None):
    """Run ``n_steps`` optimiser steps and average the second half.

    During the first ``slide_steps`` steps each network's coefficients
    move linearly from ``(start_alphas, start_betas)`` to its own.
    ``direction_gain(step)`` sets the step on ``v`` (None freezes ``v``).
    """
    average = _Average()
    losses = []
    for step in range(n_steps):
        x0, x1 = samples.next_batch()
        if step < slide_steps:
            weight = (step + 1) / slide_steps
            step_alphas = start_alphas + weight * (alphas - start_alphas)
            step_betas = start_betas + weight * (betas - start_betas)
            gain = 1.0
        else:
            step_alphas, step_betas = alphas, betas
            gain = _decaying_gain(step - slide_steps, half_life,
                                  config.final_gain)
        loss = gauss_newton_step(
            x0, x1, step_alphas, step_betas, state, gain=gain,
            direction_gain=0.0 if direction_gain is None else direction_gain(step),
            damping=config.damping,
        )
        losses.append(loss)
        if step >= (n_steps + slide_steps) // 2:
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
    if not 0 <= anchor < n_networks:
        raise ValueError(
            f"anchor index {anchor} is out of range for {n_networks} times; "
            "pass the index of one of the given times")
    d = mixture.d

    anchor_state = _initial_state(d, 1, rng)
    dtype = np.float32 if config.single_precision else np.float64
    samples = _SampleStream(mixture, config.batch_size, rng, dtype,
                            config.sampling_threads)
    try:
        state = _train_anchor(samples, alphas, betas, anchor, anchor_state,
                              config, progress)
        (w, b, u, c), final_losses = _train_all(
            samples, alphas, betas, anchor, state, config, progress)
        (w, b, u, c), repaired = _repair(samples, alphas, betas, (c, u, w, b),
                                         config, progress)
    finally:
        samples.close()

    stats = {
        "final_loss": final_losses[-10:].mean(axis=0),
        "samples_per_network": config.batch_size * (
            config.explore_steps + config.refine_steps),
        "repaired": repaired,
    }
    logger.debug("trained %d networks at d=%d", n_networks, d)
    return Autoencoders(c=c, u=u, w=w, b=b, stats=stats)


def _train_anchor(samples, alphas, betas, anchor, state, config, progress):
    """Train the anchor network from ``state``; return copies for all times."""
    (w_mean, *_), _ = _run_stage(
        samples, alphas[:, anchor:anchor + 1], betas[:, anchor:anchor + 1],
        state, config.anchor_steps, config,
        half_life=0.3 * config.anchor_steps,
        direction_gain=lambda step: config.direction_rate * _decaying_gain(
            step, 0.2 * config.anchor_steps, 0.0),
        progress=progress,
    )
    _set_direction(state, w_mean)
    return state.copy_columns(alphas.shape[1])


def _train_all(samples, alphas, betas, anchor, state, config, progress):
    """Run the explore and refine stages on every network from ``state``."""
    prior = config.direction_prior
    (w_mean, *_), _ = _run_stage(
        samples, alphas, betas, state, config.explore_steps, config,
        start_alphas=alphas[:, anchor:anchor + 1],
        start_betas=betas[:, anchor:anchor + 1],
        slide_steps=int(config.slide_fraction * config.explore_steps),
        half_life=config.gain_half_life,
        direction_gain=lambda step: min(config.direction_rate,
                                        1.0 / (prior + step + 1)),
        progress=progress,
    )
    _set_direction(state, w_mean)

    (w, b, u, c, _), losses = _run_stage(
        samples, alphas, betas, state, config.refine_steps, config,
        progress=progress,
    )
    return (w, b, u, c), losses


def _set_direction(state: _State, w: np.ndarray):
    """Replace ``v`` and ``rho`` by the direction and norm of ``w``."""
    d = w.shape[0]
    norms = np.linalg.norm(w, axis=0)
    state.v = w * (np.sqrt(d) / np.maximum(norms, 1e-300))
    state.rho = norms / np.sqrt(d)


def _repair(samples, alphas, betas, params, config, progress):
    """Adopt better neighbouring parameters and refine again (see ``repair``).

    Returns ``((w, b, u, c), repaired)`` where ``repaired`` lists the
    indices of the networks that adopted a neighbour's parameters.
    """
    repaired = []
    for _ in range(config.repair_rounds):
        x0, x1 = _validation_batch(samples, config)
        choice = choose_neighbours(x0, x1, alphas, betas, params)
        moved = np.flatnonzero(choice != np.arange(choice.size))
        if moved.size == 0:
            break
        logger.info("networks %s adopt a neighbour's parameters", moved.tolist())
        repaired += moved.tolist()
        c, u, w, b = (x[..., choice] for x in params)
        state = _State(v=None, rho=None, b=b.copy(), u=u.copy(), c=c.copy())
        _set_direction(state, w)
        (w, b, u, c, _), _ = _run_stage(
            samples, alphas, betas, state, config.refine_steps, config,
            progress=None,
        )
        params = (c, u, w, b)
    c, u, w, b = params
    # Averaging (c, u) over steps in which (rho, b) moved gives a readout
    # that does not fit the averaged (w, b). In the saturated phase the loss
    # is flat in rho, so c and u drift with it. Refit them exactly.
    # The generator hands each batch to refit_linear before drawing the
    # next, so the shared buffers are never read while being refilled.
    fresh = (samples.next_batch() for _ in range(config.refit_batches))
    c, u = refit_linear(fresh, alphas, betas, w, b)
    return (w, b, u, c), sorted(set(repaired))


def _validation_batch(samples, config):
    """Concatenate ``config.repair_batches`` fresh batches in float64.

    Each batch is copied at once, because ``next_batch`` hands out buffers
    that the sampling threads refill on the following call.
    """
    x0_parts, x1_parts = [], []
    for _ in range(config.repair_batches):
        x0, x1 = samples.next_batch()
        x0_parts.append(np.array(x0, dtype=float))
        x1_parts.append(np.array(x1, dtype=float))
    return np.concatenate(x0_parts), np.concatenate(x1_parts)
