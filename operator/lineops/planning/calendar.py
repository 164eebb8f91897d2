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
    as aware datetimes. Shift times are local to the schedule's time zone, so a day with a
    daylight-saving change has a shorter or longer shift, as on the shop floor."""
    if not schedule.shifts:
        return []
    zone = ZoneInfo(schedule.timezone)
    spans = []
    # The occurrences are laid out once, in lineops.mes.shifts (OEE per shift uses them too).
    for shift in shift_occurrences(schedule, start, end):
        begin, finish = shift.start.astimezone(zone), shift.end.astimezone(zone)
        if finish > start and begin < end:
            spans.append((max(begin, start), min(finish, end)))
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def off_shift(
    schedule: Schedule | None, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The gaps between shifts in [start, end); none when the line runs around the clock
    (no schedule or no shifts)."""
    if schedule is None or not schedule.shifts:
        return []
    gaps = []
    cursor = start
    for begin, finish in shift_spans(schedule, start, end):
        if begin > cursor:
            gaps.append((cursor, begin))
        cursor = max(cursor, finish)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


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


def between(start: datetime, end: datetime) -> int:
    """Whole seconds elapsed from ``start`` to ``end``."""
    return math.floor((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
