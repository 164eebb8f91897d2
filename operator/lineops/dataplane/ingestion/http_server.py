"""HTTP ingestion endpoint (aiohttp).

* ``POST /v1/namespaces/{ns}/lines/{line}/readings``       JSON batch ``{"readings": [...]}``
* ``POST /v1/namespaces/{ns}/lines/{line}/readings:bulk``  CSV (``text/csv``), Parquet
  (``application/vnd.apache.parquet``) or an Arrow IPC stream
  (``application/vnd.apache.arrow.stream``); ``?backfill=true`` skips the lateness check
* ``GET /healthz``, ``GET /metrics`` (Prometheus text format)

Errors are RFC 9457 problem documents naming the field. A 200 answer means the batch is
durably stored (offline store + quarantine store): it is sent only after both writes
returned. Parsing and writing run in worker threads, so one big
batch never stalls the event loop the operator shares.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from lineops.dataplane.errors import IngestionDisabled, PayloadError, UnknownLine
from lineops.dataplane.ingestion.line_ingestor import BatchResult
from lineops.dataplane.ingestion.service import IngestionService
from lineops.dataplane.problems import json_only, problem, problem_errors, unknown_line

MAX_BODY_BYTES: Final = 256 * 1024 * 1024


READINGS: Final = "/v1/namespaces/{namespace}/lines/{line}/readings"


class IngestionServer:
    """The endpoint as an object the operator starts and stops with its own event loop."""

    def __init__(
        self,
        service: IngestionService,
        registry: CollectorRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.service = service
        self.registry = registry
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self.app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[problem_errors])
        self.app.router.add_post(READINGS, self._readings)
        self.app.router.add_post(READINGS + ":bulk", self._bulk)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/metrics", self._metrics)

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("server not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> int:
        """Bind and serve; returns the bound port (useful with port 0)."""
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=30.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.port

    async def stop(self, drain: float | None = None) -> None:
        """Stop accepting; requests in flight finish (and are acknowledged) first, within
        ``drain`` seconds if given (operator shutdown), else the runner's 30 s."""
        if self._runner is not None:
            if drain is not None:
                # aiohttp reads the shutdown timeout from the runner only (it sets it so too).
                self._runner._shutdown_timeout = drain
            await self._runner.cleanup()
            self._runner = None

    def _unknown(self, request: web.Request) -> web.Response | None:
        ns, line = request.match_info["namespace"], request.match_info["line"]
        if self.service.namespace_of(line) == ns:
            return None
        return unknown_line(ns, line)

    async def _readings(self, request: web.Request) -> web.Response:
        if (missing := self._unknown(request)) is not None:
            return missing
        if (refused := json_only(request)) is not None:
            return refused
        body = await request.read()
        line = request.match_info["line"]
        return await self._run(request, lambda: self.service.ingest_json(line, body))

    async def _bulk(self, request: web.Request) -> web.Response:
        if (missing := self._unknown(request)) is not None:
            return missing
        body = await request.read()
        line = request.match_info["line"]
        content_type = request.headers.get("Content-Type")
        flag = request.query.get("backfill", "false").lower()
        if flag not in ("1", "true", "yes", "0", "false", "no"):
            # A typo here silently applied the lateness check to a history load.
            return problem(
                400,
                "invalid-query",
                f"backfill: expected true or false, got {flag!r}",
                field="query.backfill",
            )
        backfill = flag in ("1", "true", "yes")
        return await self._run(
            request, lambda: self.service.ingest_bulk(line, body, content_type, backfill=backfill)
        )

    async def _run(self, request: web.Request, call: Callable[[], BatchResult]) -> web.Response:
        try:
            result = await asyncio.to_thread(call)
        except PayloadError as exc:
            code = "malformed-body" if exc.status == 400 else "invalid-payload"
            if exc.status == 413:
                code = "payload-too-large"
            elif exc.status == 415:
                code = "unsupported-media-type"
            return problem(exc.status, code, str(exc), field=exc.field)
        except UnknownLine as exc:
            # Removed between the route's check and the call.
            return unknown_line(request.match_info["namespace"], exc.args[0])
        except IngestionDisabled as exc:
            return problem(403, "ingestion-disabled", str(exc), field="spec.ingestion.http")
        return web.json_response(result.as_dict())

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "lines": self.service.lines})

    async def _metrics(self, _request: web.Request) -> web.Response:
        payload = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})
