"""The data plane as one application: readings, MES records, quarantine, one HTTP API.

The operator builds it in-process in the embedded profile; ``lineops dataplane serve`` runs
the same object on its own (the cluster profile's Deployment, a laptop, the tests). Lines
are configured by the caller (the operator's reconciler, or ``--line-file``); every route
lives under ``/v1/namespaces/{namespace}/lines/{line}/`` and answers errors as problem
documents. Writes may require a bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import CollectorRegistry

from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import FeastStore
from lineops.dataplane.db.database import Database, open_database
from lineops.dataplane.feature_history import FeatureHistoryApi
from lineops.dataplane.genealogy_api import GenealogyApi
from lineops.dataplane.ingestion.http_server import IngestionServer
from lineops.dataplane.ingestion.reasons import VOCABULARY
from lineops.dataplane.ingestion.service import IngestionService
from lineops.dataplane.line_page import LinePage
from lineops.dataplane.lines import LineRef
from lineops.dataplane.lot_tracker import LotTracker
from lineops.dataplane.lots_api import LotsApi
from lineops.dataplane.mes_api import MesApi
from lineops.dataplane.offline_store import OfflineStore
from lineops.dataplane.openapi import LINE_PATH, openapi_document
from lineops.dataplane.plans_api import PlansApi
from lineops.dataplane.predictions_api import PredictionsApi
from lineops.dataplane.problems import json_only, problem, unknown_line
from lineops.dataplane.read_api import ReadApi
from lineops.dataplane.records import KINDS
from lineops.dataplane.release import ReleaseResult, release_readings, release_records
from lineops.dataplane.shifts_api import ShiftsApi
from lineops.dataplane.training_api import TrainingSetApi

WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Raw-reading partitions are compacted once their day closed; a day stays open for late
# readings this long after midnight (well beyond any line's allowed lateness).
COMPACT_EVERY: Final = timedelta(hours=1)
COMPACT_AFTER: Final = timedelta(hours=6)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_auth(token: str) -> Middleware:
    """Every line route (``/v1/…``: writes and record reads) needs ``Authorization: Bearer
    <token>``; health, metrics and the API document stay open for probes and scrapers."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in WRITE_METHODS or request.path.startswith("/v1/"):
            sent = request.headers.get("Authorization", "")
            scheme, _, value = sent.partition(" ")
            # Constant-time comparison: the token must not leak through response timing.
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                value.encode(), token.encode()
            ):
                return problem(
                    401,
                    "unauthorized",
                    "this route needs the header Authorization: Bearer <token>",
                    field="header.Authorization",
                    headers={"WWW-Authenticate": 'Bearer realm="lineops"'},
                )
        return await handler(request)

    return check


def read_token(path: Path) -> str:
    """A token from a file (a mounted Secret); surrounding whitespace is not part of it."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"token file {path}: {exc.strerror or exc}") from None
    if not token:
        raise ValueError(f"token file {path}: empty")
    return token


class DataPlaneApp:
    def __init__(
        self,
        data_dir: Path,
        db_url: str,
        registry: CollectorRegistry,
        *,
        feast: FeastStore | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        compact_every: timedelta | None = COMPACT_EVERY,
        offline_uri: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self._compact_every = compact_every
        self._maintenance: asyncio.Task[None] | None = None
        # Opening checks the schema: an outdated database stops here, before any port binds.
        self.db: Database = open_database(db_url)
        self.ingestion = IngestionService(
            data_dir,
            registry,
            feast=feast,
            quarantine=self.db.quarantine,
            offline=None if offline_uri is None else OfflineStore.from_uri(offline_uri),
        )
        self._specs: dict[LineRef, ProductionLineSpec] = {}
        self._lot_trackers: dict[LineRef, LotTracker] = {}
        self.mes = MesApi(self.db, self.spec_of, registry)
        self.server = IngestionServer(self.ingestion, registry, host=host, port=port)
        app = self.server.app
        if token is not None:
            app.middlewares.append(bearer_auth(token))
        app.router.add_routes(self.mes.routes())
        app.router.add_post(LINE_PATH + "/quarantine:release", self._release)
        self.reads = ReadApi(self.db, self.ingestion.offline, lambda line: line in self._specs)
        app.router.add_routes(self.reads.routes(LINE_PATH))
        self.training_sets = TrainingSetApi(self.db, self.ingestion.offline, self.spec_of)
        app.router.add_routes(self.training_sets.routes(LINE_PATH))
        # The prediction log of served models (bentos/quality_inspector posts every answer).
        self.predictions = PredictionsApi(self.db, self.spec_of, registry)
        app.router.add_routes(self.predictions.routes(LINE_PATH))
        # Recent online feature rows of a unit (served models seed their window from them).
        history = FeatureHistoryApi(self.ingestion.aggregates_dir, self.spec_of)
        app.router.add_routes(history.routes(LINE_PATH))
        # Production plans (lineops plan, the operator's planning): stored, newest last.
        self.plans = PlansApi(self.db, self.spec_of)
        app.router.add_routes(self.plans.routes(LINE_PATH))
        # OEE per planned shift: computed by the line monitor, kept here as history.
        app.router.add_routes(ShiftsApi(self.db, self.spec_of).routes(LINE_PATH))
        # Lots, genealogy edges, materials and their stock (issue #22, the write side).
        self.lots = LotsApi(self.db, self.spec_of, registry)
        app.router.add_routes(self.lots.routes(LINE_PATH))
        # Genealogy reads: traces, recall, lots by model/alert/maintenance, EPCIS export.
        self.genealogy = GenealogyApi(self.db, self.ingestion.offline, self.spec_of)
        app.router.add_routes(self.genealogy.routes(LINE_PATH))
        # The live line page for people at the line (HTML polling its JSON; outside /v1).
        app.router.add_routes(LinePage(self.db, self.spec_of, predictions=token is None).routes())
        app.router.add_get("/openapi.json", self._openapi)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int | None:
        return self.server.port

    def spec_of(self, namespace: str, name: str) -> ProductionLineSpec | None:
        return self._specs.get(LineRef(namespace, name))

    @property
    def lines(self) -> list[LineRef]:
        return sorted(self._specs)

    def configure_line(self, line: LineRef, spec: ProductionLineSpec) -> list[str]:
        """Readings, Feast objects and record validation for a line (blocking: Feast)."""
        views = self.ingestion.configure_line(line.name, spec, line.namespace)
        added = line not in self._specs
        self._specs[line] = spec
        if added:  # stock gauges from the store once, before any write; writes refresh them
            self.lots.refresh_metrics(line)
        # Lots open and close from the readings' lot field (one tracker a line: its memory of
        # the current lot per work unit survives spec updates).
        tracker = self._lot_trackers.setdefault(line, LotTracker(self.lots.repo, line))
        self.ingestion.observe_lots(line.name, tracker.observe)
        return views

    def remove_line(self, line: LineRef) -> None:
        """Stop serving a line; its stored data stays, its series go."""
        self._specs.pop(line, None)
        self.mes.forget_line(line.namespace, line.name)
        self.predictions.forget_line(line.namespace, line.name)
        self.lots.forget_line(line)
        self._lot_trackers.pop(line, None)  # a deleted line's open lots per unit: memory
        if self.ingestion.namespace_of(line.name) == line.namespace:
            self.ingestion.remove_line(line.name)

    async def start(self) -> int:
        port = await self.server.start()
        await self.ingestion.start()
        if self._compact_every is not None:
            self._maintenance = asyncio.create_task(self._compact_loop(self._compact_every))
        return port

    def compact(self, now: datetime | None = None) -> int:
        """Merge the small Parquet files of closed days (blocking); returns files merged."""
        before = (now or datetime.now(UTC)) - COMPACT_AFTER
        results = self.ingestion.offline.compact_all(before)
        return sum(r.merged for r in results.values())

    async def _compact_loop(self, every: timedelta) -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            try:
                merged = await asyncio.to_thread(self.compact)
            except Exception:
                # Compaction is crash-safe and idempotent: log, retry at the next tick.
                log.exception("offline store compaction failed; retrying in %s", every)
            else:
                if merged:
                    log.info("offline store: compacted %d small files", merged)

    async def stop(self, timeout: float | None = None) -> None:
        """Stop accepting, let requests in flight finish, then close the stores. With a
        ``timeout`` (operator shutdown): requests in flight get a third of it, pending
        aggregates are pushed until the deadline, and the database is closed in any case."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
            self._maintenance = None
        await self.server.stop(None if timeout is None else timeout / 3)
        try:
            await self.ingestion.stop(deadline)
        finally:
            await asyncio.to_thread(self.db.close)

    def release(
        self, line: LineRef, kind: str | None = None, reason: str | None = None
    ) -> ReleaseResult:
        """Re-ingest a line's quarantined items against its spec as it is now (blocking)."""
        spec = self._specs[line]
        result = ReleaseResult(line)
        if kind in (None, "readings"):
            result.add(release_readings(self.db, self.ingestion, line, reason=reason))
        if kind != "readings":
            result.add(release_records(self.db, line, spec, kind=kind, reason=reason))
        return result

    async def _release(self, request: web.Request) -> web.Response:
        ref = LineRef(request.match_info["namespace"], request.match_info["line"])
        if ref not in self._specs:
            return unknown_line(ref.namespace, ref.name)
        if request.can_read_body and (refused := json_only(request)) is not None:
            return refused
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError as exc:
            return problem(400, "malformed-body", f"body: not valid JSON ({exc})", field="body")
        if not isinstance(body, dict):
            return problem(422, "invalid-payload", "body: must be a JSON object", field="body")
        # A misspelt key ("reasons") must not widen the release to every quarantined item.
        unknown = sorted(str(key) for key in body if key not in ("kind", "reason"))
        if unknown:
            return problem(
                422,
                "invalid-payload",
                f"{unknown[0]}: unknown key (expected kind, reason)",
                field=unknown[0],
            )
        kind, reason = body.get("kind"), body.get("reason")
        for name, value in (("kind", kind), ("reason", reason)):
            if value is not None and not isinstance(value, str):
                return problem(422, "invalid-payload", f"{name}: must be a string", field=name)
        if kind is not None and kind not in ("readings", *KINDS):
            allowed = ", ".join(("readings", *KINDS))
            return problem(
                422, "invalid-payload", f"kind: {kind!r} is not one of {allowed}", field="kind"
            )
        if reason is not None and reason not in VOCABULARY:
            return problem(
                422,
                "invalid-payload",
                f"reason: {reason!r} is not a quarantine reason ({', '.join(VOCABULARY)})",
                field="reason",
            )
        result = await asyncio.to_thread(self.release, ref, kind, reason)
        return web.json_response(result.as_dict())

    async def _openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(openapi_document())
