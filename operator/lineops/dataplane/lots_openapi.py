"""The lot and material write routes (:mod:`lineops.dataplane.lots_api`) in the OpenAPI
document: paths and schemas, merged into :func:`lineops.dataplane.openapi.openapi_document`
(per path: ``/lots`` also carries the genealogy side's GET)."""

from __future__ import annotations

from typing import Any, Final

LINE: Final = "/v1/namespaces/{namespace}/lines/{line}"
_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 253}
_UNIT = {"type": "string", "minLength": 1, "maxLength": 32}
_TIME = {"type": "string", "description": "ISO 8601 with a UTC offset (stored in UTC)"}
_QUANTITY = {
    "description": "exact decimal, at most 6 decimals (a JSON number or a decimal string)",
    "oneOf": [{"type": "number"}, {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*$"}],
}
_DECIMAL = {"type": "string", "description": "exact decimal"}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PARAMETERS: Final = [
    {"name": "namespace", "in": "path", "required": True, "schema": _NAME},
    {"name": "line", "in": "path", "required": True, "schema": _NAME},
]
_ERRORS: Final = {
    "400": "body is not JSON, or a query parameter is malformed",
    "401": "no valid bearer token (when auth is on)",
    "404": "line not served, or the lot in the path is not recorded",
    "409": "the id was recorded with another payload, or the stock is short (detail: the "
    "lot and the shortfall), or the lot is already closed with other counts",
    "413": "payload too large",
    "415": "a Content-Type other than application/json",
    "422": "a field is invalid: unknown lot, zero or negative quantity, unit mismatch, a "
    "cycle in the genealogy, undeclared work unit (field names it)",
}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_INPUT = _obj({"lot": _TEXT, "quantity": _QUANTITY, "unit": _UNIT}, ["lot", "quantity", "unit"])
_COUNTS = {"total": _QUANTITY, "good": _QUANTITY, "scrap": _QUANTITY}

REQUESTS: Final = {
    "MaterialReceipt": _obj(
        {
            "lot": _TEXT,
            "material": _TEXT,
            "unit": _UNIT,
            "quantity": _QUANTITY,
            "supplier": _TEXT,
            "supplierLot": _TEXT,
            "receivedAt": _TIME,
            "expectedAt": _TIME,
        },
        ["lot", "material", "unit", "quantity", "supplier", "supplierLot", "receivedAt"],
    ),
    "WorkOrder": _obj(
        {
            "workOrder": _TEXT,
            "product": _TEXT,
            "quantity": _QUANTITY,
            "unit": _UNIT,
            "due": _TIME,
            "status": {"enum": ["released", "closed"]},
        },
        ["workOrder", "product", "quantity"],
    ),
    "ProductionLot": _obj(
        {
            "lot": _TEXT,
            "product": _TEXT,
            "workUnit": _TEXT,
            "start": _TIME,
            "unit": _UNIT,
            "workOrder": _TEXT,
            "recipe": {"type": "object", "description": "recipe name and parameters"},
            "end": _TIME,
            **_COUNTS,
        },
        ["lot", "product", "workUnit", "start"],
    ),
    "LotClose": _obj({"end": _TIME, **_COUNTS}, ["end"]),
    "Consumption": _obj(
        {
            "consumption": _TEXT,
            "inputs": {"type": "array", "items": _INPUT, "minItems": 1, "maxItems": 1000},
            "outputLot": _TEXT,
            "maintenance": _TEXT,
            "consumedAt": _TIME,
        },
        ["consumption", "inputs", "consumedAt"],
    ),
    "QualityResult": _obj(
        {
            "result": _TEXT,
            "lot": _TEXT,
            "inspection": _TEXT,
            "outcome": {"enum": ["pass", "fail"]},
            "measurements": {"type": "object"},
            "inspectedAt": _TIME,
        },
        ["result", "lot", "inspection", "outcome", "inspectedAt"],
    ),
    "Maintenance": _obj(
        {
            "maintenance": _TEXT,
            "workUnit": _TEXT,
            "kind": {"enum": ["planned", "unplanned"]},
            "reason": {"type": "string"},
            "start": _TIME,
            "end": _TIME,
        },
        ["maintenance", "workUnit", "kind", "start"],
    ),
    "Material": _obj(
        {"material": _TEXT, "unit": _UNIT, "lowStock": _QUANTITY}, ["material", "unit"]
    ),
}

_LOT_ANSWER = _obj(
    {
        "lot": {"type": "string"},
        "kind": {"enum": ["material", "production"]},
        "material": {"type": "string"},
        "unit": {"type": "string"},
        "quantity": _DECIMAL,
        "remaining": _DECIMAL,
        "status": {"enum": ["open", "closed"]},
        "supplier": _nullable({"type": "string"}),
        "supplierLot": _nullable({"type": "string"}),
        "workUnit": _nullable({"type": "string"}),
        "start": _nullable({"type": "string"}),
        "end": _nullable({"type": "string"}),
    },
    ["lot", "kind", "material", "unit", "quantity", "remaining", "status"],
)
_STOCK = _obj(
    {
        "material": {"type": "string"},
        "unit": {"type": "string"},
        "onHand": _DECIMAL,
        "lowStock": _nullable(_DECIMAL),
        "low": {"type": "boolean"},
        "lots": {"type": "array", "items": {"type": "object"}},
    },
    ["material", "unit", "onHand", "low", "lots"],
)


def _write(summary: str, request: str, *, answer: dict[str, Any] | None = None) -> dict[str, Any]:
    shown = answer or {"type": "object"}
    content = {"application/json": {"schema": shown}}
    return {
        "summary": summary,
        "parameters": _PARAMETERS,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{request}"}}
            },
        },
        "responses": {
            "201": {"description": "stored", "content": content},
            "200": {
                "description": "the same id and payload were already stored",
                "content": content,
            },
            **{code: {"description": text, "content": _PROBLEM} for code, text in _ERRORS.items()},
        },
        "security": [{}, {"bearer": []}],
    }


def _read(summary: str, extra: list[dict[str, Any]], schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": [*_PARAMETERS, *extra],
        "responses": {
            "200": {"description": "found", "content": {"application/json": {"schema": schema}}},
            **{c: {"description": _ERRORS[c], "content": _PROBLEM} for c in ("400", "401", "404")},
        },
        "security": [{}, {"bearer": []}],
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _TEXT}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def lots_paths() -> dict[str, dict[str, Any]]:
    lot, material = _path("lot"), _path("material")
    close = _write(
        "close a production lot: its good quantity becomes stock", "LotClose", answer=_LOT_ANSWER
    )
    close["parameters"] = [*_PARAMETERS, lot]
    put = _write("declare a material's unit and low-stock threshold", "Material")
    put["parameters"] = [*_PARAMETERS, material]
    put["requestBody"]["content"]["application/json"]["schema"] = _obj(
        {"unit": _UNIT, "lowStock": _QUANTITY}, ["unit"]
    )
    show = _read(
        "a lot with its inputs, quality results and the predictions that judged it",
        [lot],
        {
            "allOf": [
                _LOT_ANSWER,
                _obj(
                    {
                        "inputs": {"type": "array", "items": {"type": "object"}},
                        "qualityResults": {"type": "array", "items": {"type": "object"}},
                        "predictions": {"type": "array", "items": {"type": "object"}},
                    },
                    ["inputs", "qualityResults", "predictions"],
                ),
            ]
        },
    )
    return {
        f"{LINE}/material-lots": {
            "post": _write(
                "receive a material lot from a supplier", "MaterialReceipt", answer=_LOT_ANSWER
            )
        },
        f"{LINE}/work-orders": {"post": _write("record a work order", "WorkOrder")},
        f"{LINE}/lots": {
            "post": _write(
                "open a production lot (recorded closed when it carries end and counts)",
                "ProductionLot",
                answer=_LOT_ANSWER,
            )
        },
        f"{LINE}/lots/{{lot}}:close": {"post": close},
        f"{LINE}/lots/{{lot}}": {"get": show},
        f"{LINE}/consumptions": {
            "post": _write(
                "consume input lots into an output lot or a maintenance record (all or none)",
                "Consumption",
            )
        },
        f"{LINE}/quality-results": {
            "post": _write("record an inspection of a lot", "QualityResult")
        },
        f"{LINE}/maintenance": {
            "post": _write("record planned or unplanned maintenance of a work unit", "Maintenance"),
            "get": _read(
                "maintenance records (with the parts consumed), of a work unit, overlapping "
                "[from, to)",
                [_query("workUnit", _TEXT), _query("from", _TIME), _query("to", _TIME)],
                _obj({"records": {"type": "array", "items": {"type": "object"}}}, ["records"]),
            ),
        },
        f"{LINE}/materials": {
            "post": _write("declare a material's unit and low-stock threshold", "Material")
        },
        f"{LINE}/materials/{{material}}": {"put": put},
        f"{LINE}/inventory": {
            "get": _read(
                "stock per material and lot (received minus consumed), and the materials "
                "below their threshold",
                [_query("material", _TEXT)],
                _obj(
                    {
                        "materials": {"type": "array", "items": _STOCK},
                        "lowStock": {"type": "array", "items": {"type": "string"}},
                    },
                    ["materials", "lowStock"],
                ),
            )
        },
    }


def lots_schemas() -> dict[str, Any]:
    return dict(REQUESTS)
