"""OEE per planned shift (ISO 22400-2) over a line's ``spec.schedule``.

A shift's occurrences are laid out in the schedule's time zone (a night shift 22:00-06:00
ends on the next calendar day; on a daylight-saving change night it lasts 7 or 9 hours, as
on the shop floor) and every duration is taken between UTC instants: subtracting two aware
datetimes that share one ``ZoneInfo`` compares wall clocks and would miss the changed hour.

Per work unit and shift, with the state log clipped to the shift (the state in force at the
shift start is the last event before it):

    planned busy time = shift time - planned maintenance - planned-stop time
                        (time before the unit's first event ever is unknown: not counted)
    run time          = time in ``running`` outside planned maintenance
    availability      = run time / planned busy time
    performance       = ideal cycle time x total count / run time
    quality           = good count / total count
    OEE               = availability x performance x quality

The line's figures add the units' times and counts (time-weighted, never averaged); a ratio
whose denominator is zero is None (a shift that is all planned maintenance has no
availability). Counts belong to the shift their timestamp falls in, [start, end).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lineops.mes.errors import MesInputError
from lineops.mes.oee import CountRecord, MachineState, OeeRatios, StateEvent
from lineops.mes.wall_clock import local_instant

if TYPE_CHECKING:
    from lineops.api.productionline import Schedule

# A line without shifts is planned around the clock: one day-long "shift" per local day.
AROUND_THE_CLOCK = "day"

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class ShiftOccurrence:
    """One occurrence of a shift: ``start``/``end`` are UTC instants; ``day`` is the local
    date it starts on."""

    name: str
    day: date
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class Maintenance:
    """Planned maintenance of ``work_unit`` (None: the whole line) over [start, end)."""

    work_unit: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ShiftOee(OeeRatios):
    """Times in seconds; a ratio is None when its denominator is zero."""

    shift: ShiftOccurrence
    planned_busy_time: float
    run_time: float
    maintenance_time: float
    planned_stop_time: float
    ideal_production_time: float
    total_count: int
    good_count: int

    @property
    def planned_time(self) -> float:
        return self.planned_busy_time


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _zone(schedule: Schedule | None) -> ZoneInfo:
    return ZoneInfo(schedule.timezone if schedule is not None else "UTC")


def _utc(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None:
        raise MesInputError(f"{moment.isoformat()} has no UTC offset", field=field)
    return moment.astimezone(UTC)


def shift_occurrences(
    schedule: Schedule | None, start: datetime, end: datetime
) -> list[ShiftOccurrence]:
    """Every shift occurrence overlapping [start, end), whole (not clipped), by start.

    ``start``/``end`` must be aware. Without a schedule or shifts the line is planned around
    the clock: one occurrence per local day, named ``day``. A shift boundary at a wall time
    that does not exist (skipped by a spring-forward change) is the moment of the change, so
    back-to-back shifts stay back to back; a shift that lies wholly in the skipped hour does
    not occur that day. A wall time that occurs twice (fall back) is its first occurrence."""
    lo, hi = _utc(start, "start"), _utc(end, "end")
    zone = _zone(schedule)
    shifts = [(s.name, _clock(s.start), _clock(s.end)) for s in schedule.shifts] if schedule else []
    if not shifts:
        shifts = [(AROUND_THE_CLOCK, time(0, 0), time(0, 0))]
    first_day = lo.astimezone(zone).date() - timedelta(days=1)
    last_day = hi.astimezone(zone).date()
    found = []
    day = first_day
    while day <= last_day:
        for name, begin_clock, end_clock in shifts:
            finish_day = day + timedelta(days=1) if end_clock <= begin_clock else day
            begin = local_instant(day, begin_clock, zone)
            finish = local_instant(finish_day, end_clock, zone)
            if finish > begin and finish > lo and begin < hi:
                found.append(ShiftOccurrence(name, day, begin, finish))
        day += timedelta(days=1)
    return sorted(found, key=lambda s: (s.start, s.name))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _overlap(lo: datetime, hi: datetime, intervals: Sequence[Interval]) -> float:
    """Seconds of [lo, hi) covered by the disjoint ``intervals``."""
    covered = 0.0
    for a, b in intervals:
        left, right = max(lo, a), min(hi, b)
        if right > left:
            covered += (right - left).total_seconds()
    return covered


@dataclass(frozen=True)
class Records:
    """State events and counts in UTC, per unit and by time, so that each shift reads only
    its own stretch (bisect) instead of the whole log."""

    units: dict[str, tuple[list[datetime], list[MachineState]]]
    count_times: list[datetime]
    counts: list[tuple[int, CountRecord]]  # (row in the input, record), by time


def prepare(events: Sequence[StateEvent], counts: Sequence[CountRecord]) -> Records:
    """Raises MesInputError naming the first record without a UTC offset."""
    # By time only (a stable sort): of two events at one instant the later posted holds.
    known = sorted(
        (
            (_utc(ev.timestamp, f"events[{i}].timestamp"), ev.work_unit, ev.state)
            for i, ev in enumerate(events)
        ),
        key=lambda item: item[0],
    )
    units: dict[str, tuple[list[datetime], list[MachineState]]] = {}
    for stamp, unit, state in known:
        times, states = units.setdefault(unit, ([], []))
        times.append(stamp)
        states.append(state)
    stamped = sorted(
        ((_utc(rec.timestamp, f"counts[{i}].timestamp"), i, rec) for i, rec in enumerate(counts)),
        key=lambda item: (item[0], item[1]),
    )
    for _, i, rec in stamped:
        if rec.work_unit not in units:
            # No time to set its parts against (performance was inflated, above 1, by the
            # ideal time of parts made in no run time); oee_from_events refuses it too.
            raise MesInputError(
                f"work unit {rec.work_unit!r} has counts but no state events",
                row=i,
                field="work_unit",
            )
    return Records(
        units=dict(sorted(units.items())),
        count_times=[stamp for stamp, _, _ in stamped],
        counts=[(i, rec) for _, i, rec in stamped],
    )


def _windows(maintenance: Sequence[Maintenance]) -> list[Maintenance]:
    windows = []
    for i, m in enumerate(maintenance):
        lo, hi = _utc(m.start, f"maintenance[{i}].start"), _utc(m.end, f"maintenance[{i}].end")
        if not lo < hi:
            raise MesInputError(
                f"maintenance of {m.work_unit or 'the line'} ends ({hi.isoformat()}) before it "
                f"starts ({lo.isoformat()})",
                field=f"maintenance[{i}]",
            )
        windows.append(Maintenance(m.work_unit or None, lo, hi))
    return windows


def _segments(
    times: list[datetime], states: list[MachineState], start: datetime, end: datetime
) -> list[tuple[MachineState, datetime, datetime]]:
    """The unit's states clipped to [start, end): from the last event at or before
    ``start`` (the state in force) to the last one before ``end``."""
    found = []
    first = max(bisect_right(times, start) - 1, 0)
    last = bisect_left(times, end)
    for i in range(first, last):
        seg_end = times[i + 1] if i + 1 < len(times) else end
        lo, hi = max(times[i], start), min(seg_end, end)
        if hi > lo:
            found.append((states[i], lo, hi))
    return found


def _oee_of(
    shift: ShiftOccurrence,
    records: Records,
    windows: Sequence[Maintenance],
    ideal_cycle_time: Mapping[str, float],
    until: datetime | None,
) -> ShiftOee:
    stop = shift.end if until is None else min(shift.end, until)
    run = busy = maint = stopped = 0.0
    for unit, (times, states) in records.units.items():
        planned = _merge(
            (max(w.start, shift.start), min(w.end, stop))
            for w in windows
            if w.work_unit in (None, unit) and w.end > shift.start and w.start < stop
        )
        for state, lo, hi in _segments(times, states, shift.start, stop):
            length = (hi - lo).total_seconds()
            in_maintenance = _overlap(lo, hi, planned)
            maint += in_maintenance
            outside = length - in_maintenance
            if state is MachineState.PLANNED_STOP:
                stopped += outside
                continue
            busy += outside
            if state is MachineState.RUNNING:
                run += outside
    ideal = 0.0
    total = good = 0
    first = bisect_left(records.count_times, shift.start)
    # A shift is [start, end): a count stamped at its end is the next shift's. Cut short
    # at ``until`` (the shift so far), a count stamped at ``until`` is already in: the live
    # tracker's ``until`` is its newest record, often a count.
    cut = bisect_right if stop < shift.end else bisect_left
    last = cut(records.count_times, stop)
    for stamp, (row, rec) in zip(
        records.count_times[first:last], records.counts[first:last], strict=True
    ):
        if stamp < records.units[rec.work_unit][0][0]:
            continue  # made before the unit's first event: time unknown, not counted
        ict = rec.ideal_cycle_time
        if ict is None:
            ict = ideal_cycle_time.get(rec.work_unit)
        if ict is None:
            raise MesInputError(
                f"no ideal cycle time for work unit {rec.work_unit!r}",
                row=row,
                field="work_unit",
            )
        ideal += ict * rec.total
        total += rec.total
        good += rec.good
    return ShiftOee(
        shift=shift,
        planned_busy_time=busy,
        run_time=run,
        maintenance_time=maint,
        planned_stop_time=stopped,
        ideal_production_time=ideal,
        total_count=total,
        good_count=good,
    )


def shift_oee(
    shift: ShiftOccurrence,
    events: Sequence[StateEvent],
    counts: Sequence[CountRecord],
    maintenance: Sequence[Maintenance],
    ideal_cycle_time: Mapping[str, float],
    *,
    until: datetime | None = None,
) -> ShiftOee:
    """The line's OEE over one shift occurrence (see the module docstring); ``until``: only
    the part of the shift before it (the current shift so far)."""
    moment = None if until is None else _utc(until, "until")
    return _oee_of(shift, prepare(events, counts), _windows(maintenance), ideal_cycle_time, moment)


def shifts_oee(
    schedule: Schedule | None,
    start: datetime,
    end: datetime,
    events: Sequence[StateEvent],
    counts: Sequence[CountRecord],
    maintenance: Sequence[Maintenance],
    ideal_cycle_time: Mapping[str, float],
    *,
    until: datetime | None = None,
) -> list[ShiftOee]:
    """OEE of every shift occurrence overlapping [start, end), each over its whole shift, or
    up to ``until`` (the shift in progress so far). The records are indexed once."""
    records = prepare(events, counts)
    windows = _windows(maintenance)
    moment = None if until is None else _utc(until, "until")
    return [
        _oee_of(shift, records, windows, ideal_cycle_time, moment)
        for shift in shift_occurrences(schedule, start, end)
    ]


def current_and_previous(
    results: Sequence[ShiftOee], now: datetime
) -> tuple[ShiftOee | None, ShiftOee | None]:
    """The shift running at ``now`` (None between shifts) and the last one ended by then."""
    moment = _utc(now, "now")
    current = next((r for r in results if r.shift.start <= moment < r.shift.end), None)
    ended = [r for r in results if r.shift.end <= moment]
    return current, (max(ended, key=lambda r: r.shift.end) if ended else None)
