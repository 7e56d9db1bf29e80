"""The fused Numba SGD step against the NumPy step it replaces.

Oracle: ``online_sgd._step`` on the same samples, written with NumPy array
operations from the gradients of the loss.
"""

import numpy as np
import pytest

from flowphase.validation import online_sgd
from flowphase.validation.data import Mixture
from flowphase.validation.sgd_kernel import fused_step


@pytest.mark.parametrize("d, alpha, beta, sigma", [(64, 0.9, 0.1, 1.0),
                                                   (257, 0.3, 0.7, 0.5),
                                                   (1024, 0.5, 0.5, 2.0)])
def test_fused_step_matches_numpy(d, alpha, beta, sigma):
    mixture = Mixture(d=d, p=0.8, sigma=sigma)
    rng = np.random.default_rng(d)
    state = (0.1, 0.2, 0.3, 0.2, 0.4, 0.3)
    network = online_sgd.initial_network(state, mixture.mu, 3, rng)
    reference = network.copy()
    x0 = rng.standard_normal((3, d))
    z = rng.standard_normal((3, d))
    signs = np.array([1.0, -1.0, 1.0])
    x1 = sigma * z + signs[:, None] * mixture.mu[None, :]
    eta = 0.7

    online_sgd._step(reference, alpha * x0 + beta * x1, x1, eta)
    fused_step(network.c, network.b, network.u, network.w, x0, z, signs, mixture.mu,
               alpha, beta, sigma, eta)

    for name in ("c", "b", "u", "w"):
        np.testing.assert_allclose(getattr(network, name), getattr(reference, name),
                                   rtol=1e-12, atol=1e-14, err_msg=name)


def test_run_matches_numpy_loop():
    """A whole run with the kernel equals the same run stepped with NumPy."""
    d, eta, alpha, beta = 128, 0.5, 0.8, 0.2
    mixture = Mixture(d=d, p=0.8, sigma=1.0)
    start = np.array([0.0, 0.0, 0.3, 0.2, 0.3, 0.2])
    run = online_sgd.run_online_sgd(start, d=d, alpha=alpha, beta=beta, p=0.8, sigma=1.0,
                                    eta=eta, times=[1.0], seeds=(0, 1))

    rngs = [np.random.default_rng(seed) for seed in (0, 1)]
    network = online_sgd.initial_network(start, mixture.mu, 2, np.random.default_rng((0, 1)))
    for _ in range(run.steps):
        x, x1 = online_sgd._samples(mixture, alpha, beta, rngs)
        online_sgd._step(network, x, x1, eta)
    np.testing.assert_allclose(run.overlaps[-1], online_sgd.overlaps(network, mixture.mu),
                               rtol=1e-10, atol=1e-12)
