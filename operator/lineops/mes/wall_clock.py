"""Local wall times as instants, for shift boundaries.

Python reads a wall time a spring-forward change skips with the offset before the change
(``fold=0``), which lands after later wall times: a boundary at 02:30 became 03:30, after a
03:00 one. A skipped wall time here is the moment of the change instead, so back-to-back
shifts stay back to back; a wall time a fall-back change repeats is its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of the wall time ``clock`` on ``day`` in ``zone``."""
    wall = datetime.combine(day, clock)
    early = wall.replace(tzinfo=zone).astimezone(UTC)
    if early.astimezone(zone).replace(tzinfo=None) == wall:
        return early
    # In the gap: the change is between the reading with the offset after it and ``early``.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = min(before, early), max(before, early)
    offset = lo.astimezone(zone).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    # transitions fall on whole seconds: the first one after ``lo``
    return lo.replace(microsecond=0) + timedelta(seconds=1)
