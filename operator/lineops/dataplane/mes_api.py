"""HTTP routes for a line's MES records.

    POST /v1/namespaces/{namespace}/lines/{line}/measurements   quality measurements
    POST /v1/namespaces/{namespace}/lines/{line}/events         machine-state changes
    POST /v1/namespaces/{namespace}/lines/{line}/counts         production counts

Body ``{"records": [...]}``. A batch is one database transaction: its accepted records go to
the MES tables and its rejected ones to the quarantine together, so ``received = accepted +
quarantined`` holds for every answer, in the store and in ``lineops_mes_records_total``, and
a failed write leaves nothing of the batch behind. Errors are problem documents.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.records import KINDS, Parsed, parse_records
from lineops.dataplane.repositories.quarantine import Rejected

MAX_BODY = 32 * 1024 * 1024  # bytes of one records batch


def _too_large() -> web.Response:
    return problem(
        413,
        "payload-too-large",
        f"body: more than the {MAX_BODY} bytes of one records batch; send smaller batches",
        field="body",
    )


async def _read_capped(request: web.Request) -> bytes | None:
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


class _Malformed(ValueError):
    pass


def _decode(kind: str, spec: ProductionLineSpec, body: bytes) -> Parsed[Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise _Malformed(str(exc)) from None
    return parse_records(kind, spec, payload)


class MesApi:
    def __init__(
        self,
        db: Database,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
        registry: CollectorRegistry,
    ) -> None:
        self._db = db
        # The data plane validates records against the spec of the line they are sent to.
        self._spec_of = spec_of
        self._records = Counter(
            "lineops_mes_records_total",
            "MES records received per line, kind and outcome (accepted or quarantined).",
            ["namespace", "line", "kind", "outcome"],
            registry=registry,
        )

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"/v1/namespaces/{{namespace}}/lines/{{line}}/{kind}", self._post)
            for kind in KINDS
        ]

    async def _post(self, request: web.Request) -> web.Response:
        ns, line = request.match_info["namespace"], request.match_info["line"]
        kind = request.path.rsplit("/", 1)[-1]
        spec = self._spec_of(ns, line)
        if spec is None:
            return unknown_line(ns, line)
        body = await _read_capped(request)
        if body is None:
            return _too_large()
        # Decoding and validating a batch of up to MAX_BODY runs in a worker thread, like
        # the write: the event loop is the operator's too (embedded profile).
        try:
            parsed = await asyncio.to_thread(_decode, kind, spec, body)
        except _Malformed as exc:
            return problem(400, "malformed-body", f"body: not valid JSON ({exc})", field="body")
        except PayloadError as exc:
            return problem(exc.status, "invalid-payload", str(exc), field=exc.field)
        await asyncio.to_thread(self.persist, LineRef(ns, line), kind, parsed, "http")
        self._records.labels(ns, line, kind, "accepted").inc(len(parsed.accepted))
        self._records.labels(ns, line, kind, "quarantined").inc(len(parsed.rejected))
        return web.json_response(
            {
                "received": parsed.received,
                "accepted": len(parsed.accepted),
                "quarantined": len(parsed.rejected),
                "reasons": dict(Tally(str(r.reason) for r in parsed.rejected)),
                "rejected": [
                    {"index": r.index, "reason": str(r.reason), "detail": r.detail}
                    for r in parsed.rejected[:100]
                ],
            }
        )

    def persist(self, line: LineRef, kind: str, parsed: Parsed[Any], source: str) -> None:
        """Accepted records and quarantined ones in one transaction."""
        with self._db.engine.begin() as conn:
            self._db.quarantine.add(
                line,
                kind,
                [Rejected(str(r.reason), r.detail, r.record) for r in parsed.rejected],
                source=source,
                conn=conn,
            )
            self._db.mes.add(kind, line, parsed.accepted, conn)
