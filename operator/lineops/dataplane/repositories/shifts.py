"""OEE per planned shift of a line: one row per shift occurrence, upserted (the line monitor
re-computes a shift when late records arrive: the same shift start replaces its row), read
by time range. Also the planned maintenance the computation excludes, from the equipment
history (the ``maintenance`` table of #22 item 3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from lineops.dataplane.db.tables import maintenance, shift_oee
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories import IN_LIST_SIZE

PLANNED = "planned"


def utc_text(moment: datetime) -> str:
    """The one text form of an instant in this table: UTC, ISO 8601, so rows compare as text."""
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class ShiftRecord:
    shift: str
    shift_start: str  # utc_text
    shift_end: str
    planned_busy_seconds: float
    run_seconds: float
    maintenance_seconds: float
    total: int
    good: int
    availability: float | None
    performance: float | None
    quality: float | None
    oee: float | None
    computed_at: str


@dataclass(frozen=True, slots=True)
class PlannedMaintenance:
    work_unit: str
    start: datetime
    end: datetime | None  # still open
    reason: str


_COLUMNS = [c for c in shift_oee.c if c.name not in ("id", "namespace", "line")]


class ShiftRepository:
    """Upsert and read a line's shift history; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(self, line: LineRef, records: Sequence[ShiftRecord]) -> None:
        """Insert or replace by shift start, all in one transaction; stored shifts that an
        incoming one overlaps (an earlier layout of the schedule) are replaced too."""
        if not records:
            return
        rows = [{**asdict(r), "namespace": line.namespace, "line": line.name} for r in records]
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(shift_oee)
        statement = statement.on_conflict_do_update(
            index_elements=["namespace", "line", "shift_start"],
            set_={c.name: statement.excluded[c.name] for c in _COLUMNS},
        )
        t = shift_oee.c
        of_line = (t.namespace == line.namespace, t.line == line.name)
        with self.engine.begin() as conn:
            # A schedule change moves the shifts' starts: the rows of the old layout that
            # the new records overlap go, or the history counted those hours twice. One read
            # of the span and one delete (a statement per record made a history import of
            # thousands of shifts as many round trips).
            stored = conn.execute(
                select(t.shift_start, t.shift_end).where(
                    *of_line,
                    t.shift_start < max(r.shift_end for r in records),
                    t.shift_end > min(r.shift_start for r in records),
                )
            ).all()
            starts = {r.shift_start for r in records}
            replaced = [
                start
                for start, end in stored
                if start not in starts
                and any(start < r.shift_end and end > r.shift_start for r in records)
            ]
            for piece in range(0, len(replaced), IN_LIST_SIZE):
                conn.execute(
                    delete(shift_oee).where(
                        *of_line, t.shift_start.in_(replaced[piece : piece + IN_LIST_SIZE])
                    )
                )
            conn.execute(statement, rows)

    def between(
        self, line: LineRef, start: datetime | None = None, end: datetime | None = None
    ) -> list[ShiftRecord]:
        """Shifts overlapping [start, end), by shift start."""
        t = shift_oee.c
        query = select(*_COLUMNS).where(t.namespace == line.namespace, t.line == line.name)
        if start is not None:
            query = query.where(t.shift_end > utc_text(start))
        if end is not None:
            query = query.where(t.shift_start < utc_text(end))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.shift_start)).all()
        return [ShiftRecord(*row) for row in rows]

    def planned_maintenance(
        self, line: LineRef, start: datetime | None = None, end: datetime | None = None
    ) -> list[PlannedMaintenance]:
        """Planned maintenance records overlapping [start, end) (None: unbounded); an open
        one (no end yet) runs on. Filtered after parsing: the records' times may carry any
        UTC offset, so their text does not sort."""
        t = maintenance.c
        query = select(t.work_unit, t.start, t.end, t.reason).where(
            t.namespace == line.namespace, t.line == line.name, t.kind == PLANNED
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = []
        for work_unit, begin_text, end_text, reason in rows:
            begin = _instant(begin_text)
            finish = None if end_text is None else _instant(end_text)
            if (end is None or begin < end) and (start is None or finish is None or finish > start):
                found.append(PlannedMaintenance(work_unit, begin, finish, reason))
        return sorted(found, key=lambda m: (m.start, m.work_unit))


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # Records are validated as aware on the way in; a naive one is read as UTC, not dropped.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
