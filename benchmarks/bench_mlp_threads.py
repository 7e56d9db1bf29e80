"""Adam steps of the time-conditioned MLP with one and two BLAS threads.

Prints the CPU and wall time per step for each thread count and their
ratios against one thread, measured in the same process. Training runs
under ``threadpool_limits(1)`` because the matrices are small (batch 128,
width 128), so this script shows what the limit buys on the machine at
hand. Run: ``python benchmarks/bench_mlp_threads.py``.
"""

import platform
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from flowphase.validation import mlp
from flowphase.validation.flow_sampler import linear_rates
from flowphase.validation.time_density import UniformTimes

N_STEPS = 200
REPEATS = 3


def _time_steps(threads, data):
    best_cpu, best_wall = np.inf, np.inf
    for repeat in range(REPEATS):
        rng = np.random.default_rng(repeat)
        model = mlp.TimeConditionedMLP(64, linear_rates, 0.2, rng)
        times = UniformTimes()
        with threadpool_limits(limits=threads, user_api="blas"):
            cpu, wall = time.process_time(), time.perf_counter()
            # The private loop, because train_denoiser fixes one thread.
            mlp._adam_loop(model, lambda n, r: data[r.integers(0, data.shape[0], n)],
                           times, N_STEPS, rng, None)
            best_cpu = min(best_cpu, (time.process_time() - cpu) / N_STEPS)
            best_wall = min(best_wall, (time.perf_counter() - wall) / N_STEPS)
    return best_cpu, best_wall


def main():
    data = np.random.default_rng(0).standard_normal((200, 64))
    _time_steps(1, data)  # warm-up
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"BLAS {[info.get('internal_api') for info in threadpool_info()]}")
    reference = _time_steps(1, data)
    for threads in (1, 2):
        cpu, wall = _time_steps(threads, data)
        print(f"{threads} BLAS thread(s): {cpu * 1e3:.2f} ms CPU, {wall * 1e3:.2f} ms wall "
              f"per step; ratio to one thread: CPU {cpu / reference[0]:.2f}, "
              f"wall {wall / reference[1]:.2f}")


if __name__ == "__main__":
    main()
