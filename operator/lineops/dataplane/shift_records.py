"""Per-shift OEE records as the API spells them (camelCase), and the checks a PUT batch
passes before it is stored: every refusal names the record and field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, Final

from lineops.dataplane.errors import PayloadError
from lineops.dataplane.repositories.shifts import ShiftRecord, utc_text
from lineops.mes.shifts import ShiftOee

MAX_SHIFT_NAME: Final = 63
MAX_RECORDS: Final = 10_000
MAX_SECONDS: Final = 400 * 86_400.0  # far beyond any shift, well inside a float
MAX_COUNT: Final = 2**63 - 1

_FIELDS: Final = {
    "shift": "shift",
    "shiftStart": "shift_start",
    "shiftEnd": "shift_end",
    "plannedBusySeconds": "planned_busy_seconds",
    "runSeconds": "run_seconds",
    "maintenanceSeconds": "maintenance_seconds",
    "total": "total",
    "good": "good",
    "availability": "availability",
    "performance": "performance",
    "quality": "quality",
    "oee": "oee",
    "computedAt": "computed_at",
}
RATIOS: Final = ("availability", "performance", "quality", "oee")


def as_json(record: ShiftRecord) -> dict[str, Any]:
    return {api: getattr(record, name) for api, name in _FIELDS.items()}


def record_of(result: ShiftOee, computed_at: str) -> ShiftRecord:
    """A computed shift (lineops.mes.shifts) as the row the history keeps."""
    return ShiftRecord(
        shift=result.shift.name,
        shift_start=utc_text(result.shift.start),
        shift_end=utc_text(result.shift.end),
        planned_busy_seconds=result.planned_busy_time,
        run_seconds=result.run_time,
        maintenance_seconds=result.maintenance_time,
        total=result.total_count,
        good=result.good_count,
        availability=result.availability,
        performance=result.performance,
        quality=result.quality,
        oee=result.oee,
        computed_at=computed_at,
    )


def parse_time(text: object, where: str) -> datetime:
    if not isinstance(text, str):
        raise PayloadError(where, "expected an ISO 8601 time with a UTC offset")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(where, f"{text[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise PayloadError(where, f"{text[:40]!r} has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before the first UTC year
        raise PayloadError(where, f"{text[:40]!r} is out of range") from None


def _number(value: object, where: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    # bool is an int to Python, never a duration or a ratio here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(where, "expected a number" + (" or null" if optional else ""))
    try:
        number = float(value)
    except OverflowError:  # an int beyond a float
        number = math.inf
    if not math.isfinite(number) or not 0 <= number <= MAX_SECONDS:
        raise PayloadError(where, f"{value!r:.80} is not between 0 and {MAX_SECONDS:g}")
    return number


def _count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise PayloadError(where, "expected a whole number >= 0")
    return value


def _name(value: object, where: str) -> str:
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_SHIFT_NAME
        or "\x00" in value
        or not value.isprintable()
    ):
        raise PayloadError(where, f"expected a shift name of 1 to {MAX_SHIFT_NAME} characters")
    return value


def parse_record(item: object, where: str, computed_at: str) -> ShiftRecord:
    if not isinstance(item, Mapping):
        raise PayloadError(where, "expected an object")
    unknown = sorted(set(item) - set(_FIELDS) - {"computedAt"})
    if unknown:
        raise PayloadError(f"{where}.{unknown[0]}", "unknown field")
    start = parse_time(item.get("shiftStart"), f"{where}.shiftStart")
    end = parse_time(item.get("shiftEnd"), f"{where}.shiftEnd")
    if not start < end:
        raise PayloadError(f"{where}.shiftEnd", "is not after shiftStart")
    total = _count(item.get("total"), f"{where}.total")
    good = _count(item.get("good"), f"{where}.good")
    if good > total:
        raise PayloadError(f"{where}.good", f"{good} exceeds total {total}")
    seconds = {
        name: _number(item.get(name), f"{where}.{name}")
        for name in ("plannedBusySeconds", "runSeconds", "maintenanceSeconds")
    }
    ratios = {name: _number(item.get(name), f"{where}.{name}", optional=True) for name in RATIOS}
    for name in ("availability", "quality"):
        # Shares of a time and of a count; performance (and so OEE) may pass 1 when the
        # ideal cycle time is too long, and is stored as computed.
        value = ratios[name]
        if value is not None and value > 1:
            raise PayloadError(f"{where}.{name}", f"{value:g} is above 1 (a share)")
    return ShiftRecord(
        shift=_name(item.get("shift"), f"{where}.shift"),
        shift_start=utc_text(start),
        shift_end=utc_text(end),
        planned_busy_seconds=seconds["plannedBusySeconds"] or 0.0,
        run_seconds=seconds["runSeconds"] or 0.0,
        maintenance_seconds=seconds["maintenanceSeconds"] or 0.0,
        total=total,
        good=good,
        availability=ratios["availability"],
        performance=ratios["performance"],
        quality=ratios["quality"],
        oee=ratios["oee"],
        computed_at=computed_at,
    )


def parse_batch(payload: object, computed_at: str) -> list[ShiftRecord]:
    """``{"records": [...]}``; the whole batch or nothing (a refusal names the record)."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("records"), list):
        raise PayloadError("records", 'expected {"records": [...]}')
    items = payload["records"]
    if len(items) > MAX_RECORDS:
        raise PayloadError("records", f"more than {MAX_RECORDS} records; send smaller batches")
    records = [parse_record(item, f"records[{i}]", computed_at) for i, item in enumerate(items)]
    starts: dict[str, int] = {}
    for i, record in enumerate(records):
        if record.shift_start in starts:
            raise PayloadError(
                f"records[{i}].shiftStart",
                f"the same shift start as records[{starts[record.shift_start]}]",
            )
        starts[record.shift_start] = i
    # One batch is one layout of shifts: two of them at once would count hours twice.
    by_start = sorted(range(len(records)), key=lambda i: records[i].shift_start)
    for before, after in pairwise(by_start):
        if records[after].shift_start < records[before].shift_end:
            raise PayloadError(f"records[{after}].shiftStart", f"overlaps records[{before}]")
    return records
