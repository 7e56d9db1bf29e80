"""Per-sample losses, least-squares readout and neighbour selection."""

import math

import numpy as np
import pytest

from flowphase.validation.data import Mixture
from flowphase.validation.repair import (choose_neighbours, per_sample_losses,
                                         refit_linear)

D, P, SIGMA = 32, 0.8, 1.0


def batch(n, seed):
    x0, x1, _ = Mixture(D, P, SIGMA).draw(n, np.random.default_rng(seed))
    return x0, x1


def random_parameters(k, seed):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=k), rng.normal(size=(D, k)),
            rng.normal(size=(D, k)), rng.normal(size=k))


def test_losses_match_direct_residual():
    x0, x1 = batch(50, 0)
    alphas = np.array([[0.9, 0.4]])
    betas = np.array([[0.1, 0.6]])
    c, u, w, b = random_parameters(2, 1)
    losses = per_sample_losses(x0, x1, alphas, betas, c, u, w, b)
    for k in range(2):
        x = alphas[0, k] * x0 + betas[0, k] * x1
        f = c[k] * x + np.tanh(x @ w[:, k] / math.sqrt(D) + b[k])[:, None] * u[:, k]
        direct = np.sum((f - x1) ** 2, axis=1) / D
        np.testing.assert_allclose(losses[:, k], direct, rtol=1e-10)


def test_refit_matches_lstsq():
    x0, x1 = batch(40, 2)
    alphas, betas = np.array([[0.7]]), np.array([[0.3]])
    _, _, w, b = random_parameters(1, 3)
    c, u = refit_linear([(x0[:25], x1[:25]), (x0[25:], x1[25:])], alphas, betas, w, b)
    x = 0.7 * x0 + 0.3 * x1
    phi = np.tanh(x @ w[:, 0] / math.sqrt(D) + b[0])
    # Unknowns (c, u_1..u_D); row (n, j) reads c x_nj + u_j phi_n = x1_nj.
    n = x.shape[0]
    design = np.zeros((n * D, D + 1))
    design[:, 0] = x.ravel()
    for j in range(D):
        design[j::D, j + 1] = phi
    solution = np.linalg.lstsq(design, x1.ravel(), rcond=None)[0]
    assert c[0] == pytest.approx(solution[0], rel=1e-9)
    np.testing.assert_allclose(u[:, 0], solution[1:], rtol=1e-8, atol=1e-12)


def exact_parameters(alphas, betas):
    gamma = alphas**2 + SIGMA**2 * betas**2
    c = SIGMA**2 * betas / gamma
    mu = np.ones(D)
    u = np.outer(mu, 1 - c * betas)
    w = np.outer(mu, betas * math.sqrt(D) / gamma)
    b = np.full(alphas.shape, math.atanh(2 * P - 1))
    return c, u, w, b


def test_broken_network_adopts_neighbour():
    times = np.linspace(0.3, 0.7, 5)
    alphas, betas = 1 - times, times
    c, u, w, b = exact_parameters(alphas, betas)
    w[:, 2] *= 0.01
    x0, x1 = batch(4000, 4)
    choice = choose_neighbours(x0, x1, alphas[None], betas[None], (c, u, w, b))
    assert choice[2] in (1, 3)
    assert list(np.delete(choice, 2)) == [0, 1, 3, 4]


def test_healthy_networks_keep_own():
    times = np.linspace(0.3, 0.7, 5)
    alphas, betas = 1 - times, times
    params = exact_parameters(alphas, betas)
    x0, x1 = batch(4000, 5)
    choice = choose_neighbours(x0, x1, alphas[None], betas[None], params)
    assert list(choice) == [0, 1, 2, 3, 4]


def test_validation_batch_blocks_are_distinct():
    from flowphase.validation.training import TrainingConfig, _SampleStream, _validation_batch

    config = TrainingConfig(batch_size=64, repair_batches=6)
    stream = _SampleStream(Mixture(D, P, SIGMA), 64, np.random.default_rng(0),
                           np.float64, 2)
    try:
        x0, _ = _validation_batch(stream, config)
    finally:
        stream.close()
    blocks = x0.reshape(6, 64, D)
    firsts = {tuple(block[0]) for block in blocks}
    assert len(firsts) == 6


def test_validation_batch_is_reproducible():
    from flowphase.validation.training import TrainingConfig, _SampleStream, _validation_batch

    config = TrainingConfig(batch_size=64, repair_batches=6)
    results = []
    for _ in range(2):
        stream = _SampleStream(Mixture(D, P, SIGMA), 64, np.random.default_rng(7),
                               np.float64, 2)
        try:
            results.append(_validation_batch(stream, config)[0])
        finally:
            stream.close()
    np.testing.assert_array_equal(results[0], results[1])
