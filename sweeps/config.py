"""Sweep configuration files: parse, validate and expand the TOML grid.

A sweep file has two tables. ``[grid]`` lists the values of each swept
parameter (a list, or one value), and ``[sweep]`` contains options::

    [sweep]
    store = "sweep.sqlite"        # relative to the TOML file's folder

    [grid]
    schedule = ["dilated"]        # "dilated" or "linear"
    d = [128, 256, 512]
    p = [0.8]
    sigma = [1.0]
    kappa = [2.0]
    steps = [20]                  # uniform Euler steps per phase
    seed = [0, 1, 2]
    n_samples = [4000]
    velocity = ["exact"]          # "exact" denoiser or "trained" networks
    training = ["quick"]          # optimiser sizes when velocity = "trained"

The sweep runs the Cartesian product of the lists. Every check raises
:class:`SweepConfigError` naming the key, the rule and the value, before
any run starts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

__all__ = ["RunSpec", "SweepConfig", "SweepConfigError", "load_sweep", "parse_sweep"]



#: Most runs one sweep may expand to; larger grids are split by the user.
MAX_RUNS = 100_000

class SweepConfigError(ValueError):
    """A sweep file is invalid; the message names the key and the allowed values."""


#: Smallest distance of ``p`` from 0 and 1 (``artanh(2p - 1)`` in float64).
P_MARGIN = 1e-9

#: ``(type, lower, upper)`` of each numeric grid key; bounds are inclusive
#: except for ``p``, whose bounds are ``P_MARGIN`` and ``1 - P_MARGIN``.
NUMERIC_KEYS = {
    "d": (int, 2, 2**20),
    "p": (float, P_MARGIN, 1 - P_MARGIN),
    "sigma": (float, 1e-3, 1e3),
    "kappa": (float, 1e-3, 1e3),
    # NOTE: the time grid is uniform, with ``steps`` per phase; a sweep
    # cannot give its own list of grid times.
    "steps": (int, 2, 1000),
    "seed": (int, 0, 2**63 - 1),
    "n_samples": (int, 100, 10**7),
}

#: Allowed values of each text grid key.
CHOICE_KEYS = {
    "schedule": ("dilated", "linear"),
    "velocity": ("exact", "trained"),
    "training": ("quick", "full"),
}

#: Value of each grid key that the file leaves out.
DEFAULTS = {
    "schedule": "dilated", "d": None, "p": 0.8, "sigma": 1.0, "kappa": 2.0,
    "steps": 20, "seed": 0, "n_samples": 4000, "velocity": "exact", "training": "quick",
}

SWEEP_KEYS = ("name", "store")

#: Largest ``n_samples * d`` of one run: the sampler keeps a few arrays of
#: that many float64 values (4 GiB for 5e8).
MAX_SAMPLE_ENTRIES = 5 * 10**8


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: one configuration and one seed."""

    schedule: str
    d: int
    p: float
    sigma: float
    kappa: float
    steps: int
    seed: int
    n_samples: int
    velocity: str
    training: str

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def key(self) -> str:
        """Return the run key: a hash of the configuration and seed."""
        return _digest(self.to_dict())


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: its name, store path and expanded runs."""

    name: str
    store: Path
    grid: dict
    runs: tuple

    @property
    def sweep_id(self) -> str:
        """Return a hash of the set of runs, which identifies the sweep in its store."""
        return _digest(sorted(run.key for run in self.runs))


def _digest(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_number(key, value):
    kind, lower, upper = NUMERIC_KEYS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SweepConfigError(
            f"grid.{key}: expected {'an integer' if kind is int else 'a number'}, "
            f"got {value!r} ({type(value).__name__})"
        )
    if kind is int and not isinstance(value, int):
        raise SweepConfigError(f"grid.{key}: expected an integer, got {value!r}")
    if not math.isfinite(value):
        raise SweepConfigError(f"grid.{key}: must be finite, got {value!r}")
    if not lower <= value <= upper:
        upper_text = f"1 - {P_MARGIN:g}" if key == "p" else f"{upper:g}"
        raise SweepConfigError(
            f"grid.{key}: {value!r} is out of range; allowed {lower:g} <= {key} <= {upper_text}"
        )
    return kind(value)


def _check_choice(key, value):
    allowed = CHOICE_KEYS[key]
    if not isinstance(value, str):
        raise SweepConfigError(
            f"grid.{key}: expected text, one of {', '.join(allowed)}; got {value!r}"
        )
    if value not in allowed:
        raise SweepConfigError(
            f"grid.{key}: {value!r} is not allowed; use one of {', '.join(allowed)}"
        )
    return value


def _grid_values(key, raw) -> list:
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        raise SweepConfigError(f"grid.{key}: the list is empty; give at least one value")
    check = _check_number if key in NUMERIC_KEYS else _check_choice
    checked = [check(key, value) for value in values]
    if len(set(checked)) != len(checked):
        raise SweepConfigError(f"grid.{key}: lists a value twice: {checked}")
    return checked


def _check_run(run: RunSpec):
    if run.schedule == "dilated" and run.kappa >= math.sqrt(run.d):
        raise SweepConfigError(
            f"grid.kappa: the dilated schedule needs kappa < sqrt(d); got kappa="
            f"{run.kappa:g} with d={run.d}: use d > kappa**2 = {run.kappa**2:g}"
        )
    if run.n_samples * run.d > MAX_SAMPLE_ENTRIES:
        raise SweepConfigError(
            f"grid.n_samples: n_samples * d = {run.n_samples * run.d:.3g} at d={run.d} "
            f"exceeds {MAX_SAMPLE_ENTRIES:.0e}; use fewer samples or smaller d"
        )


def parse_sweep(data: dict, base: Path = Path(".")) -> SweepConfig:
    """Validate the parsed TOML ``data`` and expand its grid into runs.

    ``base`` is the folder that a relative ``store`` path is resolved
    against. Raises SweepConfigError on the first invalid key.
    """
    unknown = sorted(set(data) - {"sweep", "grid"})
    if unknown:
        raise SweepConfigError(
            f"unknown table or key {unknown[0]!r}; a sweep file has the tables [sweep] and [grid]"
        )
    options = data.get("sweep", {})
    grid_raw = data.get("grid")
    if not isinstance(options, dict):
        raise SweepConfigError("sweep: expected a table [sweep]")
    if not isinstance(grid_raw, dict):
        raise SweepConfigError("grid: missing table [grid]; list at least the dimensions d")
    for key in sorted(options):
        if key not in SWEEP_KEYS:
            raise SweepConfigError(
                f"sweep.{key}: unknown key; allowed keys are {', '.join(SWEEP_KEYS)}"
            )
        if not isinstance(options[key], str) or not options[key]:
            raise SweepConfigError(f"sweep.{key}: expected non-empty text, got {options[key]!r}")
    for key in sorted(grid_raw):
        if key not in DEFAULTS:
            raise SweepConfigError(
                f"grid.{key}: unknown key; allowed keys are {', '.join(DEFAULTS)}"
            )
    if "d" not in grid_raw:
        raise SweepConfigError("grid.d: missing; list the dimensions, e.g. d = [128, 512]")

    grid = {key: _grid_values(key, grid_raw.get(key, default))
            for key, default in DEFAULTS.items()}
    names = list(DEFAULTS)
    size = math.prod(len(grid[key]) for key in names)
    if size > MAX_RUNS:
        raise SweepConfigError(
            f"grid: {size} combinations, more than the {MAX_RUNS} a sweep may have; "
            "split it into several sweeps")
    runs = []
    seen = set()
    for values in itertools.product(*(grid[key] for key in names)):
        run = RunSpec(**dict(zip(names, values)))
        # The optimiser sizes do not matter for the exact velocity.
        if run.velocity == "exact":
            run = replace(run, training="none")
        # The linear schedule has no kappa; 0 marks it as unused.
        if run.schedule == "linear":
            run = replace(run, kappa=0.0)
        if run not in seen:
            seen.add(run)
            runs.append(run)
    runs = tuple(runs)
    for run in runs:
        _check_run(run)
    store = Path(options.get("store", "sweep.sqlite"))
    if not store.is_absolute():
        store = Path(base) / store
    return SweepConfig(name=options.get("name", "sweep"), store=store, grid=grid, runs=runs)


def load_sweep(path: Path) -> SweepConfig:
    """Read and validate the sweep file ``path``."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SweepConfigError(f"sweep file '{path}' not found") from None
    except tomllib.TOMLDecodeError as error:
        raise SweepConfigError(f"sweep file '{path}' is not valid TOML: {error}") from None
    return parse_sweep(data, base=path.resolve().parent)
