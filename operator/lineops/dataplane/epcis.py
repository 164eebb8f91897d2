"""A line's lots and genealogy over a time window as a GS1 EPCIS 2.0 JSON-LD document.

* A receipt (material lot received in the window) is an ``ObjectEvent``, action ``ADD``,
  bizStep ``receiving``, disposition ``in_progress``, with the lot in ``quantityList`` and
  the supplier as the ``owning_party`` source; the supplier's lot number is the ILMD's
  ``cbvmda:lotNumber``.
* A production lot that ended in the window is a ``TransformationEvent``, bizStep
  ``commissioning``: the lots consumed into it (``inputQuantityList``) and its good output
  (``outputQuantityList``), read point and business location its work unit. A lot still
  open is exported in the window it ends in.
* Spare parts consumed by a maintenance record in the window are a ``TransformationEvent``
  with inputs only (bizStep ``repairing``); the standard wants a ``transformationID`` then,
  and every transformation here carries one.

Identifiers. The lots have no GTIN, so they cannot be LGTINs (``urn:epc:class:lgtin:``);
EPCIS 2.0 lets any URI identify a class of objects, and lineops uses a private URN scheme
(``lineops`` is not a registered URN namespace): ``urn:lineops:lot:<ns>:<line>:<lot>``
for a lot (a class: the lot's quantity is counted in its unit), ``urn:lineops:workunit:
<ns>:<line>:<unit>`` for a work unit, ``urn:lineops:transformation:<ns>:<line>:<lot>``
and ``urn:lineops:maintenance:<ns>:<line>:<id>`` for transformations, and
``urn:lineops:party:<supplier>`` for a supplier. Each part is percent-encoded (RFC 3986
unreserved characters kept). Event ids are name-based UUIDs (``urn:uuid:``, version 5), so
exporting the same window twice gives the same document apart from ``creationDate``.

Quantities: the stored millionths as a decimal number in the record's unit, with the UN/
CEFACT Recommendation 20 code EPCIS wants in ``uom``; a unit without a known code is sent
without ``uom`` and named in the event's ``lineops:units`` extension (class -> unit), never
dropped. Times are stored in UTC, so ``eventTimeZoneOffset`` is ``+00:00``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import Engine, or_, select

from lineops.dataplane.db.tables import consumptions, lots
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories import IN_LIST_SIZE

GS1_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
EXTENSION_CONTEXT: Final = {"lineops": "https://lineops.io/epcis/"}
CONTENT_TYPE: Final = "application/ld+json"
# UN/CEFACT Recommendation 20 codes of the units a line is likely to record.
UOM: Final = {
    "kg": "KGM",
    "g": "GRM",
    "mg": "MGM",
    "t": "TNE",
    "l": "LTR",
    "ml": "MLT",
    "m3": "MTQ",
    "m": "MTR",
    "mm": "MMT",
    "cm": "CMT",
    "m2": "MTK",
    "pcs": "H87",
    "pc": "H87",
    "piece": "H87",
    "pieces": "H87",
    "ea": "EA",
    "each": "EA",
    "unit": "C62",
    "units": "C62",
    "lb": "LBR",
}
_EVENT_IDS: Final = uuid.UUID("6f1d3c62-2b8e-5a8f-9a53-6c0f7f1b6e11")


def _part(text: str) -> str:
    return quote(text, safe="-._~")


def lot_class(line: LineRef, lot: str) -> str:
    return f"urn:lineops:lot:{_part(line.namespace)}:{_part(line.name)}:{_part(lot)}"


def _urn(kind: str, line: LineRef, name: str) -> str:
    return f"urn:lineops:{kind}:{_part(line.namespace)}:{_part(line.name)}:{_part(name)}"


def _identified(line: LineRef, event: dict[str, Any]) -> dict[str, Any]:
    """``event`` with its ``eventID``: a name-based UUID of its content, so the same event
    exported twice has the same id, and an event that changed (a lot's counts corrected, a
    maintenance record's parts split over two windows) has a new one. An id of the lot or
    record alone gave two different events one id: a receiver that drops repeated ids
    kept the first and lost the other."""
    content = json.dumps({k: v for k, v in event.items() if k != "eventID"}, sort_keys=True)
    key = "\x1f".join((line.namespace, line.name, content))
    event["eventID"] = f"urn:uuid:{uuid.uuid5(_EVENT_IDS, key)}"
    return event


def _decimal(micros: int) -> int | float:
    whole, rest = divmod(micros, 1_000_000)
    return whole if rest == 0 else micros / 1_000_000


def _quantity(
    line: LineRef, lot: str, micros: int, unit: str, units: dict[str, str]
) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": lot_class(line, lot), "quantity": _decimal(micros)}
    code = UOM.get(unit.strip().lower())
    if code is None:
        units[element["epcClass"]] = unit
    else:
        element["uom"] = code
    return element


def _when(stamp: str) -> str:
    """A stored UTC time with the ``Z`` suffix EPCIS examples use."""
    return datetime.fromisoformat(stamp).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _with_units(event: dict[str, Any], units: dict[str, str]) -> dict[str, Any]:
    if units:
        event["lineops:units"] = dict(sorted(units.items()))
    return event


def line_has_lots(engine: Engine, line: LineRef) -> bool:
    """Whether the database holds any lot of ``line``: a database knows no lines, so this is
    the one hint that a line name is wrong (a data plane answers 404 for one it does not
    serve)."""
    with engine.connect() as conn:
        found = conn.execute(
            select(lots.c.lot)
            .where(lots.c.namespace == line.namespace, lots.c.line == line.name)
            .limit(1)
        ).first()
    return found is not None


def export(
    engine: Engine, line: LineRef, start: str, end: str, now: datetime | None = None
) -> dict[str, Any]:
    """The EPCISDocument of the events in ``[start, end)`` (UTC ISO 8601 as stored), in
    event-time order."""
    events: list[tuple[datetime, str, dict[str, Any]]] = []
    of_line = (lots.c.namespace == line.namespace, lots.c.line == line.name)
    c = consumptions.c
    of_line_c = (c.namespace == line.namespace, c.line == line.name)
    with engine.connect() as conn:
        receipts = conn.execute(
            select(
                lots.c.lot,
                lots.c.material,
                lots.c.unit,
                lots.c.quantity_micros,
                lots.c.supplier,
                lots.c.supplier_lot,
                lots.c.received_at,
            ).where(
                *of_line,
                lots.c.kind == "material",
                lots.c.received_at >= start,
                lots.c.received_at < end,
            )
        ).all()
        produced = conn.execute(
            select(
                lots.c.lot,
                lots.c.unit,
                lots.c.quantity_micros,
                lots.c.work_unit,
                lots.c.ended_at,
            ).where(
                *of_line,
                lots.c.kind == "production",
                lots.c.ended_at >= start,
                lots.c.ended_at < end,
                # With an output: a lot closed from its readings alone has none yet (it was
                # exported as produced with quantity 0); it is exported once closed with
                # counts.
                or_(lots.c.good.is_not(None), lots.c.quantity_micros > 0),
            )
        ).all()
        inputs: dict[str, list[tuple[str, int, str]]] = {}
        names = [str(r[0]) for r in produced]
        for i in range(0, len(names), IN_LIST_SIZE):
            for row in conn.execute(
                select(c.output_lot, c.input_lot, c.quantity_micros, c.unit)
                .where(*of_line_c, c.output_lot.in_(names[i : i + IN_LIST_SIZE]))
                .order_by(c.output_lot, c.input_lot, c.id)
            ):
                inputs.setdefault(str(row[0]), []).append((str(row[1]), int(row[2]), str(row[3])))
        repairs = conn.execute(
            select(c.maintenance, c.input_lot, c.quantity_micros, c.unit, c.consumed_at)
            .where(
                *of_line_c,
                c.maintenance.is_not(None),
                c.consumed_at >= start,
                c.consumed_at < end,
            )
            .order_by(c.maintenance, c.consumed_at, c.input_lot)
        ).all()
    for lot, material, unit, micros, supplier, supplier_lot, received_at in receipts:
        units: dict[str, str] = {}
        event: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": _when(received_at),
            "eventTimeZoneOffset": "+00:00",
            "eventID": "",
            "action": "ADD",
            "bizStep": "receiving",
            "disposition": "in_progress",
            "quantityList": [_quantity(line, lot, int(micros), unit, units)],
            "ilmd": {"lineops:material": material},
        }
        if supplier_lot is not None:
            event["ilmd"]["cbvmda:lotNumber"] = supplier_lot
        if supplier is not None:
            event["sourceList"] = [
                {"type": "owning_party", "source": f"urn:lineops:party:{_part(supplier)}"}
            ]
        events.append(_entry(line, _with_units(event, units)))
    for lot, unit, micros, work_unit, ended_at in produced:
        units = {}
        event = {
            "type": "TransformationEvent",
            "eventTime": _when(ended_at),
            "eventTimeZoneOffset": "+00:00",
            "eventID": "",
            "transformationID": _urn("transformation", line, lot),
            "bizStep": "commissioning",
            "disposition": "active",
            "inputQuantityList": [
                _quantity(line, name, q, u, units) for name, q, u in inputs.get(lot, [])
            ],
            "outputQuantityList": [_quantity(line, lot, int(micros), unit, units)],
        }
        if work_unit is not None:
            where = {"id": _urn("workunit", line, work_unit)}
            event["readPoint"] = where
            event["bizLocation"] = dict(where)
        events.append(_entry(line, _with_units(event, units)))
    for record, rows in _by_record(repairs):
        units = {}
        event = {
            "type": "TransformationEvent",
            "eventTime": _when(max(r[4] for r in rows)),
            "eventTimeZoneOffset": "+00:00",
            "eventID": "",
            "transformationID": _urn("maintenance", line, record),
            "bizStep": "repairing",
            "inputQuantityList": [
                _quantity(line, str(r[1]), int(r[2]), str(r[3]), units) for r in rows
            ],
        }
        events.append(_entry(line, _with_units(event, units)))
    events.sort(key=lambda e: (e[0], e[1]))  # by instant: "…00.25Z" sorted before "…00Z"
    return {
        "@context": [GS1_CONTEXT, EXTENSION_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": (now or datetime.now(UTC))
        .astimezone(UTC)
        .isoformat()
        .replace("+00:00", "Z"),
        "epcisBody": {"eventList": [e for _, _, e in events]},
    }


def _entry(line: LineRef, event: dict[str, Any]) -> tuple[datetime, str, dict[str, Any]]:
    event = _identified(line, event)
    return datetime.fromisoformat(event["eventTime"]), event["eventID"], event


def _by_record(rows: Iterable[Any]) -> list[tuple[str, list[Any]]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(str(row[0]), []).append(row)
    return sorted(grouped.items())
