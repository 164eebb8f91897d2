"""What every record-posting route shares (MES records, predictions, plans): the line is
served, the body is read no further than its cap, a refusal is a problem document naming the
field, and a batch is answered with its accepted/quarantined tally."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.problems import json_only, problem, unknown_line

MAX_BODY: Final = 32 * 1024 * 1024  # bytes of one records batch
SpecOf = Callable[[str, str], ProductionLineSpec | None]


def too_large() -> web.Response:
    return problem(
        413,
        "payload-too-large",
        f"body: more than the {MAX_BODY} bytes of one records batch; send smaller batches",
        field="body",
    )


async def read_capped(request: web.Request) -> bytes | None:
    """The body, or None once it exceeds ``MAX_BODY`` (refused by its Content-Length before
    reading; a chunked one is read no further than the limit)."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def line_body(
    request: web.Request, spec_of: SpecOf
) -> tuple[LineRef, ProductionLineSpec, bytes] | web.Response:
    """The line, its spec and the body of a POST; the problem answer when there are none."""
    ns, name = request.match_info["namespace"], request.match_info["line"]
    spec = spec_of(ns, name)
    if spec is None:
        return unknown_line(ns, name)
    if (refused := json_only(request)) is not None:
        return refused
    body = await read_capped(request)
    if body is None:
        return too_large()
    return LineRef(ns, name), spec, body


def payload_problem(exc: PayloadError) -> web.Response:
    code = "malformed-body" if exc.status == 400 else "invalid-payload"
    return problem(exc.status, code, str(exc), field=exc.field)


def batch_answer(received: int, accepted: int, rejected: list[Any]) -> web.Response:
    """accepted/quarantined counts, reasons, and the first hundred rejections."""
    return web.json_response(
        {
            "received": received,
            "accepted": accepted,
            "quarantined": len(rejected),
            "reasons": dict(Tally(str(r.reason) for r in rejected)),
            "rejected": [
                {"index": r.index, "reason": str(r.reason), "detail": r.detail}
                for r in rejected[:100]
            ],
        }
    )
