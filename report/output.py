"""Atomic output folders and JSON files.

A report is built in a hidden sibling folder and renamed into place only
when complete, so an interrupted run never leaves a half-written report
under the requested name, and an existing report is replaced only with
``force=True``.
"""

import ctypes
import errno
import glob
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
GENERATORS = (GENERATOR, "flowphase dynamics", "flowphase uturn", "flowphase figures",
              "flowphase sweep rates")


def is_report_folder(path: Path) -> bool:
    """Tell whether ``path`` is a folder written by ``flowphase report``, ``dynamics`` or ``uturn``."""
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
    recover(path)
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
                f"'{path}' is not a flowphase output folder (no results.json "
                "written by a flowphase command); --force replaces only those, "
                "so choose another output folder"
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

    The name carries the process id, so that a later run can tell a folder
    left by a killed process (see :func:`recover`). ``mkdtemp`` makes it
    private (mode 0700); it is opened up to the mode a new folder would get
    under the current umask.
    """
    path = Path(path).resolve()
    recover(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-{os.getpid()}-",
                                    dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    return staging


def discard(staging: Path) -> None:
    """Remove an unfinished staging folder."""
    shutil.rmtree(staging, ignore_errors=True)
    logger.info("removed unfinished report folder %s", staging)


def publish(staging: Path, path: Path, force: bool) -> None:
    """Move the finished ``staging`` folder to ``path``.

    An existing ``path`` (allowed only with ``force``) is swapped with
    ``staging`` in one atomic step where the system supports it, so a
    process killed at any moment leaves ``path`` holding either the earlier
    or the new report. Elsewhere the earlier report is first renamed to
    ``.<name>.replaced-<pid>``, which :func:`recover` puts back if the
    process dies before the new report is in place.
    """
    path = Path(path).resolve()
    if not path.exists():
        os.rename(staging, path)
        logger.info("report written to %s", path)
        return
    if not force:
        raise OutputError(
            f"output folder '{path}' appeared while this run was going; rerun "
            "with another --out"
        )
    if _exchange(staging, path):
        # staging now contains the earlier report.
        shutil.rmtree(staging, ignore_errors=True)
    else:
        old = path.with_name(f".{path.name}.replaced-{os.getpid()}")
        os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    logger.info("report written to %s", path)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux ``renameat2``; return False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                       _RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(error, f"cannot swap '{first}' and '{second}': {os.strerror(error)}")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(path: Path) -> None:
    """Clean up after a run on ``path`` that was killed, so nothing it left is trusted.

    A ``.<name>.replaced-<pid>`` folder of a dead process is the earlier
    report: it is put back when ``path`` is missing, and removed otherwise.
    ``.<name>.partial-<pid>-*`` folders of dead processes are unfinished
    and are removed. Folders of live processes are left alone.
    """
    path = Path(path).resolve()
    parent = path.parent
    if not parent.is_dir():
        return
    for kind in ("replaced", "partial"):
        prefix = f".{path.name}.{kind}-"
        for leftover in parent.glob(glob.escape(prefix) + "*"):
            pid_text = leftover.name[len(prefix):].split("-")[0]
            if not pid_text.isdigit() or _process_alive(int(pid_text)):
                continue
            if kind == "replaced" and not path.exists():
                os.rename(leftover, path)
                logger.warning("restored %s from an interrupted replacement", path)
            else:
                shutil.rmtree(leftover, ignore_errors=True)
                logger.info("removed %s, left by a killed run", leftover)


def write_json(path: Path, data) -> None:
    """Write ``data`` as JSON through a temporary file and a rename."""
    path = Path(path)
    text = json.dumps(data, indent=1, allow_nan=False) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
