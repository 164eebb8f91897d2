"""The readings' side of the one quarantine: what the ingestion path could not use.

Quarantined readings go to the same ``quarantine`` table as MES records (kind
``readings``), in the data plane's database, with the raw value as text (historian junk such
as ``"Bad"`` survives) and the reading as JSON. The ingestion path knows lines by name; the
namespace comes from the line's configuration (``namespace_of``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import func, insert, select

from lineops.dataplane.db.database import Database, embedded_url, open_database
from lineops.dataplane.db.tables import quarantine as table
from lineops.dataplane.repositories.quarantine import QuarantineRepository, safe_text

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

    def add_rows(self, rows: Iterable[tuple[str | None, ...]]) -> None:
        """Tuples in ``COLUMNS`` order, in one transaction, durable on return."""
        records = []
        for row in rows:
            item = dict(zip(COLUMNS, row, strict=True))
            line = item.pop("line") or ""
            reading = {k: item[k] for k in ("work_unit", "sensor", "timestamp", "value", "lot")}
            records.append(
                {
                    **{k: safe_text(v) for k, v in item.items()},
                    "namespace": self._namespace_of(line) or "default",
                    "line": line,
                    "kind": KIND,
                    "record": json.dumps(reading, ensure_ascii=True),
                }
            )
        if records:
            with self._repository.engine.begin() as conn:
                conn.execute(insert(table), records)

    def counts_by_reason(self, line: str | None = None) -> dict[str, int]:
        """Quarantined readings per reason, for one line (by name) or all lines."""
        c = table.c
        query = select(c.reason, func.count()).where(c.kind == KIND).group_by(c.reason)
        if line is not None:
            query = query.where(c.line == line)
        with self._repository.engine.connect() as conn:
            return {str(reason): int(n) for reason, n in conn.execute(query)}

    def total(self, line: str | None = None) -> int:
        return sum(self.counts_by_reason(line).values())

    def list(
        self, line: str, *, reason: str | None = None, limit: int = 100
    ) -> list[QuarantinedReading]:
        """The most recent quarantined readings of a line, newest first."""
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
        ).where(c.kind == KIND, c.line == line)
        if reason is not None:
            query = query.where(c.reason == reason)
        with self._repository.engine.connect() as conn:
            rows = conn.execute(query.order_by(c.id.desc()).limit(limit)).all()
        return [QuarantinedReading(*row) for row in rows]
