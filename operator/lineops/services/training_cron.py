"""Which slot of a five-field cron schedule is the latest at a given time.

Slots are wall-clock times in the line's time zone (``spec.schedule.timezone`` of the
ProductionLine, UTC by default), as a plant would read "0 3 * * *": 03:00 local, also across
daylight-saving changes. A wall time that does not exist that day (skipped by a spring-forward
change) is not a slot; one that occurs twice (fall-back) is a slot once, at its first occurrence.

``lineops.api.cron`` validates expressions; this module evaluates them. Vixie-cron semantics:
when both day-of-month and day-of-week are restricted, a day matching either one counts.
A slot's id (``YYYYMMDDHHMM``) goes into the run id, so a restarted operator recognises a
slot it has already trained for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov")
_MONTHS_ALL: Final = (*_MONTHS, "dec")
_DAYS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# How far back to look for the latest slot: covers yearly schedules, Feb 29 included.
_LOOKBACK_DAYS: Final = 366 * 4 + 1
_DST_SLACK: Final = timedelta(hours=2)  # larger than any daylight-saving shift


def _values(text: str, low: int, high: int, names: tuple[str, ...]) -> set[int]:
    out: set[int] = set()
    for item in text.lower().split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        else:
            bounds = [low + names.index(t) if t in names else int(t) for t in base.split("-")]
            start, end = bounds[0], bounds[-1]
            if step_text and len(bounds) == 1:
                end = high  # "5/15" means from 5 to the end, every 15
        out.update(range(start, end + 1, step))
    return out


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, expression: str) -> Cron:
        minute, hour, day, month, weekday = expression.split()
        weekdays = {d % 7 for d in _values(weekday, 0, 7, _DAYS)}
        return cls(
            frozenset(_values(minute, 0, 59, ())),
            frozenset(_values(hour, 0, 23, ())),
            frozenset(_values(day, 1, 31, ())),
            frozenset(_values(month, 1, 12, _MONTHS_ALL)),
            frozenset(weekdays),
            # As Vixie cron: a field that starts with "*" (also "*/2") is a star, and then the
            # day must match both fields; otherwise either ("0 3 */2 * 1" is odd days that
            # are Mondays, not odd days or Mondays).
            any_day=day.startswith("*"),
            any_weekday=weekday.startswith("*"),
        )

    def day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months:
            return False
        dom = moment.day in self.days
        dow = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def latest(self, now: datetime, zone: tzinfo = UTC) -> datetime | None:
        """The latest slot at or before ``now`` (minute precision), as an aware UTC time;
        the schedule's fields are read as wall-clock time in ``zone``."""
        limit_utc = now.astimezone(UTC).replace(second=0, microsecond=0)
        local_now = limit_utc.astimezone(zone)
        day = local_now.replace(hour=0, minute=0, tzinfo=None)
        # Wall times later than this cannot be slots yet; the slack covers a repeated hour
        # (fall-back), whose first occurrence is earlier in UTC than its wall time suggests.
        latest_wall = local_now.replace(tzinfo=None) + _DST_SLACK
        times = sorted(((h, m) for h in self.hours for m in self.minutes), reverse=True)
        for back in range(_LOOKBACK_DAYS):
            candidate = day - timedelta(days=back)
            if not self.day_matches(candidate):
                continue
            for hour, minute in times:
                wall = candidate.replace(hour=hour, minute=minute)
                if wall > latest_wall:
                    continue
                slot = _wall_to_utc(wall, zone)
                if slot is not None and slot <= limit_utc:
                    return slot
        return None


def _wall_to_utc(wall: datetime, zone: tzinfo) -> datetime | None:
    """UTC instant of a naive wall-clock time in ``zone``; None if the wall time is skipped
    (it does not survive a round trip), the first occurrence if it is repeated."""
    aware = wall.replace(tzinfo=zone, fold=0)
    moment = aware.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return moment


def zone_of(name: str | None) -> tuple[tzinfo, str]:
    """The IANA zone ``name`` (UTC when empty) and, when it is unknown here, UTC plus a note
    saying so (the API only checks the name's shape; the zone database decides the rest)."""
    if not name or name == "UTC":
        return UTC, ""
    try:
        return ZoneInfo(name), ""
    except (ZoneInfoNotFoundError, ValueError):
        return UTC, f"unknown time zone {name!r}: schedule read in UTC"


def slot_id(slot: datetime) -> str:
    return slot.astimezone(UTC).strftime("%Y%m%d%H%M")
