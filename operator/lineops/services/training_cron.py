"""Which slot of a five-field cron schedule is the latest at a given time (UTC).

``lineops.api.cron`` validates expressions; this module evaluates them. Vixie-cron semantics:
when both day-of-month and day-of-week are restricted, a day matching either one counts.
A slot's id (``YYYYMMDDHHMM``) goes into the run id, so a restarted operator recognises a
slot it has already trained for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

_MONTHS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov")
_MONTHS_ALL: Final = (*_MONTHS, "dec")
_DAYS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# How far back to look for the latest slot: covers yearly schedules, Feb 29 included.
_LOOKBACK_DAYS: Final = 366 * 4 + 1


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
            any_day=day == "*",
            any_weekday=weekday == "*",
        )

    def day_matches(self, moment: datetime) -> bool:
        if moment.month not in self.months:
            return False
        dom = moment.day in self.days
        dow = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def latest(self, now: datetime) -> datetime | None:
        """The latest slot at or before ``now`` (UTC, minute precision)."""
        now = now.astimezone(UTC).replace(second=0, microsecond=0)
        day = now.replace(hour=0, minute=0)
        for back in range(_LOOKBACK_DAYS):
            candidate = day - timedelta(days=back)
            if not self.day_matches(candidate):
                continue
            limit = (now.hour, now.minute) if back == 0 else (23, 59)
            times = [(h, m) for h in self.hours for m in self.minutes if (h, m) <= limit]
            if times:
                hour, minute = max(times)
                return candidate.replace(hour=hour, minute=minute)
        return None


def slot_id(slot: datetime) -> str:
    return slot.astimezone(UTC).strftime("%Y%m%d%H%M")
