"""Atomic output folders: staging, publishing, refusing to overwrite."""

import json
import math
import os
import subprocess
import sys

import pytest

from flowphase.report import output
from flowphase.report.output import (GENERATOR, OutputError, check_destination,
                                     is_report_folder, publish, recover, staging_folder,
                                     write_json)


def _dead_pid():
    """Return the id of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_publish_moves_staging_into_place(tmp_path):
    out = tmp_path / "report"
    staging = staging_folder(out)
    (staging / "a.txt").write_text("new")
    publish(staging, out, force=False)
    assert (out / "a.txt").read_text() == "new"
    assert not staging.exists()


def test_publish_replaces_only_with_force(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "a.txt").write_text("old")
    staging = staging_folder(out)
    (staging / "a.txt").write_text("new")
    with pytest.raises(OutputError):
        publish(staging, out, force=False)
    assert (out / "a.txt").read_text() == "old"
    publish(staging, out, force=True)
    assert (out / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_check_destination_existing(tmp_path):
    with pytest.raises(OutputError, match="exists already"):
        check_destination(tmp_path, force=False)


def test_write_json_rejects_nan(tmp_path):
    path = tmp_path / "r.json"
    with pytest.raises(ValueError):
        write_json(path, {"x": math.nan})
    assert not path.exists()


def test_write_json_round_trip(tmp_path):
    path = tmp_path / "r.json"
    write_json(path, {"x": [1.5, None]})
    assert json.loads(path.read_text()) == {"x": [1.5, None]}


def test_is_report_folder_needs_marker(tmp_path):
    write_json(tmp_path / "results.json", {"records": []})
    assert not is_report_folder(tmp_path)
    write_json(tmp_path / "results.json", {"generator": GENERATOR})
    assert is_report_folder(tmp_path)


def test_force_accepts_earlier_report(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    write_json(out / "results.json", {"generator": GENERATOR})
    check_destination(out, force=True)


def test_staging_folder_not_private(tmp_path):
    staging = staging_folder(tmp_path / "report")
    assert staging.stat().st_mode & 0o077 != 0


def test_publish_without_exchange_replaces(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "_exchange", lambda first, second: False)
    out = tmp_path / "report"
    out.mkdir()
    (out / "a.txt").write_text("old")
    staging = staging_folder(out)
    (staging / "a.txt").write_text("new")
    publish(staging, out, force=True)
    assert (out / "a.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_recover_restores_replaced_report(tmp_path):
    out = tmp_path / "report"
    left = tmp_path / f".report.replaced-{_dead_pid()}"
    left.mkdir()
    (left / "a.txt").write_text("earlier")
    recover(out)
    assert (out / "a.txt").read_text() == "earlier"
    assert not left.exists()


def test_recover_drops_replaced_when_published(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "a.txt").write_text("new")
    left = tmp_path / f".report.replaced-{_dead_pid()}"
    left.mkdir()
    recover(out)
    assert (out / "a.txt").read_text() == "new"
    assert not left.exists()


def test_recover_removes_dead_partials_only(tmp_path):
    dead = tmp_path / f".report.partial-{_dead_pid()}-abc"
    alive = tmp_path / f".report.partial-{os.getpid()}-def"
    dead.mkdir()
    alive.mkdir()
    recover(tmp_path / "report")
    assert not dead.exists()
    assert alive.exists()
    assert not (tmp_path / "report").exists()
