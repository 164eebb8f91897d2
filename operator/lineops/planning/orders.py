"""The order book a planner gives: products with routings, work orders, changeovers and
maintenance, read from a mapping (a YAML or JSON file) against a ProductionLine.

Times are ISO 8601; one without an offset is local to the line's schedule time zone, like
its shift times. Processing time per unit comes from the routing (``cycleTime`` or
``ratePerHour``) or else from the work unit's ``idealCycleTime``. Every error names the
order, product or entry it is in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

from lineops.api.productionline import ProductionLine
from lineops.api.quantities import parse_duration
from lineops.planning.calendar import OFF_SHIFT, after, between, maintenance_before, off_shift
from lineops.planning.errors import PlanningInputError
from lineops.planning.problem import Alternative, Job, Operation, Problem, Window
from lineops.planning.validate import MAX_TIME

DEFAULT_HORIZON = timedelta(days=14)
MAX_NUMBER = 1e15  # quantities and rates; far beyond any order, and exact as a float
ANY_PRODUCT = "*"


@dataclass(frozen=True)
class OrderBook:
    """A problem in seconds from ``origin``, and how to turn its times back into dates."""

    problem: Problem
    origin: datetime

    def at(self, seconds: int) -> datetime:
        return after(self.origin, timedelta(seconds=seconds))

    def seconds(self, when: datetime) -> int:
        return between(self.origin, when)


# The keys each part of an order book may have: any other was ignored without a word
# (``horizion: 1d`` planned 14 days; ``priorty: 5`` planned priority 1).
BOOK_KEYS = ("start", "horizon", "products", "orders", "changeovers", "maintenance")
PRODUCT_KEYS = ("name", "routing")
STEP_KEYS = ("workUnits",)
UNIT_KEYS = ("name", "cycleTime", "ratePerHour")
ORDER_KEYS = ("id", "product", "quantity", "release", "due", "priority", "after")
MAINTENANCE_KEYS = ("workUnit", "reason", "start", "end", "predictedFailure", "duration", "lead")
CHANGEOVER_KEYS = ("workUnit", "from", "to", "time")


def _known(entry: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    unknown = sorted(str(k) for k in entry if k not in keys)
    if unknown:
        raise PlanningInputError(where, f"unknown key {unknown[0]!r} (expected {', '.join(keys)})")


def order_book(
    data: Mapping[str, Any], line: ProductionLine, *, horizon: timedelta | None = None
) -> OrderBook:
    zone = ZoneInfo(line.spec.schedule.timezone if line.spec.schedule else "UTC")
    _known(data, BOOK_KEYS, "order book")
    orders = _list(data, "orders", "order book")
    if not orders:
        raise PlanningInputError("orders", "the order book has no orders")
    products = _products(_list(data, "products", "order book"), line)
    parsed = [_order(i, o, products, zone) for i, o in enumerate(orders)]
    origin = (
        _time(data["start"], "start", zone)
        if data.get("start") is not None
        else min(release for _, release, _ in parsed)
    ).astimezone(zone)  # the plan's times on the line's clock, whatever offset start had
    # Whole seconds, as every time of the plan is: a start at .7 s (datetime.now() in a
    # script) put every window and start 0.3 s early, before the shift they were kept from.
    origin = origin.replace(microsecond=0)
    if horizon is None:
        text = data.get("horizon")
        horizon = DEFAULT_HORIZON if text is None else duration(text, "horizon")
    try:
        end = after(origin, horizon)
    except OverflowError:
        raise PlanningInputError("horizon", "the plan would end after year 9999") from None

    def book_seconds(when: datetime, up: bool = False) -> int:
        return between(origin, when, up=up)

    units = tuple(unit.name for unit in line.spec.work_units)
    jobs = []
    for (job, release, due), raw in zip(parsed, orders, strict=True):
        where = f"order {job.name}"
        if release < origin:
            raise PlanningInputError(
                where, f"release {release.isoformat()} is before the plan start"
            )
        # Up, as the release is: a due in the release's second (fractions allowed) was a
        # second before it once the release went up.
        due_s = None if due is None else book_seconds(due, up=True)
        jobs.append(
            Job(
                name=job.name,
                operations=job.operations,
                product=job.product,
                release=book_seconds(release, up=True),
                due=due_s,
                weight=job.weight,
                after=_names(raw.get("after", []), f"{where}: after"),
            )
        )
    blocked = [
        Window(unit, book_seconds(start), book_seconds(finish, up=True), OFF_SHIFT)
        for start, finish in off_shift(line.spec.schedule, origin, end)
        for unit in units
    ]
    for index, entry in enumerate(_list(data, "maintenance", "order book")):
        blocked.append(_maintenance(index, entry, units, zone, book_seconds))
    changeovers = _changeovers(_list(data, "changeovers", "order book"), units, products)
    problem = Problem(
        jobs=tuple(jobs),
        work_units=units,
        blocked=tuple(blocked),
        changeovers=changeovers,
        horizon=book_seconds(end),
    )
    return OrderBook(problem, origin)


@dataclass(frozen=True)
class _Step:
    units: tuple[tuple[str, float], ...]  # (work unit, seconds per unit)


def _products(entries: Sequence[Any], line: ProductionLine) -> dict[str, tuple[_Step, ...]]:
    products: dict[str, tuple[_Step, ...]] = {}
    for index, entry in enumerate(entries):
        where = f"products[{index}]"
        if not isinstance(entry, Mapping):
            raise PlanningInputError(where, "expected a mapping with name and routing")
        name = _text(entry.get("name"), f"{where}: name")
        where = f"product {name}"
        _known(entry, PRODUCT_KEYS, where)
        if name in products:
            raise PlanningInputError(where, "defined twice")
        routing = entry.get("routing")
        if not isinstance(routing, list) or not routing:
            raise PlanningInputError(where, "routing must be a non-empty list of operations")
        products[name] = tuple(
            _step(f"{where}, operation {i}", step, line) for i, step in enumerate(routing)
        )
    return products


def _step(where: str, step: Any, line: ProductionLine) -> _Step:
    if (
        not isinstance(step, Mapping)
        or not isinstance(step.get("workUnits"), list)
        or not step["workUnits"]
    ):
        raise PlanningInputError(
            where, "expected workUnits: a non-empty list of eligible work units"
        )
    _known(step, STEP_KEYS, where)
    units = []
    for item in step["workUnits"]:
        spec = {"name": item} if isinstance(item, str) else item
        if not isinstance(spec, Mapping):
            raise PlanningInputError(where, f"work unit {item!r}: expected a name or a mapping")
        name = _text(spec.get("name"), f"{where}: work unit name")
        _known(spec, UNIT_KEYS, f"{where}: {name}")
        unit = line.spec.work_unit(name)
        if unit is None:
            known = ", ".join(u.name for u in line.spec.work_units)
            raise PlanningInputError(
                where, f"unknown work unit {name!r} (line {line.metadata.name} has {known})"
            )
        if spec.get("cycleTime") is not None and spec.get("ratePerHour") is not None:
            raise PlanningInputError(where, f"{name}: give cycleTime or ratePerHour, not both")
        if spec.get("cycleTime") is not None:
            seconds = duration(spec["cycleTime"], f"{where}: {name}: cycleTime").total_seconds()
        elif spec.get("ratePerHour") is not None:
            rate = _number(spec["ratePerHour"], f"{where}: {name}: ratePerHour")
            if rate <= 0:
                raise PlanningInputError(
                    where, f"{name}: ratePerHour must be positive, got {rate:g}"
                )
            seconds = 3600.0 / rate
        else:
            seconds = unit.ideal_cycle_seconds
        if seconds <= 0:
            raise PlanningInputError(where, f"{name}: the time per unit must be positive")
        if seconds > MAX_TIME:  # a rate near zero: the operation would never end
            raise PlanningInputError(
                where, f"{name}: the time per unit is beyond the limit of {MAX_TIME} s"
            )
        units.append((name, seconds))
    return _Step(tuple(units))


def _order(
    index: int, entry: Any, products: Mapping[str, tuple[_Step, ...]], zone: ZoneInfo
) -> tuple[Job, datetime, datetime | None]:
    if not isinstance(entry, Mapping):
        raise PlanningInputError(f"orders[{index}]", "expected a mapping")
    name = _text(entry.get("id"), f"orders[{index}]: id")
    where = f"order {name}"
    _known(entry, ORDER_KEYS, where)
    product = _text(entry.get("product"), f"{where}: product")
    if product not in products:
        raise PlanningInputError(where, f"unknown product {product!r}")
    quantity = _number(entry.get("quantity"), f"{where}: quantity")
    if quantity <= 0 or quantity != int(quantity):
        raise PlanningInputError(
            where, f"quantity must be a positive whole number, got {quantity:g}"
        )
    release = _time(entry.get("release"), f"{where}: release", zone)
    due = None if entry.get("due") is None else _time(entry["due"], f"{where}: due", zone)
    if due is not None and due < release:
        raise PlanningInputError(
            where, f"due {due.isoformat()} is before release {release.isoformat()}"
        )
    weight = entry.get("priority", 1)
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        raise PlanningInputError(where, f"priority must be a whole number >= 1, got {weight!r}")
    for i, step in enumerate(products[product]):
        for unit, seconds in step.units:
            if quantity * seconds > MAX_TIME:  # math.ceil(inf) was a traceback
                raise PlanningInputError(
                    f"{where}, operation {i}",
                    f"{quantity:g} units on {unit} take {quantity * seconds:g} s, beyond the "
                    f"limit of {MAX_TIME} s",
                )
    operations = tuple(
        Operation(
            tuple(Alternative(unit, _seconds(quantity, seconds)) for unit, seconds in step.units)
        )
        for step in products[product]
    )
    return Job(name=name, operations=operations, product=product, weight=weight), release, due


def _seconds(quantity: float, per_unit: float) -> int:
    """Whole seconds for ``quantity`` units, up; rounded to the microsecond first, as a rate
    from a duration is exact to it: 12000 x 1.1 s is 13200.000000000002 in floats, and went
    up to 13201 s."""
    exact = quantity * per_unit
    # At least a second for any work: a rate of 1e10 per hour rounded to 0 s, an operation
    # the checker treats as taking no time.
    return max(math.ceil(round(exact, 6)), 1 if exact > 0 else 0)


def _maintenance(
    index: int,
    entry: Any,
    units: Sequence[str],
    zone: ZoneInfo,
    seconds: Callable[[datetime, bool], int],
) -> Window:
    where = f"maintenance[{index}]"
    if not isinstance(entry, Mapping):
        raise PlanningInputError(where, "expected a mapping")
    _known(entry, MAINTENANCE_KEYS, where)
    unit = _text(entry.get("workUnit"), f"{where}: workUnit")
    if unit not in units:
        raise PlanningInputError(where, f"unknown work unit {unit!r}")
    reason = _text(entry.get("reason"), f"{where}: reason")
    if entry.get("predictedFailure") is not None:
        both = [k for k in ("start", "end") if entry.get(k) is not None]
        if both:  # one of the two ways was dropped without a word
            raise PlanningInputError(
                where,
                f"give predictedFailure (with duration, lead) or start and end, not {both[0]} too",
            )
        failure = _time(entry["predictedFailure"], f"{where}: predictedFailure", zone)
        length = duration(entry.get("duration"), f"{where}: duration")
        lead = duration(entry.get("lead", "0s"), f"{where}: lead")
        try:
            start, end = maintenance_before(failure, length, lead)
        except OverflowError:  # a failure predicted near year 1
            raise PlanningInputError(where, "the window falls before year 1") from None
    else:
        start = _time(entry.get("start"), f"{where}: start", zone)
        end = _time(entry.get("end"), f"{where}: end", zone)
    if end <= start:
        raise PlanningInputError(where, "end is not after start")
    return Window(unit, seconds(start, False), seconds(end, True), reason)


def _changeovers(
    entries: Sequence[Any], units: Sequence[str], products: Mapping[str, Any]
) -> dict[tuple[str, str, str], int]:
    """Changeover times per (work unit, from, to); ``from``/``to`` default to any product,
    and a specific pair overrides a wildcard whatever the order of the entries."""
    # (unit, from, to) -> (specificity, seconds, entry, a later entry as specific with
    # another time)
    found: dict[tuple[str, str, str], tuple[int, int, int, int | None]] = {}
    rules: dict[tuple[str, str, str], int] = {}
    for index, entry in enumerate(entries):
        where = f"changeovers[{index}]"
        if not isinstance(entry, Mapping):
            raise PlanningInputError(where, "expected a mapping")
        _known(entry, CHANGEOVER_KEYS, where)
        unit = _text(entry.get("workUnit"), f"{where}: workUnit")
        if unit not in units:
            raise PlanningInputError(where, f"unknown work unit {unit!r}")
        sides = []
        for side in ("from", "to"):
            name = entry.get(side, ANY_PRODUCT)
            if name != ANY_PRODUCT and _text(name, f"{where}: {side}") not in products:
                raise PlanningInputError(where, f"{side}: unknown product {name!r}")
            sides.append([name] if name != ANY_PRODUCT else list(products))
        # Up, as processing times are: 500ms was rounded to no changeover at all.
        time = math.ceil(duration(entry.get("time"), f"{where}: time").total_seconds())
        specific = sum(entry.get(side, ANY_PRODUCT) != ANY_PRODUCT for side in ("from", "to"))
        if specific == 2 and sides[0] == sides[1]:
            raise PlanningInputError(
                where,
                f"from and to are both {sides[0][0]!r}: no changeover between the same product",
            )
        rule = (unit, str(entry.get("from", ANY_PRODUCT)), str(entry.get("to", ANY_PRODUCT)))
        if rule in rules:  # the last one won without a word
            raise PlanningInputError(where, f"the same changeover as changeovers[{rules[rule]}]")
        rules[rule] = index
        for before in sides[0]:
            for next_product in sides[1]:
                key = (unit, before, next_product)
                if before == next_product:
                    continue
                if key not in found or found[key][0] < specific:
                    found[key] = (specific, time, index, None)
                elif found[key][0] == specific and found[key][1] != time:
                    found[key] = (*found[key][:3], index)
    for (unit, before, next_product), (_, _, first, other) in found.items():
        if other is not None:
            # {from: a} and {to: b} both cover a -> b, none more specific: the later one won,
            # so the plan changed with the order of the entries.
            raise PlanningInputError(
                f"changeovers[{other}]",
                f"overlaps changeovers[{first}] from {before!r} to {next_product!r} on {unit} "
                f"with another time; give that pair a changeover with both from and to",
            )
    return {key: time for key, (_, time, _, _) in found.items()}


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise PlanningInputError(where, f"{key} must be a list")
    return value


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanningInputError(where, "expected a list of order ids")
    return tuple(value)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise PlanningInputError(where, f"expected a non-empty string, got {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlanningInputError(where, f"expected a number, got {value!r:.80}")
    try:
        number = float(value)  # an int beyond a float: OverflowError (was a traceback)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise PlanningInputError(
            where, f"expected a number within ±{MAX_NUMBER:g}, got {value!r:.80}"
        )
    return number


def duration(value: Any, where: str) -> timedelta:
    """A duration such as 90m or 1h30m within MAX_TIME; errors name ``where``."""
    if not isinstance(value, str):
        raise PlanningInputError(where, f"expected a duration such as 90m or 1h30m, got {value!r}")
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise PlanningInputError(where, str(exc)) from None
    if seconds > MAX_TIME:
        raise PlanningInputError(where, f"{value} is beyond the limit of {MAX_TIME} s")
    return timedelta(seconds=seconds)


def _time(value: Any, where: str, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):  # YAML reads unquoted timestamps as datetimes
        when = value
    elif isinstance(value, date):  # and an unquoted date as a date: its local midnight
        when = datetime.combine(value, dt_time())
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise PlanningInputError(where, f"{value!r} is not an ISO 8601 time") from None
    else:
        raise PlanningInputError(where, f"expected an ISO 8601 time, got {value!r}")
    return when.replace(tzinfo=zone) if when.tzinfo is None else when
