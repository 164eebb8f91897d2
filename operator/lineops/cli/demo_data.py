"""What the demo sends to its line: real textbook measurements, a constructed process shift,
and one shift of machine states and counts. Kept apart from the orchestration in demo_cmd."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lineops.mes.textbook import piston_rings_table

DAY = datetime(2026, 11, 20, tzinfo=UTC)
SHIFT_SIZE = 0.02  # mm: the constructed Phase II shift of the ring diameter's mean


def _stamp(minutes: float) -> str:
    return (DAY + timedelta(hours=6, minutes=minutes)).isoformat().replace("+00:00", "Z")


def ring_measurements(
    shifted_subgroups: int = 10,
) -> tuple[list[dict[str, Any]], list[list[float]]]:
    """Montgomery's 25 piston-ring subgroups (Phase I, in control), then the first
    ``shifted_subgroups`` of them again with the mean moved by +0.02 mm (Phase II)."""
    table = piston_rings_table()
    rows = table + [[round(v + SHIFT_SIZE, 3) for v in row] for row in table[:shifted_subgroups]]
    records = [
        {
            "characteristic": "ring_diameter",
            "value": value,
            "timestamp": _stamp(i * 5 + j),
            "lot": f"LOT-{i // 5:03d}",
        }
        for i, row in enumerate(rows)
        for j, value in enumerate(row)
    ]
    return records, rows


def shift_events() -> list[dict[str, Any]]:
    """06:00-14:00 on four work units, with a die change on the press and a wheel dressing
    on the grinder (the availability losses of the OEE waterfall)."""
    out = []
    for unit, stops in {
        "press-01": [(180, 30, "die-change")],
        "furnace-01": [],
        "grinder-01": [(95, 20, "wheel-dressing"), (300, 12, "coolant-alarm")],
        "gauge-01": [],
    }.items():
        out.append({"workUnit": unit, "timestamp": _stamp(0), "state": "running"})
        for start, length, reason in stops:
            out.append(
                {"workUnit": unit, "timestamp": _stamp(start), "state": "down", "reason": reason}
            )
            out.append({"workUnit": unit, "timestamp": _stamp(start + length), "state": "running"})
        out.append({"workUnit": unit, "timestamp": _stamp(480), "state": "planned-stop"})
    return out


def shift_counts() -> list[dict[str, Any]]:
    totals = {
        "press-01": (20500, 20210),
        "furnace-01": (18200, 18150),
        "grinder-01": (10400, 10090),
        "gauge-01": (24000, 23870),
    }
    return [
        {"workUnit": unit, "timestamp": _stamp(470), "total": total, "good": good}
        for unit, (total, good) in totals.items()
    ]
