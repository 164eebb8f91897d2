"""Routes of the live line page (outside /v1: read-only, without the data plane's token)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from typing import Final

from aiohttp import web

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.line_page.html import PAGE
from lineops.dataplane.line_page.state import line_state
from lineops.dataplane.lines import LineRef
from lineops.dataplane.problems import unknown_line
from lineops.dataplane.repositories.predictions import PredictionRepository

PAGE_PATH: Final = "/lines/{namespace}/{line}"
LIVE_PATH: Final = PAGE_PATH + "/live"


class LinePage:
    def __init__(
        self,
        db: Database,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
        *,
        predictions: bool = True,
    ) -> None:
        self._db = db
        self._spec_of = spec_of
        # Off when the data plane guards its records with a token: the prediction log
        # (lots, work units, model answers) is such a record, and this page has no token.
        self._predictions = predictions

    def _version(self, line: LineRef) -> tuple[int, ...]:
        records = self._db.mes.records_version(line)
        predictions = (
            PredictionRepository(self._db.engine).newest_id(line) if self._predictions else 0
        )
        return (*records, predictions)

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PAGE_PATH, self._page), web.get(LIVE_PATH, self._live)]

    async def _page(self, request: web.Request) -> web.StreamResponse:
        ns, line = request.match_info["namespace"], request.match_info["line"]
        if self._spec_of(ns, line) is None:
            return unknown_line(ns, line)
        # The page is static; it reads its namespace and line from its own URL.
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8")

    async def _live(self, request: web.Request) -> web.StreamResponse:
        ns, line = request.match_info["namespace"], request.match_info["line"]
        spec = self._spec_of(ns, line)
        if spec is None:
            return unknown_line(ns, line)
        ref = LineRef(ns, line)
        # The page polls every 2 s: the state is a function of the line's spec and records
        # (rows are only added), so their newest ids are its version, and an unchanged
        # line answers 304 from a few index reads instead of charting its whole history.
        version = await asyncio.to_thread(self._version, ref)
        key = f"{spec.model_dump_json()}|{version}|{self._predictions}"
        etag = '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        state = await asyncio.to_thread(
            line_state, self._db, ref, spec, predictions=self._predictions
        )
        body = json.dumps(state, sort_keys=True)
        return web.Response(
            text=body, content_type="application/json", charset="utf-8", headers=headers
        )
