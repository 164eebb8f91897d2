"""Quarantine store: readings that were received but not accepted, with the reason, in SQLite.

Nothing a sensor sends is dropped silently. A reading that fails validation lands here with
its raw value (as text, so historian junk such as ``"Bad"`` survives), the reason code and the
time it was received, so that an engineer can inspect it and a fixed spec can replay it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL,
    work_unit TEXT,
    sensor TEXT,
    timestamp TEXT,
    value TEXT,
    lot TEXT,
    reason TEXT NOT NULL,
    detail TEXT,
    source TEXT NOT NULL,
    batch_id TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_line_reason ON quarantine (line, reason);
"""


@dataclass(frozen=True, slots=True)
class QuarantinedReading:
    """One rejected reading; text fields keep exactly what was received."""

    line: str
    work_unit: str | None
    sensor: str | None
    timestamp: str | None
    value: str | None
    lot: str | None
    reason: str
    detail: str | None = None
    source: str = "http"
    batch_id: str | None = None
    received_at: str | None = None


class QuarantineStore:
    """Append-only SQLite table of quarantined readings, safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection guarded by a lock: SQLite serialises writers anyway, and a single
        # connection keeps WAL checkpoints cheap.
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a batch is acknowledged only after its quarantined part survives a power cut.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def add(self, readings: Sequence[QuarantinedReading]) -> None:
        """Write readings in one transaction (all or nothing), durable on return."""
        if not readings:
            return
        now = datetime.now(UTC).isoformat()
        rows = [
            (
                r.line,
                r.work_unit,
                r.sensor,
                r.timestamp,
                r.value,
                r.lot,
                r.reason,
                r.detail,
                r.source,
                r.batch_id,
                r.received_at or now,
            )
            for r in readings
        ]
        self.add_rows(rows)

    def add_rows(self, rows: Iterable[tuple[str | None, ...]]) -> None:
        """Fast path for callers that already hold tuples in column order (see ``COLUMNS``)."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT INTO quarantine (line, work_unit, sensor, timestamp, value, lot, "
                    "reason, detail, source, batch_id, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def counts_by_reason(self, line: str | None = None) -> dict[str, int]:
        """Number of quarantined readings per reason, for one line or all lines."""
        query = "SELECT reason, COUNT(*) FROM quarantine"
        params: tuple[str, ...] = ()
        if line is not None:
            query += " WHERE line = ?"
            params = (line,)
        with self._lock:
            rows = self._conn.execute(query + " GROUP BY reason", params).fetchall()
        return {str(reason): int(count) for reason, count in rows}

    def total(self, line: str | None = None) -> int:
        return sum(self.counts_by_reason(line).values())

    def list(
        self, line: str, *, reason: str | None = None, limit: int = 100
    ) -> list[QuarantinedReading]:
        """The most recent quarantined readings of a line, newest first."""
        query = (
            "SELECT line, work_unit, sensor, timestamp, value, lot, reason, detail, source, "
            "batch_id, received_at FROM quarantine WHERE line = ?"
        )
        params: list[str | int] = [line]
        if reason is not None:
            query += " AND reason = ?"
            params.append(reason)
        query += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._conn.execute(query, params).fetchall()
        return [QuarantinedReading(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


COLUMNS: Final = (
    "line",
    "work_unit",
    "sensor",
    "timestamp",
    "value",
    "lot",
    "reason",
    "detail",
    "source",
    "batch_id",
    "received_at",
)
