"""Configuration of ``flowphase report``, checked where it is built."""

import math
import os
from dataclasses import asdict, dataclass, field

from flowphase.validation.training import TrainingConfig


#: Smallest distance of ``p`` from 0 and 1: closer, ``artanh(2p - 1)``
#: loses all precision in float64.
P_MARGIN = 1e-9

#: Supported ``sigma``. The limits of the discrete sampler are derived for
#: ``sigma`` of order one, and at 1e-200 or 1e200 the float64 recursions
#: underflow or overflow.
SIGMA_RANGE = (1e-3, 1e3)


class ConfigError(ValueError):
    """A report parameter is out of range; the message names it and the fix."""


#: Length-``d`` float64 arrays alive at once per generated sample (sampler)
#: and per batch row (training). NOTE: estimates read off
#: validation/sampling.py and validation/training.py, not measured peaks.
SAMPLER_ROW_ARRAYS = 4
TRAINING_ROW_ARRAYS = 8


def _physical_memory() -> int | None:
    """Return the machine's physical memory in bytes, or None if unknown."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_finite(name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ConfigError(f"`{name}` must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"`{name}` must be finite, got {value!r}")


@dataclass(frozen=True)
class ReportConfig:
    """Model, grids and sizes of one report run.

    ``steps_per_phase`` uniform Euler steps cover each phase of the dilated
    schedule (``tau`` in ``[0, 1]`` and ``[1, 2]``) and the whole linear
    schedule (``t`` in ``[0, 1]``), so the grids are the training grids.
    """

    p: float = 0.8
    sigma: float = 1.0
    kappa: float = 2.0
    dims: tuple = (128, 512, 2048)
    seed: int = 0
    steps_per_phase: int = 20
    n_samples: int = 4000
    training: TrainingConfig = field(default_factory=TrainingConfig)
    dynamics_dims: tuple = (256, 1024, 4096)
    dynamics_seeds: int = 2
    dynamics_T: float = 5.0

    def __post_init__(self):
        for name in ("p", "sigma", "kappa"):
            _check_finite(name, getattr(self, name))
        if not 0 < self.p < 1:
            raise ConfigError(
                f"`p` must lie in (0, 1), got {self.p!r}: it is the weight "
                "of the +mu mode"
            )
        if not P_MARGIN <= self.p <= 1 - P_MARGIN:
            raise ConfigError(
                f"`p` = {self.p!r} is too close to 0 or 1 for double precision "
                f"(artanh(2p - 1) overflows); use {P_MARGIN:g} <= p <= 1 - {P_MARGIN:g}"
            )
        if self.sigma <= 0:
            raise ConfigError(
                f"`sigma` must be > 0, got {self.sigma!r}: it is the standard "
                "deviation within a mode"
            )
        if not SIGMA_RANGE[0] <= self.sigma <= SIGMA_RANGE[1]:
            raise ConfigError(
                f"`sigma` = {self.sigma!r} is outside the supported range "
                f"[{SIGMA_RANGE[0]:g}, {SIGMA_RANGE[1]:g}]; rescale the problem "
                "so that sigma is of order one"
            )
        if self.kappa <= 0:
            raise ConfigError(f"`kappa` must be > 0, got {self.kappa!r}")
        if not isinstance(self.dims, (tuple, list)):
            raise ConfigError(
                f"`dims` must be a tuple of integers such as (128, 512), got {self.dims!r}"
            )
        if not self.dims:
            raise ConfigError("`dims` must list at least one dimension")
        if len(set(self.dims)) != len(self.dims):
            raise ConfigError(f"`dims` lists a dimension twice: {list(self.dims)}")
        for d in self.dims:
            if not isinstance(d, int) or isinstance(d, bool) or d < 2:
                raise ConfigError(
                    f"every dimension in `dims` must be an integer >= 2, got {d!r}"
                )
            if self.kappa >= math.sqrt(d):
                raise ConfigError(
                    f"the dilated schedule needs kappa < sqrt(d); got kappa="
                    f"{self.kappa!r} with d={d}: use d > kappa**2 = "
                    f"{self.kappa * self.kappa:g} or a smaller kappa"
                )
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"`seed` must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.steps_per_phase, int) or self.steps_per_phase < 2:
            raise ConfigError(
                f"`steps_per_phase` must be an integer >= 2, got {self.steps_per_phase!r}"
            )
        if not isinstance(self.n_samples, int) or self.n_samples < 100:
            raise ConfigError(
                f"`n_samples` must be an integer >= 100, got {self.n_samples!r}"
            )
        if not isinstance(self.training, TrainingConfig):
            raise ConfigError(
                f"`training` must be a TrainingConfig, got {type(self.training).__name__}"
            )
        self._check_dynamics()
        self._check_memory()

    def _check_dynamics(self):
        """Raise ConfigError when the training-dynamics settings are invalid."""
        if not isinstance(self.dynamics_dims, (tuple, list)) or not all(
                isinstance(d, int) and d >= 2 for d in self.dynamics_dims):
            raise ConfigError(f"`dynamics_dims` must be a tuple of integers >= 2, "
                              f"got {self.dynamics_dims!r}")
        if not isinstance(self.dynamics_seeds, int) or self.dynamics_seeds < 1:
            raise ConfigError(f"`dynamics_seeds` must be an integer >= 1, "
                              f"got {self.dynamics_seeds!r}")
        if not (isinstance(self.dynamics_T, (int, float)) and math.isfinite(self.dynamics_T)
                and self.dynamics_T > 0):
            raise ConfigError(f"`dynamics_T` must be a finite number > 0, "
                              f"got {self.dynamics_T!r}")

    def _check_memory(self):
        """Raise ConfigError when the largest dimension cannot fit in memory."""
        available = _physical_memory()
        if available is None:
            return
        rows = max(SAMPLER_ROW_ARRAYS * self.n_samples,
                   TRAINING_ROW_ARRAYS * self.training.batch_size)
        needed = 8 * rows * max(self.dims)
        if needed <= available:
            return
        largest = max(2, available // (8 * rows))
        raise ConfigError(
            f"the report at d={max(self.dims)} needs an estimated "
            f"{needed / 2**30:.1f} GiB of memory, more than the "
            f"{available / 2**30:.1f} GiB of this machine; use dimensions up "
            f"to {largest} or fewer samples"
        )

    @property
    def log_odds(self) -> float:
        return math.atanh(2 * self.p - 1)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["dims"] = list(self.dims)
        data["dynamics_dims"] = list(self.dynamics_dims)
        return data


def quick_config(**overrides) -> ReportConfig:
    """A small configuration that runs in well under a minute.

    NOTE: at ``d = 64`` the end of phase 1 is not in the large-``d`` regime,
    because ``kappa/sqrt(d) = 0.25`` for ``kappa = 2``. There ``b`` and
    ``omega`` are nearly unidentifiable and often miss the report's
    tolerances.
    """
    values = dict(
        dims=(64, 256),
        dynamics_dims=(256, 1024),
        dynamics_T=2.0,
        steps_per_phase=10,
        n_samples=2000,
        training=TrainingConfig(batch_size=512, anchor_steps=100,
                                explore_steps=100, refine_steps=80),
    )
    values.update(overrides)
    return ReportConfig(**values)
