"""Read routes of a line, for the operator's monitors (through its data-plane client) and for
anyone who wants the records back:

    GET …/measurements?characteristic=C&after=ID&limit=N   in arrival order, after an id
    GET …/events?since=T, GET …/counts?since=T              a line's machine states, counts
                                                           (since: with each unit's state
                                                           in force then)
    GET …/state                                            versions and sizes (cheap)
    GET …/readings?window=first-day|recent&seconds=S       raw readings, Arrow IPC stream

Blocking store reads run in worker threads. Errors are problem documents naming the query
parameter.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, Final

import pandas as pd
import pyarrow as pa
from aiohttp import web

from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError, plus_hint
from lineops.dataplane.lines import LineRef
from lineops.dataplane.offline_store import OfflineStore
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.repositories.mes import MachineEvent, ProductionCount
from lineops.dataplane.repositories.shifts import utc_text
from lineops.dataplane.shift_records import parse_time

ARROW_STREAM: Final = "application/vnd.apache.arrow.stream"
MAX_PAGE: Final = 100_000
READING_COLUMNS: Final = ["work_unit", "sensor", "timestamp", "value"]


class _BadQuery(ValueError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    # Digits only: int() also took "1_0", " 2" and other scripts' digits.
    if re.fullmatch(r"-?[0-9]+", text) is None:
        raise _BadQuery(f"query.{name}", f"{name}: {text!r} is not an integer")
    value = int(text)
    if not low <= value <= high:
        raise _BadQuery(f"query.{name}", f"{name}: {value} is not in [{low}, {high}]")
    return value


def _when(request: web.Request, name: str) -> datetime | None:
    """A query time: ISO 8601 with a UTC offset, in UTC."""
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return parse_time(text, f"query.{name}")
    except PayloadError as exc:
        raise _BadQuery(exc.field, f"{name}: {exc.problem}{plus_hint(text)}") from None


def _since(request: web.Request) -> str | None:
    """``since`` as the store's UTC text."""
    moment = _when(request, "since")
    return None if moment is None else utc_text(moment)


def _name(request: web.Request, name: str) -> str:
    """A name as the line spec declares them: text a database can compare (PostgreSQL
    refuses NUL, UTF-8 a lone surrogate), at most 253 characters."""
    text = request.query.get(name)
    if not text:
        raise _BadQuery(f"query.{name}", f"{name}: missing")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _BadQuery(f"query.{name}", f"{name}: not valid UTF-8") from None
    if "\x00" in text or len(text) > 253:
        raise _BadQuery(f"query.{name}", f"{name}: {text[:40]!r} is not a declared name")
    return text


def arrow_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame[READING_COLUMNS], preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def _records(rows: list[MachineEvent] | list[ProductionCount]) -> dict[str, Any]:
    """Events or counts as the API spells them (camelCase, as they were posted)."""
    return {
        "records": [
            {("workUnit" if k == "work_unit" else k): v for k, v in asdict(row).items()}
            for row in rows
        ]
    }


class ReadApi:
    def __init__(
        self,
        db: Database,
        offline: OfflineStore,
        served: Callable[[LineRef], bool],
    ) -> None:
        self._db = db
        self._offline = offline
        self._served = served

    def routes(self, line_path: str) -> list[web.RouteDef]:
        return [
            web.get(line_path + "/measurements", self._measurements),
            web.get(line_path + "/events", self._events),
            web.get(line_path + "/counts", self._counts),
            web.get(line_path + "/state", self._state),
            web.get(line_path + "/readings", self._readings),
        ]

    async def _answer(
        self, request: web.Request, read: Callable[[LineRef], Any]
    ) -> web.StreamResponse:
        line = LineRef(request.match_info["namespace"], request.match_info["line"])
        if not self._served(line):
            return unknown_line(line.namespace, line.name)
        try:
            result = await asyncio.to_thread(read, line)
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)
        if isinstance(result, bytes):
            return web.Response(body=result, content_type=ARROW_STREAM)
        return web.json_response(result)

    async def _measurements(self, request: web.Request) -> web.StreamResponse:
        def read(line: LineRef) -> dict[str, Any]:
            characteristic = _name(request, "characteristic")
            after = _int(request, "after", 0, 0, 2**63 - 1)
            limit = _int(request, "limit", MAX_PAGE, 1, MAX_PAGE)
            rows = self._db.mes.measurements(line, characteristic, after_id=after, limit=limit)
            return {
                "records": [
                    {
                        "id": row_id,
                        "characteristic": m.characteristic,
                        "timestamp": m.timestamp,
                        "value": m.value,
                        "sampleSize": m.sample_size,
                        "lot": m.lot,
                    }
                    for row_id, m in rows
                ]
            }

        return await self._answer(request, read)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(
            request, lambda line: _records(self._db.mes.events(line, _since(request)))
        )

    async def _counts(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(
            request, lambda line: _records(self._db.mes.counts(line, _since(request)))
        )

    async def _state(self, request: web.Request) -> web.StreamResponse:
        def read(line: LineRef) -> dict[str, Any]:
            events, counts = self._db.mes.oee_version(line)
            return {
                "oeeVersion": [events, counts],
                "readings": self._offline.count(line.name),
                "newest": self._db.mes.newest(line),
            }

        return await self._answer(request, read)

    async def _readings(self, request: web.Request) -> web.StreamResponse:
        def read(line: LineRef) -> bytes:
            window = request.query.get("window", "recent")
            if window == "first-day":
                if "seconds" in request.query:  # was accepted, any value, and ignored
                    raise _BadQuery("query.seconds", "only with window=recent")
                return arrow_bytes(self._offline.first_day(line.name, READING_COLUMNS))
            if window != "recent":
                raise _BadQuery("query.window", f"window: {window!r} is not first-day or recent")
            seconds = _int(request, "seconds", 3600, 1, 366 * 86_400)
            frame = self._offline.recent(line.name, seconds * 1_000_000_000)
            return arrow_bytes(frame)

        return await self._answer(request, read)
