"""HTTP routes of a line's production plans (lineops.planning), in the style of the MES
record routes.

    POST /v1/namespaces/{namespace}/lines/{line}/plans   a plan (``lineops plan --json``)
    GET  /v1/namespaces/{namespace}/lines/{line}/plans?after=&limit=&latest=

Plans are kept, newest last; the current plan is the latest one (``latest=true``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.plan_records import parse_plan
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.read_api import _BadQuery, _int
from lineops.dataplane.record_routes import line_body, payload_problem
from lineops.dataplane.repositories.plans import PlanRepository, StoredPlan

PLAN_PAGE: Final = 10
MAX_PLAN_PAGE: Final = 100

PATH: Final = "/plans"


def as_json(row_id: int, plan: StoredPlan) -> dict[str, Any]:
    return {
        "id": row_id,
        "createdAt": plan.created_at,
        "method": plan.method,
        "status": plan.status,
        "start": plan.start,
        "end": plan.end,
        "weightedTardiness": plan.weighted_tardiness,
        "lateOrders": plan.late_orders,
        "plan": json.loads(plan.document),
    }


def _decode(spec: ProductionLineSpec, body: bytes) -> StoredPlan:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise PayloadError("body", f"not valid JSON ({exc})", status=400) from None
    return parse_plan(spec, payload, datetime.now(UTC).isoformat())


class PlansApi:
    def __init__(
        self, db: Database, spec_of: Callable[[str, str], ProductionLineSpec | None]
    ) -> None:
        self._plans = PlanRepository(db.engine)
        self._spec_of = spec_of

    def routes(self, line_path: str) -> list[web.RouteDef]:
        return [web.post(line_path + PATH, self._post), web.get(line_path + PATH, self._get)]

    async def _post(self, request: web.Request) -> web.Response:
        found = await line_body(request, self._spec_of)
        if isinstance(found, web.Response):
            return found
        ref, spec, body = found
        try:
            plan = await asyncio.to_thread(_decode, spec, body)
        except PayloadError as exc:
            return payload_problem(exc)
        row_id = await asyncio.to_thread(self._plans.add, ref, plan)
        return web.json_response({"id": row_id, "createdAt": plan.created_at}, status=201)

    async def _get(self, request: web.Request) -> web.Response:
        ref = LineRef(request.match_info["namespace"], request.match_info["line"])
        if self._spec_of(ref.namespace, ref.name) is None:
            return unknown_line(ref.namespace, ref.name)

        def read() -> dict[str, Any]:
            after = _int(request, "after", 0, 0, 2**63 - 1)
            # Plans are whole documents (tens of MB for a large order book): the 100,000 of
            # the record routes let one plain GET take gigabytes of the (embedded: the
            # operator's) process.
            limit = _int(request, "limit", PLAN_PAGE, 1, MAX_PLAN_PAGE)
            latest = request.query.get("latest", "false")
            if latest not in ("true", "false"):
                raise _BadQuery("query.latest", f"latest: expected true or false, got {latest!r}")
            rows = self._plans.list(ref, after_id=after, limit=limit, latest=latest == "true")
            return {"records": [as_json(i, p) for i, p in rows]}

        try:
            return web.json_response(await asyncio.to_thread(read))
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)
