"""Time the phase-1 SGD overlap ODEs and the finite-d online SGD.

1. ODE: integrate the phase-1 overlap ODEs to T = 50 for N_TAUS values of
   tau in (0, 1], with flowphase's Numba DOPRI5 and with
   scipy.integrate.solve_ivp (RK45) on the same right-hand side in NumPy
   (the NumPy backends of the same generated functions and the same
   quadrature rule), both at rtol 1e-8. Each time is the best of REPEATS
   runs after a warm-up; compile time is reported apart. The validator
   prints the largest difference of the final states.
2. SGD: the share of the online SGD run time spent drawing Gaussian
   samples, at d = SGD_DIM, with the fused Numba step that
   run_online_sgd uses, and the NumPy step it replaced.

Run: python benchmarks/bench_sgd_ode.py
"""

import math
import os
import platform
import sys
import time

import numba
import numpy as np
import scipy
from scipy.integrate import solve_ivp

import flowphase
from flowphase.numerics import expectations, sgd_ode
from flowphase.validation import online_sgd
from flowphase.validation.data import Mixture
from flowphase.validation.sgd_kernel import fused_step

import timing  # noqa: E402  (sibling module; run benchmarks as scripts)

RTOL = 1e-8
ATOL = 1e-10
T_END = 50.0
N_TAUS = 100
KAPPA, P, ETA, SIGMA = 2.0, 0.8, 0.1, 1.0
START = np.array([0.0, 0.0, 0.1, 0.01, 0.1, 0.01])
REPEATS = 3
SGD_DIM = 1024
SGD_STEPS = 4000


def print_environment():
    print(f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}")
    print(f"system: {platform.platform()}, cpu count: {os.cpu_count()}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, numba {numba.__version__}, "
          f"flowphase {flowphase.__version__}")
    print(f"rtol {RTOL}, atol {ATOL}, T = {T_END}, {N_TAUS} values of tau, "
          f"best of {REPEATS} after a warm-up")
    print()


def best_time(run):
    return timing.best_time(run, REPEATS)


def numpy_rhs(params):
    """Return ``f(T, y)`` built from the NumPy backends of the generated functions."""
    drift, preactivation = sgd_ode.generated_functions()
    kappa, tau, eta, p = params[:4]
    n_nodes = (len(params) - 4) // 2
    nodes, weights = params[4 : 4 + n_nodes], params[4 + n_nodes :]
    powers = np.arange(expectations.MAX_POWER + 1)

    def rhs(time_value, y):
        slope, plus, minus = preactivation.numpy(*y, kappa, tau)
        tanh_plus = np.tanh(slope * nodes + plus)
        tanh_minus = np.tanh(slope * nodes + minus)
        moments_plus = p * (weights * tanh_plus[None, :] ** powers[:, None]).sum(axis=1)
        moments_minus = (1 - p) * (weights * tanh_minus[None, :] ** powers[:, None]).sum(axis=1)
        moments = [*(moments_plus + moments_minus), *(moments_plus - moments_minus)]
        return np.array(drift.numpy(*y, kappa, tau, eta, *moments), dtype=float)

    return rhs


def run_numba(all_params):
    return np.array([
        sgd_ode.integrate_phase_one(START, T_END, params, rtol=RTOL, atol=ATOL).y[-1]
        for params in all_params
    ])


def run_scipy(all_params):
    finals = []
    for params in all_params:
        solution = solve_ivp(numpy_rhs(params), (0.0, T_END), START, method="RK45",
                             rtol=RTOL, atol=ATOL)
        finals.append(solution.y[:, -1])
    return np.array(finals)


def bench_ode():
    taus = np.linspace(0.01, 1.0, N_TAUS)
    all_params = [sgd_ode.phase_one_params(KAPPA, tau, ETA, P) for tau in taus]

    start = time.perf_counter()
    sgd_ode.phase_one_rhs()
    compile_seconds = time.perf_counter() - start

    numba_seconds = best_time(lambda: run_numba(all_params))
    scipy_seconds = best_time(lambda: run_scipy(all_params))
    difference = np.max(np.abs(run_numba(all_params) - run_scipy(all_params)))
    n_nodes = (len(all_params[0]) - 4) // 2
    print(f"ODE, {n_nodes} quadrature nodes per mode")
    print(f"  derivation + compile: {compile_seconds:.2f} s")
    print(f"  numba dopri5:         {numba_seconds:.3f} s")
    print(f"  scipy solve_ivp:      {scipy_seconds:.3f} s")
    print(f"  ratio scipy/numba:    {scipy_seconds / numba_seconds:.1f}")
    print(f"  max |final state difference|: {difference:.2e}")
    print()


def bench_sgd_sampling():
    """Time the draws and the fused step of online SGD, as run_online_sgd takes them.

    The NumPy step that the kernel replaced is timed on the same samples
    for comparison.
    """
    mixture = Mixture(d=SGD_DIM, p=P, sigma=SIGMA)
    beta = KAPPA * 0.5 / math.sqrt(SGD_DIM)
    rngs = [np.random.default_rng(seed) for seed in range(3)]
    network = online_sgd.initial_network(START, mixture.mu, len(rngs), rngs[0])
    numpy_network = network.copy()
    x0 = np.empty((len(rngs), SGD_DIM))
    z = np.empty((len(rngs), SGD_DIM))
    signs = np.empty(len(rngs))
    fused_step(network.c, network.b, network.u, network.w, x0, z, signs, mixture.mu,
               1.0 - beta, beta, SIGMA, ETA)
    sampling = stepping = numpy_stepping = 0.0
    for _ in range(SGD_STEPS):
        start = time.perf_counter()
        online_sgd._draw(mixture, rngs, x0, z, signs)
        middle = time.perf_counter()
        fused_step(network.c, network.b, network.u, network.w, x0, z, signs, mixture.mu,
                   1.0 - beta, beta, SIGMA, ETA)
        end = time.perf_counter()
        x1 = SIGMA * z + signs[:, None] * mixture.mu[None, :]
        online_sgd._step(numpy_network, (1.0 - beta) * x0 + beta * x1, x1, ETA)
        numpy_stepping += time.perf_counter() - end
        sampling += middle - start
        stepping += end - middle
    share = sampling / (sampling + stepping)
    print(f"SGD, d = {SGD_DIM}, 3 seeds, {SGD_STEPS} steps")
    print(f"  Gaussian draws {sampling:.3f} s, fused Numba step {stepping:.3f} s, "
          f"sampling share {share:.0%}")
    print(f"  NumPy step on the same samples {numpy_stepping:.3f} s, "
          f"ratio NumPy/fused {numpy_stepping / stepping:.1f}")


if __name__ == "__main__":
    print_environment()
    bench_ode()
    bench_sgd_sampling()
