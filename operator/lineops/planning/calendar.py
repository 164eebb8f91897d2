"""Blocked windows from a line's calendar: the time outside every shift of its
``spec.schedule``, and maintenance before a predicted failure."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lineops.api.productionline import Schedule
from lineops.mes.shifts import shift_occurrences

OFF_SHIFT = "off shift"


def shift_spans(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The shifts' occurrences overlapping [start, end), merged (back-to-back shifts run on),
    in the schedule's time zone. Shift times are local to that zone, so a day with a
    daylight-saving change has a shorter or longer shift, as on the shop floor."""
    if not schedule.shifts:
        return []
    zone = ZoneInfo(schedule.timezone)
    # Compared in UTC: aware datetimes sharing a tzinfo compare by wall time and ignore
    # fold, so in the hour a fall-back change repeats, 02:30 (second pass) < 02:45 (first).
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    spans = []
    # The occurrences are laid out once, in lineops.mes.shifts (OEE per shift uses them too).
    for shift in shift_occurrences(schedule, lo, hi):
        if shift.end > lo and shift.start < hi:
            spans.append((max(shift.start, lo), min(shift.end, hi)))
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return [(begin.astimezone(zone), finish.astimezone(zone)) for begin, finish in merged]


def off_shift(
    schedule: Schedule | None, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The gaps between shifts in [start, end), in the schedule's time zone; none when the
    line runs around the clock (no schedule or no shifts)."""
    if schedule is None or not schedule.shifts:
        return []
    zone = ZoneInfo(schedule.timezone)
    gaps = []
    cursor = start.astimezone(UTC)
    for begin, finish in shift_spans(schedule, start, end):
        begin, finish = begin.astimezone(UTC), finish.astimezone(UTC)  # compared in UTC
        if begin > cursor:
            gaps.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end.astimezone(UTC):
        gaps.append((cursor, end.astimezone(UTC)))
    return [(lo.astimezone(zone), hi.astimezone(zone)) for lo, hi in gaps]


def maintenance_before(
    predicted_failure: datetime, duration: timedelta, lead: timedelta
) -> tuple[datetime, datetime]:
    """The maintenance window a failure prediction asks for: ``duration`` long, ending
    ``lead`` before the predicted failure (the margin for the prediction's error)."""
    end = after(predicted_failure, -lead)
    return after(end, -duration), end


# Python subtracts and adds aware datetimes that share a tzinfo by their wall-clock times:
# across a daylight-saving change a night shift of 9 real hours counted 8, and an 8-hour job
# was printed as 9 (orders.py took that arithmetic at face value). Real time is UTC's.
def after(when: datetime, delta: timedelta) -> datetime:
    """``when`` plus ``delta`` of elapsed time, in ``when``'s zone."""
    assert when.tzinfo is not None
    return (when.astimezone(UTC) + delta).astimezone(when.tzinfo)


def between(start: datetime, end: datetime, *, up: bool = False) -> int:
    """Whole seconds elapsed from ``start`` to ``end``, rounded down (``up``: up, for a
    release or the end of a blocked window, which nothing may come before)."""
    elapsed = (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds()
    return math.ceil(elapsed) if up else math.floor(elapsed)
