"""OEE per planned shift (lineops.mes.shifts) on a constructed week in Europe/Berlin, checked
against a hand computation written out below: night shifts over midnight, the night of the
autumn DST change (2026-10-25, 03:00 CEST -> 02:00 CET: a 9-hour night shift), planned
maintenance of one unit and of the whole line, and states spanning a shift boundary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from lineops.api.productionline import Schedule, Shift
from lineops.mes.errors import MesInputError
from lineops.mes.oee import CountRecord, MachineState, StateEvent
from lineops.mes.shifts import (
    Maintenance,
    current_and_previous,
    shift_occurrences,
    shift_oee,
    shifts_oee,
)
from lineops.planning.calendar import off_shift, shift_spans

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = Schedule(
    timezone="Europe/Berlin",
    shifts=[
        Shift(name="early", start="06:00", end="14:00"),
        Shift(name="late", start="14:00", end="22:00"),
        Shift(name="night", start="22:00", end="06:00"),
    ],
)
IDEAL = {"press": 30.0, "welder": 60.0}  # seconds per part
RUN, DOWN, IDLE = MachineState.RUNNING, MachineState.DOWN, MachineState.IDLE
H = 3600.0  # seconds in an hour
SHIFT = 8 * H  # an ordinary shift: 28,800 s per unit


def local(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def week_events() -> list[StateEvent]:
    events = [
        # Both units report before the week starts: their state is known from its first second.
        StateEvent(local(19, 5), "press", RUN),
        StateEvent(local(19, 5), "welder", RUN),
        # Welder idle 23:00-01:00 in the night shift Tue 20 -> Wed 21 (over midnight).
        StateEvent(local(20, 23), "welder", IDLE),
        StateEvent(local(21, 1), "welder", RUN),
        # Welder down 21:00-23:00 on Wed 21: one hour in the late shift, one in the night.
        StateEvent(local(21, 21), "welder", DOWN, "motor"),
        StateEvent(local(21, 23), "welder", RUN),
        # Thu 22: press down again 11:00-12:30, inside its maintenance from 10:00 to 12:00.
        StateEvent(local(22, 11), "press", DOWN, "tooling"),
        StateEvent(local(22, 12, 30), "press", RUN),
        # The DST night: press down one real hour, 00:30-01:30 UTC.
        StateEvent(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "press", DOWN, "jam"),
        StateEvent(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "press", RUN),
    ]
    for day in range(19, 26):  # press jams every morning 07:00-07:30
        events += [
            StateEvent(local(day, 7), "press", DOWN, "jam"),
            StateEvent(local(day, 7, 30), "press", RUN),
        ]
    return events


MAINTENANCE = [
    Maintenance("press", local(22, 10), local(22, 12)),  # Thu early shift, press only
    Maintenance(None, local(24, 14), local(24, 22)),  # Sat late shift, the whole line
]
WEEK = (local(19, 6), local(26, 6))


def week_counts() -> list[CountRecord]:
    """One count per unit per shift, an hour after it starts; none in Saturday's late shift
    (the line is in maintenance)."""
    counts = []
    for shift in shift_occurrences(SCHEDULE, *WEEK):
        if (shift.name, shift.day) == ("late", date(2026, 10, 24)):
            continue
        at = shift.start + timedelta(hours=1)
        counts += [CountRecord(at, "press", 800, 790), CountRecord(at, "welder", 400, 396)]
    return counts


# Hand computation. Per shift, two units:
#   ideal production time = 800 x 30 s + 400 x 60 s = 24,000 + 24,000 = 48,000 s
#   quality               = (790 + 396) / (800 + 400) = 1,186 / 1,200
# An ordinary shift: planned busy time = 2 x 28,800 = 57,600 s.
BUSY = 2 * SHIFT  # 57,600
EARLY_RUN = BUSY - 0.5 * H  # the press's 07:00-07:30 jam: 57,600 - 1,800 = 55,800
IDEAL_TIME = 800 * 30 + 400 * 60  # 48,000
QUALITY = (790 + 396) / (800 + 400)

# (shift, local start day) -> (planned busy s, run s, planned maintenance s), where not ordinary
SPECIAL = {
    # Tue 20 22:00 -> Wed 21 06:00: welder idle 23:00-01:00 = 2 h across midnight.
    ("night", 20): (BUSY, BUSY - 2 * H, 0.0),  # run 50,400
    # Wed 21 late: welder down 21:00-22:00 (the first hour of its 2-hour stop).
    ("late", 21): (BUSY, BUSY - 1 * H, 0.0),  # run 54,000
    # Wed 21 night: welder down 22:00-23:00 (the second hour).
    ("night", 21): (BUSY, BUSY - 1 * H, 0.0),  # run 54,000
    # Thu 22 early: press maintenance 10:00-12:00 = 7,200 s out of planned time;
    # press down 07:00-07:30 and 12:00-12:30 (11:00-12:00 is inside maintenance) = 3,600 s.
    ("early", 22): (BUSY - 2 * H, BUSY - 2 * H - 1 * H, 2 * H),  # 50,400; 46,800; 7,200
    # Sat 24 late: the whole line in maintenance 14:00-22:00, 2 units x 28,800 s.
    ("late", 24): (0.0, 0.0, 2 * SHIFT),
    # Sat 24 22:00 CEST (20:00 UTC) -> Sun 25 06:00 CET (05:00 UTC): 9 real hours per unit,
    # 2 x 32,400 = 64,800 s; press down one hour.
    ("night", 24): (2 * 9 * H, 2 * 9 * H - 1 * H, 0.0),  # 64,800; 61,200
}


def expected(name: str, day: int) -> tuple[float, float, float]:
    if (name, day) in SPECIAL:
        return SPECIAL[(name, day)]
    return (BUSY, EARLY_RUN if name == "early" else BUSY, 0.0)


def test_the_constructed_week_matches_the_hand_computation() -> None:
    results = shifts_oee(SCHEDULE, *WEEK, week_events(), week_counts(), MAINTENANCE, IDEAL)
    assert len(results) == 21  # 7 days x 3 shifts, Mon 19 06:00 to Mon 26 06:00
    assert [r.shift.name for r in results[:4]] == ["early", "late", "night", "early"]
    for r in results:
        key = (r.shift.name, r.shift.day.day)
        busy, run, maintenance = expected(*key)
        assert (r.planned_busy_time, r.run_time, r.maintenance_time) == (busy, run, maintenance), (
            key
        )
        if key == ("late", 24):  # all of it planned maintenance: no ratio, no division error
            assert (r.availability, r.performance, r.quality, r.oee) == (None, None, None, None)
            assert r.total_count == 0
            continue
        assert r.availability == pytest.approx(run / busy), key
        assert r.performance == pytest.approx(IDEAL_TIME / run), key
        assert r.quality == pytest.approx(QUALITY), key
        assert r.oee == pytest.approx(run / busy * IDEAL_TIME / run * QUALITY), key
    # Worked out in full for two shifts:
    thu = next(r for r in results if (r.shift.name, r.shift.day.day) == ("early", 22))
    assert thu.availability == pytest.approx(46_800 / 50_400)  # 0.92857
    assert thu.performance == pytest.approx(48_000 / 46_800)  # 1.02564: the ideal rate beaten
    assert thu.oee == pytest.approx(46_800 / 50_400 * 48_000 / 46_800 * 1_186 / 1_200)
    dst = next(r for r in results if (r.shift.name, r.shift.day.day) == ("night", 24))
    assert dst.shift.seconds == 9 * H  # 22:00 CEST to 06:00 CET
    assert (dst.shift.start, dst.shift.end) == (
        datetime(2026, 10, 24, 20, tzinfo=UTC),
        datetime(2026, 10, 25, 5, tzinfo=UTC),
    )
    assert dst.availability == pytest.approx(61_200 / 64_800)  # 0.94444
    # The week's planned busy time: 21 ordinary shifts, +2 h for the DST night (2 units x 1 h),
    # -2 h press maintenance on Thursday, -57,600 s for Saturday's late shift.
    assert sum(r.planned_busy_time for r in results) == 21 * BUSY + 2 * H - 2 * H - BUSY


def test_spring_forward_night_is_seven_hours() -> None:
    # 2026-03-29 02:00 CET -> 03:00 CEST: the night Sat 28 -> Sun 29 has 7 real hours.
    nights = [
        s
        for s in shift_occurrences(SCHEDULE, local(28, 12, month=3), local(30, 12, month=3))
        if s.name == "night"
    ]
    assert [(s.day.day, s.seconds) for s in nights] == [(28, 7 * H), (29, 8 * H)]
    only = shift_oee(nights[0], [StateEvent(local(28, 20, month=3), "press", RUN)], [], [], IDEAL)
    assert (only.planned_busy_time, only.run_time, only.availability) == (7 * H, 7 * H, 1.0)


def test_a_shift_without_events_has_no_ratios() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]
    result = shift_oee(shift, [], [], [], IDEAL)
    assert (result.planned_busy_time, result.run_time, result.total_count) == (0.0, 0.0, 0)
    assert (result.availability, result.performance, result.quality, result.oee) == (None,) * 4


def test_time_before_a_units_first_event_is_not_planned_busy_time() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]  # early, 06:00-14:00
    result = shift_oee(shift, [StateEvent(local(19, 10), "press", RUN)], [], [], IDEAL)
    assert (result.planned_busy_time, result.run_time) == (4 * H, 4 * H)  # 10:00-14:00


def test_the_current_shift_so_far_stops_at_now() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]  # early, 06:00-14:00
    events = [StateEvent(local(19, 5), "press", RUN), StateEvent(local(19, 9), "press", DOWN)]
    counts = [
        CountRecord(local(19, 8), "press", 100, 100),
        CountRecord(local(19, 11), "press", 9, 9),
    ]
    so_far = shift_oee(shift, events, counts, [], IDEAL, until=local(19, 10))
    # 06:00-10:00 planned, 06:00-09:00 running; the count at 11:00 is not yet in.
    assert (so_far.planned_busy_time, so_far.run_time, so_far.total_count) == (4 * H, 3 * H, 100)
    assert so_far.availability == pytest.approx(3 / 4)


def test_a_count_stamped_at_now_is_in_the_shift_so_far_but_one_at_the_end_is_not() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]  # early, 06:00-14:00
    events = [StateEvent(local(19, 5), "press", RUN)]
    counts = [
        CountRecord(local(19, 8), "press", 500, 495),
        CountRecord(local(19, 10), "press", 700, 700),  # the newest record: "now"
        CountRecord(local(19, 14), "press", 9, 9),  # stamped at the shift's end
    ]
    so_far = shift_oee(shift, events, counts[:2], [], IDEAL, until=local(19, 10))
    assert so_far.total_count == 1200
    whole = shift_oee(shift, events, counts, [], IDEAL)
    assert whole.total_count == 1200  # [06:00, 14:00): the 14:00 count is the next shift's
    assert shift_oee(shift, events, counts, [], IDEAL, until=local(19, 15)).total_count == 1200


def test_current_and_previous_shift() -> None:
    results = shifts_oee(SCHEDULE, local(19, 6), local(20, 6), [], [], [], IDEAL)
    current, previous = current_and_previous(results, local(19, 23))
    assert current is not None and previous is not None
    assert (current.shift.name, previous.shift.name) == ("night", "late")
    assert current_and_previous(results, local(19, 5)) == (None, None)


def test_no_schedule_is_one_day_long_shift_per_utc_day() -> None:
    days = shift_occurrences(
        None, datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC)
    )
    assert [(d.name, d.start.day, d.seconds) for d in days] == [
        ("day", 24, 24 * H),
        ("day", 25, 24 * H),
    ]


def test_maintenance_ending_before_it_starts_is_refused_naming_it() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]
    with pytest.raises(MesInputError, match="maintenance") as err:
        shift_oee(shift, [], [], [Maintenance("press", local(19, 9), local(19, 8))], IDEAL)
    assert err.value.field == "maintenance[0]"


def test_timestamps_without_offset_are_refused() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]
    with pytest.raises(MesInputError, match="no UTC offset"):
        shift_oee(shift, [StateEvent(datetime(2026, 10, 19, 5), "press", RUN)], [], [], IDEAL)


def test_a_count_of_a_unit_without_ideal_cycle_time_is_refused() -> None:
    shift = shift_occurrences(SCHEDULE, local(19, 7), local(19, 8))[0]
    with pytest.raises(MesInputError, match="'lathe'"):
        shift_oee(shift, [], [CountRecord(local(19, 7), "lathe", 1, 1)], [], IDEAL)


def test_planning_calendar_spans_the_dst_night_in_real_hours() -> None:
    # lineops.planning's calendar lays its shifts out with shift_occurrences too.
    spans = shift_spans(SCHEDULE, local(24, 20), local(25, 8))
    # late runs on into night and into early: one merged span, 20:00 CEST to 08:00 CET.
    assert spans == [(local(24, 20), local(25, 8))]
    begin, end = (moment.astimezone(UTC) for moment in spans[0])
    assert (end - begin).total_seconds() == 13 * H  # 12 wall-clock hours + the repeated one


def test_a_shift_boundary_in_the_skipped_hour_is_the_moment_of_the_change() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29 (01:00 UTC). Boundaries at 02:30 are that
    # moment: "a" ends and "c" starts at it, "b" (02:30-03:00) does not occur that night.
    schedule = Schedule(
        timezone="Europe/Berlin",
        shifts=[
            Shift(name="a", start="22:00", end="02:30"),
            Shift(name="b", start="02:30", end="03:00"),
            Shift(name="c", start="03:00", end="14:00"),
        ],
    )
    change = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    night = shift_occurrences(schedule, change - timedelta(hours=1), change + timedelta(hours=1))
    assert [(s.name, s.start, s.end) for s in night] == [
        ("a", datetime(2026, 3, 28, 21, 0, tzinfo=UTC), change),
        ("c", change, datetime(2026, 3, 29, 12, 0, tzinfo=UTC)),
    ]
    # No planned second is in two shifts, none is negative: the week has no overlaps.
    week = shift_occurrences(schedule, change - timedelta(days=3), change + timedelta(days=3))
    assert all(s.end > s.start for s in week)
    assert all(b.start >= a.end for a, b in pairwise(week))


def test_off_shift_hours_around_the_repeated_hour_are_real_hours() -> None:
    # Berlin repeats 02:00-03:00 on 2026-10-25. A shift ending at 02:30 ends at its first
    # occurrence (00:30 UTC); the next starts at 03:00 CET (02:00 UTC): 1.5 h off shift.
    schedule = Schedule(
        timezone="Europe/Berlin",
        shifts=[
            Shift(name="late", start="18:00", end="02:30"),
            Shift(name="early", start="03:00", end="10:00"),
        ],
    )
    gaps = off_shift(schedule, local(24, 18), local(25, 10))
    assert [(lo.astimezone(UTC), hi.astimezone(UTC)) for lo, hi in gaps] == [
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 2, 0, tzinfo=UTC))
    ]
    assert all(str(lo.tzinfo) == "Europe/Berlin" for lo, _ in gaps)
