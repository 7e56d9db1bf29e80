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


#: Value of ``generator`` in ``results.json``; ``--force`` replaces only
#: folders that carry it.
GENERATOR = "flowphase report"

#: Values of ``generator`` that ``--force`` accepts, one per output command.
GENERATORS = (GENERATOR, "flowphase dynamics", "flowphase figures",
              "flowphase sweep rates")


def is_report_folder(path: Path) -> bool:
    """Tell whether ``path`` is a folder written by ``flowphase report`` or ``dynamics``."""
    results = Path(path) / "results.json"
    try:
        data = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("generator") in GENERATORS


def check_destination(path: Path, force: bool) -> None:
    """Fail early when ``path`` cannot receive a new report.

    With ``force``, an existing ``path`` is accepted only if it is an
    earlier report folder and does not contain the working directory, so
    that ``--force`` can never delete unrelated files.
    """
    path = Path(path)
    if path.exists() and not force:
        raise OutputError(
            f"output folder '{path}' exists already; choose another --out or "
            "pass --force to replace it"
        )
    if path.exists():
        resolved = path.resolve()
        cwd = Path.cwd().resolve()
        if resolved == cwd or resolved in cwd.parents:
            raise OutputError(
                f"--out '{path}' contains the current folder; --force would "
                "delete it, so choose a new folder name"
            )
        if not is_report_folder(path):
            raise OutputError(
                f"'{path}' is not a flowphase report folder (no results.json "
                "written by flowphase report); --force replaces only earlier "
                "reports, so choose another --out"
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
    """Create the hidden folder in which the report for ``path`` is built.

    ``mkdtemp`` makes it private (mode 0700); it is opened up to the mode
    a new folder would get under the current umask.
    """
    path = Path(path).resolve()
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    return staging


def discard(staging: Path) -> None:
    """Remove an unfinished staging folder."""
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("removed unfinished report folder %s", staging)


def publish(staging: Path, path: Path, force: bool) -> None:
    """Move the finished ``staging`` folder to ``path``."""
    path = Path(path).resolve()
    old = None
    if path.exists():
        if not force:
            raise OutputError(
                f"output folder '{path}' appeared while the report ran; rerun "
                "with another --out"
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
