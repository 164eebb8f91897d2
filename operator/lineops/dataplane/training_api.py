"""``GET …/training-set``: the point-in-time training set of a line, as an Arrow IPC stream.

What a training pipeline's load step reads (the ``dataset`` URI the operator passes). Query:

    featureService   the line's feature service, e.g. sensor_window_v1 (required)
    task             fault-classification | anomaly-detection | failure-prediction (required)
    label            the label source (default: fault; failure for failure-prediction)
    window           how much history, e.g. 30d (default 30d)
    until            RFC 3339; the window ends at the line's newest reading at or before it
                     (default: now), so a run is reproducible and a replayed history trains
    sampleEvery      one row per work unit per interval (default 0s: every reading time)

The schema metadata ``lineops.card`` (JSON) describes the set: feature service and version,
features, label source, window, rows, class counts: the model card's training part.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Final

import pandas as pd
import pyarrow as pa
from aiohttp import web

from lineops.api.productionline import ProductionLineSpec
from lineops.api.quantities import parse_duration
from lineops.dataplane.control import out_of_control
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import plus_hint
from lineops.dataplane.lines import LineRef
from lineops.dataplane.offline_store import OfflineStore
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.repositories.mes import Measurement
from lineops.dataplane.training_set import (
    DEFAULT_LABEL,
    TrainingSetError,
    TrainingSetRequest,
    build,
    check_request,
)

ARROW_STREAM: Final = "application/vnd.apache.arrow.stream"
CARD_KEY: Final = b"lineops.card"
DEFAULT_WINDOW: Final = "30d"
READ_COLUMNS: Final = ["work_unit", "sensor", "timestamp", "value"]
PAGE: Final = 100_000
MAX_WINDOW_S: Final = 10 * 366 * 86_400.0  # ten years: beyond any line's history


def _duration(query: dict[str, str], name: str, default: str) -> float:
    text = query.get(name, default)
    try:
        seconds = parse_duration(text)
    except ValueError:
        raise TrainingSetError(
            f"query.{name}", f"{name}: {text[:40]!r} is not a duration (e.g. 30d, 12h, 1m)"
        ) from None
    if seconds > MAX_WINDOW_S:
        raise TrainingSetError(f"query.{name}", f"{name}: {text[:40]!r} is over ten years")
    return seconds


def parse_request(query: dict[str, str], now: pd.Timestamp) -> TrainingSetRequest:
    for name in ("featureService", "task"):
        if not query.get(name):
            raise TrainingSetError(f"query.{name}", f"{name}: missing")
    task = query["task"]
    until = now
    if query.get("until"):
        text = query["until"][:64]
        try:
            until = pd.Timestamp(text)
        except (ValueError, OverflowError, TypeError):
            raise TrainingSetError(
                "query.until", f"until: {text!r} is not an RFC 3339 time{plus_hint(text)}"
            ) from None
        if until is pd.NaT or until.tzinfo is None:
            raise TrainingSetError(
                "query.until", f"until: {text!r} has no UTC offset{plus_hint(text)}"
            )
    return TrainingSetRequest(
        feature_service=query["featureService"],
        task=task,
        label=query.get("label") or DEFAULT_LABEL.get(task, "fault"),
        window_seconds=_duration(query, "window", DEFAULT_WINDOW),
        until=until.tz_convert("UTC"),
        sample_every_seconds=_duration(query, "sampleEvery", "0s"),
    )


def arrow_stream(frame: pd.DataFrame, card: dict[str, Any]) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), CARD_KEY: json.dumps(card, sort_keys=True).encode()}
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


class TrainingSetApi:
    def __init__(
        self,
        db: Database,
        offline: OfflineStore,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
    ) -> None:
        self._db = db
        self._offline = offline
        self._spec_of = spec_of

    def routes(self, line_path: str) -> list[web.RouteDef]:
        return [web.get(line_path + "/training-set", self._training_set)]

    def build(
        self, line: LineRef, spec: ProductionLineSpec, request: TrainingSetRequest
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The training set and its card (blocking: reads the stores)."""
        check_request(spec, request)
        end = self._offline.newest(line.name, request.until)
        if end is None:
            raise TrainingSetError(
                "query.until",
                f"line {line.name} has no readings at or before {request.until.isoformat()}",
                code="empty-training-set",
            )
        try:
            start = end - pd.Timedelta(seconds=request.window_seconds)
            lookback = start - pd.Timedelta(seconds=spec.features.window_seconds)
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            raise TrainingSetError(
                "query.window", "window: reaches before 1677, the earliest time stored"
            ) from None
        readings = self._offline.read(line.name, lookback, end, columns=READ_COLUMNS)
        signals = out_of_control(spec, lambda name: self._measurements(line, name))
        events = self._db.mes.events(line)
        result = build(spec, request, readings, events, start, end, signals)
        if result.frame.empty:
            raise TrainingSetError(
                "query.window",
                f"no training rows for line {line.name} between {start.isoformat()} and "
                f"{end.isoformat()}",
                code="empty-training-set",
            )
        card = {"line": line.name, "namespace": line.namespace, **result.card}
        return result.frame, card

    def _measurements(self, line: LineRef, characteristic: str) -> list[tuple[int, Measurement]]:
        rows: list[tuple[int, Measurement]] = []
        while True:
            after = rows[-1][0] if rows else 0
            page = self._db.mes.measurements(line, characteristic, after_id=after, limit=PAGE)
            rows += page
            if len(page) < PAGE:
                return rows

    async def _training_set(self, request: web.Request) -> web.StreamResponse:
        line = LineRef(request.match_info["namespace"], request.match_info["line"])
        spec = self._spec_of(line.namespace, line.name)
        if spec is None:
            return unknown_line(line.namespace, line.name)
        try:
            parsed = parse_request(dict(request.query), pd.Timestamp.now(tz="UTC"))
            frame, card = await asyncio.to_thread(self.build, line, spec, parsed)
        except TrainingSetError as exc:
            return problem(422, exc.code, str(exc), field=exc.field)
        body = await asyncio.to_thread(arrow_stream, frame, card)
        return web.Response(body=body, content_type=ARROW_STREAM)
