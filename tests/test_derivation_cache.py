"""Disk cache of symbolic derivations: reuse, corruption, keys, concurrency.

Oracles: a call counter on the cached function, and a fresh derivation in
the test process, with the cache off, of the same expressions.
"""

import logging
import subprocess
import sys

import pytest
import sympy as sp

from flowphase.theory import cache, sgd

_CALLS = []


@cache.disk_cached
def _derivation():
    _CALLS.append(1)
    x = sp.Symbol("x", positive=True)
    return {"square": sp.expand((x + 1) ** 2)}


@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWPHASE_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv(cache.SWITCH_ENV, "on")
    _CALLS.clear()
    return tmp_path / "derivations"


def _files(folder):
    return sorted(folder.glob("*.pickle"))


def test_second_call_reads_file(cache_on):
    first = _derivation()
    second = _derivation()
    assert second == first
    assert len(_CALLS) == 1
    assert len(_files(cache_on)) == 1


def test_switch_off_skips_cache(cache_on, monkeypatch):
    monkeypatch.setenv(cache.SWITCH_ENV, "off")
    _derivation()
    _derivation()
    assert len(_CALLS) == 2
    assert not cache_on.exists()


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_file_derived_again(cache_on, caplog, damage):
    expected = _derivation()
    path = _files(cache_on)[0]
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        path.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    else:
        path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="flowphase.theory.cache"):
        assert _derivation() == expected
    assert len(_CALLS) == 2
    assert "ignoring derivation cache file" in caplog.text
    assert _derivation() == expected
    assert len(_CALLS) == 2


def test_source_change_changes_key(cache_on, monkeypatch):
    _derivation()
    monkeypatch.setattr(cache, "source_digest", lambda: "changed")
    _derivation()
    assert len(_CALLS) == 2
    assert len(_files(cache_on)) == 2


def test_unwritable_folder_derives(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FLOWPHASE_CACHE_DIR", str(blocker))
    monkeypatch.setenv(cache.SWITCH_ENV, "on")
    _CALLS.clear()
    with caplog.at_level(logging.WARNING, logger="flowphase.theory.cache"):
        _derivation()
        _derivation()
    assert len(_CALLS) == 2
    assert "not writable" in caplog.text


_CHILD = """
from flowphase.theory import sgd
rates = sgd.phase_one_dynamics().rates
print(sorted(rates))
"""


def test_concurrent_processes_share_cache(tmp_path):
    environment = {"FLOWPHASE_CACHE_DIR": str(tmp_path), cache.SWITCH_ENV: "on",
                   "PATH": "/usr/bin:/bin"}
    children = [subprocess.Popen([sys.executable, "-c", _CHILD], env=environment,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                for _ in range(2)]
    for child in children:
        out, err = child.communicate(timeout=600)
        assert child.returncode == 0, err.decode()
        assert b"ignoring" not in err
    files = sorted((tmp_path / "derivations").glob("*phase_one_dynamics*.pickle"))
    assert len(files) == 1
    assert not list((tmp_path / "derivations").glob("*.tmp"))

    loaded = cache._load(files[0])
    fresh = sgd.phase_one_dynamics()
    for name, rate in fresh.rates.items():
        assert sp.simplify(loaded.rates[name] - rate) == 0, name
    assert loaded.moments == fresh.moments
