"""Disk cache of the slow symbolic derivations.

Deriving the SGD overlap ODEs takes SymPy several seconds of CPU in every
process, and a sweep starts many processes. :func:`disk_cached` stores the
result of a derivation without arguments as a pickle, keyed by

- the derivation's name,
- the versions of flowphase, SymPy and Python,
- a SHA-256 hash of every source file of :mod:`flowphase.theory`,

so that any change of the code or of SymPy derives again. Each file starts
with a SHA-256 digest of its payload. A file that is truncated, corrupted
or fails to load is logged, ignored and written again.

The folder is ``$FLOWPHASE_CACHE_DIR/derivations`` if that variable is set,
else ``~/.cache/flowphase/derivations``. When the folder cannot be written
the cache is skipped with one warning, and every derivation runs in full.
``FLOWPHASE_DERIVATION_CACHE=off`` turns the cache off, which the test
suite does so that its symbolic checks always derive afresh.

NOTE: a pickle runs code when it is loaded, so the cache folder must be
writable only by its user, as the code-generation cache folder, whose
modules are imported, must be too.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import platform
import tempfile
from pathlib import Path

import sympy

import flowphase

__all__ = ["disk_cached", "derivation_cache_dir", "source_digest"]

logger = logging.getLogger(__name__)

SWITCH_ENV = "FLOWPHASE_DERIVATION_CACHE"
_DIGEST_BYTES = 32


@functools.lru_cache(maxsize=None)
def source_digest() -> str:
    """Return a SHA-256 hex digest of the theory layer's source files."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode("utf-8"))
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _key(name: str) -> str:
    text = "\n".join([name, flowphase.__version__, sympy.__version__,
                      platform.python_version(), source_digest()])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def derivation_cache_dir() -> Path | None:
    """Return the cache folder, creating it, or ``None`` when it is off or not writable."""
    if os.environ.get(SWITCH_ENV, "").lower() in ("off", "0", "no"):
        return None
    configured = os.environ.get("FLOWPHASE_CACHE_DIR")
    root = Path(configured).expanduser() if configured else Path.home() / ".cache" / "flowphase"
    folder = root / "derivations"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        _warn_once(folder, error)
        return None
    return folder


@functools.lru_cache(maxsize=None)
def _warn_once(folder, error):
    logger.warning("derivation cache folder %s is not writable (%s), so the symbolic "
                   "derivations run in full in every process", folder, error)


def _load(path: Path):
    """Return the cached value at ``path``, or raise ValueError when it cannot be trusted."""
    data = path.read_bytes()
    digest, payload = data[:_DIGEST_BYTES], data[_DIGEST_BYTES:]
    if len(digest) < _DIGEST_BYTES or hashlib.sha256(payload).digest() != digest:
        raise ValueError("its checksum does not match (truncated or corrupted)")
    try:
        return pickle.loads(payload)
    except Exception as error:  # pickle raises many exception types on bad data
        raise ValueError(f"it does not unpickle: {error}") from error


def _store(path: Path, value) -> None:
    """Write ``value`` to ``path`` through a temporary file and an atomic rename."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(hashlib.sha256(payload).digest())
            temp_file.write(payload)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def disk_cached(function):
    """Cache the result of the argument-free derivation ``function`` on disk.

    Stack it below ``functools.lru_cache``: then each process reads the
    file at most once.
    """
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def cached():
        folder = derivation_cache_dir()
        if folder is None:
            return function()
        path = folder / f"{name}-{_key(name)}.pickle"
        try:
            return _load(path)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as error:
            logger.warning("ignoring derivation cache file %s: %s; deriving again",
                           path, error)
        value = function()
        try:
            _store(path, value)
        except (OSError, pickle.PicklingError) as error:
            logger.warning("cannot write derivation cache file %s: %s", path, error)
        return value

    return cached
