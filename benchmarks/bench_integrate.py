"""Time flowphase's Numba DOPRI5 against scipy.integrate.solve_ivp (RK45).

Both solve the phase-1 flow dy/dtau = kappa * tanh(kappa * tau * y + ell)
on tau in [0, 1] for m initial points y(0) ~ N(0, 1), at the same rtol and
atol. SciPy gets the NumPy backend of the same generated right-hand side.

Compared, for each m of the sweep:
- numba: flowphase's transport_many (all m points in one call);
- scipy loop: one solve_ivp call per point (skipped above SCIPY_LOOP_MAX);
- scipy system: one solve_ivp call on the m-dimensional system. One step
  size then serves all points, and the error control bounds an RMS over
  all points rather than each point's error.

Each time is the best of REPEATS runs after a warm-up run, so compile time
stays out and is reported apart. The validator prints the largest
difference of final states from SciPy's DOP853 at rtol 1e-12, in units of
atol + rtol * |y|.

Run: python benchmarks/bench_integrate.py
"""

import os
import platform
import sys
import time

import numba
import numpy as np
import scipy
import sympy as sp
from scipy.integrate import solve_ivp

import flowphase
from flowphase.numerics import codegen

import timing  # noqa: E402  (sibling module; run benchmarks as scripts)

RTOL = 1e-8
ATOL = 1e-10
PARAMS = np.array([2.0, 0.4])  # kappa, ell
SIZES = (1, 10, 100, 1000, 10000, 100000)
SCIPY_LOOP_MAX = 100
SCIPY_SYSTEM_MAX = 10000
REPEATS = 5
SEED = 20241204


def print_environment():
    print(f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}")
    print(f"system: {platform.platform()}")
    print(f"cpu count: {os.cpu_count()}, numba threads: {numba.get_num_threads()}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, numba {numba.__version__}, "
          f"sympy {sp.__version__}, flowphase {flowphase.__version__}")
    print(f"rtol {RTOL}, atol {ATOL}, best of {REPEATS} after a warm-up")
    print()


def best_time(run):
    return timing.best_time(run, REPEATS)


def build_rhs():
    tau, y, kappa, ell = sp.symbols("tau y kappa ell", real=True)
    return codegen.generate_rhs(
        "bench_phase1", tau, [y], [kappa, ell],
        [kappa * sp.tanh(kappa * tau * y + ell)],
    )


def measure_startup():
    """Import the integrators and build the RHS, timing each step."""
    start = time.perf_counter()
    from flowphase.numerics import integrate
    import_seconds = time.perf_counter() - start

    start = time.perf_counter()
    rhs = build_rhs()
    codegen_seconds = time.perf_counter() - start

    start = time.perf_counter()
    integrate.dopri5(rhs, 0.0, 1.0, [0.1], PARAMS, RTOL, ATOL)
    first_call_seconds = time.perf_counter() - start

    print("start-up (compile, or load from Numba's cache when warm):")
    print(f"  import flowphase.numerics.integrate: {import_seconds:8.3f} s")
    print(f"  generate_rhs:                        {codegen_seconds:8.3f} s")
    print(f"  first dopri5 call:                   {first_call_seconds:8.3f} s")
    print()
    return integrate, rhs


def scipy_loop(rhs, y0s, method="RK45", rtol=RTOL, atol=ATOL):
    """Solve once per row of ``y0s`` with solve_ivp and return final states."""
    finals = np.empty_like(y0s)
    for row, y0 in enumerate(y0s):
        solution = solve_ivp(
            lambda t, y: rhs.numpy(t, y, PARAMS), (0.0, 1.0), y0,
            method=method, rtol=rtol, atol=atol,
        )
        finals[row] = solution.y[:, -1]
    return finals


def scipy_system(rhs, y0s):
    # rhs.numpy broadcasts, so row 0 of a (1, m) state is the whole system.
    solution = solve_ivp(
        lambda t, y: rhs.numpy(t, y[np.newaxis, :], PARAMS)[0],
        (0.0, 1.0), y0s[:, 0], method="RK45", rtol=RTOL, atol=ATOL,
    )
    return solution.y[:, -1:]


def validate(integrate, rhs, y0s):
    """Return the max difference from DOP853 at rtol 1e-12, in tolerance units."""
    finals = integrate.transport_many(rhs.numba, 0.0, 1.0, y0s, PARAMS, RTOL, ATOL)
    reference = scipy_loop(rhs, y0s, method="DOP853", rtol=1e-12, atol=1e-14)
    scale = ATOL + RTOL * np.abs(reference)
    return np.max(np.abs(finals - reference) / scale)


def run_sweep(integrate, rhs):
    rng = np.random.default_rng(SEED)
    header = f"{'m':>7} {'numba s':>10} {'scipy loop s':>13} {'ratio':>8} "
    header += f"{'scipy system s':>15} {'ratio':>8}"
    print(header)

    for size in SIZES:
        y0s = rng.standard_normal((size, 1))
        numba_seconds = best_time(
            lambda: integrate.transport_many(
                rhs.numba, 0.0, 1.0, y0s, PARAMS, RTOL, ATOL
            )
        )
        line = f"{size:>7} {numba_seconds:>10.4g}"

        if size <= SCIPY_LOOP_MAX:
            loop_seconds = best_time(lambda: scipy_loop(rhs, y0s))
            line += f" {loop_seconds:>13.4g} {loop_seconds / numba_seconds:>8.1f}"
        else:
            line += f" {'-':>13} {'-':>8}"

        if size <= SCIPY_SYSTEM_MAX:
            system_seconds = best_time(lambda: scipy_system(rhs, y0s))
            line += f" {system_seconds:>15.4g} {system_seconds / numba_seconds:>8.1f}"
        print(line)
    print("ratio = scipy time / numba time")


def main():
    print_environment()
    integrate, rhs = measure_startup()

    y0s = np.random.default_rng(SEED).standard_normal((50, 1))
    error = validate(integrate, rhs, y0s)
    print(f"validator: max |numba - DOP853| over 50 points = {error:.2f} "
          "tolerance units")
    print()

    single = np.array([[0.1]])
    numba_single = best_time(
        lambda: integrate.dopri5(rhs, 0.0, 1.0, single[0], PARAMS, RTOL, ATOL)
    )
    scipy_single = best_time(lambda: scipy_loop(rhs, single))
    print(f"one solve, dopri5 wrapper (Python object result): {numba_single:.3g} s, "
          f"scipy RK45: {scipy_single:.3g} s, ratio {scipy_single / numba_single:.1f}")
    print()
    run_sweep(integrate, rhs)


if __name__ == "__main__":
    main()
