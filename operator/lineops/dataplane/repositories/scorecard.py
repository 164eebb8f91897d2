"""The supplier scorecard, from the genealogy.

Per supplier: lots received; the production lots made (directly or further down) from
them, and the share of those that failed an inspection (a ``quality_results`` row with
outcome ``fail``) or fell in a recall (reached by the forward trace of a recalled supplier
lot, of any supplier: a lot made from two suppliers' material counts against both when
either is recalled, as it would be pulled back); and receipts against their expected
dates (on time: received at or before ``expected_at``; lateness: hours after it, averaged
over the late receipts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Select, select

from lineops.dataplane.db.tables import consumptions, lots, quality_results, recalls
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.genealogy import walk_query


@dataclass(frozen=True, slots=True)
class SupplierScore:
    supplier: str
    lots_received: int
    downstream_lots: int
    failed_inspection: int  # downstream lots with a failed inspection
    recalled: int  # downstream lots in a recall's forward trace
    affected: int  # failed or recalled (each lot once)
    on_time: int
    late: int
    without_expected_date: int
    mean_lateness_hours: float | None  # over the late receipts

    @property
    def affected_share(self) -> float | None:
        return None if self.downstream_lots == 0 else self.affected / self.downstream_lots

    @property
    def on_time_share(self) -> float | None:
        dated = self.on_time + self.late
        return None if dated == 0 else self.on_time / dated


def _hours_late(received: str, expected: str) -> float:
    delta = datetime.fromisoformat(received) - datetime.fromisoformat(expected)
    return delta.total_seconds() / 3600.0


class ScorecardRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _downstream(self, line: LineRef, starts: Select[tuple[str]]) -> set[str]:
        walk = walk_query(line, "forward", starts, None).subquery()
        c = consumptions.c
        query = (
            select(c.output_lot).join(walk, walk.c.edge == c.id).where(c.output_lot.is_not(None))
        )
        with self.engine.connect() as conn:
            return {str(r[0]) for r in conn.execute(query)}

    def scorecard(self, line: LineRef) -> list[SupplierScore]:
        of_line = (lots.c.namespace == line.namespace, lots.c.line == line.name)
        with self.engine.connect() as conn:
            receipts = conn.execute(
                select(lots.c.supplier, lots.c.received_at, lots.c.expected_at)
                .where(*of_line, lots.c.kind == "material", lots.c.supplier.is_not(None))
                .order_by(lots.c.supplier)
            ).all()
            q = quality_results.c
            failed = {
                str(r[0])
                for r in conn.execute(
                    select(q.lot).where(
                        q.namespace == line.namespace, q.line == line.name, q.outcome == "fail"
                    )
                )
            }
            recalled_lots = [
                str(r[0])
                for r in conn.execute(
                    select(recalls.c.supplier_lot)
                    .where(recalls.c.namespace == line.namespace, recalls.c.line == line.name)
                    .distinct()
                )
            ]
        recalled: set[str] = set()
        if recalled_lots:
            recalled = self._downstream(
                line, select(lots.c.lot).where(*of_line, lots.c.supplier_lot.in_(recalled_lots))
            )
        out = []
        for supplier in sorted({str(r[0]) for r in receipts}):
            mine = [r for r in receipts if r[0] == supplier]
            downstream = self._downstream(
                line, select(lots.c.lot).where(*of_line, lots.c.supplier == supplier)
            )
            lateness = [
                _hours_late(str(r[1]), str(r[2]))
                for r in mine
                if r[1] is not None and r[2] is not None
            ]
            late = [h for h in lateness if h > 0]
            out.append(
                SupplierScore(
                    supplier=supplier,
                    lots_received=len(mine),
                    downstream_lots=len(downstream),
                    failed_inspection=len(downstream & failed),
                    recalled=len(downstream & recalled),
                    affected=len(downstream & (failed | recalled)),
                    on_time=len(lateness) - len(late),
                    late=len(late),
                    without_expected_date=len(mine) - len(lateness),
                    mean_lateness_hours=sum(late) / len(late) if late else None,
                )
            )
        return out
