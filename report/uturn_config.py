"""Configuration of ``flowphase uturn``, checked on construction.

The digits part trains time-conditioned denoisers on the unbalanced 0/1
digits on the linear schedule ``alpha = 1 - t``, ``beta = t``. The
mixture part compares the simulated flip curve on the dilated schedule
with its ``d -> oo`` limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from flowphase.report.config import _physical_memory


#: Largest seed: scikit-learn's random_state must lie in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1
#: Arrays of shape ``(n_mixture, d)`` that the mixture probe keeps at once (an estimate).
MIXTURE_ROW_ARRAYS = 6


class UturnConfigError(ValueError):
    """A configuration value of ``flowphase uturn`` is invalid."""


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UturnConfigError(f"`{name}` must be an integer >= {minimum}, got {value!r}")


def _fraction(name, value, low_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UturnConfigError(f"`{name}` must be a finite number, got {value!r}")
    if not (0.0 < value < 1.0 if low_open else 0.0 <= value <= 1.0):
        interval = "(0, 1)" if low_open else "[0, 1]"
        raise UturnConfigError(f"`{name}` must lie in {interval}, got {value}")


@dataclass(frozen=True)
class UturnConfig:
    """Sizes of the digits experiment and of the mixture comparison.

    ``budgets`` are the numbers of Adam steps that both schemes get.
    ``reference_steps`` trains the model on which the U-turn interval is
    measured. ``weight`` is the probability that a phase-aware training
    time is drawn from that interval.
    """

    seed: int = 0
    mnist_dir: Path | None = None
    mnist_pool: int = 2
    zero_fraction: float = 0.8
    hidden: int = 128
    batch_size: int = 128
    learning_rate: float = 2e-3
    reference_steps: int = 3000
    budgets: tuple = (100, 300, 1000)
    n_seeds: int = 8
    weight: float = 0.5
    n_start_times: int = 20
    last_start_time: float = 0.95
    n_repeats: int = 10
    n_generated: int = 1000
    sampler_step: float = 0.02
    dims: tuple = (32, 128, 512, 2048)
    p: float = 0.8
    sigma: float = 1.0
    kappa: float = 2.0
    n_mixture: int = 4000
    mixture_taus: tuple = field(default=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8,
                                         0.9, 1.0, 1.1, 1.25, 1.5))
    autoencoder_d: int = 256
    bootstrap: int = 2000

    def __post_init__(self):
        _positive_int("seed", self.seed, 0)
        if self.seed > MAX_SEED:
            raise UturnConfigError(
                f"`seed` (--seed) must be at most {MAX_SEED} (2**32 - 1, the largest seed "
                f"scikit-learn accepts), got {self.seed}")
        for name in ("hidden", "batch_size", "reference_steps", "n_seeds", "n_repeats",
                     "mnist_pool", "bootstrap"):
            _positive_int(name, getattr(self, name))
        _positive_int("n_start_times", self.n_start_times, 3)
        _positive_int("n_generated", self.n_generated, 10)
        _positive_int("n_mixture", self.n_mixture, 10)
        if self.n_seeds < 2:
            raise UturnConfigError(
                f"`n_seeds` (--seeds) must be >= 2 for an interval over seeds, got {self.n_seeds}")
        _fraction("zero_fraction", self.zero_fraction)
        _fraction("p", self.p)
        _fraction("weight", self.weight, low_open=False)
        _fraction("last_start_time", self.last_start_time)
        for name in ("learning_rate", "sampler_step", "sigma", "kappa"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value) or value <= 0:
                raise UturnConfigError(f"`{name}` must be positive and finite, got {value!r}")
        if self.sampler_step > 0.5:
            raise UturnConfigError(f"`sampler_step` must be <= 0.5, got {self.sampler_step}")
        if not isinstance(self.budgets, tuple) or not self.budgets:
            raise UturnConfigError(
                f"`budgets` (--budgets) must be a non-empty tuple, got {self.budgets!r}")
        for budget in self.budgets:
            if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
                raise UturnConfigError(
                    f"every entry of `budgets` (--budgets) must be an integer >= 1, got {budget!r}")
        self._check_mixture()

    def _check_mixture(self):
        if not isinstance(self.dims, tuple) or not self.dims:
            raise UturnConfigError(f"`dims` must be a non-empty tuple, got {self.dims!r}")
        for d in self.dims:
            _positive_int("dims", d, 2)
            if d <= self.kappa**2:
                raise UturnConfigError(
                    f"the dilated schedule needs d > kappa**2 = {self.kappa**2:g}, got d={d} "
                    "in `dims` (--dims); use larger dimensions")
        _positive_int("autoencoder_d", self.autoencoder_d, 0)
        if 0 < self.autoencoder_d <= self.kappa**2:
            raise UturnConfigError(
                f"`autoencoder_d` must be 0 (off) or > kappa**2 = {self.kappa**2:g}, "
                f"got {self.autoencoder_d}")
        needed = 8 * MIXTURE_ROW_ARRAYS * self.n_mixture * max(self.dims)
        available = _physical_memory()
        if available is not None and needed > available:
            largest = available // (8 * MIXTURE_ROW_ARRAYS * self.n_mixture)
            raise UturnConfigError(
                f"the mixture probe at d={max(self.dims)} with {self.n_mixture} samples needs "
                f"an estimated {needed / 2**30:.1f} GiB of memory, more than the "
                f"{available / 2**30:.1f} GiB of this machine; use dimensions up to {largest}")
        taus = self.mixture_taus
        if not taus or any(not 0.0 <= tau < 2.0 for tau in taus) or list(taus) != sorted(set(taus)):
            raise UturnConfigError(
                f"`mixture_taus` must be increasing times in [0, 2), got {taus!r}")

    def to_json(self):
        """Return the configuration as JSON-ready values."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["mnist_dir"] = None if self.mnist_dir is None else str(self.mnist_dir)
        return values


def quick_config(**values) -> UturnConfig:
    """Return a small configuration for tests and a first look (well under a minute)."""
    small = dict(reference_steps=800, budgets=(150,), n_seeds=3, n_start_times=8,
                 n_repeats=4, n_generated=300, dims=(32, 128), n_mixture=500,
                 mixture_taus=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25), autoencoder_d=0,
                 bootstrap=200, hidden=64)
    small.update(values)
    return replace(UturnConfig(), **small)
