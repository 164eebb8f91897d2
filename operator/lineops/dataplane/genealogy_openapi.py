"""The genealogy read routes (:mod:`lineops.dataplane.genealogy_api`) in the OpenAPI
document: paths only, merged into :func:`lineops.dataplane.openapi.openapi_document`."""

from __future__ import annotations

from typing import Any, Final

LINE: Final = "/v1/namespaces/{namespace}/lines/{line}"
_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 253}
_TIME = {"type": "string", "description": "ISO 8601; no offset means UTC"}
_DEPTH = {"type": "integer", "minimum": 1, "maximum": 1000}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PARAMETERS: Final = [
    {"name": "namespace", "in": "path", "required": True, "schema": _NAME},
    {"name": "line", "in": "path", "required": True, "schema": _NAME},
]
_LOT_PARAMETER: Final = {"name": "lot", "in": "path", "required": True, "schema": _TEXT}
_ERRORS: Final = {
    "400": {"description": "a query parameter is malformed (field names it)", "content": _PROBLEM},
    "401": {"description": "no valid bearer token (when auth is on)", "content": _PROBLEM},
    "404": {
        "description": "line not served, or an unknown lot, supplier lot, maintenance record "
        "or characteristic (field names it)",
        "content": _PROBLEM,
    },
}

_LOT = {
    "type": "object",
    "properties": {
        "lot": {"type": "string"},
        "kind": {"enum": ["material", "production"]},
        "material": {"type": "string"},
        "quantity": {"type": "string", "description": "exact decimal"},
        "unit": {"type": "string"},
        "status": {"type": "string"},
        "supplier": {"type": "string"},
        "supplierLot": {"type": "string"},
        "receivedAt": {"type": "string"},
        "workOrder": {"type": "string"},
        "workUnit": {"type": "string"},
        "startedAt": {"type": "string"},
        "endedAt": {"type": "string"},
    },
    "required": ["lot", "kind", "material", "quantity", "unit", "status"],
}
_MAINTENANCE = {
    "type": "object",
    "properties": {
        "maintenance": {"type": "string"},
        "workUnit": {"type": "string"},
        "kind": {"enum": ["planned", "unplanned"]},
        "reason": {"type": "string"},
        "start": {"type": "string"},
        "end": {"type": ["string", "null"]},
    },
    "required": ["maintenance", "workUnit", "kind", "start"],
}
_TRACE = {
    "type": "object",
    "properties": {
        "direction": {"enum": ["backward", "forward"]},
        "starts": {"type": "array", "items": {"type": "string"}},
        "depth": {"type": ["integer", "null"]},
        "truncated": {"type": "boolean", "description": "the depth bound cut edges off"},
        "edges": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "consumption": {"type": "string"},
                    "inputLot": {"type": "string"},
                    "outputLot": {"type": ["string", "null"]},
                    "maintenance": {"type": ["string", "null"]},
                    "quantity": {"type": "string"},
                    "unit": {"type": "string"},
                    "consumedAt": {"type": "string"},
                    "depth": {"type": "integer", "minimum": 1},
                },
            },
        },
        "lots": {"type": "object", "additionalProperties": _LOT},
        "cycles": {
            "type": "array",
            "description": "cycles found in the recorded genealogy, each a, b, ..., a",
            "items": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["direction", "starts", "depth", "truncated", "edges", "lots", "cycles"],
}


def _query(
    name: str, schema: dict[str, Any], description: str = "", *, required: bool = False
) -> dict[str, Any]:
    out = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        out["description"] = description
    return out


def _get(
    summary: str,
    query: list[dict[str, Any]],
    schema: dict[str, Any],
    *,
    lot: bool = False,
    media: str = "application/json",
) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": [*_PARAMETERS, *([_LOT_PARAMETER] if lot else []), *query],
            "responses": {
                "200": {"description": "the answer", "content": {media: {"schema": schema}}},
                **_ERRORS,
            },
            "security": [{}, {"bearer": []}],
        }
    }


def genealogy_paths() -> dict[str, Any]:
    return {
        f"{LINE}/lots/{{lot}}/trace": _get(
            "Trace a lot: backward (what it was made from) or forward (what was made from "
            "it), recursively, with quantities and depth; maintenance=true adds the last "
            "planned and unplanned maintenance before each production lot on its work unit",
            [
                _query("direction", {"enum": ["backward", "forward"]}, "default backward"),
                _query("depth", _DEPTH, "default: the full genealogy"),
                _query("maintenance", {"enum": ["true", "false"]}),
            ],
            _TRACE,
            lot=True,
        ),
        f"{LINE}/recall": _get(
            "Recall: everything made from the lots received under a supplier lot",
            [_query("supplierLot", _TEXT, required=True), _query("depth", _DEPTH)],
            {
                "allOf": [
                    _TRACE,
                    {
                        "type": "object",
                        "properties": {
                            "supplierLot": {"type": "string"},
                            "affectedLots": {"type": "array", "items": {"type": "string"}},
                            "maintenance": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                ]
            },
        ),
        f"{LINE}/lots": _get(
            "Lots selected by exactly one of: modelTag (judged by that model), from+to "
            "(produced in the window, e.g. a drift alert's; workUnit narrows), outOfControl "
            "(produced while that characteristic's SPC chart signalled), afterMaintenance "
            "(made on the record's work unit until beforeMaintenance or the next record)",
            [
                _query("modelTag", _TEXT),
                _query("from", _TIME),
                _query("to", _TIME),
                _query("workUnit", _TEXT, "with from+to only (refused with the others)"),
                _query("outOfControl", _TEXT),
                _query("afterMaintenance", _TEXT),
                _query("beforeMaintenance", _TEXT),
            ],
            {
                "type": "object",
                "properties": {
                    "lots": {"type": "array", "items": {"type": "object"}},
                    "windows": {"type": "array"},
                    "after": _MAINTENANCE,
                    "before": {"oneOf": [_MAINTENANCE, {"type": "null"}]},
                },
            },
        ),
        f"{LINE}/lots/{{lot}}/sensor-windows": _get(
            "The run of a production lot on its work unit with the sensor features over it "
            "(the training set's lot matching); depth adds the production lots it was made "
            "from",
            [_query("depth", {"type": "integer", "minimum": 0, "maximum": 1000})],
            {
                "type": "object",
                "properties": {
                    "lot": {"type": "string"},
                    "windows": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "lot": {"type": "string"},
                                "workUnit": {"type": "string"},
                                "start": {"type": "string"},
                                "end": {"type": ["string", "null"]},
                                "open": {"type": "boolean"},
                                "features": {"type": "object"},
                            },
                        },
                    },
                },
                "required": ["lot", "windows"],
            },
            lot=True,
        ),
        f"{LINE}/suppliers/scorecard": _get(
            "Per supplier: lots received, share of downstream lots that failed inspection "
            "or fell in a recall, receipts against expected dates",
            [],
            {
                "type": "object",
                "properties": {"suppliers": {"type": "array", "items": {"type": "object"}}},
                "required": ["suppliers"],
            },
        ),
        f"{LINE}/epcis": _get(
            "The window's receipts (ObjectEvent) and production and repairs "
            "(TransformationEvent) as a GS1 EPCIS 2.0 JSON-LD EPCISDocument",
            [_query("from", _TIME, required=True), _query("to", _TIME, required=True)],
            {"type": "object", "description": "EPCISDocument", "properties": {}},
            media="application/ld+json",
        ),
    }
