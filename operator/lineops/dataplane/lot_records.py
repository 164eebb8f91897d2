"""Posted lot and material records, checked before they reach the repository: ids and names
storable text, times ISO 8601 with an offset (stored in UTC), work units declared by the
line, quantities exact. A quantity is a JSON number or a decimal string and is stored as an
integer of millionths of its unit: the body is decoded with ``Decimal`` for every number,
so ``0.1`` is exactly 100000 micros, and a quantity with more than six decimals is refused
rather than rounded. Every refusal is a :class:`PayloadError` naming the field (422).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.repositories.lots import (
    Consumption,
    Input,
    LotClose,
    Maintenance,
    Material,
    MaterialLot,
    ProductionLot,
    QualityResult,
    WorkOrder,
)

MAX_TEXT: Final = 253
MAX_BIGINT: Final = 2**63 - 1
MAX_INPUTS: Final = 1000
OUTCOMES: Final = ("pass", "fail")
EARLIEST: Final = datetime(1678, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2262, 1, 1, tzinfo=UTC)
MAINTENANCE_KINDS: Final = ("planned", "unplanned")


def _fail(field: str, detail: str) -> PayloadError:
    return PayloadError(field, detail, status=422)


def decode(body: bytes) -> Any:
    """JSON with every non-integer number as an exact ``Decimal``.

    An integer of more digits than Python converts (4,300) is a Decimal too, so it is
    refused as too large by the field it is in (a 422 naming it), not as invalid JSON.
    """
    try:
        return json.loads(body, parse_float=Decimal, parse_int=_integer)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise PayloadError("body", f"not valid JSON ({exc})", status=400) from None


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= 4000 else Decimal(text)


def _object(payload: Any, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """The body as an object of ``keys`` only: another key was dropped without a word, so
    a misspelt "totl" closed a lot with no counts."""
    if not isinstance(payload, Mapping):
        raise _fail("body", "must be a JSON object")
    _known(payload, keys, "")
    return payload


def _known(entry: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in entry if k not in keys)
    if unknown:
        field = f"{where}.{unknown[0]}" if where else unknown[0]
        raise _fail(field[:200], f"unknown field (expected {', '.join(keys)})")


def text(value: Any, field: str, limit: int | None = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(field, "expected a non-empty string")
    if limit is not None and len(value) > limit:
        raise _fail(field, f"longer than {limit} characters")
    if "\x00" in value:
        raise _fail(field, "contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(field, "is not valid Unicode (lone surrogate)") from None
    return value


def _optional_text(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return None if value is None else text(value, key)


def when(value: Any, field: str) -> str:
    """An ISO 8601 time with an offset, as UTC ISO text (stored text orders as instants)."""
    raw = text(value, field, 64)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(field, f"{raw!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise _fail(field, f"{raw!r} has no UTC offset")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:
        raise _fail(field, f"{raw!r} is out of range") from None
    if not EARLIEST <= utc < LATEST:
        # A lot's run is matched against readings, whose times are nanoseconds since 1970
        # (1677..2262): a lot stored beyond them made its sensor-windows a server error.
        raise _fail(field, f"{raw!r} is outside {EARLIEST.year}..{LATEST.year - 1}")
    return utc.isoformat()


def _optional_when(record: Mapping[str, Any], key: str) -> str | None:
    value = record.get(key)
    return None if value is None else when(value, key)


def quantity(value: Any, field: str, *, zero: bool = False) -> int:
    """An exact quantity in micros: > 0 (or >= 0 with ``zero``), at most six decimals."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise _fail(field, "expected a decimal number (or a decimal string)")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise _fail(field, f"{value!r:.40} is not a decimal number") from None
    if not number.is_finite():
        raise _fail(field, f"{value!r:.40} is not finite")
    # From the digits, not by arithmetic: Decimal arithmetic rounds to 28 digits, which would
    # let "1.0000000000000000000000000001" pass as 1.
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    kept = list(digits)
    while len(kept) > 1 and kept[-1] == 0 and exponent < -6:
        kept.pop()
        exponent += 1
    if exponent < -6 and any(kept):
        raise _fail(field, f"{value!r:.40} has more than 6 decimals")
    if any(kept) and len(kept) + exponent + 6 > len(str(MAX_BIGINT)):
        raise _fail(field, f"{value!r:.40} is too large")
    magnitude = int("".join(map(str, kept))) if any(kept) else 0
    whole = (-1 if sign else 1) * (magnitude * 10 ** (exponent + 6) if exponent >= -6 else 0)
    if whole < 0 or (whole == 0 and not zero):
        raise _fail(field, f"{value!r:.40} must be {'>= 0' if zero else 'positive'}")
    if whole > MAX_BIGINT:
        raise _fail(field, f"{value!r:.40} is too large")
    return whole


def _optional_quantity(record: Mapping[str, Any], key: str) -> int | None:
    value = record.get(key)
    return None if value is None else quantity(value, key, zero=True)


def _work_unit(spec: ProductionLineSpec, value: Any, field: str) -> str:
    name = text(value, field)
    if spec.work_unit(name) is None:
        raise _fail(field, f"{name!r} is not a work unit of the line")
    return name


def _choice(value: Any, field: str, allowed: tuple[str, ...]) -> str:
    choice = text(value, field)
    if choice not in allowed:
        raise _fail(field, f"{choice!r} is not one of {', '.join(allowed)}")
    return choice


def _plain(value: Any) -> Any:
    """Decoded JSON back to plain JSON values: a ``Decimal`` (how every number with a
    fraction was decoded) as the float it denotes."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _json_object(value: Any, field: str) -> str:
    if not isinstance(value, Mapping):
        raise _fail(field, "expected a JSON object")
    try:
        return json.dumps(_plain(value), sort_keys=True, allow_nan=False)
    except (ValueError, RecursionError) as exc:
        raise _fail(field, f"not storable JSON ({exc})") from None


def _not_before(start: str, end: str | None, field: str) -> None:
    if end is not None and end < start:
        raise _fail(field, f"{end} is before the start {start}")


def receipt(payload: Any) -> MaterialLot:
    r = _object(
        payload,
        (
            "lot",
            "material",
            "unit",
            "quantity",
            "supplier",
            "supplierLot",
            "receivedAt",
            "expectedAt",
        ),
    )
    received = when(r.get("receivedAt"), "receivedAt")
    return MaterialLot(
        lot=text(r.get("lot"), "lot"),
        material=text(r.get("material"), "material"),
        unit=text(r.get("unit"), "unit", 32),
        quantity_micros=quantity(r.get("quantity"), "quantity"),
        supplier=text(r.get("supplier"), "supplier"),
        supplier_lot=text(r.get("supplierLot"), "supplierLot"),
        received_at=received,
        expected_at=_optional_when(r, "expectedAt"),
    )


def work_order(payload: Any) -> WorkOrder:
    r = _object(payload, ("workOrder", "product", "quantity", "unit", "due", "status"))
    return WorkOrder(
        work_order=text(r.get("workOrder"), "workOrder"),
        product=text(r.get("product"), "product"),
        quantity_micros=quantity(r.get("quantity"), "quantity"),
        unit=text(r.get("unit", "pcs"), "unit", 32),
        due=_optional_when(r, "due"),
        status=_choice(r.get("status", "released"), "status", ("released", "closed")),
    )


def _counts(r: Mapping[str, Any]) -> tuple[int | None, int | None, int | None]:
    total, good, scrap = (_optional_quantity(r, k) for k in ("total", "good", "scrap"))
    if total is not None and good is not None and good > total:
        raise _fail("good", "exceeds total")
    if total is not None and good is not None and scrap is not None and good + scrap > total:
        raise _fail("scrap", "good + scrap exceed total")
    if total is not None and scrap is not None and scrap > total:
        raise _fail("scrap", "exceeds total")
    return total, good, scrap


def production_lot(spec: ProductionLineSpec, payload: Any) -> ProductionLot:
    r = _object(
        payload,
        (
            "lot",
            "product",
            "workUnit",
            "start",
            "end",
            "unit",
            "workOrder",
            "recipe",
            "total",
            "good",
            "scrap",
        ),
    )
    start = when(r.get("start"), "start")
    end = _optional_when(r, "end")
    _not_before(start, end, "end")
    total, good, scrap = _counts(r)
    if end is None and (total, good, scrap) != (None, None, None):
        raise _fail("end", "counts (total, good, scrap) are given when the lot ends")
    recipe = r.get("recipe")
    return ProductionLot(
        lot=text(r.get("lot"), "lot"),
        material=text(r.get("product"), "product"),
        work_unit=_work_unit(spec, r.get("workUnit"), "workUnit"),
        started_at=start,
        unit=text(r.get("unit", "pcs"), "unit", 32),
        work_order=_optional_text(r, "workOrder"),
        recipe=None if recipe is None else _json_object(recipe, "recipe"),
        ended_at=end,
        total=total,
        good=good,
        scrap=scrap,
    )


def lot_close(payload: Any) -> LotClose:
    r = _object(payload, ("end", "total", "good", "scrap"))
    total, good, scrap = _counts(r)
    return LotClose(ended_at=when(r.get("end"), "end"), total=total, good=good, scrap=scrap)


def consumption(payload: Any) -> Consumption:
    r = _object(payload, ("consumption", "inputs", "consumedAt", "outputLot", "maintenance"))
    output, repair = r.get("outputLot"), r.get("maintenance")
    if (output is None) == (repair is None):
        raise _fail("outputLot", "give exactly one of outputLot and maintenance")
    items = r.get("inputs")
    if not isinstance(items, list) or not items:
        raise _fail("inputs", "expected a non-empty list of {lot, quantity, unit}")
    if len(items) > MAX_INPUTS:
        raise _fail("inputs", f"more than {MAX_INPUTS} inputs")
    inputs: list[Input] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"inputs[{i}]"
        if not isinstance(item, Mapping):
            raise _fail(where, "expected an object {lot, quantity, unit}")
        _known(item, ("lot", "quantity", "unit"), where)
        lot = text(item.get("lot"), f"{where}.lot")
        if lot in seen:
            raise _fail(f"{where}.lot", f"{lot!r} is listed twice; give its total once")
        seen.add(lot)
        inputs.append(
            Input(
                lot,
                quantity(item.get("quantity"), f"{where}.quantity"),
                text(item.get("unit"), f"{where}.unit", 32),
            )
        )
    return Consumption(
        consumption=text(r.get("consumption"), "consumption"),
        inputs=tuple(inputs),
        consumed_at=when(r.get("consumedAt"), "consumedAt"),
        output_lot=None if output is None else text(output, "outputLot"),
        maintenance=None if repair is None else text(repair, "maintenance"),
    )


def quality_result(payload: Any) -> QualityResult:
    r = _object(payload, ("result", "lot", "inspection", "outcome", "measurements", "inspectedAt"))
    return QualityResult(
        result=text(r.get("result"), "result"),
        lot=text(r.get("lot"), "lot"),
        inspection=text(r.get("inspection"), "inspection"),
        outcome=_choice(r.get("outcome"), "outcome", OUTCOMES),
        measurements=_json_object(r.get("measurements", {}), "measurements"),
        inspected_at=when(r.get("inspectedAt"), "inspectedAt"),
    )


def maintenance(spec: ProductionLineSpec, payload: Any) -> Maintenance:
    r = _object(payload, ("maintenance", "workUnit", "kind", "reason", "start", "end"))
    start = when(r.get("start"), "start")
    end = _optional_when(r, "end")
    _not_before(start, end, "end")
    reason = r.get("reason", "")
    if not isinstance(reason, str):
        raise _fail("reason", "expected a string")
    if reason:
        text(reason, "reason", None)
    return Maintenance(
        maintenance=text(r.get("maintenance"), "maintenance"),
        work_unit=_work_unit(spec, r.get("workUnit"), "workUnit"),
        kind=_choice(r.get("kind"), "kind", MAINTENANCE_KINDS),
        reason=reason,
        start=start,
        end=end,
    )


def material(payload: Any, name: str | None = None) -> Material:
    """A material's unit and low-stock threshold; ``name`` from the path (PUT), else the
    body's ``material``."""
    r = _object(payload, ("material", "unit", "lowStock"))
    threshold = r.get("lowStock")
    return Material(
        material=text(name, "path.material") if name else text(r.get("material"), "material"),
        unit=text(r.get("unit"), "unit", 32),
        low_stock_micros=None if threshold is None else quantity(threshold, "lowStock", zero=True),
    )
