"""What a line's status says about its current production plan (the newest one stored in
the data plane): how many orders, how many late, and the next maintenance window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lineops.planning.calendar import OFF_SHIFT


@dataclass(frozen=True)
class Window:
    work_unit: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class PlanSummary:
    plan_id: int
    created_at: str
    method: str
    orders: int
    orders_late: int
    weighted_tardiness: int
    end: str
    next_maintenance: Window | None


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def summarise_plan(stored: dict[str, Any], now: datetime) -> PlanSummary:
    """``stored`` as GET …/plans answers a record; ``now`` decides which window is next:
    the first maintenance window (by start) that has not ended yet; off-shift windows
    are not maintenance."""
    document = stored.get("plan") or {}
    windows = sorted(
        (
            Window(
                str(b["workUnit"]), _time(b["start"]), _time(b["end"]), str(b.get("reason") or "")
            )
            for b in document.get("blocked") or []
            # the line's off-shift hours are blocked too, but they are not maintenance
            if b.get("reason") != OFF_SHIFT
        ),
        key=lambda w: (w.start, w.work_unit),
    )
    upcoming = next((w for w in windows if w.end > now), None)
    return PlanSummary(
        plan_id=int(stored["id"]),
        created_at=str(stored["createdAt"]),
        method=str(stored.get("method", "")),
        # The orders of the schedule, and the count the data plane stored from tardiness
        # (not the plan's own list, taken as sent).
        orders=len({str(row.get("order")) for row in document.get("schedule") or []}),
        orders_late=int(stored.get("lateOrders") or 0),
        weighted_tardiness=int(stored.get("weightedTardiness") or 0),
        # RFC 3339 whatever ISO 8601 form a plan stored before normalising carries.
        end=_time(str(stored["end"])).isoformat() if stored.get("end") else "",
        next_maintenance=upcoming,
    )
