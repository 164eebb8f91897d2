"""A posted production plan (the document ``lineops plan --json`` prints), checked before it
is stored: every operation on a work unit the line declares, times ISO 8601 with an offset,
no operation ending before it starts. A plan is stored whole or refused whole (a 422 naming
the field): half a plan would mislead the shop floor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise
from typing import Any, Final

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.json_paths import non_finite_path
from lineops.dataplane.repositories.plans import StoredPlan
from lineops.planning.schedule import Method

METHODS: Final = tuple(method.value for method in Method)  # mwkr was refused (422)
MAX_TEXT: Final = 253
MAX_BIGINT: Final = 2**63 - 1
Row = tuple[str, int, str, datetime, datetime]  # order, index, work unit, start, end


def _fail(field: str, detail: str) -> PayloadError:
    return PayloadError(field, detail, status=422)


def _text(value: Any, field: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(field, "expected a non-empty string")
    if len(value) > limit:
        raise _fail(field, f"longer than {limit} characters")
    if "\x00" in value:
        raise _fail(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(field, "is not valid Unicode (lone surrogate)") from None
    return value


def _time(value: Any, field: str) -> datetime:
    text = _text(value, field, 64)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(field, f"{text!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise _fail(field, f"{text!r} has no UTC offset")
    return when


def _whole(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_BIGINT:
        raise _fail(field, "expected a whole number >= 0")
    return value


def _row(spec: ProductionLineSpec, row: Any, field: str) -> Row:
    if not isinstance(row, Mapping):
        raise _fail(field, "expected an object")
    order = _text(row.get("order"), f"{field}.order")
    index = _whole(row.get("index"), f"{field}.index")
    return (order, index, *_on_unit(spec, row, field))


def _on_unit(
    spec: ProductionLineSpec, entry: Mapping[str, Any], field: str
) -> tuple[str, datetime, datetime]:
    """(work unit, start, end) of a schedule row or a blocked window: a work unit of the
    line, times with an offset, the end not before the start."""
    unit = _text(entry.get("workUnit"), f"{field}.workUnit")
    if spec.work_unit(unit) is None:
        raise _fail(f"{field}.workUnit", f"{unit!r} is not a work unit of the line")
    start = _time(entry.get("start"), f"{field}.start")
    end = _time(entry.get("end"), f"{field}.end")
    if end < start:
        raise _fail(f"{field}.end", "before start")
    return unit, start, end


def _blocked(spec: ProductionLineSpec, payload: Mapping[str, Any]) -> None:
    """``blocked`` (optional): windows on work units of the line, with offsets. The line's
    monitor reads them for its next maintenance window; a plan with a window without a
    work unit, or a naive time, was stored and then stopped the monitor on every tick."""
    windows = payload.get("blocked")
    if windows is None:
        return
    if not isinstance(windows, list):
        raise _fail("blocked", "expected a list of {workUnit, start, end, reason}")
    for i, window in enumerate(windows):
        field = f"blocked[{i}]"
        if not isinstance(window, Mapping):
            raise _fail(field, "expected an object")
        _on_unit(spec, window, field)
        reason = window.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise _fail(f"{field}.reason", "expected a string")


def _late_orders(payload: Mapping[str, Any]) -> None:
    """``lateOrders`` (optional), a list of order ids. Not trusted: the stored count comes
    from ``tardiness``, and the line's status reads that count (it counted this list, so
    "lateOrders": 5 stopped the line's monitor)."""
    listed = payload.get("lateOrders")
    if listed is not None and (
        not isinstance(listed, list) or not all(isinstance(o, str) for o in listed)
    ):
        raise _fail("lateOrders", "expected a list of order ids")


def _consistent(rows: list[Row], start: datetime, end: datetime) -> None:
    """A schedule a plan could be: each operation once, within the plan's span, one at a
    time per work unit. (A plan holding an operation twice, overlapping itself, or rows
    outside its own span was stored as it came.)"""
    seen: dict[tuple[str, int], int] = {}
    for i, (order, index, _, row_start, row_end) in enumerate(rows):
        if (order, index) in seen:
            raise _fail(
                f"schedule[{i}]",
                f"order {order} operation {index} is already in schedule[{seen[order, index]}]",
            )
        seen[order, index] = i
        if row_start < start or row_end > end:
            raise _fail(f"schedule[{i}]", "outside the plan's start..end")
    # Along a routing, an operation starts once the one before it ended (operation 1
    # before operation 0 was stored).
    by_order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][1]))
    for before, after in pairwise(by_order):
        if rows[before][0] == rows[after][0] and rows[after][3] < rows[before][4]:
            raise _fail(
                f"schedule[{after}]",
                f"order {rows[after][0]} operation {rows[after][1]} starts before operation "
                f"{rows[before][1]} (schedule[{before}]) ends",
            )
    by_unit = sorted(range(len(rows)), key=lambda i: (rows[i][2], rows[i][3], rows[i][4]))
    for before, after in pairwise(by_unit):
        if rows[before][2] == rows[after][2] and rows[after][3] < rows[before][4]:
            raise _fail(
                f"schedule[{after}]",
                f"overlaps schedule[{before}] on {rows[after][2]}",
            )


def parse_plan(spec: ProductionLineSpec, payload: Any, created_at: str) -> StoredPlan:
    """The plan to store, or PayloadError (422) naming the first bad field."""
    if not isinstance(payload, Mapping):
        raise PayloadError("body", "expected a plan object", status=422)
    method = payload.get("method")
    if method not in METHODS:
        raise _fail("method", f"expected one of {', '.join(METHODS)}")
    status = _text(payload.get("status"), "status", 128)
    start, end = payload.get("start"), payload.get("end")
    plan_start, plan_end = _time(start, "start"), _time(end, "end")
    if plan_end < plan_start:
        raise _fail("end", "before start")
    schedule = payload.get("schedule")
    if not isinstance(schedule, list):
        raise _fail("schedule", "expected a list of operations")
    rows = [_row(spec, row, f"schedule[{i}]") for i, row in enumerate(schedule)]
    _consistent(rows, plan_start, plan_end)
    _blocked(spec, payload)
    orders = {row[0] for row in rows}
    tardiness = payload.get("tardiness")
    if not isinstance(tardiness, Mapping):
        raise _fail("tardiness", "expected an object: order -> seconds late")
    late_orders: set[str] = set()
    for order, seconds in tardiness.items():
        if _whole(seconds, f"tardiness.{_text(order, 'tardiness')}") > 0:
            late_orders.add(order)
        if order not in orders:
            raise _fail(f"tardiness.{order}", "not an order of the schedule")
    late = len(late_orders)
    _late_orders(payload)
    weighted = _whole(payload.get("weightedTardiness"), "weightedTardiness")
    if (weighted > 0) != (late > 0):
        raise _fail("weightedTardiness", f"{weighted} with {late} order(s) late in tardiness")
    total = sum(int(seconds) for seconds in tardiness.values())
    if weighted < total:  # every priority weight is a whole number >= 1
        raise _fail("weightedTardiness", f"{weighted} is below the sum of tardiness, {total} s")
    try:
        # ensure_ascii escapes NUL and lone surrogates in the free-form parts (notes,
        # reasons), so any JSON the checks let through is storable text; allow_nan=False
        # because a NaN stored here made every later GET of the plans invalid JSON.
        document = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise _fail(non_finite_path(payload, ""), "NaN or Infinity is not a JSON number") from None
    beyond = non_finite_path(payload, "")
    if beyond:  # an integer no float holds (10**400): stored, then unreadable elsewhere
        raise _fail(beyond, "a number beyond the range of a float")
    return StoredPlan(
        created_at=created_at,
        method=str(method),
        status=status,
        # Normalised: any ISO 8601 form was accepted ("2026-12-10 20:23:21+01:00", no
        # seconds), and the line's status, which takes RFC 3339 only, failed on every tick.
        start=plan_start.isoformat(),
        end=plan_end.isoformat(),
        weighted_tardiness=weighted,
        late_orders=late,
        document=document,
    )
