"""Overall equipment effectiveness from the ISO 22400-2 time model.

A machine-state log assigns every moment of a work unit to one state. The window under
study minus planned stops is the planned busy (production) time; only ``running`` is
actual production (run) time, so unplanned ``down`` time, ``changeover`` (setup) and
``idle`` (starved, blocked, waiting) all lower availability:

    availability = run time / planned production time
    performance  = ideal cycle time x total count / run time
    quality      = good count / total count
    OEE          = availability x performance x quality
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from lineops.mes.data import decimal
from lineops.mes.errors import MesInputError
from lineops.mes.wall_clock import local_instant

UNSPECIFIED_REASON = "unspecified"
DEFAULT_LINE = "line"
# Bounds far beyond any plant that keep ideal time x count a finite float: beyond them a
# value is a unit or parsing error (inf would report performance inf, invalid JSON).
MAX_IDEAL_CYCLE_TIME = 1e9  # seconds, about 31 years per part
MAX_COUNT = 10**15
# A line's current OEE (status.kpis, the line page) is judged over its last 8 recorded hours:
# one shift.
RECENT_SPAN = timedelta(hours=8)


class MachineState(StrEnum):
    RUNNING = "running"
    IDLE = "idle"
    DOWN = "down"
    PLANNED_STOP = "planned-stop"
    CHANGEOVER = "changeover"


@dataclass(frozen=True)
class StateEvent:
    """From ``timestamp`` on, ``work_unit`` is in ``state`` until its next event."""

    timestamp: datetime
    work_unit: str
    state: MachineState
    reason: str = ""
    line: str = DEFAULT_LINE


@dataclass(frozen=True)
class CountRecord:
    """Parts reported by ``work_unit`` at ``timestamp`` (e.g. one row per hour or per part)."""

    timestamp: datetime
    work_unit: str
    total: int
    good: int
    ideal_cycle_time: float | None = None  # seconds per part; overrides the default


class OeeRatios:
    """The ISO 22400-2 ratios of a time-model result (``Oee``, ``ShiftOee``); a ratio is None
    when its denominator is zero. A subclass names its planned time in ``planned_time``."""

    run_time: float
    ideal_production_time: float
    total_count: int
    good_count: int

    @property
    def planned_time(self) -> float:
        raise NotImplementedError

    @property
    def availability(self) -> float | None:
        return _ratio(self.run_time, self.planned_time)

    @property
    def performance(self) -> float | None:
        return _ratio(self.ideal_production_time, self.run_time)

    @property
    def quality(self) -> float | None:
        return _ratio(float(self.good_count), float(self.total_count))

    @property
    def oee(self) -> float | None:
        a, p, q = self.availability, self.performance, self.quality
        return None if a is None or p is None or q is None else a * p * q


@dataclass(frozen=True)
class Oee(OeeRatios):
    """Times in seconds; a ratio is None when its denominator is zero."""

    planned_production_time: float
    run_time: float
    down_time: float
    idle_time: float
    changeover_time: float
    planned_stop_time: float
    ideal_production_time: float  # ideal cycle time x total count
    total_count: int
    good_count: int
    failures: int
    downtime_by_reason: dict[str, float] = field(default_factory=dict)

    @property
    def planned_time(self) -> float:
        return self.planned_production_time

    @property
    def mtbf(self) -> float | None:
        """Mean run time between failures (``down`` episodes)."""
        return _ratio(self.run_time, float(self.failures))

    @property
    def mttr(self) -> float | None:
        """Mean duration of a failure (``down`` episode)."""
        return _ratio(self.down_time, float(self.failures))


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _check_counts(total: int, good: int, row: int | None = None) -> None:
    if total < 0:
        raise MesInputError(f"total count {total} is negative", row=row, field="total")
    if good < 0:
        raise MesInputError(f"good count {good} is negative", row=row, field="good")
    if good > total:
        raise MesInputError(f"good count {good} exceeds total count {total}", row=row, field="good")
    if total > MAX_COUNT:
        raise MesInputError(f"total count {total} is beyond {MAX_COUNT:g}", row=row, field="total")


def check_ideal_cycle_time(seconds: float, work_unit: str | None = None) -> None:
    """MesInputError unless ``seconds`` is a usable ideal cycle time (the CLI checks its
    option with it too)."""
    # Zero would give performance 0 % and OEE 0 % without any error: a unit or typing slip.
    where = f" of work unit {work_unit!r}" if work_unit else ""
    if not seconds > 0:
        raise MesInputError(
            f"ideal cycle time{where} ({seconds:g} s) must be positive", field="ideal_cycle_time"
        )
    if not seconds <= MAX_IDEAL_CYCLE_TIME:
        raise MesInputError(
            f"ideal cycle time{where} ({seconds:g} s) is beyond {MAX_IDEAL_CYCLE_TIME:g} s",
            field="ideal_cycle_time",
        )


def oee_from_totals(
    planned_time: float,
    downtime: float,
    ideal_cycle_time: float,
    total_count: int,
    good_count: int,
) -> Oee:
    """OEE from shift totals (seconds): run time is planned time minus downtime."""
    for name, value in (("planned_time", planned_time), ("downtime", downtime)):
        if value < 0:
            raise MesInputError(f"{name} ({value:g} s) is negative", field=name)
    check_ideal_cycle_time(ideal_cycle_time)
    if downtime > planned_time:
        raise MesInputError(
            f"downtime ({downtime:g} s) exceeds planned time ({planned_time:g} s)",
            field="downtime",
        )
    _check_counts(total_count, good_count)
    return Oee(
        planned_production_time=planned_time,
        run_time=planned_time - downtime,
        down_time=downtime,
        idle_time=0.0,
        changeover_time=0.0,
        planned_stop_time=0.0,
        ideal_production_time=ideal_cycle_time * total_count,
        total_count=total_count,
        good_count=good_count,
        failures=0,
    )


def shift_window(
    day: date, start: time, end: time, zone: ZoneInfo | None = None
) -> tuple[datetime, datetime]:
    """The window of a shift starting on ``day``; an end at or before the start is next day.
    Without ``zone`` the window is naive (for event logs without UTC offsets); with it, the
    wall times are that zone's, as instants (a DST night is 7 or 9 real hours long)."""
    finish_day = day + timedelta(days=1) if end <= start else day
    if zone is not None:
        begin_at, finish_at = local_instant(day, start, zone), local_instant(finish_day, end, zone)
        return begin_at.astimezone(zone), finish_at.astimezone(zone)
    return datetime.combine(day, start), datetime.combine(finish_day, end)


def recent_window(
    events: Sequence[StateEvent], counts: Sequence[CountRecord], span: timedelta = RECENT_SPAN
) -> tuple[datetime, datetime] | None:
    """The window a line's current OEE is judged over: its last ``span`` of records, from
    the later of the first state event and the newest record minus ``span`` up to the
    newest record, event or count (a running machine sends counts, not events: a window
    ending at the last event left its latest output out; pass ``through_end`` to
    ``oee_from_events`` so a count at the end is in). None while that is empty: one state
    event and nothing after it."""
    if not events:
        return None
    # As instants: datetimes sharing one tzinfo compare by wall clock (the autumn hour).
    end = max([e.timestamp for e in events] + [c.timestamp for c in counts], key=_instant)
    start = max(min((e.timestamp for e in events), key=_instant), end - span, key=_instant)
    return (start, end) if _instant(start) < _instant(end) else None


def _instant(moment: datetime) -> datetime:
    """An aware time in UTC (a naive one as it is): what to order and compare by."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC)


# --------------------------------------------------------------------------- parsing records


def _timestamp(value: str | None, row: int, name: str = "timestamp") -> datetime:
    try:
        return datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise MesInputError(
            f"{value!r} is not an ISO 8601 timestamp", row=row, field=name
        ) from None


def _whole(value: str | None, row: int, name: str) -> int:
    text = (value or "").strip()
    try:
        if "_" in text:  # int() reads "1_000"; see lineops.mes.data.decimal
            raise ValueError(text)
        number = int(text)
    except ValueError:
        raise MesInputError(f"{text!r} is not a whole number", row=row, field=name) from None
    return number


def _required(record: Mapping[str, str | None], key: str, row: int) -> str:
    value = (record.get(key) or "").strip()
    if not value:
        raise MesInputError("missing value", row=row, field=key)
    return value


def events_from_records(records: Iterable[Mapping[str, str | None]]) -> list[StateEvent]:
    """State events from CSV-like rows: timestamp, work_unit, state[, reason][, line]."""
    states = {s.value for s in MachineState}
    events: list[StateEvent] = []
    for i, rec in enumerate(records):
        state = _required(rec, "state", i).lower()
        if state not in states:
            raise MesInputError(
                f"unknown state {state!r}; expected one of {', '.join(sorted(states))}",
                row=i,
                field="state",
            )
        events.append(
            StateEvent(
                timestamp=_timestamp(rec.get("timestamp"), i),
                work_unit=_required(rec, "work_unit", i),
                state=MachineState(state),
                reason=(rec.get("reason") or "").strip(),
                line=(rec.get("line") or "").strip() or DEFAULT_LINE,
            )
        )
    _same_clock([e.timestamp for e in events])
    return events


def counts_from_records(records: Iterable[Mapping[str, str | None]]) -> list[CountRecord]:
    """Count rows: timestamp, work_unit, total, good[, ideal_cycle_time in seconds]."""
    counts: list[CountRecord] = []
    for i, rec in enumerate(records):
        total = _whole(rec.get("total"), i, "total")
        good = _whole(rec.get("good"), i, "good")
        _check_counts(total, good, i)
        ict_text = (rec.get("ideal_cycle_time") or "").strip()
        ict: float | None = None
        if ict_text:
            try:
                ict = decimal(ict_text)
            except ValueError:
                raise MesInputError(
                    f"{ict_text!r} is not a number of seconds", row=i, field="ideal_cycle_time"
                ) from None
            if not ict > 0:  # 0 would make the performance 0 % whatever was made
                raise MesInputError(
                    f"ideal cycle time {ict_text} must be positive", row=i, field="ideal_cycle_time"
                )
            if not ict <= MAX_IDEAL_CYCLE_TIME:  # inf would give performance inf
                raise MesInputError(
                    f"ideal cycle time {ict_text} is beyond {MAX_IDEAL_CYCLE_TIME:g} s",
                    row=i,
                    field="ideal_cycle_time",
                )
        counts.append(
            CountRecord(
                timestamp=_timestamp(rec.get("timestamp"), i),
                work_unit=_required(rec, "work_unit", i),
                total=total,
                good=good,
                ideal_cycle_time=ict,
            )
        )
    _same_clock([c.timestamp for c in counts])
    return counts


def _same_clock(stamps: Sequence[datetime]) -> None:
    # Comparing naive and aware datetimes raises deep inside the time model; fail early.
    if not stamps:
        return
    aware = stamps[0].tzinfo is not None
    for i, ts in enumerate(stamps):
        if (ts.tzinfo is not None) != aware:
            raise MesInputError(
                "mixes timestamps with and without a UTC offset", row=i, field="timestamp"
            )


# ------------------------------------------------------------------------------ time model


@dataclass
class _Tally:
    seconds: dict[MachineState, float] = field(
        default_factory=lambda: dict.fromkeys(MachineState, 0.0)
    )
    by_reason: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    failures: int = 0
    ideal: float = 0.0
    total: int = 0
    good: int = 0

    def add(self, other: _Tally) -> None:
        for state, secs in other.seconds.items():
            self.seconds[state] += secs
        for reason, secs in other.by_reason.items():
            self.by_reason[reason] += secs
        self.failures += other.failures
        self.ideal += other.ideal
        self.total += other.total
        self.good += other.good

    def result(self) -> Oee:
        s = self.seconds
        planned = sum(s.values()) - s[MachineState.PLANNED_STOP]
        return Oee(
            planned_production_time=planned,
            run_time=s[MachineState.RUNNING],
            down_time=s[MachineState.DOWN],
            idle_time=s[MachineState.IDLE],
            changeover_time=s[MachineState.CHANGEOVER],
            planned_stop_time=s[MachineState.PLANNED_STOP],
            ideal_production_time=self.ideal,
            total_count=self.total,
            good_count=self.good,
            failures=self.failures,
            downtime_by_reason=dict(sorted(self.by_reason.items())),
        )


def combine_oee(parts: Iterable[Oee]) -> Oee:
    """One figure for several units (e.g. a plant total): times, counts, failures and
    downtime reasons added up, so the ratios are time-weighted, never averaged."""
    values = list(parts)
    reasons: dict[str, float] = defaultdict(float)
    for part in values:
        for reason, seconds in part.downtime_by_reason.items():
            reasons[reason] += seconds
    return Oee(
        planned_production_time=sum(p.planned_production_time for p in values),
        run_time=sum(p.run_time for p in values),
        down_time=sum(p.down_time for p in values),
        idle_time=sum(p.idle_time for p in values),
        changeover_time=sum(p.changeover_time for p in values),
        planned_stop_time=sum(p.planned_stop_time for p in values),
        ideal_production_time=sum(p.ideal_production_time for p in values),
        total_count=sum(p.total_count for p in values),
        good_count=sum(p.good_count for p in values),
        failures=sum(p.failures for p in values),
        downtime_by_reason=dict(sorted(reasons.items())),
    )


@dataclass(frozen=True)
class OeeReport:
    window: tuple[datetime, datetime]
    work_units: dict[str, Oee]
    lines: dict[str, Oee]
    line_of: dict[str, str]
    # Count rows stamped outside the window: not in any figure, so callers can say so.
    counts_outside: int = 0
    # Count rows in the window stamped before their unit's first state event: made in time
    # not known (no state yet), so not in any figure either.
    counts_before_events: int = 0


def _unit_tally(events: Sequence[StateEvent], start: datetime, end: datetime) -> _Tally:
    tally = _Tally()
    previous: MachineState | None = None
    for i, ev in enumerate(events):
        seg_end = events[i + 1].timestamp if i + 1 < len(events) else end
        lo, hi = max(ev.timestamp, start), min(seg_end, end)
        if hi > lo:
            secs = (hi - lo).total_seconds()
            tally.seconds[ev.state] += secs
            if ev.state is MachineState.DOWN:
                tally.by_reason[ev.reason or UNSPECIFIED_REASON] += secs
                # Consecutive down rows (a reason re-coded mid-stop) are one failure.
                if previous is not MachineState.DOWN:
                    tally.failures += 1
            previous = ev.state
        elif ev.timestamp >= end:
            break
    return tally


def oee_from_events(
    events: Sequence[StateEvent],
    counts: Sequence[CountRecord],
    *,
    window: tuple[datetime, datetime] | None = None,
    ideal_cycle_time: float | Mapping[str, float] | None = None,
    through_end: bool = False,
) -> OeeReport:
    """OEE per work unit and per line over ``window`` (default: first to last event).

    The state in force at the window start is the last event before it, so a window may
    start mid-state (e.g. a night shift from 22:00 to 06:00). Counts are attributed by their
    timestamp, in [start, end): a count at a period's end is the next period's. With
    ``through_end`` in [start, end]: a window cut at the newest record (``recent_window``)
    would otherwise always leave out the newest count. Line figures add up the times and
    counts of their units.
    """
    if not events:
        raise MesInputError("the state event log is empty", field="events")
    ordered = sorted(events, key=lambda e: _instant(e.timestamp))
    if window is None:
        window = (ordered[0].timestamp, ordered[-1].timestamp)
    start, end = window
    try:
        if not _instant(start) < _instant(end):
            raise MesInputError(f"window start {start} must be before end {end}", field="window")
    except TypeError:
        raise MesInputError(
            "window and events must both have, or both lack, a UTC offset", field="window"
        ) from None
    if (start.tzinfo is None) != (ordered[0].timestamp.tzinfo is None):
        raise MesInputError(
            "window and events must both have, or both lack, a UTC offset", field="window"
        )
    if isinstance(ideal_cycle_time, Mapping):
        for unit, seconds in ideal_cycle_time.items():
            check_ideal_cycle_time(seconds, unit)
    elif ideal_cycle_time is not None:
        check_ideal_cycle_time(ideal_cycle_time)
    by_unit: dict[str, list[StateEvent]] = defaultdict(list)
    line_of: dict[str, str] = {}
    outside = 0
    # Durations in UTC: aware datetimes that share a tzinfo (a window in the line's zone)
    # subtract by wall clock, so a DST night of 9 real hours counted 8.
    aware = start.tzinfo is not None
    lo, hi = (start.astimezone(UTC), end.astimezone(UTC)) if aware else (start, end)
    for ev in ordered:
        if aware:
            ev = replace(ev, timestamp=ev.timestamp.astimezone(UTC))
        by_unit[ev.work_unit].append(ev)
        line_of.setdefault(ev.work_unit, ev.line)
    tallies = {unit: _unit_tally(evs, lo, hi) for unit, evs in sorted(by_unit.items())}
    tallies_first = {unit: evs[0].timestamp for unit, evs in by_unit.items()}
    before_first = 0
    for i, rec in enumerate(counts):
        if rec.work_unit not in tallies:
            raise MesInputError(
                f"work unit {rec.work_unit!r} has counts but no state events",
                row=i,
                field="work_unit",
            )
        if (rec.timestamp.tzinfo is None) != (start.tzinfo is None):
            raise MesInputError(
                "counts and events must both have, or both lack, a UTC offset",
                row=i,
                field="timestamp",
            )
        # Compared as instants: aware datetimes sharing one tzinfo (ZoneInfo) compare by
        # wall clock, so a count in the repeated autumn hour fell on the wrong side.
        stamp = _instant(rec.timestamp)
        if not (lo <= stamp < hi or (through_end and stamp == hi)):
            outside += 1
            continue
        if stamp < tallies_first[rec.work_unit]:
            before_first += 1  # made before the unit's first event: time unknown
            continue
        ict = rec.ideal_cycle_time
        if ict is None:
            ict = (
                ideal_cycle_time.get(rec.work_unit)
                if isinstance(ideal_cycle_time, Mapping)
                else ideal_cycle_time
            )
        if ict is None:
            raise MesInputError(
                f"no ideal cycle time for work unit {rec.work_unit!r}",
                row=i,
                field="ideal_cycle_time",
            )
        tally = tallies[rec.work_unit]
        tally.ideal += ict * rec.total
        tally.total += rec.total
        tally.good += rec.good
    lines: dict[str, _Tally] = defaultdict(_Tally)
    for unit, tally in tallies.items():
        lines[line_of[unit]].add(tally)
    return OeeReport(
        window=(start, end),
        work_units={unit: t.result() for unit, t in tallies.items()},
        lines={name: t.result() for name, t in sorted(lines.items())},
        line_of=line_of,
        counts_outside=outside,
        counts_before_events=before_first,
    )
