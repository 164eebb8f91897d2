"""One error format for every data-plane route: RFC 9457 ``application/problem+json``.

``type`` is a stable URI per kind of problem (the reason code), ``title`` its short text,
``detail`` what was wrong with this request and ``field`` the JSON path or column it names,
so a client can point at the offending input without parsing prose.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

log = logging.getLogger(__name__)

PROBLEM_JSON: Final = "application/problem+json"
TYPE_BASE: Final = "https://lineops.io/problems/"

TITLES: Final = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    403: "Forbidden",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Unavailable",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    return web.json_response(body, status=status, content_type=PROBLEM_JSON, headers=headers)


def unknown_line(namespace: str, name: str) -> web.Response:
    """The 404 of every line route: the data plane does not serve that line."""
    return problem(
        404,
        "unknown-line",
        f"ProductionLine {namespace}/{name} is not served by this data plane",
        field="path.line",
    )


# aiohttp answers some requests before (or instead of) a route handler, as plain text: no
# route, a method the route lacks, a body over ``client_max_size``. The same answers as
# problem documents, with their headers (``Allow`` of a 405) kept.
_HTTP_CODES: Final = {
    404: ("not-found", "path"),
    405: ("method-not-allowed", "method"),
    413: ("payload-too-large", "body"),
    415: ("unsupported-media-type", "header.Content-Type"),
}
_BODY_HEADERS: Final = frozenset({"content-type", "content-length", "content-encoding"})


def _http_problem(request: web.Request, exc: web.HTTPException) -> web.Response:
    code, field = _HTTP_CODES.get(exc.status, ("http-" + str(exc.status), None))
    headers = {k: v for k, v in exc.headers.items() if k.lower() not in _BODY_HEADERS}
    if exc.status == 404:
        detail = f"no route {request.path}"
    elif exc.status == 405:
        detail = f"{request.method} is not allowed here; allowed: {headers.get('Allow', '')}"
    elif exc.status == 413:
        detail = f"request body too large ({exc.text or exc.reason})"
    else:
        detail = exc.text or exc.reason
    return problem(exc.status, code, detail, field=field, headers=headers)


@web.middleware
async def problem_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every error answer of the app as a problem document: aiohttp's HTTP errors and, as a
    500, any exception a handler let escape (logged with its traceback)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_problem(request, exc)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return problem(500, "internal-error", "the server failed to handle the request")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# No Content-Type is taken as JSON (curl -d without -H, urllib without a header).
JSON_TYPES: Final = frozenset({"application/json", ""})


def json_only(request: web.Request) -> web.Response | None:
    """The 415 for a body that says it is not JSON (text/plain, a form, CSV...); it was
    decoded as JSON anyway, so a client sending CSV got a JSON error instead."""
    kind = media_type(request.headers.get("Content-Type"))
    if kind in JSON_TYPES:
        return None
    return problem(
        415,
        "unsupported-media-type",
        f"unsupported Content-Type {kind}; use application/json",
        field="header.Content-Type",
    )
