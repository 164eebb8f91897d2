"""The per-shift OEE history of the data plane (ShiftRepository), on SQLite and on a real
PostgreSQL 15 (``db_url`` runs every test on both): rows are upserted by shift start (a
re-computation replaces, never duplicates), read by time range per line, and the planned
maintenance the computation excludes is read from the equipment history."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from lineops.dataplane.db.database import open_database
from lineops.dataplane.db.tables import maintenance
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.shifts import ShiftRecord, ShiftRepository, utc_text

A = LineRef("plant-a", "press-line-1")
B = LineRef("plant-b", "press-line-1")  # same name, other namespace: a different line


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def _record(name: str, start: datetime, end: datetime, run: float) -> ShiftRecord:
    busy = (end - start).total_seconds()
    return ShiftRecord(
        shift=name,
        shift_start=utc_text(start),
        shift_end=utc_text(end),
        planned_busy_seconds=busy,
        run_seconds=run,
        maintenance_seconds=0.0,
        total=100,
        good=99,
        availability=run / busy,
        performance=None,
        quality=0.99,
        oee=None,
        computed_at="2026-10-26T00:00:00+00:00",
    )


def test_shift_history_upserts_by_shift_start_and_reads_by_range(db_url: str) -> None:
    db = open_database(db_url)
    try:
        shifts = ShiftRepository(db.engine)
        night = _record("night", _at(24, 20), _at(25, 5), 30_000.0)  # the 9-hour DST night
        early = _record("early", _at(25, 5), _at(25, 13), 28_000.0)
        shifts.upsert(A, [night, early])
        shifts.upsert(B, [replace(early, run_seconds=1.0)])
        assert shifts.between(A) == [night, early]
        # Late records re-compute the night: the same shift start replaces the row.
        fixed = replace(night, run_seconds=31_000.0, availability=31_000.0 / 32_400.0)
        shifts.upsert(A, [fixed])
        assert shifts.between(A) == [fixed, early]
        # Overlapping [start, end): the night ends at 05:00, so a range from 05:00 misses it.
        assert shifts.between(A, _at(25, 5), _at(26, 0)) == [early]
        assert shifts.between(A, _at(24, 0), _at(24, 21)) == [fixed]
        assert shifts.between(A, _at(26, 0)) == []
        assert [r.run_seconds for r in shifts.between(B)] == [1.0]
    finally:
        db.close()


def test_planned_maintenance_is_read_from_the_equipment_history(db_url: str) -> None:
    db = open_database(db_url)
    try:
        rows = [
            ("m1", "press", "planned", "2026-10-25T07:00:00+01:00", "2026-10-25T09:00:00+01:00"),
            ("m2", "press", "unplanned", "2026-10-25T07:00:00+01:00", "2026-10-25T08:00:00+01:00"),
            ("m3", "welder", "planned", "2026-10-25T12:00:00Z", None),  # still open
            ("m4", "welder", "planned", "2026-10-20T12:00:00Z", "2026-10-20T13:00:00Z"),
        ]
        with db.engine.begin() as conn:
            conn.execute(
                maintenance.insert(),
                [
                    {
                        "namespace": A.namespace,
                        "line": A.name,
                        "maintenance": key,
                        "payload_hash": key,
                        "created_at": "2026-10-26T00:00:00Z",
                        "work_unit": unit,
                        "kind": kind,
                        "reason": "service",
                        "start": start,
                        "end": end,
                    }
                    for key, unit, kind, start, end in rows
                ],
            )
        found = ShiftRepository(db.engine).planned_maintenance(A, _at(25, 0), _at(26, 0))
        assert [(m.work_unit, m.start, m.end) for m in found] == [
            ("press", _at(25, 6), _at(25, 8)),
            ("welder", _at(25, 12), None),
        ]
        assert ShiftRepository(db.engine).planned_maintenance(B, _at(25, 0), _at(26, 0)) == []
    finally:
        db.close()
