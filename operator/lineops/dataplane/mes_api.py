"""HTTP endpoint for a line's MES records (embedded profile: served by the operator).

    POST /v1/namespaces/{namespace}/lines/{line}/measurements   quality measurements
    POST /v1/namespaces/{namespace}/lines/{line}/events         machine-state changes
    POST /v1/namespaces/{namespace}/lines/{line}/counts         production counts

Body ``{"records": [...]}``. A batch is acknowledged only after its accepted records are in
the MES store and its rejected ones in the quarantine store, so ``received = accepted +
quarantined`` holds for every answer and in ``lineops_mes_records_total`` at any moment.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter as Tally
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.mes_store import MesStore
from lineops.dataplane.quarantine import QuarantinedReading, QuarantineStore
from lineops.dataplane.records import KINDS, Parsed, PayloadError, parse_records

MAX_BODY = 32 * 1024 * 1024


class MesApi:
    def __init__(
        self,
        store: MesStore,
        quarantine: QuarantineStore,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
        registry: CollectorRegistry,
    ) -> None:
        self._store = store
        self._quarantine = quarantine
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
            return _error(404, f"ProductionLine {ns}/{line} is not reconciled by this operator")
        try:
            payload = json.loads(await request.read())
        except ValueError as exc:
            return _error(400, f"body: not valid JSON ({exc})")
        try:
            parsed = parse_records(kind, spec, payload)
        except PayloadError as exc:
            return _error(422, str(exc))
        await asyncio.to_thread(self._persist, f"{ns}/{line}", kind, parsed)
        self._records.labels(ns, line, kind, "accepted").inc(len(parsed.accepted))
        self._records.labels(ns, line, kind, "quarantined").inc(len(parsed.rejected))
        return web.json_response(
            {
                "received": parsed.received,
                "accepted": len(parsed.accepted),
                "quarantined": len(parsed.rejected),
                "reasons": dict(Tally(r.reason for r in parsed.rejected)),
                "rejected": [
                    {"index": r.index, "reason": r.reason, "detail": r.detail}
                    for r in parsed.rejected[:100]
                ],
            }
        )

    def _persist(self, key: str, kind: str, parsed: Parsed[Any]) -> None:
        if parsed.rejected:
            now = datetime.now(UTC).isoformat()
            self._quarantine.add(
                [
                    QuarantinedReading(
                        line=key,
                        work_unit=_str(r.record.get("workUnit")),
                        sensor=_str(r.record.get("characteristic")),
                        timestamp=_str(r.record.get("timestamp")),
                        value=_str(r.record.get("value", r.record.get("state"))),
                        lot=_str(r.record.get("lot")),
                        reason=r.reason,
                        detail=r.detail,
                        source=f"mes-{kind}",
                        received_at=now,
                    )
                    for r in parsed.rejected
                ]
            )
        if kind == "measurements":
            self._store.add_measurements(key, parsed.accepted)
        elif kind == "events":
            self._store.add_events(key, parsed.accepted)
        else:
            self._store.add_counts(key, parsed.accepted)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)[:500]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
