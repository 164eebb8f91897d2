"""MES records per line in SQLite: quality measurements, machine states, production counts.

The embedded profile's store (the cluster profile points the same schema at PostgreSQL).
Rows are only appended; every read is ordered by arrival (``id``), which is the order in
which subgroups are formed and charts are plotted, so a replay gives the same charts.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    characteristic TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    value REAL NOT NULL,
    sample_size INTEGER,
    lot TEXT
);
CREATE INDEX IF NOT EXISTS measurements_line_char ON measurements (line, characteristic, id);
CREATE TABLE IF NOT EXISTS machine_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    work_unit TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS machine_events_line ON machine_events (line, timestamp);
CREATE TABLE IF NOT EXISTS production_counts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    work_unit TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    total INTEGER NOT NULL,
    good INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS production_counts_line ON production_counts (line, timestamp);
"""


@dataclass(frozen=True, slots=True)
class Measurement:
    characteristic: str
    timestamp: str
    value: float
    sample_size: int | None = None  # attribute charts: the sample the count was taken from
    lot: str | None = None


@dataclass(frozen=True, slots=True)
class MachineEvent:
    work_unit: str
    timestamp: str
    state: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ProductionCount:
    work_unit: str
    timestamp: str
    total: int
    good: int


class MesStore:
    """Append-only SQLite store shared by the ingestion endpoint and the line monitor."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection behind a lock: SQLite serialises writers anyway, and WAL lets the
        # monitor read while the endpoint appends.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add_measurements(self, line: str, rows: Sequence[Measurement]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO measurements (line, characteristic, timestamp, value, sample_size,"
                " lot) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (line, m.characteristic, m.timestamp, m.value, m.sample_size, m.lot)
                    for m in rows
                ],
            )

    def add_events(self, line: str, rows: Iterable[MachineEvent]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO machine_events (line, work_unit, timestamp, state, reason)"
                " VALUES (?, ?, ?, ?, ?)",
                [(line, e.work_unit, e.timestamp, e.state, e.reason) for e in rows],
            )

    def add_counts(self, line: str, rows: Iterable[ProductionCount]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO production_counts (line, work_unit, timestamp, total, good)"
                " VALUES (?, ?, ?, ?, ?)",
                [(line, c.work_unit, c.timestamp, c.total, c.good) for c in rows],
            )

    def measurements(
        self, line: str, characteristic: str, after_id: int = 0
    ) -> list[tuple[int, Measurement]]:
        """Measurements in arrival order, only those stored after ``after_id``."""
        with self._lock:
            cur = self._db.execute(
                "SELECT id, characteristic, timestamp, value, sample_size, lot FROM measurements"
                " WHERE line = ? AND characteristic = ? AND id > ? ORDER BY id",
                (line, characteristic, after_id),
            )
            return [(r[0], Measurement(r[1], r[2], r[3], r[4], r[5])) for r in cur.fetchall()]

    def oee_version(self, line: str) -> tuple[int, int]:
        """Newest event and count row ids: unchanged means the OEE inputs are unchanged."""
        with self._lock:
            row = self._db.execute(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM machine_events WHERE line = ?),"
                " (SELECT COALESCE(MAX(id), 0) FROM production_counts WHERE line = ?)",
                (line, line),
            ).fetchone()
            return int(row[0]), int(row[1])

    def events(self, line: str) -> list[MachineEvent]:
        with self._lock:
            cur = self._db.execute(
                "SELECT work_unit, timestamp, state, reason FROM machine_events WHERE line = ?"
                " ORDER BY timestamp, id",
                (line,),
            )
            return [MachineEvent(*r) for r in cur.fetchall()]

    def counts(self, line: str) -> list[ProductionCount]:
        with self._lock:
            cur = self._db.execute(
                "SELECT work_unit, timestamp, total, good FROM production_counts WHERE line = ?"
                " ORDER BY timestamp, id",
                (line,),
            )
            return [ProductionCount(*r) for r in cur.fetchall()]

    def delete_line(self, line: str) -> None:
        with self._lock, self._db:
            for table in ("measurements", "machine_events", "production_counts"):
                self._db.execute(f"DELETE FROM {table} WHERE line = ?", (line,))
