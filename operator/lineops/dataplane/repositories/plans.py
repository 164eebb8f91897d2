"""Production plans per line: appended whole, read newest last (the current plan is the
last one), paged by ``after``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Engine, insert, select

from lineops.dataplane.db.tables import plans
from lineops.dataplane.lines import LineRef


@dataclass(frozen=True, slots=True)
class StoredPlan:
    created_at: str  # when the data plane stored it (UTC, ISO 8601)
    method: str
    status: str
    start: str
    end: str
    weighted_tardiness: int
    late_orders: int
    document: str  # the plan as posted, JSON


class PlanRepository:
    """Append and read a line's plans; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, line: LineRef, plan: StoredPlan) -> int:
        values = {**asdict(plan), "namespace": line.namespace, "line": line.name}
        with self.engine.begin() as conn:
            key = conn.execute(insert(plans).values(values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def list(
        self, line: LineRef, *, after_id: int = 0, limit: int | None = None, latest: bool = False
    ) -> list[tuple[int, StoredPlan]]:
        """Plans in the order they were stored after ``after_id``; ``latest``: the newest only."""
        t = plans.c
        query = select(
            t.id,
            t.created_at,
            t.method,
            t.status,
            t.start,
            t.end,
            t.weighted_tardiness,
            t.late_orders,
            t.document,
        ).where(t.namespace == line.namespace, t.line == line.name, t.id > after_id)
        query = (
            query.order_by(t.id.desc()).limit(1) if latest else query.order_by(t.id).limit(limit)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(int(r[0]), StoredPlan(*r[1:])) for r in rows]
