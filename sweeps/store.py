"""SQLite store of a sweep: one row per finished run.

The file has two tables. ``meta`` names the sweep (its ``sweep_id``, a hash
of all run keys, and the configuration), so a store is never reused for a
different sweep. ``runs`` has one row per finished run, keyed by the run
key (a hash of configuration and seed), with the configuration columns,
the package versions, timings and the results as JSON. A row is inserted
in one transaction when its run has finished, so an interrupted sweep
leaves only complete rows, and a rerun skips exactly those.

Only the process that drives the sweep writes to the store; Dask workers
return results and never touch the file.
"""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
from pathlib import Path

logger = logging.getLogger(__name__)

__all__ = ["StoreError", "SweepStore", "GENERATOR"]

#: Value of ``generator`` in the ``meta`` table; ``--force`` replaces only
#: stores that carry it.
GENERATOR = "flowphase sweep"

CONFIG_COLUMNS = ("schedule", "d", "p", "sigma", "kappa", "steps", "seed",
                  "n_samples", "velocity", "training")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_key TEXT PRIMARY KEY,
    schedule TEXT NOT NULL, d INTEGER NOT NULL, p REAL NOT NULL,
    sigma REAL NOT NULL, kappa REAL NOT NULL, steps INTEGER NOT NULL,
    seed INTEGER NOT NULL, n_samples INTEGER NOT NULL,
    velocity TEXT NOT NULL, training TEXT NOT NULL,
    started_utc TEXT NOT NULL, seconds REAL NOT NULL, cpu_seconds REAL NOT NULL,
    worker TEXT NOT NULL,
    versions TEXT NOT NULL, results TEXT NOT NULL
);
"""


class StoreError(OSError):
    """The store belongs to another sweep, is not a sweep store, or cannot be written."""


def _read(path: Path, query: str) -> list:
    """Run ``query`` on the store at ``path`` opened read-only and return all rows."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def _is_sweep_store(path: Path) -> bool:
    try:
        rows = _read(path, "SELECT value FROM meta WHERE key = 'generator'")
    except sqlite3.Error:
        return False
    return rows == [(GENERATOR,)]


def _check_integrity(path: Path) -> None:
    """Raise StoreError when SQLite finds the store at ``path`` damaged."""
    try:
        result = _read(path, "PRAGMA quick_check")
    except sqlite3.DatabaseError as error:
        result = [(str(error),)]
    if result != [("ok",)]:
        lines = [line for line in str(result[0][0]).splitlines() if not line.startswith("***")]
        first = (lines or ["no detail"])[0][:200]
        raise StoreError(
            f"store '{path}' is damaged ({first}); move it aside and rerun to "
            "compute the sweep again")


class SweepStore:
    """An open sweep store; use :meth:`open` to create or reopen one."""

    def __init__(self, connection: sqlite3.Connection, path: Path):
        self._connection = connection
        self.path = path

    @classmethod
    def open(cls, path: Path, sweep_id: str, configuration: dict, force: bool = False):
        """Open the store at ``path`` for the sweep ``sweep_id``, creating it if needed.

        An existing store of the same sweep is reopened so that finished runs
        are skipped. A store of another sweep raises StoreError unless
        ``force`` is given, and ``force`` replaces only a flowphase sweep
        store, never another file.
        """
        path = Path(path)
        if path.exists():
            if not path.is_file() or not _is_sweep_store(path):
                raise StoreError(
                    f"'{path}' exists and is not a flowphase sweep store; choose "
                    "another store path (--store or sweep.store)"
                )
            _check_integrity(path)
            stored = cls._stored_sweep_id(path)
            if stored != sweep_id:
                if not force:
                    raise StoreError(
                        f"store '{path}' contains another sweep (id {stored}, this "
                        f"sweep is {sweep_id}); choose another store or pass "
                        "--force to replace it"
                    )
                logger.warning("replacing store %s of sweep %s", path, stored)
                path.unlink()
        parent = path.resolve().parent
        if not parent.is_dir():
            raise StoreError(
                f"cannot create store '{path}': folder '{parent}' does not exist; create it first"
            )
        try:
            connection = sqlite3.connect(path)
            connection.executescript(_SCHEMA)
            with connection:
                connection.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('generator', ?), ('sweep_id', ?), "
                    "('configuration', ?)",
                    (GENERATOR, sweep_id, json.dumps(configuration, sort_keys=True)),
                )
        except sqlite3.Error as error:
            raise StoreError(f"cannot write store '{path}': {error}") from None
        return cls(connection, path)

    @staticmethod
    def _stored_sweep_id(path: Path) -> str | None:
        rows = _read(path, "SELECT value FROM meta WHERE key = 'sweep_id'")
        return rows[0][0] if rows else None

    def finished_keys(self) -> set[str]:
        """Return the run keys that have a row."""
        return {row[0] for row in self._connection.execute("SELECT run_key FROM runs")}

    def insert(self, key: str, spec: dict, outcome: dict) -> None:
        """Insert the finished run ``key`` in one transaction.

        ``outcome`` has ``started_utc``, ``seconds``, ``cpu_seconds``, ``worker``, ``versions``
        and ``results``. A key that already has a row raises
        sqlite3.IntegrityError, so a row is never overwritten.
        """
        values = (key, *(spec[name] for name in CONFIG_COLUMNS), outcome["started_utc"],
                  outcome["seconds"], outcome["cpu_seconds"], outcome["worker"],
                  json.dumps(outcome["versions"], sort_keys=True),
                  json.dumps(outcome["results"], allow_nan=False))
        with self._connection:
            self._connection.execute(
                f"INSERT INTO runs VALUES ({', '.join('?' * len(values))})", values
            )

    def rows(self) -> list[dict]:
        """Return every run as a dict, with ``versions`` and ``results`` decoded."""
        try:
            return self._rows()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot read store '{self.path}': {error}; it may be "
                             "damaged, so move it aside and rerun") from None

    def _rows(self) -> list[dict]:
        cursor = self._connection.execute("SELECT * FROM runs ORDER BY run_key")
        names = [column[0] for column in cursor.description]
        rows = []
        for values in cursor:
            row = dict(zip(names, values))
            row["versions"] = json.loads(row["versions"])
            row["results"] = json.loads(row["results"])
            rows.append(row)
        return rows

    def export_csv(self, path: Path) -> int:
        """Write one CSV line per (run, quantity, time) to ``path``; return the line count.

        Each line has the run key, the configuration columns, the timing, and
        the record's ``simulation``, ``theory`` and ``limit``.
        """
        rows = self.rows()
        header = ["run_key", *CONFIG_COLUMNS, "seconds", "quantity", "time",
                  "simulation", "theory", "limit"]
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        count = 0
        # A failure while writing removes the temporary file.
        try:
            count = self._write_csv(tmp, rows, header)
            tmp.replace(path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return count

    def _write_csv(self, tmp, rows, header) -> int:
        count = 0
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                for record in row["results"]["records"]:
                    writer.writerow([row["run_key"], *(row[c] for c in CONFIG_COLUMNS),
                                     row["seconds"], record["quantity"], record["time"],
                                     record["simulation"], record["theory"], record["limit"]])
                    count += 1
        return count

    def close(self) -> None:
        self._connection.close()
