"""MES records per line: quality measurements, machine states, production counts.

SQLite in the embedded profile, PostgreSQL in the cluster profile (SQLAlchemy Core; the
schema comes from the Alembic migrations). Rows are only appended; every read is ordered by
arrival (``id``), which is the order in which subgroups are formed and charts are plotted,
so a replay gives the same charts. A batch is one transaction: all of it or none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Table, and_, delete, func, insert, select

from lineops.dataplane.db.tables import machine_events, measurements, production_counts
from lineops.dataplane.lines import LineRef


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


class MesRepository:
    """Append and read a line's MES records; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # The record fields are named as the table's columns: a record is its row.
    def add_measurements(
        self, line: LineRef, rows: Sequence[Measurement], conn: Connection | None = None
    ) -> None:
        self._insert(measurements, [asdict(m) for m in rows], line, conn)

    def add_events(
        self, line: LineRef, rows: Iterable[MachineEvent], conn: Connection | None = None
    ) -> None:
        self._insert(machine_events, [asdict(e) for e in rows], line, conn)

    def add_counts(
        self, line: LineRef, rows: Iterable[ProductionCount], conn: Connection | None = None
    ) -> None:
        self._insert(production_counts, [asdict(c) for c in rows], line, conn)

    def _insert(
        self, table: Table, rows: list[dict[str, object]], line: LineRef, conn: Connection | None
    ) -> None:
        if not rows:
            return
        for row in rows:
            row["namespace"], row["line"] = line.namespace, line.name
        if conn is not None:  # part of the caller's transaction (a quarantine release)
            conn.execute(insert(table), rows)
            return
        # executemany in one transaction: one round trip per batch on PostgreSQL
        # (insertmanyvalues), one fsync on SQLite.
        with self.engine.begin() as own:
            own.execute(insert(table), rows)

    def add(
        self, kind: str, line: LineRef, rows: Sequence[object], conn: Connection | None = None
    ) -> None:
        """Append records of a kind (``measurements``, ``events``, ``counts``)."""
        if kind == "measurements":
            self.add_measurements(line, rows, conn)  # type: ignore[arg-type]
        elif kind == "events":
            self.add_events(line, rows, conn)  # type: ignore[arg-type]
        elif kind == "counts":
            self.add_counts(line, rows, conn)  # type: ignore[arg-type]
        else:
            raise ValueError(f"kind: {kind!r} is not measurements, events or counts")

    def measurements(
        self, line: LineRef, characteristic: str, after_id: int = 0, limit: int | None = None
    ) -> list[tuple[int, Measurement]]:
        """Measurements in arrival order, only those stored after ``after_id`` (at most
        ``limit``: a page)."""
        t = measurements.c
        query = (
            select(t.id, t.characteristic, t.timestamp, t.value, t.sample_size, t.lot)
            .where(_of(measurements, line), t.characteristic == characteristic, t.id > after_id)
            .order_by(t.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), Measurement(*r[1:])) for r in conn.execute(query)]

    def records_version(self, line: LineRef) -> tuple[int, int, int]:
        """Newest measurement, event and count row ids: unchanged means the line's MES
        records are unchanged (rows are only added; a removed line's go with it)."""
        with self.engine.connect() as conn:
            newest = [
                conn.execute(
                    select(func.coalesce(func.max(table.c.id), 0)).where(_of(table, line))
                ).scalar_one()
                for table in (measurements, machine_events, production_counts)
            ]
        return int(newest[0]), int(newest[1]), int(newest[2])

    def oee_version(self, line: LineRef) -> tuple[int, int]:
        """Newest event and count row ids: unchanged means the OEE inputs are unchanged."""
        with self.engine.connect() as conn:
            events = conn.execute(
                select(func.coalesce(func.max(machine_events.c.id), 0)).where(
                    _of(machine_events, line)
                )
            ).scalar_one()
            counts = conn.execute(
                select(func.coalesce(func.max(production_counts.c.id), 0)).where(
                    _of(production_counts, line)
                )
            ).scalar_one()
        return int(events), int(counts)

    def events(self, line: LineRef, since: str | None = None) -> list[MachineEvent]:
        """By time. ``since`` (UTC text, as stored): the events from then on, and each work
        unit's last event before it, the state it was in then. The monitors judge the last
        days; reading a year of events on every new record was the whole log each time."""
        t = machine_events.c
        # Of two events at one instant, the later posted holds: by time, then row id.
        query = (
            select(t.work_unit, t.timestamp, t.state, t.reason)
            .where(_of(machine_events, line))
            .order_by(t.timestamp, t.id)
        )
        with self.engine.connect() as conn:
            if since is None:
                return [MachineEvent(*r) for r in conn.execute(query)]
            before = (
                select(t.work_unit, func.max(t.timestamp).label("at"))
                .where(_of(machine_events, line), t.timestamp < since)
                .group_by(t.work_unit)
                .subquery()
            )
            on = and_(t.work_unit == before.c.work_unit, t.timestamp == before.c.at)
            # All before ``since``: they come first, each part in order already.
            in_force = conn.execute(query.join(before, on))
            after = conn.execute(query.where(t.timestamp >= since))
            return [MachineEvent(*r) for r in (*in_force, *after)]

    def counts(self, line: LineRef, since: str | None = None) -> list[ProductionCount]:
        """By time; ``since`` (UTC text): from then on."""
        t = production_counts.c
        query = (
            select(t.work_unit, t.timestamp, t.total, t.good)
            .where(_of(production_counts, line))
            .order_by(t.timestamp, t.id)
        )
        if since is not None:
            query = query.where(t.timestamp >= since)
        with self.engine.connect() as conn:
            return [ProductionCount(r[0], r[1], int(r[2]), int(r[3])) for r in conn.execute(query)]

    def newest(self, line: LineRef) -> str | None:
        """The newest event or count time (UTC text), None without either."""
        with self.engine.connect() as conn:
            found = [
                conn.execute(
                    select(func.max(table.c.timestamp)).where(_of(table, line))
                ).scalar_one()
                for table in (machine_events, production_counts)
            ]
        return max((f for f in found if f is not None), default=None)

    def delete_line(self, line: LineRef) -> None:
        with self.engine.begin() as conn:
            for table in (measurements, machine_events, production_counts):
                conn.execute(delete(table).where(_of(table, line)))


def _of(table: Table, line: LineRef) -> ColumnElement[bool]:
    return and_(table.c.namespace == line.namespace, table.c.line == line.name)
