"""HTTP routes of a line's prediction log, in the style of the MES record routes.

    POST /v1/namespaces/{namespace}/lines/{line}/predictions   {"records": [...]}
                                                   or (and) {"batches": [...]} (columnar)
    GET  /v1/namespaces/{namespace}/lines/{line}/predictions?modelTag=&lot=&after=&limit=

``batches`` are columnar (prediction_batches.py: one object per ``predict_batch`` call,
stored as one prediction per row). A POST is one transaction: accepted predictions go to the
log and refused ones (a missing field, a unit the line does not declare, a feature that is
not a number) to the quarantine with ``kind`` = ``predictions``, so ``received = accepted +
quarantined`` holds in every answer (a batch counts its rows). Refused predictions are kept
for inspection; ``quarantine:release`` does not re-ingest them (a prediction depends on no
part of the line's spec that a fix could change, except its work unit, and the serving
process only sends units it found in the store).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

import msgspec
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.prediction_batches import parse_batches
from lineops.dataplane.prediction_records import KIND, parse_predictions
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.read_api import MAX_PAGE, _BadQuery, _int, _name
from lineops.dataplane.record_routes import batch_answer, line_body, payload_problem
from lineops.dataplane.records import Parsed
from lineops.dataplane.repositories.predictions import Prediction, PredictionRepository
from lineops.dataplane.repositories.quarantine import Rejected

PATH: Final = "/predictions"


def _decode(spec: ProductionLineSpec, body: bytes) -> Parsed[Prediction]:
    try:
        # msgspec: 2-3x the stdlib's speed on a batch of 10,000s of rows, and it refuses
        # NaN and Infinity, so no number in what it decodes is non-finite.
        payload = msgspec.json.decode(body)
    except msgspec.DecodeError:
        try:  # the stdlib's reading (NaN taken, then quarantined by the checks) or its error
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise PayloadError("body", f"not valid JSON ({exc})", status=400) from None
    if isinstance(payload, Mapping) and "batches" in payload:
        parsed = parse_predictions(spec, payload) if "records" in payload else Parsed()
        parse_batches(spec, payload["batches"], parsed)
        return parsed
    return parse_predictions(spec, payload)


def as_json(row_id: int, p: Prediction) -> dict[str, Any]:
    """A stored prediction as the API spells it (as it was posted, plus its id)."""
    return {
        "id": row_id,
        "modelTag": p.model_tag,
        "workUnit": p.work_unit,
        "lot": p.lot,
        "timestamp": p.timestamp,
        "featureTimestamp": p.feature_timestamp,
        "features": json.loads(p.features),
        "result": json.loads(p.result),
    }


class PredictionsApi:
    def __init__(
        self,
        db: Database,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
        registry: CollectorRegistry,
    ) -> None:
        self._db = db
        self._log = PredictionRepository(db.engine)
        self._spec_of = spec_of
        self._records = Counter(
            "lineops_predictions_logged_total",
            "Predictions received for the log per line and outcome (accepted or quarantined).",
            ["namespace", "line", "outcome"],
            registry=registry,
        )

    def forget_line(self, namespace: str, line: str) -> None:
        """Drop a deleted line's prediction-log counters (the records stay in the store)."""
        self._records.remove_by_labels({"namespace": namespace, "line": line})

    def routes(self, line_path: str) -> list[web.RouteDef]:
        return [web.post(line_path + PATH, self._post), web.get(line_path + PATH, self._get)]

    async def _post(self, request: web.Request) -> web.Response:
        found = await line_body(request, self._spec_of)
        if isinstance(found, web.Response):
            return found
        ref, spec, body = found
        try:
            parsed = await asyncio.to_thread(_decode, spec, body)
        except PayloadError as exc:
            return payload_problem(exc)
        await asyncio.to_thread(self.persist, ref, parsed, "http")
        self._records.labels(ref.namespace, ref.name, "accepted").inc(len(parsed.accepted))
        self._records.labels(ref.namespace, ref.name, "quarantined").inc(len(parsed.rejected))
        return batch_answer(parsed.received, len(parsed.accepted), parsed.rejected)

    def persist(self, line: LineRef, parsed: Parsed[Prediction], source: str) -> None:
        """Accepted predictions and quarantined ones in one transaction."""
        with self._db.engine.begin() as conn:
            self._db.quarantine.add(
                line,
                KIND,
                [Rejected(str(r.reason), r.detail, r.record) for r in parsed.rejected],
                source=source,
                conn=conn,
            )
            self._log.add(line, parsed.accepted, conn)

    async def _get(self, request: web.Request) -> web.Response:
        ref = LineRef(request.match_info["namespace"], request.match_info["line"])
        if self._spec_of(ref.namespace, ref.name) is None:
            return unknown_line(ref.namespace, ref.name)

        def read() -> dict[str, Any]:
            tag = _name(request, "modelTag") if "modelTag" in request.query else None
            lot = _name(request, "lot") if "lot" in request.query else None
            after = _int(request, "after", 0, 0, 2**63 - 1)
            limit = _int(request, "limit", MAX_PAGE, 1, MAX_PAGE)
            rows = self._log.list(ref, model_tag=tag, lot=lot, after_id=after, limit=limit)
            return {"records": [as_json(i, p) for i, p in rows]}

        try:
            return web.json_response(await asyncio.to_thread(read))
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)
