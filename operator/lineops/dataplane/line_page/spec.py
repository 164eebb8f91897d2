"""The line page's routes in the data plane's OpenAPI document (the API fuzz test calls
every route the document lists)."""

from __future__ import annotations

from typing import Any

from lineops.dataplane.line_page.routes import LIVE_PATH, PAGE_PATH

_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253}
_PARAMETERS = [
    {"name": "namespace", "in": "path", "required": True, "schema": _NAME},
    {"name": "line", "in": "path", "required": True, "schema": _NAME},
]
_UNKNOWN = {
    "404": {
        "description": "line not served by this data plane",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
}


def line_page_paths() -> dict[str, Any]:
    return {
        PAGE_PATH: {
            "get": {
                "summary": "The live line page (HTML): control charts with limits and flagged "
                "points, OEE, rule violations, latest predictions; polls the live state",
                "parameters": _PARAMETERS,
                "responses": {
                    "200": {"description": "the page", "content": {"text/html": {}}},
                    **_UNKNOWN,
                },
            }
        },
        LIVE_PATH: {
            "get": {
                "summary": "The line page's state: charts (points, centre line, limits, "
                "violations per point), the 50 newest rule violations and their total, OEE "
                "over the last 8 recorded hours, the 10 newest predictions (null when the "
                "data plane has a token); ETag and If-None-Match (304 when unchanged)",
                "parameters": _PARAMETERS,
                "responses": {
                    "200": {
                        "description": "the state",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "304": {"description": "unchanged since the ETag sent"},
                    **_UNKNOWN,
                },
            }
        },
    }
