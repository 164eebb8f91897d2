"""The readings' side of the one quarantine: what the ingestion path could not use.

Quarantined readings go to the same ``quarantine`` table as MES records (kind
``readings``), in the data plane's database, with the raw value as text (historian junk such
as ``"Bad"`` survives) and the reading as JSON. The ingestion path knows lines by name; the
namespace comes from the line's configuration (``namespace_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import select

from lineops.dataplane.db.database import Database, embedded_url, open_database
from lineops.dataplane.db.tables import quarantine as table
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.quarantine import (
    QuarantineRepository,
    Rejected,
    where_clauses,
)

# The order of the tuples ``add_rows`` takes (the ingestion path builds them column-wise).
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
KIND: Final = "readings"


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


class ReadingQuarantine:
    def __init__(
        self,
        repository: QuarantineRepository,
        namespace_of: Callable[[str], str | None] = lambda _line: None,
        *,
        owned: Database | None = None,
    ) -> None:
        self._repository = repository
        self._namespace_of = namespace_of
        self._owned = owned

    @classmethod
    def embedded(
        cls, data_dir: Path, namespace_of: Callable[[str], str | None] = lambda _line: None
    ) -> ReadingQuarantine:
        """On its own SQLite database in ``data_dir`` (tools and tests without an app)."""
        db = open_database(embedded_url(data_dir))
        return cls(db.quarantine, namespace_of, owned=db)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()

    def _ref(self, line: str) -> LineRef:
        return LineRef(self._namespace_of(line) or "default", line)

    def add_rows(self, rows: Iterable[tuple[str | None, ...]]) -> None:
        """Tuples in ``COLUMNS`` order (the ingestion path builds them column-wise), in one
        transaction, durable on return."""
        batches: dict[tuple[str | None, ...], list[Rejected]] = {}
        for row in rows:
            item = dict(zip(COLUMNS, row, strict=True))
            key = (item["line"], item["source"], item["batch_id"], item["received_at"])
            reading = {k: item[k] for k in ("work_unit", "sensor", "timestamp", "value", "lot")}
            batches.setdefault(key, []).append(
                Rejected(item["reason"] or "", item["detail"] or "", reading)
            )
        if not batches:
            return
        with self._repository.engine.begin() as conn:
            for (line, source, batch_id, received_at), items in batches.items():
                self._repository.add(
                    self._ref(line or ""),
                    KIND,
                    items,
                    source=source or "",
                    batch_id=batch_id,
                    received_at=received_at,
                    conn=conn,
                )

    def counts_by_reason(self, line: str | None = None) -> dict[str, int]:
        """Quarantined readings per reason, for one line (by name) or all lines."""
        ref = None if line is None else self._ref(line)
        return self._repository.counts_by_reason(ref, kind=KIND)

    def total(self, line: str | None = None) -> int:
        return sum(self.counts_by_reason(line).values())

    def list(
        self, line: str, *, reason: str | None = None, limit: int = 100
    ) -> list[QuarantinedReading]:
        """The most recent quarantined readings of a line, newest first, as received."""
        c = table.c
        query = select(
            c.line,
            c.work_unit,
            c.sensor,
            c.timestamp,
            c.value,
            c.lot,
            c.reason,
            c.detail,
            c.source,
            c.batch_id,
            c.received_at,
        )
        for condition in where_clauses(self._ref(line), KIND, reason, include_released=False):
            query = query.where(condition)
        with self._repository.engine.connect() as conn:
            rows = conn.execute(query.order_by(c.id.desc()).limit(limit)).all()
        return [QuarantinedReading(*row) for row in rows]
