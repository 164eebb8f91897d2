"""The data plane's HTTP API as an OpenAPI 3.1 document (served at ``/openapi.json`` and
committed as ``docs/dataplane-openapi.json``; a test fails when the two drift).

The schemas describe what a client may send: anything they accept reaches the validators,
which quarantine unusable items (never a 5xx); what they reject is a 4xx problem document.
Values are deliberately loose where historians send junk (a reading's ``value`` may be any
JSON value: ``"Bad"`` is quarantined as ``non_numeric``, not refused).
"""

from __future__ import annotations

from typing import Any, Final

from lineops import __version__
from lineops.api.quantities import DURATION_PATTERN
from lineops.dataplane.feature_history import MAX_ROWS as HISTORY_ROWS
from lineops.dataplane.features import SERVICES
from lineops.dataplane.genealogy_openapi import genealogy_paths
from lineops.dataplane.ingestion.payload import MAX_EPOCH_S, MAX_TEXT, MIN_EPOCH_S
from lineops.dataplane.ingestion.reasons import VOCABULARY
from lineops.dataplane.line_page.spec import line_page_paths
from lineops.dataplane.lots_openapi import lots_paths, lots_schemas
from lineops.dataplane.plan_records import METHODS as PLAN_METHODS
from lineops.dataplane.records import KINDS, MAX_BIGINT, MAX_INT, MAX_NAME
from lineops.dataplane.shift_records import MAX_SECONDS as MAX_SHIFT_SECONDS
from lineops.dataplane.shift_records import MAX_SHIFT_NAME
from lineops.dataplane.training_set import LABEL_SOURCES, TASK_LABELS

LINE_PATH: Final = "/v1/namespaces/{namespace}/lines/{line}"
_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253}
_TIMESTAMP = {"type": "string", "description": "ISO 8601 with a UTC offset"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: Final[dict[str, Any]] = {
    "Reading": {
        "type": "object",
        "description": "One sensor reading. Unusable readings are quarantined, not refused.",
        "properties": {
            "work_unit": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            "sensor": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
            "timestamp": {
                "description": "ISO 8601 (no offset means UTC) or epoch seconds (1900..2200)",
                "type": ["string", "number"],
                "minimum": MIN_EPOCH_S,
                "maximum": MAX_EPOCH_S,
            },
            "value": {"description": "a number or a numeric string; anything else is quarantined"},
            "lot": {"type": ["string", "null"], "maxLength": MAX_TEXT},
        },
        "required": ["work_unit", "sensor", "timestamp", "value"],
    },
    "ReadingsBatch": {
        "type": "object",
        "properties": {"readings": {"type": "array", "items": _ref("Reading")}},
        "required": ["readings"],
    },
    "Measurement": {
        "type": "object",
        "properties": {
            "characteristic": {"type": "string"},
            "timestamp": _TIMESTAMP,
            "value": {"type": ["number", "string"]},
            "sampleSize": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
            "lot": {"type": ["string", "null"], "maxLength": MAX_NAME},
        },
        "required": ["characteristic", "timestamp", "value"],
    },
    "MachineEvent": {
        "type": "object",
        "properties": {
            "workUnit": {"type": "string"},
            "timestamp": _TIMESTAMP,
            "state": {"type": "string", "description": "running, idle, down, setup, ..."},
            "reason": {"type": "string"},
        },
        "required": ["workUnit", "timestamp", "state"],
    },
    "ProductionCount": {
        "type": "object",
        "properties": {
            "workUnit": {"type": "string"},
            "timestamp": _TIMESTAMP,
            "total": {"type": "integer", "minimum": 0, "maximum": MAX_BIGINT},
            "good": {"type": "integer", "minimum": 0, "maximum": MAX_BIGINT},
        },
        "required": ["workUnit", "timestamp", "total", "good"],
    },
    "BatchResult": {
        "type": "object",
        "description": "received = accepted + quarantined, always",
        "properties": {
            "line": {"type": "string"},
            "batch_id": {"type": "string"},
            "received": {"type": "integer"},
            "accepted": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "reasons": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "propertyNames": {"enum": list(VOCABULARY)},
            },
        },
        "required": ["received", "accepted", "quarantined", "reasons"],
    },
    "RecordsResult": {
        "type": "object",
        "description": "received = accepted + quarantined, always",
        "properties": {
            "received": {"type": "integer"},
            "accepted": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
            "rejected": {
                "type": "array",
                "description": "the first 100 quarantined records",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "reason": {"enum": list(VOCABULARY)},
                        "detail": {"type": "string"},
                    },
                },
            },
        },
        "required": ["received", "accepted", "quarantined", "reasons", "rejected"],
    },
    "ReleaseResult": {
        "type": "object",
        "properties": {
            "line": {"type": "string"},
            "examined": {"type": "integer"},
            "released": {"type": "integer"},
            "still_quarantined": {"type": "integer"},
            "reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        "required": ["line", "examined", "released", "still_quarantined", "reasons"],
    },
    "Prediction": {
        "type": "object",
        "description": "What a served model answered; refused predictions are quarantined "
        "(kind predictions)",
        "properties": {
            "modelTag": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
            "workUnit": {"type": ["string", "null"], "description": "declared by the line"},
            "lot": {"type": ["string", "null"], "maxLength": MAX_NAME},
            "timestamp": _TIMESTAMP,
            "featureTimestamp": {**_TIMESTAMP, "type": ["string", "null"]},
            "features": {"type": "object", "additionalProperties": {"type": "number"}},
            "result": {"type": "object", "description": "label/probabilities or score/alarm"},
        },
        "required": ["modelTag", "timestamp", "features", "result"],
    },
    "PlanOperation": {
        "type": "object",
        "properties": {
            "order": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
            "index": {"type": "integer", "minimum": 0, "maximum": MAX_BIGINT},
            "workUnit": {"type": "string", "description": "declared by the line"},
            "start": _TIMESTAMP,
            "end": {**_TIMESTAMP, "description": "ISO 8601 with a UTC offset, not before start"},
        },
        "required": ["order", "index", "workUnit", "start", "end"],
    },
    "Plan": {
        "type": "object",
        "description": "A production plan as `lineops plan --json` prints it; stored whole "
        "or refused whole (422 naming the field)",
        "properties": {
            "method": {"enum": list(PLAN_METHODS)},
            "status": {"type": "string", "minLength": 1, "maxLength": 128},
            "start": _TIMESTAMP,
            "end": _TIMESTAMP,
            "schedule": {"type": "array", "items": _ref("PlanOperation")},
            "tardiness": {
                "type": "object",
                "description": "order -> seconds late",
                "additionalProperties": {"type": "integer", "minimum": 0, "maximum": MAX_BIGINT},
            },
            "weightedTardiness": {"type": "integer", "minimum": 0, "maximum": MAX_BIGINT},
        },
        "required": [
            "method",
            "status",
            "start",
            "end",
            "schedule",
            "tardiness",
            "weightedTardiness",
        ],
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; field names the offending input",
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "field": {"type": "string"},
        },
        "required": ["type", "title", "status", "detail"],
    },
}

_RECORD_SCHEMAS: Final = {
    "measurements": "Measurement",
    "events": "MachineEvent",
    "counts": "ProductionCount",
}

_PROBLEM = {"application/problem+json": {"schema": _ref("Problem")}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "body not decodable",
        401: "write without a valid bearer token (when auth is on)",
        403: "ingestion of this kind disabled for the line",
        404: "line not served by this data plane",
        413: "payload too large",
        415: "unsupported Content-Type",
        422: "body decodes but has the wrong shape",
    }
    return {str(s): {"description": text[s], "content": _PROBLEM} for s in statuses}


_PARAMETERS: Final = [
    {"name": "namespace", "in": "path", "required": True, "schema": _NAME},
    {"name": "line", "in": "path", "required": True, "schema": _NAME},
]


def _post(summary: str, body: dict[str, Any], result: str, *errors: int) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": _PARAMETERS,
            "requestBody": {"required": True, "content": body},
            "responses": {
                "200": {
                    "description": "stored: accepted items in the store, the rest quarantined",
                    "content": {"application/json": {"schema": _ref(result)}},
                },
                **_errors(*errors),
            },
            "security": [{}, {"bearer": []}],
        }
    }


def _get(summary: str, query: list[dict[str, Any]], content: dict[str, Any]) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": [*_PARAMETERS, *query],
        "responses": {
            "200": {"description": "the records", "content": content},
            **_errors(400, 401, 404),
        },
        "security": [{}, {"bearer": []}],
    }


def _query(name: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


def _records_of(item: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"records": {"type": "array", "items": item}},
        "required": ["records"],
    }
    return {"application/json": {"schema": schema}}


def _add_reads(paths: dict[str, Any]) -> None:
    """Read routes: what the operator's monitors (and anyone with the token) read back."""
    stored_measurement = {
        "allOf": [
            _ref("Measurement"),
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
        ]
    }
    paths[f"{LINE_PATH}/measurements"]["get"] = _get(
        "Stored measurements of a characteristic in arrival order, after an id",
        [
            _query("characteristic", {"type": "string", "minLength": 1}, required=True),
            _query("after", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100_000}),
        ],
        _records_of(stored_measurement),
    )
    since = _query("since", {"type": "string", "format": "date-time"})
    paths[f"{LINE_PATH}/events"]["get"] = _get(
        "Stored machine-state events by time; since: from then on, with each work unit's last "
        "event before it (the state it was in then)",
        [since],
        _records_of(_ref("MachineEvent")),
    )
    paths[f"{LINE_PATH}/counts"]["get"] = _get(
        "Stored production counts by time; since: from then on",
        [since],
        _records_of(_ref("ProductionCount")),
    )
    state = {
        "type": "object",
        "properties": {
            "oeeVersion": {"type": "array", "items": {"type": "integer"}},
            "readings": {"type": "integer"},
            "newest": {
                "type": ["string", "null"],
                "description": "the newest event or count time (UTC), null without either",
            },
        },
        "required": ["oeeVersion", "readings", "newest"],
    }
    paths[f"{LINE_PATH}/state"] = {
        "get": _get(
            "Newest event and count ids, stored readings",
            [],
            {"application/json": {"schema": state}},
        )
    }
    duration = {"type": "string", "pattern": DURATION_PATTERN}
    training_set = _get(
        "The line's point-in-time training set for a feature service, labelled from its "
        "machine events, as an Arrow IPC stream (schema metadata lineops.card: the card)",
        [
            _query("featureService", {"enum": list(SERVICES)}, required=True),
            _query("task", {"enum": list(TASK_LABELS)}, required=True),
            _query("label", {"enum": list(LABEL_SOURCES)}),
            _query("window", duration),
            _query("until", {"type": "string", "format": "date-time"}),
            _query("sampleEvery", duration),
        ],
        {"application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}}},
    )
    training_set["responses"]["422"] = {
        "description": "no such feature service or label source, or no rows in the window",
        "content": _PROBLEM,
    }
    paths[f"{LINE_PATH}/training-set"] = {"get": training_set}
    paths[f"{LINE_PATH}/readings"]["get"] = _get(
        "Raw readings (work_unit, sensor, timestamp, value) of the first stored day or of the "
        "last seconds before the newest one, as an Arrow IPC stream",
        [
            _query("window", {"enum": ["first-day", "recent"]}),
            {
                **_query("seconds", {"type": "integer", "minimum": 1, "maximum": 366 * 86_400}),
                "description": "window=recent only (refused with first-day)",
            },
        ],
        {"application/vnd.apache.arrow.stream": {"schema": {"type": "string", "format": "binary"}}},
    )


def _add_predictions(paths: dict[str, Any]) -> None:
    """The prediction log: served models post every answer, anyone reads it back."""
    column = {"type": "array", "description": "one value per row"}
    columnar = {
        "type": "object",
        "description": "predictions of one predict_batch call as columns, stored as one "
        "prediction per row; tag, work unit and timestamps hold for every row",
        "properties": {
            "modelTag": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
            "workUnit": {"type": ["string", "null"], "description": "declared by the line"},
            "timestamp": _TIMESTAMP,
            "featureTimestamp": {**_TIMESTAMP, "type": ["string", "null"]},
            "lots": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
            "features": {
                "type": "object",
                "additionalProperties": {**column, "items": {"type": "number"}},
            },
            "results": {
                "type": "object",
                "description": "result field -> its value per row (null: not set)",
                "additionalProperties": column,
            },
        },
        "required": ["modelTag", "timestamp", "features"],
    }
    batch = {
        "type": "object",
        "description": "records, batches (columnar) or both; rejections are indexed by row, "
        "batch rows counted after the records",
        "properties": {
            "records": {"type": "array", "items": _ref("Prediction")},
            "batches": {"type": "array", "items": columnar},
        },
    }
    paths[f"{LINE_PATH}/predictions"] = _post(
        "Predictions of a served model (the log lots are traced through)",
        {"application/json": {"schema": batch}},
        "RecordsResult",
        400,
        401,
        404,
        413,
        415,
        422,
    )
    stored = {
        "allOf": [
            _ref("Prediction"),
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
        ]
    }
    history = {
        "type": "object",
        "properties": {
            "workUnit": {"type": "string"},
            "featureService": {"type": "string"},
            "features": {"type": "array", "items": {"type": "string"}},
            "rows": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "timestamp": {"type": "string", "format": "date-time"},
                        "values": {"type": "array", "items": {"type": ["number", "null"]}},
                    },
                    "required": ["timestamp", "values"],
                },
            },
        },
        "required": ["workUnit", "featureService", "features", "rows"],
    }
    paths[f"{LINE_PATH}/features/history"] = {
        "get": _get(
            "A work unit's newest online feature rows (the aggregates history), oldest first: "
            "served models seed their window of rows from it",
            [
                _query("workUnit", {"type": "string", "minLength": 1}, required=True),
                _query("featureService", {"enum": list(SERVICES)}, required=True),
                _query("rows", {"type": "integer", "minimum": 1, "maximum": HISTORY_ROWS}),
                _query("until", {"type": "string", "format": "date-time"}),
            ],
            {"application/json": {"schema": history}},
        )
    }
    paths[f"{LINE_PATH}/predictions"]["get"] = _get(
        "Logged predictions in arrival order, of a model tag and/or a lot, after an id",
        [
            _query("modelTag", {"type": "string", "minLength": 1, "maxLength": MAX_NAME}),
            _query("lot", {"type": "string", "minLength": 1, "maxLength": MAX_NAME}),
            _query("after", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
            _query("limit", {"type": "integer", "minimum": 1, "maximum": 100_000}),
        ],
        _records_of(stored),
    )


def _add_plans(paths: dict[str, Any]) -> None:
    """Production plans: posted by whoever plans (lineops plan), newest last."""
    stored = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "createdAt": _TIMESTAMP,
            "method": {"enum": list(PLAN_METHODS)},
            "status": {"type": "string"},
            "start": _TIMESTAMP,
            "end": _TIMESTAMP,
            "weightedTardiness": {"type": "integer"},
            "lateOrders": {"type": "integer"},
            "plan": _ref("Plan"),
        },
        "required": ["id", "createdAt", "method", "status", "start", "end", "plan"],
    }
    created = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "createdAt": _TIMESTAMP},
        "required": ["id", "createdAt"],
    }
    paths[f"{LINE_PATH}/plans"] = {
        "post": {
            "summary": "Store a production plan (the line's current plan is the newest)",
            "parameters": _PARAMETERS,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Plan")}},
            },
            "responses": {
                "201": {
                    "description": "stored",
                    "content": {"application/json": {"schema": created}},
                },
                **_errors(400, 401, 404, 413, 415, 422),
            },
            "security": [{}, {"bearer": []}],
        },
        "get": _get(
            "Stored plans in the order they were posted, after an id; latest=true: the newest",
            [
                _query("after", {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}),
                {
                    **_query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                    ),
                    "description": "plans per page (whole documents: a small page)",
                },
                _query("latest", {"enum": ["true", "false"]}),
            ],
            _records_of(stored),
        ),
    }


def _add_shifts(paths: dict[str, Any]) -> None:
    """OEE per planned shift: PUT by the line monitor (upsert by shift start), read by range."""
    ratio = {"type": ["number", "null"], "minimum": 0, "description": "null: denominator 0"}
    seconds = {"type": "number", "minimum": 0, "maximum": MAX_SHIFT_SECONDS}
    count = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    record = {
        "type": "object",
        "properties": {
            "shift": {"type": "string", "minLength": 1, "maxLength": MAX_SHIFT_NAME},
            "shiftStart": _TIMESTAMP,
            "shiftEnd": _TIMESTAMP,
            "plannedBusySeconds": seconds,
            "runSeconds": seconds,
            "maintenanceSeconds": seconds,
            "total": count,
            "good": count,
            "availability": ratio,
            "performance": ratio,
            "quality": ratio,
            "oee": ratio,
        },
        "required": [
            "shift",
            "shiftStart",
            "shiftEnd",
            "plannedBusySeconds",
            "runSeconds",
            "maintenanceSeconds",
            "total",
            "good",
        ],
    }
    stored = {
        "allOf": [
            record,
            {
                "type": "object",
                "properties": {"computedAt": _TIMESTAMP},
                "required": ["computedAt"],
            },
        ]
    }
    batch = {
        "type": "object",
        "properties": {"records": {"type": "array", "items": record}},
        "required": ["records"],
    }
    upserted = {
        "type": "object",
        "properties": {"stored": {"type": "integer", "minimum": 0}},
        "required": ["stored"],
    }
    window = [
        _query("from", {"type": "string", "format": "date-time"}),
        _query("to", {"type": "string", "format": "date-time"}),
    ]
    paths[f"{LINE_PATH}/shifts"] = {
        "put": {
            "summary": "Store per-shift OEE (ISO 22400-2); a record replaces the one of the same "
            "shift start",
            "parameters": _PARAMETERS,
            "requestBody": {"required": True, "content": {"application/json": {"schema": batch}}},
            "responses": {
                "200": {
                    "description": "stored, all or none",
                    "content": {"application/json": {"schema": upserted}},
                },
                **_errors(400, 401, 404, 413, 415, 422),
            },
            "security": [{}, {"bearer": []}],
        },
        "get": _get(
            "Per-shift OEE of the shifts overlapping [from, to), by shift start",
            window,
            _records_of(stored),
        ),
    }
    maintenance = {
        "type": "object",
        "properties": {
            "workUnit": {"type": "string"},
            "start": _TIMESTAMP,
            "end": {**_TIMESTAMP, "type": ["string", "null"]},
            "reason": {"type": "string"},
        },
        "required": ["workUnit", "start", "end", "reason"],
    }
    paths[f"{LINE_PATH}/shifts/maintenance"] = {
        "get": _get(
            "Planned maintenance of the equipment history overlapping [from, to) (end null: "
            "still open), excluded from planned busy time",
            window,
            _records_of(maintenance),
        )
    }


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        f"{LINE_PATH}/readings": _post(
            "A JSON batch of sensor readings",
            {"application/json": {"schema": _ref("ReadingsBatch")}},
            "BatchResult",
            400,
            401,
            403,
            404,
            413,
            415,
            422,
        ),
        f"{LINE_PATH}/readings:bulk": _post(
            "Readings in bulk: CSV, Parquet or an Arrow IPC stream "
            "(columns work_unit, sensor, timestamp, value[, lot])",
            {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/vnd.apache.arrow.stream": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
            "BatchResult",
            400,
            401,
            403,
            404,
            413,
            415,
            422,
        ),
    }
    for kind in KINDS:
        schema = _RECORD_SCHEMAS[kind]
        batch = {
            "type": "object",
            "properties": {"records": {"type": "array", "items": _ref(schema)}},
            "required": ["records"],
        }
        paths[f"{LINE_PATH}/{kind}"] = _post(
            f"MES records: {kind}",
            {"application/json": {"schema": batch}},
            "RecordsResult",
            400,
            401,
            404,
            413,
            415,
            422,
        )
    _add_reads(paths)
    _add_predictions(paths)
    _add_plans(paths)
    _add_shifts(paths)
    paths[f"{LINE_PATH}/quarantine:release"] = {
        "post": {
            "summary": "Re-ingest the line's quarantined items against its spec as it is now "
            "(readings through the ingestion path, MES records through their validation); "
            "released items are marked and never re-ingested twice",
            "parameters": _PARAMETERS,
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "kind": {"enum": ["readings", *KINDS]},
                                "reason": {"enum": list(VOCABULARY)},
                            },
                            "additionalProperties": False,
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "what was examined, released and is still quarantined",
                    "content": {"application/json": {"schema": _ref("ReleaseResult")}},
                },
                **_errors(400, 401, 404, 415, 422),
            },
            "security": [{}, {"bearer": []}],
        }
    }
    paths.update(line_page_paths())
    # Lot and material writes (issue #22); merged per path like the genealogy reads.
    for path, operations in lots_paths().items():
        paths.setdefault(path, {}).update(operations)
    # Genealogy reads; merged per path (GET /lots sits next to the write side's POST /lots).
    for path, operations in genealogy_paths().items():
        paths.setdefault(path, {}).update(operations)
    paths["/healthz"] = {
        "get": {
            "summary": "liveness",
            "responses": {"200": {"description": "serving"}},
        }
    }
    paths["/metrics"] = {
        "get": {
            "summary": "Prometheus metrics",
            "responses": {"200": {"description": "text format", "content": {"text/plain": {}}}},
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "lineops data plane",
            "version": __version__,
            "description": "Readings and MES records of production lines. Errors are RFC 9457 "
            "problem documents; items that cannot be used are quarantined and counted.",
        },
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **lots_schemas()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
