"""Five-field cron expressions: the CRD pattern and the range check the pattern cannot do."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import StringConstraints

_FIELD: Final = r"[0-9A-Za-z*/,-]+"
CRON_PATTERN: Final = rf"^{_FIELD} {_FIELD} {_FIELD} {_FIELD} {_FIELD}$"

CronExpression = Annotated[str, StringConstraints(pattern=CRON_PATTERN, max_length=128)]

_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
)
_DAYS: Final = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (field name, lowest, highest, names counted from lowest)
_FIELDS: Final[tuple[tuple[str, int, int, tuple[str, ...]], ...]] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
_ITEM_RE: Final = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


def _value(token: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token in names:
        return low + names.index(token)
    if not token.isdigit() or not low <= int(token) <= high:
        raise ValueError(token)
    return int(token)


# The longest each month can be (February in a leap year).
_MONTH_DAYS: Final = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_cron(expression: str) -> None:
    """Raise ValueError naming the offending cron field, e.g. ``minute: 61 is out of 0-59``;
    also for a schedule that never fires (``0 3 31 2 *``) or whose step is longer than its
    range (``*/90`` in minutes fires only at minute 0): both used to be accepted, and the
    model then never retrained, or retrained hourly, without a word."""
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    values = [
        _field_values(text, what, low, high, names)
        for text, (what, low, high, names) in zip(fields, _FIELDS, strict=True)
    ]
    days, months = values[2], values[3]
    # Vixie cron: with a weekday field of '*' only the day of the month decides.
    if fields[4] == "*" and not any(day <= _MONTH_DAYS[m - 1] for m in months for day in days):
        raise ValueError(f"day of month: no month of {fields[3]!r} has day {fields[2]!r}")


def _field_values(text: str, what: str, low: int, high: int, names: tuple[str, ...]) -> set[int]:
    out: set[int] = set()
    for item in text.lower().split(","):
        match = _ITEM_RE.match(item)
        if match is None or match.group(2) == "0":
            raise ValueError(f"{what}: {item!r} is not a cron item")
        if match.group(1) == "*":
            bounds = [low, high]
        else:
            try:
                bounds = [_value(t, low, high, names) for t in match.group(1).split("-")]
            except ValueError as exc:
                raise ValueError(f"{what}: {exc} is out of {low}-{high}") from None
            if bounds[0] > bounds[-1]:
                raise ValueError(f"{what}: range {item!r} is reversed")
        step = int(match.group(2) or 1)
        start, end = bounds[0], bounds[-1]
        if match.group(2) and len(bounds) == 1 and match.group(1) != "*":
            end = high  # "5/15": from 5 to the end, every 15
        if step > 1 and step > end - start:
            raise ValueError(
                f"{what}: step {step} of {item!r} is longer than its range ({start}-{end}), "
                f"so it means only {start}; write {start}"
            )
        out.update(range(start, end + 1, step))
    return out
