"""Timing helpers shared by the benchmark scripts (run them as scripts)."""

import time


def best_time(run, repeats: int) -> float:
    """Return the best wall time of ``repeats`` calls of ``run``, after a warm-up."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)
