"""HTTP routes of a line's per-shift OEE history (ISO 22400-2, lineops.mes.shifts):

    PUT /v1/namespaces/{namespace}/lines/{line}/shifts              upsert by shift start
    GET /v1/namespaces/{namespace}/lines/{line}/shifts?from=&to=    shifts overlapping
    GET /v1/namespaces/{namespace}/lines/{line}/shifts/maintenance?from=&to=

The line monitor computes the shifts and PUTs them (a re-computation replaces the row of
the same shift start); the maintenance route serves the planned maintenance of the
equipment history that the computation excludes from planned busy time.
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
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.read_api import _BadQuery, _when
from lineops.dataplane.record_routes import line_body, payload_problem
from lineops.dataplane.repositories.shifts import ShiftRepository, utc_text
from lineops.dataplane.shift_records import as_json, parse_batch

PATH: Final = "/shifts"


def _range(request: web.Request) -> tuple[datetime | None, datetime | None]:
    start, end = _when(request, "from"), _when(request, "to")
    if start is not None and end is not None and not start < end:
        raise _BadQuery("query.to", "to: is not after from")
    return start, end


class ShiftsApi:
    def __init__(
        self, db: Database, spec_of: Callable[[str, str], ProductionLineSpec | None]
    ) -> None:
        self._shifts = ShiftRepository(db.engine)
        self._spec_of = spec_of

    def routes(self, line_path: str) -> list[web.RouteDef]:
        return [
            web.put(line_path + PATH, self._put),
            web.get(line_path + PATH, self._get),
            web.get(line_path + PATH + "/maintenance", self._maintenance),
        ]

    async def _put(self, request: web.Request) -> web.Response:
        found = await line_body(request, self._spec_of)
        if isinstance(found, web.Response):
            return found
        ref, _spec, body = found
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            return payload_problem(PayloadError("body", f"not valid JSON ({exc})", status=400))
        try:
            records = parse_batch(payload, datetime.now(UTC).isoformat())
        except PayloadError as exc:
            return payload_problem(exc)
        await asyncio.to_thread(self._shifts.upsert, ref, records)
        return web.json_response({"stored": len(records)})

    async def _read(
        self, request: web.Request, read: Callable[[LineRef], dict[str, Any]]
    ) -> web.Response:
        ref = LineRef(request.match_info["namespace"], request.match_info["line"])
        if self._spec_of(ref.namespace, ref.name) is None:
            return unknown_line(ref.namespace, ref.name)
        try:
            return web.json_response(await asyncio.to_thread(read, ref))
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)

    async def _get(self, request: web.Request) -> web.Response:
        def read(ref: LineRef) -> dict[str, Any]:
            start, end = _range(request)
            return {"records": [as_json(r) for r in self._shifts.between(ref, start, end)]}

        return await self._read(request, read)

    async def _maintenance(self, request: web.Request) -> web.Response:
        def read(ref: LineRef) -> dict[str, Any]:
            start, end = _range(request)
            found = self._shifts.planned_maintenance(ref, start, end)
            return {
                "records": [
                    {
                        "workUnit": m.work_unit,
                        "start": utc_text(m.start),
                        "end": None if m.end is None else utc_text(m.end),
                        "reason": m.reason,
                    }
                    for m in found
                ]
            }

        return await self._read(request, read)
