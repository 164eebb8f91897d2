"""OEE over records in one ZoneInfo, and parts made before their unit's first state event.

Aware datetimes that share one tzinfo compare by wall clock in Python, ignoring ``fold``:
events of the repeated autumn hour were ordered, and counts windowed, by clock time. Parts
stamped before their unit's first event were made in time nobody knows the state of; they
inflated performance above 1 (the shift OEE even took counts of a unit with no events)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from lineops.mes.errors import MesInputError
from lineops.mes.oee import (
    DEFAULT_LINE,
    CountRecord,
    MachineState,
    StateEvent,
    oee_from_events,
    recent_window,
    shift_window,
)
from lineops.mes.shifts import shifts_oee

BERLIN = ZoneInfo("Europe/Berlin")
H = 3600.0


def test_the_repeated_autumn_hour_is_ordered_by_instant() -> None:
    night = shift_window(date(2026, 10, 24), time(22), time(6), BERLIN)  # 9 real hours
    events = [
        StateEvent(datetime(2026, 10, 24, 22, tzinfo=BERLIN), "m", MachineState.RUNNING),
        # 02:50 CEST (00:50 UTC), then 02:10 CET (01:10 UTC): 20 minutes down.
        StateEvent(datetime(2026, 10, 25, 2, 50, tzinfo=BERLIN), "m", MachineState.DOWN, "jam"),
        StateEvent(datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=1), "m", MachineState.RUNNING),
    ]
    # 02:15 CET is 01:15 UTC: after a window ending 02:45 CEST (00:45 UTC).
    count = CountRecord(datetime(2026, 10, 25, 2, 15, tzinfo=BERLIN, fold=1), "m", 10, 10)
    unit = oee_from_events(events, [], window=night, ideal_cycle_time=60.0).work_units["m"]
    assert unit.planned_production_time == 9 * H
    assert (unit.run_time, unit.down_time, unit.failures) == (9 * H - 20 * 60, 20 * 60, 1)
    early = (night[0], datetime(2026, 10, 25, 2, 45, tzinfo=BERLIN))
    report = oee_from_events(events[:1], [count], window=early, ideal_cycle_time=60.0)
    assert report.counts_outside == 1 and report.work_units["m"].total_count == 0
    window = recent_window(events, [count])
    assert window is not None and window[1] == count.timestamp  # the newest instant


def _at(hours: float) -> datetime:
    return datetime(2026, 5, 4, tzinfo=UTC) + timedelta(hours=hours)


def test_parts_before_the_units_first_event_are_not_counted() -> None:
    events = [
        StateEvent(_at(0), "m1", MachineState.RUNNING),
        StateEvent(_at(6), "m2", MachineState.RUNNING),
    ]
    counts = [CountRecord(_at(1), "m1", 60, 60), CountRecord(_at(2), "m2", 600, 600)]
    report = oee_from_events(events, counts, window=(_at(0), _at(8)), ideal_cycle_time=60.0)
    assert report.counts_before_events == 1
    assert report.work_units["m2"].total_count == 0
    # m1 alone: 60 parts x 60 s in 8 h of running; m2 ran 2 h and made nothing known.
    assert report.lines[DEFAULT_LINE].performance == pytest.approx(60 * 60 / (10 * H))
    ideal = {"m1": 60.0, "m2": 60.0}
    shift = shifts_oee(None, _at(0), _at(8), events, counts, [], ideal, until=_at(8))[0]
    assert shift.total_count == 60
    assert shift.performance == pytest.approx(60 * 60 / (10 * H))


def test_shift_oee_refuses_counts_of_a_unit_without_events() -> None:
    events = [StateEvent(_at(0), "m1", MachineState.RUNNING)]
    counts = [CountRecord(_at(1), "m1", 60, 60), CountRecord(_at(2), "m2", 600, 600)]
    with pytest.raises(MesInputError, match="'m2' has counts but no state events"):
        shifts_oee(None, _at(0), _at(8), events, counts, [], {"m1": 60.0, "m2": 60.0})
