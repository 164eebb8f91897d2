"""Blocked windows from a line's calendar: the time outside every shift of its
``spec.schedule``, and maintenance before a predicted failure."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from lineops.api.productionline import Schedule

OFF_SHIFT = "off shift"


def shift_spans(
    schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The shifts' occurrences overlapping [start, end), merged (back-to-back shifts run on),
    as aware datetimes. Shift times are local to the schedule's time zone, so a day with a
    daylight-saving change has a shorter or longer shift, as on the shop floor."""
    zone = ZoneInfo(schedule.timezone)
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    spans = []
    day = first_day
    while day <= last_day:
        for shift in schedule.shifts:
            begin = datetime.combine(day, _clock(shift.start), zone)
            finish_day = day + timedelta(days=1) if shift.crosses_midnight else day
            finish = datetime.combine(finish_day, _clock(shift.end), zone)
            if finish > start and begin < end:
                spans.append((max(begin, start), min(finish, end)))
        day += timedelta(days=1)
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
    end = predicted_failure - lead
    return end - duration, end


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
