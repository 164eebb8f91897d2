"""The line monitor's per-shift OEE (ShiftTracker) against a real SQLite data-plane store:
the ended shifts are upserted (evaluating again, or with late records, never duplicates a
shift), planned maintenance comes from the equipment history and from the current plan's
maintenance windows (not its off-shift windows), and the current shift stops at the clock.

The reader is a stand-in for the data-plane client (LocalDataPlane needs the whole app with
its Feast stores); it serves the two methods the tracker calls from the real repository."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from lineops.api.productionline import ProductionLine
from lineops.dataplane.db.database import Database, open_database
from lineops.dataplane.db.tables import maintenance
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.shifts import PlannedMaintenance, ShiftRepository
from lineops.dataplane.shift_records import record_of
from lineops.mes.oee import CountRecord, MachineState, StateEvent
from lineops.mes.shifts import ShiftOee
from lineops.services.monitoring.shift_tracker import ShiftTracker

LINE = LineRef("plant-a", "press-line-1")
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "productionline.yaml"
H = 3600.0


class RepositoryReader:
    """Stand-in for the data-plane client: the tracker's two calls, on the real repository."""

    def __init__(self, db: Database) -> None:
        self.shifts = ShiftRepository(db.engine)
        self.saves = 0

    def planned_maintenance(
        self, line: LineRef, start: datetime, end: datetime
    ) -> list[PlannedMaintenance]:
        return self.shifts.planned_maintenance(line, start, end)

    def save_shifts(self, line: LineRef, results: Sequence[ShiftOee]) -> None:
        self.saves += 1
        self.shifts.upsert(line, [record_of(r, "2026-11-20T00:00:00+00:00") for r in results])


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'lineops.db'}")
    yield database
    database.close()


def utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=UTC)


# examples/productionline.yaml: Europe/Berlin (CET, UTC+1), early 06:00-14:00 local =
# 05:00-13:00 UTC, late 13:00-21:00 UTC; press-01 at 1.2 s per part.
STATES = [
    StateEvent(utc(4), "press-01", MachineState.RUNNING),
    StateEvent(utc(8), "press-01", MachineState.DOWN, "jam"),
    StateEvent(utc(9), "press-01", MachineState.RUNNING),
    StateEvent(utc(15), "press-01", MachineState.IDLE),
]
COUNTS = [CountRecord(utc(12), "press-01", 1_000, 990)]


def _tracker(db: Database) -> tuple[ShiftTracker, RepositoryReader]:
    spec = ProductionLine.model_validate(yaml.safe_load(EXAMPLE.read_text())).spec
    reader = RepositoryReader(db)
    return ShiftTracker(LINE, spec, reader), reader  # type: ignore[arg-type]


def test_ended_shifts_are_upserted_once_per_shift(db: Database) -> None:
    tracker, reader = _tracker(db)
    snap = tracker.evaluate(STATES, COUNTS, (4, 1), None)
    assert snap.previous is not None and snap.current is not None
    # Early (05:00-13:00): 8 h planned, down 08:00-09:00: A = 7 / 8.
    assert (snap.previous.shift.name, snap.previous.availability) == ("early", 7 / 8)
    # Late so far, 13:00-15:00 (the clock is the newest record, 15:00): running 2 h.
    assert (snap.current.shift.name, snap.current.planned_busy_time) == ("late", 2 * H)
    # Stored: the ended shifts since the first event (04:00, in the night shift ending 05:00).
    assert [(r.shift, r.run_seconds, r.total) for r in reader.shifts.between(LINE)] == [
        ("night", 1 * H, 0),
        ("early", 7 * H, 1_000),
    ]
    # Same records: nothing re-computed or re-written.
    assert tracker.evaluate(STATES, COUNTS, (4, 1), None) is snap and reader.saves == 1
    # A late count for the early shift: the row is replaced, not duplicated.
    late = [*COUNTS, CountRecord(utc(12, 30), "press-01", 100, 100)]
    tracker.evaluate(STATES, late, (4, 2), None)
    assert [(r.shift, r.total, r.good) for r in reader.shifts.between(LINE)] == [
        ("night", 0, 0),
        ("early", 1_100, 1_090),
    ]


def _maintenance(db: Database, *rows: tuple[str, str, str, str]) -> None:
    """Equipment-history records (key, kind, start, end) of press-01, as the data plane
    stores them."""
    with db.engine.begin() as conn:
        conn.execute(
            maintenance.insert(),
            [
                {
                    "namespace": LINE.namespace,
                    "line": LINE.name,
                    "maintenance": key,
                    "payload_hash": key,
                    "created_at": "2026-11-20T00:00:00Z",
                    "work_unit": "press-01",
                    "kind": kind,
                    "reason": "service",
                    "start": start,
                    "end": end,
                }
                for key, kind, start, end in rows
            ],
        )


def _plan(*blocked: dict[str, Any]) -> dict[str, Any]:
    return {"id": 1, "plan": {"blocked": list(blocked)}}


def test_planned_maintenance_from_history_and_plan_is_excluded(db: Database) -> None:
    tracker, _reader = _tracker(db)
    _maintenance(
        db,
        ("m1", "planned", "2026-11-20T06:00:00+01:00", "2026-11-20T07:00:00+01:00"),
        ("m2", "unplanned", "2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z"),
    )
    plan = _plan(
        {"workUnit": "press-01", "start": "2026-11-20T11:00:00Z", "end": "2026-11-20T12:00:00Z"},
        {
            "workUnit": "press-01",
            "start": "2026-11-20T13:00:00Z",
            "end": "2026-11-20T21:00:00Z",
            "reason": "off shift",
        },
    )
    snap = tracker.evaluate(STATES, COUNTS, (4, 1), plan)
    early = snap.previous
    assert early is not None
    # 8 h - 1 h planned maintenance (05:00-06:00 UTC, history) - 1 h (11:00-12:00, plan) = 6 h;
    # the unplanned record stays in planned time; down 08:00-09:00: run 5 h.
    assert (early.planned_busy_time, early.maintenance_time, early.run_time) == (
        6 * H,
        2 * H,
        5 * H,
    )
    # The plan's off-shift window is not maintenance: the late shift so far is all planned.
    assert snap.current is not None and snap.current.planned_busy_time == 2 * H


def test_a_shift_recomputed_keeps_maintenance_before_the_recompute_window(db: Database) -> None:
    # Early shift 05:00-13:00 UTC on the 20th with planned maintenance 05:00-05:30. A record a
    # day later puts the recompute window's start at 06:00 on the 20th, inside that shift: the
    # shift is computed whole, so its maintenance must be too (it was fetched from 06:00 on,
    # and the stored row lost its half hour of maintenance).
    tracker, reader = _tracker(db)
    _maintenance(db, ("m1", "planned", "2026-11-20T05:00:00Z", "2026-11-20T05:30:00Z"))
    states = [
        StateEvent(utc(4), "press-01", MachineState.RUNNING),
        StateEvent(utc(5), "press-01", MachineState.IDLE),
        StateEvent(utc(5, 30), "press-01", MachineState.RUNNING),
    ]
    counts = [CountRecord(utc(14), "press-01", 1, 1)]

    def early() -> tuple[float, float]:
        row = next(r for r in reader.shifts.between(LINE) if r.shift == "early")
        return row.planned_busy_seconds, row.maintenance_seconds

    tracker.evaluate(states, counts, (3, 1), None)
    assert early() == (7.5 * H, 0.5 * H)
    next_day = CountRecord(datetime(2026, 11, 21, 6, tzinfo=UTC), "press-01", 1, 1)
    tracker.evaluate(states, [*counts, next_day], (3, 2), None)
    assert early() == (7.5 * H, 0.5 * H)
