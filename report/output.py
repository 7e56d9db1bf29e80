"""Atomic output folders and JSON files.

A report is built in a hidden sibling folder and renamed into place only
when complete, so an interrupted run never leaves a half-written report
under the requested name, and an existing report is replaced only with
``force=True``.
"""

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)


class OutputError(OSError):
    """The output folder exists already or cannot be written."""


def check_destination(path: Path, force: bool) -> None:
    """Fail early when ``path`` cannot receive a new report."""
    path = Path(path)
    if path.exists() and not force:
        raise OutputError(
            f"output folder '{path}' exists already; choose another --out or "
            "pass --force to replace it"
        )
    parent = path.resolve().parent
    if not parent.exists():
        raise OutputError(
            f"cannot create '{path}': its parent folder '{parent}' does not "
            "exist; create it first or choose another --out"
        )
    if not os.access(parent, os.W_OK):
        raise OutputError(
            f"cannot write into '{parent}' (permission denied); choose a "
            "writable --out"
        )


def staging_folder(path: Path) -> Path:
    """Create the hidden folder in which the report for ``path`` is built."""
    path = Path(path).resolve()
    return Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))


def publish(staging: Path, path: Path, force: bool) -> None:
    """Move the finished ``staging`` folder to ``path``."""
    path = Path(path).resolve()
    old = None
    if path.exists():
        if not force:
            raise OutputError(
                f"output folder '{path}' appeared while the report ran; the "
                f"finished report is kept in '{staging}'"
            )
        old = path.with_name(f".{path.name}.replaced-{os.getpid()}")
        os.replace(path, old)
    os.replace(staging, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    logger.info("report written to %s", path)


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON through a temporary file and a rename."""
    path = Path(path)
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
