"""Which lots: judged by a model, produced in a time window, produced on a work unit between
two maintenance records; and the maintenance that preceded a lot on its work unit.

Times are compared as text: every time the data plane stores is normalised to UTC ISO 8601
(``datetime.isoformat()`` of an aware UTC datetime), and such strings sort in time order
(``+`` sorts before ``.``, so a whole second sorts before its fractions). Bounds given by a
caller are normalised the same way (:func:`utc_text`) before they reach a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from lineops.dataplane.db.tables import lots, maintenance, predictions
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories import IN_LIST_SIZE
from lineops.dataplane.repositories.genealogy import LOT_COLUMNS, LotInfo, UnknownLot


def utc_text(value: str, field: str) -> str:
    """An ISO 8601 time (``Z`` or an offset; none means UTC) as the store writes times."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"{field}: {value!r} falls outside years 1..9999 in UTC") from None


@dataclass(frozen=True, slots=True)
class JudgedLot:
    lot: str
    predictions: int
    first: str
    last: str
    info: LotInfo | None  # None: the prediction names a lot the lots table does not hold


@dataclass(frozen=True, slots=True)
class MaintenanceRecord:
    maintenance: str
    work_unit: str
    kind: str  # planned | unplanned
    reason: str
    start: str
    end: str | None


MAINTENANCE_COLUMNS = (
    maintenance.c.maintenance,
    maintenance.c.work_unit,
    maintenance.c.kind,
    maintenance.c.reason,
    maintenance.c.start,
    maintenance.c.end,
)


def _info(row: Sequence[Any]) -> LotInfo:
    return LotInfo(*tuple(row))


def _record(row: Sequence[Any]) -> MaintenanceRecord:
    return MaintenanceRecord(*tuple(row))


class LotLinksRepository:
    """Read-only; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _lots_where(self, line: LineRef, *conditions: Any) -> list[LotInfo]:
        query = (
            select(*LOT_COLUMNS)
            .where(lots.c.namespace == line.namespace, lots.c.line == line.name, *conditions)
            .order_by(lots.c.started_at, lots.c.lot)
        )
        with self.engine.connect() as conn:
            return [_info(r) for r in conn.execute(query)]

    def lot(self, line: LineRef, name: str) -> LotInfo:
        found = self._lots_where(line, lots.c.lot == name)
        if not found:
            raise UnknownLot("path.lot", f"lot {name!r} is not recorded on line {line}")
        return found[0]

    def judged_by(self, line: LineRef, model_tag: str) -> list[JudgedLot]:
        """Lots a model (tag) answered for, from the prediction log, first judged first."""
        p = predictions.c
        query = (
            select(p.lot, func.count(), func.min(p.timestamp), func.max(p.timestamp))
            .where(
                p.namespace == line.namespace,
                p.line == line.name,
                p.model_tag == model_tag,
                p.lot.is_not(None),
            )
            .group_by(p.lot)
            .order_by(func.min(p.timestamp), p.lot)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        names = [str(r[0]) for r in rows]
        infos = {
            i.lot: i
            for start in range(0, len(names), IN_LIST_SIZE)
            for i in self._lots_where(line, lots.c.lot.in_(names[start : start + IN_LIST_SIZE]))
        }
        return [
            JudgedLot(str(r[0]), int(r[1]), str(r[2]), str(r[3]), infos.get(str(r[0])))
            for r in rows
        ]

    def produced_during(
        self, line: LineRef, start: str, end: str, work_unit: str | None = None
    ) -> list[LotInfo]:
        """Production lots whose run ``[started_at, ended_at]`` overlaps ``[start, end)``;
        a lot still open (no end) runs until now. ``start``/``end``: :func:`utc_text`."""
        c = lots.c
        conditions = [
            c.kind == "production",
            c.started_at < end,
            or_(c.ended_at.is_(None), c.ended_at >= start),
        ]
        if work_unit is not None:
            conditions.append(c.work_unit == work_unit)
        return self._lots_where(line, *conditions)

    def maintenance_record(self, line: LineRef, name: str, field: str) -> MaintenanceRecord:
        m = maintenance.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*MAINTENANCE_COLUMNS).where(
                    m.namespace == line.namespace, m.line == line.name, m.maintenance == name
                )
            ).first()
        if row is None:
            raise UnknownLot(field, f"maintenance record {name!r} is not recorded on line {line}")
        return _record(row)

    def preceding_maintenance(self, line: LineRef, lot: LotInfo) -> list[MaintenanceRecord]:
        """The last planned and the last unplanned maintenance that started on the lot's work
        unit before the lot started (none for material lots, or before any record)."""
        if lot.work_unit is None or lot.started_at is None:
            return []
        m = maintenance.c
        out = []
        with self.engine.connect() as conn:
            for kind in ("planned", "unplanned"):
                row = conn.execute(
                    select(*MAINTENANCE_COLUMNS)
                    .where(
                        m.namespace == line.namespace,
                        m.line == line.name,
                        m.work_unit == lot.work_unit,
                        m.kind == kind,
                        m.start <= lot.started_at,
                    )
                    .order_by(m.start.desc(), m.maintenance.desc())
                    .limit(1)
                ).first()
                if row is not None:
                    out.append(_record(row))
        return sorted(out, key=lambda r: r.start)

    def between_maintenance(
        self, line: LineRef, first: str, second: str | None
    ) -> tuple[MaintenanceRecord, MaintenanceRecord | None, list[LotInfo]]:
        """What was produced on a work unit after one maintenance record (from its end, or
        its start while it has none) and before the next (``second``, else the unit's next
        record of any kind; none yet: until now)."""
        after = self.maintenance_record(line, first, "query.afterMaintenance")
        m = maintenance.c
        if second is not None:
            until: MaintenanceRecord | None = self.maintenance_record(
                line, second, "query.beforeMaintenance"
            )
            assert until is not None
            if until.work_unit != after.work_unit:
                raise ValueError(
                    f"beforeMaintenance: {second!r} is on work unit {until.work_unit!r}, "
                    f"{first!r} on {after.work_unit!r}"
                )
            if until.start < after.start:
                raise ValueError(f"beforeMaintenance: {second!r} started before {first!r}")
        else:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(*MAINTENANCE_COLUMNS)
                    .where(
                        m.namespace == line.namespace,
                        m.line == line.name,
                        m.work_unit == after.work_unit,
                        or_(
                            m.start > after.start,
                            and_(m.start == after.start, m.maintenance > after.maintenance),
                        ),
                    )
                    .order_by(m.start, m.maintenance)
                    .limit(1)
                ).first()
            until = None if row is None else _record(row)
        c = lots.c
        conditions = [
            c.kind == "production",
            c.work_unit == after.work_unit,
            c.started_at >= (after.end or after.start),
        ]
        if until is not None:
            conditions.append(c.started_at < until.start)
        return after, until, self._lots_where(line, *conditions)
