"""The SQLite store: one row per run, never overwritten, CSV export."""

import sqlite3

import pytest

from flowphase.sweeps.config import parse_sweep
from flowphase.sweeps.store import StoreError, SweepStore

OUTCOME = {"started_utc": "2026-01-01T00:00:00+00:00", "seconds": 1.5, "cpu_seconds": 1.2,
           "worker": "w",
           "versions": {"numpy": "x"},
           "results": {"records": [{"quantity": "p_hat", "time": 2.0, "simulation": 0.8,
                                    "theory": 0.81, "limit": 0.808}], "grid": [0, 2]}}


def _config(tmp_path, seeds=(0, 1)):
    return parse_sweep({"grid": {"d": [16], "seed": list(seeds)}}, base=tmp_path)


def _open(config, force=False):
    return SweepStore.open(config.store, config.sweep_id, {}, force=force)


def test_store_insert_and_export(tmp_path):
    config = _config(tmp_path)
    store = _open(config)
    run = config.runs[0]
    store.insert(run.key, run.to_dict(), OUTCOME)
    assert store.finished_keys() == {run.key}
    assert store.export_csv(tmp_path / "out.csv") == 1
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("run_key,schedule,d,p,sigma")
    assert lines[1].startswith(f"{run.key},dilated,16,0.8,1.0,2.0")
    store.close()


def test_store_rejects_second_row(tmp_path):
    config = _config(tmp_path)
    store = _open(config)
    run = config.runs[0]
    store.insert(run.key, run.to_dict(), OUTCOME)
    with pytest.raises(sqlite3.IntegrityError):
        store.insert(run.key, run.to_dict(), OUTCOME)
    store.close()


def test_store_of_other_sweep_kept(tmp_path):
    first = _config(tmp_path)
    store = _open(first)
    store.insert(first.runs[0].key, first.runs[0].to_dict(), OUTCOME)
    store.close()
    other = _config(tmp_path, seeds=(5,))
    with pytest.raises(StoreError, match="contains another sweep"):
        _open(other)
    reopened = _open(first)
    assert reopened.finished_keys() == {first.runs[0].key}
    reopened.close()


def test_store_force_replaces_sweep_store(tmp_path):
    first = _config(tmp_path)
    store = _open(first)
    store.insert(first.runs[0].key, first.runs[0].to_dict(), OUTCOME)
    store.close()
    other = _config(tmp_path, seeds=(5,))
    replaced = _open(other, force=True)
    assert replaced.finished_keys() == set()
    replaced.close()


def test_store_never_replaces_other_file(tmp_path):
    config = _config(tmp_path)
    config.store.write_text("my thesis")
    with pytest.raises(StoreError, match="not a flowphase sweep store"):
        _open(config, force=True)
    assert config.store.read_text() == "my thesis"


def test_store_missing_folder(tmp_path):
    config = parse_sweep({"sweep": {"store": "missing/s.sqlite"}, "grid": {"d": [16]}},
                         base=tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        _open(config)


def test_collect_keeps_stored_row(tmp_path):
    from flowphase.sweeps.driver import SweepSummary, _collect

    class Done:
        def result(self):
            return {**OUTCOME, "seconds": 9.0}

    config = _config(tmp_path)
    store = _open(config)
    run = config.runs[0]
    store.insert(run.key, run.to_dict(), OUTCOME)
    summary = SweepSummary(total=2, skipped=0)
    _collect(store, Done(), run, summary)
    assert summary.completed == 0
    assert summary.failed == []
    (row,) = store.rows()
    assert row["seconds"] == 1.5
    store.close()


def test_damaged_store_rejected(tmp_path):
    """A store whose table pages are overwritten fails SQLite's check on reopening."""
    config = _config(tmp_path, seeds=tuple(range(400)))
    store = _open(config)
    for run in config.runs:
        store.insert(run.key, run.to_dict(), OUTCOME)
    store.close()
    data = bytearray(config.store.read_bytes())
    page = 4096
    # The first five pages (header, schema, meta table) stay intact, so the
    # file still opens as a sweep store.
    for number in range(5, len(data) // page - 1, 2):
        offset = number * page + 100
        data[offset:offset + 1792] = bytes(range(256)) * 7
    config.store.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="is damaged") as raised:
        _open(config)
    assert len(str(raised.value)) < 400
