"""Trained autoencoders against the exact population optimum.

For the mixture ``p*N(mu, sigma^2 I) + (1-p)*N(-mu, sigma^2 I)`` the
denoiser ``E[x1 | x_t]`` lies in the network family, so the population
minimiser is ``c = sigma^2*beta/Gamma``, ``m = 1 - c*beta``, ``q = m^2``,
``omega = beta*sqrt(d)/Gamma`` and ``b = artanh(2p - 1)``, with
``Gamma = alpha^2 + sigma^2*beta^2``. The oracle below recomputes these
formulas independently of the package.
"""

import math

import numpy as np
import pytest

from flowphase.validation.data import Mixture
from flowphase.validation.training import (
    TrainingConfig,
    train_autoencoders,
)

P, SIGMA, KAPPA = 0.8, 1.0, 2.0


def exact_optimum(alpha, beta, d):
    gamma = alpha**2 + SIGMA**2 * beta**2
    c = SIGMA**2 * beta / gamma
    m = 1.0 - c * beta
    return {
        "c": c,
        "m": m,
        "q": m * m,
        "omega": beta * math.sqrt(d) / gamma,
        "b": math.atanh(2 * P - 1),
    }


def dilated_coefficients(tau, d):
    """``(alpha, beta)`` of the two-phase schedule at dilated time ``tau``."""
    root_d = math.sqrt(d)
    if tau <= 1:
        beta = KAPPA * tau / root_d
        return 1.0 - beta, beta
    t = tau - 1
    beta = KAPPA / root_d + (1 - KAPPA / root_d) * t
    return (1 - KAPPA / root_d) * (1 - t), beta


def train_dilated(d, taus, anchor_tau, seed, config=TrainingConfig()):
    taus = list(taus)
    coefficients = [dilated_coefficients(tau, d) for tau in taus]
    alphas = [alpha for alpha, _ in coefficients]
    betas = [beta for _, beta in coefficients]
    mixture = Mixture(d, P, SIGMA)
    networks = train_autoencoders(
        mixture, alphas, betas, anchor=taus.index(anchor_tau),
        rng=np.random.default_rng(seed), config=config,
    )
    return networks.overlaps(mixture.mu), alphas, betas


def check_against_optimum(taus, overlaps, alphas, betas, d):
    for k, tau in enumerate(taus):
        optimum = exact_optimum(alphas[k], betas[k], d)
        if tau == 0:
            # Only m*tanh(b) = E[s] = 2p - 1 is identifiable at tau = 0.
            assert overlaps["m_tanh_b"][k] == pytest.approx(2 * P - 1, abs=0.05)
            continue
        for name in ("c", "m", "q"):
            assert overlaps[name][k] == pytest.approx(optimum[name], abs=0.05), (
                f"{name} at tau={tau}")
        if 0.25 <= tau <= 1:
            assert overlaps["b"][k] == pytest.approx(optimum["b"], abs=0.05), (
                f"b at tau={tau}")
            assert overlaps["omega"][k] == pytest.approx(
                optimum["omega"], rel=0.05), f"omega at tau={tau}"


def test_dilated_small_d_reaches_optimum():
    d = 128
    taus = [0.0, 0.25, 0.5, 1.0, 1.25, 1.5, 1.9]
    overlaps, alphas, betas = train_dilated(d, taus, anchor_tau=1.0, seed=0)
    check_against_optimum(taus, overlaps, alphas, betas, d)


def test_linear_small_d_reaches_optimum():
    d = 128
    times = [0.0, 0.05, 0.3, 0.6, 0.95]
    mixture = Mixture(d, P, SIGMA)
    alphas = [1 - t for t in times]
    networks = train_autoencoders(
        mixture, alphas, times, anchor=1, rng=np.random.default_rng(1))
    overlaps = networks.overlaps(mixture.mu)
    for k, t in enumerate(times):
        optimum = exact_optimum(alphas[k], t, d)
        if t == 0:
            assert overlaps["m_tanh_b"][k] == pytest.approx(2 * P - 1, abs=0.05)
            continue
        for name in ("c", "m", "q"):
            assert overlaps[name][k] == pytest.approx(optimum[name], abs=0.05), (
                f"{name} at t={t}")


def test_training_is_reproducible():
    config = TrainingConfig(anchor_steps=10, explore_steps=10, refine_steps=10)
    first, _, _ = train_dilated(64, [0.5, 1.0], 1.0, seed=3, config=config)
    second, _, _ = train_dilated(64, [0.5, 1.0], 1.0, seed=3, config=config)
    for name in ("c", "m", "omega", "b"):
        np.testing.assert_array_equal(first[name], second[name])


def test_anchor_out_of_range_is_rejected():
    mixture = Mixture(16, P, SIGMA)
    with pytest.raises(ValueError, match="anchor index 2"):
        train_autoencoders(mixture, [1.0, 0.9], [0.0, 0.1], anchor=2,
                           rng=np.random.default_rng(0))


@pytest.mark.slow
@pytest.mark.parametrize("d", [128, 512, 2048])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_dilated_grid_reaches_optimum(d, seed):
    taus = [round(0.05 * k, 2) for k in range(40)]
    overlaps, alphas, betas = train_dilated(d, taus, anchor_tau=1.0, seed=seed)
    check_against_optimum(taus, overlaps, alphas, betas, d)
