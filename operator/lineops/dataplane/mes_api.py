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
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.problems import problem
from lineops.dataplane.record_routes import batch_answer, line_body
from lineops.dataplane.records import KINDS, Parsed, parse_records
from lineops.dataplane.repositories.quarantine import Rejected


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

    def forget_line(self, namespace: str, line: str) -> None:
        """Drop a deleted line's MES record counters (the records stay in the store)."""
        self._records.remove_by_labels({"namespace": namespace, "line": line})

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"/v1/namespaces/{{namespace}}/lines/{{line}}/{kind}", self._post)
            for kind in KINDS
        ]

    async def _post(self, request: web.Request) -> web.Response:
        kind = request.path.rsplit("/", 1)[-1]
        found = await line_body(request, self._spec_of)
        if isinstance(found, web.Response):
            return found
        ref, spec, body = found
        # Decoding and validating a batch (up to record_routes.MAX_BODY) runs in a thread, like
        # the write: the event loop is the operator's too (embedded profile).
        try:
            parsed = await asyncio.to_thread(_decode, kind, spec, body)
        except _Malformed as exc:
            return problem(400, "malformed-body", f"body: not valid JSON ({exc})", field="body")
        except PayloadError as exc:
            return problem(exc.status, "invalid-payload", str(exc), field=exc.field)
        await asyncio.to_thread(self.persist, ref, kind, parsed, "http")
        self._records.labels(ref.namespace, ref.name, kind, "accepted").inc(len(parsed.accepted))
        self._records.labels(ref.namespace, ref.name, kind, "quarantined").inc(len(parsed.rejected))
        return batch_answer(parsed.received, len(parsed.accepted), parsed.rejected)

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
