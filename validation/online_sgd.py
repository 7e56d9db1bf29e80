"""Online SGD of the finite-``d`` autoencoder, and its expected one-step increment.

The network is ``f(x) = c x + u tanh(w.x/sqrt(d) + b)`` and the per-sample
loss ``|f(x_t) - x1|^2 / 2``. Every step draws a fresh sample
``x_t = alpha x0 + beta x1`` and moves ``u, w`` by ``-(eta/d) grad`` and
``c, b`` by ``-(eta/d^2) grad``, all gradients taken at the old
parameters. Training time is ``T = steps*eta/d``, the time unit of
:mod:`flowphase.numerics.sgd_ode`. Several seeds run side by side as the
rows of ``(n_seeds, d)`` arrays, each with its own random stream.
:func:`run_online_sgd` takes its steps with the fused Numba kernel of
:mod:`flowphase.validation.sgd_kernel`. The NumPy step in this module is
the kernel's reference in the tests and in :func:`expected_increment`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import Mixture
from .sgd_kernel import fused_step

__all__ = [
    "Network",
    "SGDRun",
    "initial_network",
    "overlaps",
    "expected_increment",
    "run_online_sgd",
]

OVERLAP_ORDER = ("c", "b", "m", "q", "omega", "r")


@dataclass
class Network:
    """Parameters of ``n`` networks: ``c, b`` of shape ``(n,)``, ``u, w`` of shape ``(n, d)``."""

    c: np.ndarray
    b: np.ndarray
    u: np.ndarray
    w: np.ndarray

    def copy(self) -> "Network":
        return Network(self.c.copy(), self.b.copy(), self.u.copy(), self.w.copy())


def overlaps(network: Network, mu: np.ndarray) -> np.ndarray:
    """Return the ``(n, 6)`` overlaps ``(c, b, m, q, omega, r)`` of each network."""
    d = mu.shape[0]
    return np.stack(
        [
            network.c,
            network.b,
            network.u @ mu / d,
            np.einsum("ij,ij->i", network.u, network.u) / d,
            network.w @ mu / d,
            np.einsum("ij,ij->i", network.w, network.w) / d,
        ],
        axis=1,
    )


def _vector_with_overlaps(along, norm2, mu, rng, n):
    """Return ``n`` vectors ``v`` with ``v.mu/d = along`` and ``|v|^2/d = norm2``."""
    d = mu.shape[0]
    # A relative slack lets q = m^2 given in decimal pass despite rounding.
    if norm2 < along**2 * (1.0 - 1e-12):
        raise ValueError(
            f"the squared norm {norm2} is below the squared overlap {along**2}; "
            "an initial state needs q >= m^2 and r >= omega^2"
        )
    noise = rng.standard_normal((n, d))
    noise -= np.outer(noise @ mu / d, mu)
    noise *= math.sqrt(d) / np.linalg.norm(noise, axis=1, keepdims=True)
    return along * mu[None, :] + math.sqrt(max(norm2 - along**2, 0.0)) * noise


def initial_network(state, mu: np.ndarray, n: int, rng: np.random.Generator) -> Network:
    """Build ``n`` networks with the overlaps ``state = (c, b, m, q, omega, r)``.

    The parts of ``u`` and ``w`` orthogonal to ``mu`` are independent and
    uniformly oriented.
    """
    c, b, m, q, omega, r = (float(value) for value in state)
    return Network(
        c=np.full(n, c),
        b=np.full(n, b),
        u=_vector_with_overlaps(m, q, mu, rng, n),
        w=_vector_with_overlaps(omega, r, mu, rng, n),
    )


def _gradients(network: Network, x, x1):
    """Return the per-row gradients ``(c, b, u, w)`` of the loss at ``x``."""
    d = x.shape[1]
    root_d = math.sqrt(d)
    activation = np.tanh(np.einsum("ij,ij->i", network.w, x) / root_d + network.b)
    error = network.c[:, None] * x + network.u * activation[:, None] - x1
    error_dot_u = np.einsum("ij,ij->i", error, network.u)
    back = error_dot_u * (1.0 - activation**2)

    grad_c = np.einsum("ij,ij->i", error, x)
    grad_u = error * activation[:, None]
    grad_w = back[:, None] * x / root_d
    return grad_c, back, grad_u, grad_w


def _step(network: Network, x, x1, eta: float) -> None:
    d = x.shape[1]
    grad_c, grad_b, grad_u, grad_w = _gradients(network, x, x1)
    network.c -= eta / d**2 * grad_c
    network.b -= eta / d**2 * grad_b
    network.u -= eta / d * grad_u
    network.w -= eta / d * grad_w


def _draw(mixture: Mixture, rngs, x0, z, signs):
    """Fill ``x0``, ``z`` and ``signs`` with one draw per stream (row)."""
    for row, rng in enumerate(rngs):
        rng.standard_normal(out=x0[row])
        rng.standard_normal(out=z[row])
        signs[row] = 1.0 if rng.random() < mixture.p else -1.0


def _samples(mixture: Mixture, alpha, beta, rngs):
    """Draw one sample per stream and return ``(x_t, x1)``, each of shape ``(n, d)``."""
    d = mixture.d
    x0 = np.empty((len(rngs), d))
    z = np.empty((len(rngs), d))
    signs = np.empty(len(rngs))
    _draw(mixture, rngs, x0, z, signs)
    x1 = mixture.sigma * z
    x1 += signs[:, None] * mixture.mu[None, :]
    return alpha * x0 + beta * x1, x1


@dataclass(frozen=True)
class SGDRun:
    """Overlaps recorded by :func:`run_online_sgd`.

    ``overlaps[k, seed]`` is ``(c, b, m, q, omega, r)`` at ``times[k]``;
    ``steps`` counts the SGD steps taken per seed.
    """

    times: np.ndarray
    overlaps: np.ndarray
    seeds: tuple
    d: int
    eta: float
    steps: int


def run_online_sgd(
    state0,
    *,
    d: int,
    alpha: float,
    beta: float,
    p: float,
    sigma: float,
    eta: float,
    times,
    seeds=(0, 1, 2),
    progress=None,
) -> SGDRun:
    """Run online SGD from overlaps ``state0`` and record them at ``times``.

    ``times`` are training times ``T``; each is rounded to the nearest whole
    number of steps ``T*d/eta``. ``progress``, if given, is called with the
    number of steps taken since its last call, once per recorded time.
    Raises ValueError when the overlaps stop being finite.
    """
    if not eta > 0:
        raise ValueError(f"eta must be positive, got eta={eta!r}")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) < 0) or np.any(times < 0):
        raise ValueError("times must be a non-decreasing 1-D array of T >= 0")

    mixture = Mixture(d=d, p=p, sigma=sigma)
    mu = mixture.mu
    rngs = [np.random.default_rng(seed) for seed in seeds]
    network = initial_network(state0, mu, len(seeds), np.random.default_rng(seeds))

    x0 = np.empty((len(seeds), d))
    z = np.empty((len(seeds), d))
    signs = np.empty(len(seeds))
    alpha, beta, eta = float(alpha), float(beta), float(eta)
    record_steps = np.rint(times * d / eta).astype(int)
    recorded = np.empty((len(times), len(seeds), 6))
    step = 0
    for index, target in enumerate(record_steps):
        segment_start = step
        # A diverging run overflows on the way; the finiteness check reports it.
        with np.errstate(over="ignore", invalid="ignore"):
            while step < target:
                _draw(mixture, rngs, x0, z, signs)
                fused_step(network.c, network.b, network.u, network.w, x0, z, signs,
                           mu, alpha, beta, mixture.sigma, eta)
                step += 1
            recorded[index] = overlaps(network, mu)
        if progress is not None:
            progress(step - segment_start)
        if not np.all(np.isfinite(recorded[index])):
            raise ValueError(
                f"online SGD diverged by T = {target * eta / d:.4g} with eta = {eta!r} "
                f"at d = {d}: the overlaps are not finite; use a smaller eta"
            )

    return SGDRun(
        times=record_steps * eta / d,
        overlaps=recorded,
        seeds=tuple(seeds),
        d=d,
        eta=eta,
        steps=step,
    )


def expected_increment(
    state,
    *,
    d: int,
    alpha: float,
    beta: float,
    p: float,
    sigma: float,
    eta: float,
    n_samples: int,
    seed: int = 0,
    chunk: int = 1000,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate ``(d/eta) E[Delta overlaps]`` of one SGD step by Monte Carlo.

    One network with the overlaps ``state`` takes one step on each of
    ``n_samples`` independent samples. Returns the mean scaled increment
    of ``(c, b, m, q, omega, r)`` and its standard error.
    """
    rng = np.random.default_rng(seed)
    mixture = Mixture(d=d, p=p, sigma=sigma)
    mu = mixture.mu
    base = initial_network(state, mu, 1, rng)
    before = overlaps(base, mu)[0]

    total = np.zeros(6)
    total_square = np.zeros(6)
    remaining = n_samples
    while remaining > 0:
        size = min(chunk, remaining)
        network = Network(
            c=np.repeat(base.c, size),
            b=np.repeat(base.b, size),
            u=np.repeat(base.u, size, axis=0),
            w=np.repeat(base.w, size, axis=0),
        )
        x0, x1, _ = mixture.draw(size, rng)
        _step(network, alpha * x0 + beta * x1, x1, eta)
        scaled = (overlaps(network, mu) - before) * d / eta
        total += scaled.sum(axis=0)
        total_square += (scaled**2).sum(axis=0)
        remaining -= size

    mean = total / n_samples
    variance = total_square / n_samples - mean**2
    return mean, np.sqrt(np.maximum(variance, 0.0) / n_samples)
