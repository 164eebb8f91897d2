"""Read routes of a line's genealogy (all GET, under ``/v1/namespaces/{ns}/lines/{line}``):

    …/lots/{lot}/trace?direction=backward|forward&depth=N&maintenance=true
    …/recall?supplierLot=X&depth=N                 forward from a supplier lot
    …/lots?modelTag=T                              lots a model (tag) judged
    …/lots?from=T&to=T[&workUnit=U]                lots produced in a window (an alert's)
    …/lots?outOfControl=CHARACTERISTIC             lots produced while its SPC chart signalled
    …/lots?afterMaintenance=M[&beforeMaintenance=M2]   made on a unit between two records
    …/lots/{lot}/sensor-windows?depth=N            work unit + run of the lot (and of the
                                                   production lots it was made from)
    …/suppliers/scorecard
    …/epcis?from=T&to=T                            EPCIS 2.0 JSON-LD (application/ld+json)

``GET …/lots`` takes exactly one selector (modelTag, from/to, outOfControl or
afterMaintenance). Quantities are exact decimal text of the stored millionths. Unknown lots,
supplier lots, maintenance records and characteristics are 404 problem documents naming the
parameter; malformed parameters are 400.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pandas as pd
from aiohttp import web

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.control import chart_intervals
from lineops.dataplane.db.database import Database
from lineops.dataplane.epcis import CONTENT_TYPE, export
from lineops.dataplane.errors import plus_hint
from lineops.dataplane.features import line_sensors
from lineops.dataplane.lines import LineRef
from lineops.dataplane.matching import training_set
from lineops.dataplane.offline_store import OfflineStore
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.read_api import READING_COLUMNS, _BadQuery, _int, _name
from lineops.dataplane.record_json import maintenance_json, record_json
from lineops.dataplane.repositories.genealogy import (
    GenealogyRepository,
    LotInfo,
    Trace,
    UnknownLot,
)
from lineops.dataplane.repositories.lot_links import LotLinksRepository, utc_text
from lineops.dataplane.repositories.scorecard import ScorecardRepository, SupplierScore

MAX_DEPTH: Final = 1_000
SELECTORS: Final = ("modelTag", "from", "outOfControl", "afterMaintenance")
END_OF_TIME: Final = "9999-12-31T23:59:59.999999+00:00"
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def lot_json(info: LotInfo) -> dict[str, Any]:
    return {
        **record_json(info, "lot", "kind", "material", "quantity_micros", "unit", "status"),
        **record_json(
            info,
            "supplier",
            "supplier_lot",
            "received_at",
            "work_order",
            "work_unit",
            "started_at",
            "ended_at",
            drop_none=True,
        ),
    }


EDGE_FIELDS: Final = (
    "consumption",
    "input_lot",
    "output_lot",
    "maintenance",
    "quantity_micros",
    "unit",
    "consumed_at",
    "depth",
)


def trace_json(trace: Trace) -> dict[str, Any]:
    return {
        "direction": trace.direction,
        "starts": trace.starts,
        "depth": trace.max_depth,
        "truncated": trace.truncated,
        "edges": [record_json(e, *EDGE_FIELDS) for e in trace.edges],
        "lots": {name: lot_json(info) for name, info in sorted(trace.lots.items())},
        "cycles": trace.cycles,
    }


def score_json(score: SupplierScore) -> dict[str, Any]:
    return {
        **record_json(
            score,
            "supplier",
            "lots_received",
            "downstream_lots",
            "failed_inspection",
            "recalled",
            "affected",
            "affected_share",
        ),
        "receipts": record_json(
            score,
            "on_time",
            "late",
            "without_expected_date",
            "on_time_share",
            "mean_lateness_hours",
        ),
    }


class _NotFound(LookupError):
    def __init__(self, code: str, field: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.field = field


def _depth(request: web.Request, default: int | None) -> int | None:
    if "depth" not in request.query:
        return default
    return _int(request, "depth", 1, 1, MAX_DEPTH)


def _lot(request: web.Request) -> str:
    """The path's lot as a database can compare it (no NUL, no lone surrogate, at most 253
    characters); anything else cannot name a recorded lot."""
    text = request.match_info["lot"]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _NotFound("unknown-lot", "path.lot", "lot: not valid UTF-8") from None
    if "\x00" in text or len(text) > 253:
        raise _NotFound("unknown-lot", "path.lot", f"lot {text[:40]!r} is not recorded")
    return text


def _flag(request: web.Request, name: str) -> bool:
    text = request.query.get(name, "false")
    if text not in ("true", "false"):
        raise _BadQuery(f"query.{name}", f"{name}: {text!r} is not true or false")
    return text == "true"


def _time(request: web.Request, name: str) -> str:
    text = _name(request, name)
    try:
        return utc_text(text, name)
    except ValueError as exc:
        raise _BadQuery(f"query.{name}", f"{exc}{plus_hint(text)}") from None


def _window(request: web.Request) -> tuple[str, str]:
    start, end = _time(request, "from"), _time(request, "to")
    if end <= start:
        raise _BadQuery("query.to", f"to: {end} is not after from ({start})")
    return start, end


def _ns_text(ns: int) -> str:
    if ns >= 2**62:
        return END_OF_TIME
    return (EPOCH + timedelta(microseconds=ns // 1_000)).isoformat()


def _plain(value: Any) -> Any:
    """A numpy/pandas scalar as JSON: NaN (no reading in the window) is null, and so is an
    infinity (aggregates of readings stored before their ±1e100 bound), never Infinity."""
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


class GenealogyApi:
    def __init__(
        self,
        db: Database,
        offline: OfflineStore,
        spec_of: Callable[[str, str], ProductionLineSpec | None],
    ) -> None:
        self._db = db
        self._offline = offline
        self._spec_of = spec_of
        self.genealogy = GenealogyRepository(db.engine)
        self.links = LotLinksRepository(db.engine)
        self.scores = ScorecardRepository(db.engine)

    def routes(self, line_path: str) -> list[web.RouteDef]:
        p = line_path
        return [
            web.get(p + "/lots/{lot}/trace", self._trace),
            web.get(p + "/recall", self._recall),
            web.get(p + "/lots", self._lots),
            web.get(p + "/lots/{lot}/sensor-windows", self._sensor_windows),
            web.get(p + "/suppliers/scorecard", self._scorecard),
            web.get(p + "/epcis", self._epcis),
        ]

    async def _answer(
        self,
        request: web.Request,
        read: Callable[[LineRef, ProductionLineSpec], Any],
        content_type: str = "application/json",
    ) -> web.Response:
        line = LineRef(request.match_info["namespace"], request.match_info["line"])
        spec = self._spec_of(line.namespace, line.name)
        if spec is None:
            return unknown_line(line.namespace, line.name)
        try:
            result = await asyncio.to_thread(read, line, spec)
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)
        except UnknownLot as exc:
            code = "unknown-maintenance" if "Maintenance" in exc.field else "unknown-lot"
            return problem(404, code, str(exc), field=exc.field)
        except _NotFound as exc:
            return problem(404, exc.code, str(exc), field=exc.field)
        return web.json_response(result, content_type=content_type)

    # ------------------------------------------------------------------------- routes

    async def _trace(self, request: web.Request) -> web.Response:
        def read(line: LineRef, _spec: ProductionLineSpec) -> dict[str, Any]:
            direction = request.query.get("direction", "backward")
            if direction not in ("backward", "forward"):
                raise _BadQuery(
                    "query.direction", f"direction: {direction!r} is not backward or forward"
                )
            depth = _depth(request, None)
            with_maintenance = _flag(request, "maintenance")
            lot = _lot(request)
            trace = self.genealogy.trace(line, lot, direction, depth)  # type: ignore[arg-type]
            out = trace_json(trace)
            if with_maintenance:
                out["maintenance"] = {
                    name: [
                        maintenance_json(r) for r in self.links.preceding_maintenance(line, info)
                    ]
                    for name, info in sorted(trace.lots.items())
                    if info.kind == "production"
                }
            return out

        return await self._answer(request, read)

    async def _recall(self, request: web.Request) -> web.Response:
        def read(line: LineRef, _spec: ProductionLineSpec) -> dict[str, Any]:
            supplier_lot = _name(request, "supplierLot")
            trace = self.genealogy.recall(line, supplier_lot, _depth(request, None))
            out = trace_json(trace)
            out["supplierLot"] = supplier_lot
            out["affectedLots"] = trace.reached
            out["maintenance"] = trace.maintenance
            return out

        return await self._answer(request, read)

    async def _lots(self, request: web.Request) -> web.Response:
        def read(line: LineRef, spec: ProductionLineSpec) -> dict[str, Any]:
            given = [s for s in SELECTORS if s in request.query]
            if "to" in request.query and "from" not in given:
                given.append("from")
            if len(given) != 1:
                raise _BadQuery(
                    "query",
                    "give exactly one of modelTag, from+to, outOfControl, afterMaintenance "
                    f"(got {', '.join(given) or 'none'})",
                )
            selector = given[0]
            if selector != "from" and "workUnit" in request.query:
                # Only a time window is narrowed to a work unit; answering the other
                # selectors unfiltered would look like a filter that matched.
                raise _BadQuery("query.workUnit", "only with from+to (a time window)")
            if selector == "modelTag":
                tag = _name(request, "modelTag")
                return {
                    "modelTag": tag,
                    "lots": [
                        {
                            "lot": j.lot,
                            "predictions": j.predictions,
                            "firstJudged": j.first,
                            "lastJudged": j.last,
                            **({} if j.info is None else {"record": lot_json(j.info)}),
                        }
                        for j in self.links.judged_by(line, tag)
                    ],
                }
            if selector == "from":
                start, end = _window(request)
                unit = _name(request, "workUnit") if "workUnit" in request.query else None
                found = self.links.produced_during(line, start, end, unit)
                return {"from": start, "to": end, "lots": [lot_json(i) for i in found]}
            if selector == "outOfControl":
                return self._out_of_control(line, spec, _name(request, "outOfControl"))
            first = _name(request, "afterMaintenance")
            second = (
                _name(request, "beforeMaintenance")
                if "beforeMaintenance" in request.query
                else None
            )
            try:
                after, until, found = self.links.between_maintenance(line, first, second)
            except ValueError as exc:
                raise _BadQuery("query.beforeMaintenance", str(exc)) from None
            return {
                "workUnit": after.work_unit,
                "after": maintenance_json(after),
                "before": None if until is None else maintenance_json(until),
                "lots": [lot_json(i) for i in found],
            }

        return await self._answer(request, read)

    def _out_of_control(self, line: LineRef, spec: ProductionLineSpec, name: str) -> dict[str, Any]:
        """Out-of-control stretches replayed with the monitor's own chart (ChartTracker, as
        the training set's ``in_control`` does), then the lots produced in each."""
        qc = next((q for q in spec.quality_characteristics if q.name == name), None)
        if qc is None:
            raise _NotFound(
                "unknown-characteristic",
                "query.outOfControl",
                f"outOfControl: the line has no quality characteristic {name!r}",
            )
        windows = []
        for start_ns, end_ns in chart_intervals(qc, self._db.mes.measurements(line, name)):
            start, end = _ns_text(start_ns), _ns_text(end_ns)
            found = self.links.produced_during(line, start, end)
            windows.append(
                {
                    "from": start,
                    "to": None if end == END_OF_TIME else end,
                    "lots": [lot_json(i) for i in found],
                }
            )
        return {"characteristic": name, "windows": windows}

    async def _sensor_windows(self, request: web.Request) -> web.Response:
        def read(line: LineRef, spec: ProductionLineSpec) -> dict[str, Any]:
            depth = _int(request, "depth", 0, 0, MAX_DEPTH)
            lot = self.links.lot(line, _lot(request))
            lots = [lot]
            if depth > 0:
                trace = self.genealogy.trace(line, lot.lot, "backward", depth)
                lots += [trace.lots[n] for n in trace.reached if n in trace.lots]
            return {"lot": lot.lot, "windows": self.windows(line, spec, lots)}

        return await self._answer(request, read)

    def windows(
        self, line: LineRef, spec: ProductionLineSpec, lots: list[LotInfo]
    ) -> list[dict[str, Any]]:
        """The run of each production lot on its work unit, with the sensor features over
        it (the training set's lot matching: readings of the unit in [start, end])."""
        runs = [i for i in lots if i.kind == "production" and i.work_unit and i.started_at]
        if not runs:
            return []
        now = pd.Timestamp(datetime.now(UTC))
        frame = pd.DataFrame(
            {
                "lot": [i.lot for i in runs],
                "work_unit": [i.work_unit for i in runs],
                "start": [i.started_at for i in runs],
                # An open lot runs until now, or until its start when that is later (a
                # sensor clock ahead of this one within the allowed skew): never an end
                # before the start, which the lot matching refuses.
                "end": [
                    i.ended_at or max(now, pd.Timestamp(i.started_at)).isoformat() for i in runs
                ],
            }
        )
        sensors = line_sensors(spec)
        readings = self._offline.read(
            line.name,
            pd.Timestamp(min(frame["start"])),
            pd.Timestamp(max(frame["end"])),
            work_units=sorted({str(u) for u in frame["work_unit"]}),
            columns=READING_COLUMNS,
        )
        matched = training_set(readings, frame, sensors).set_index("lot")
        features = [c for c in matched.columns if "__" in c]
        out = []
        for info in runs:
            row = matched.loc[info.lot]
            values = {c: _plain(row[c]) for c in features}
            out.append(
                {
                    "lot": info.lot,
                    "workUnit": info.work_unit,
                    "start": info.started_at,
                    "end": info.ended_at,
                    "open": info.ended_at is None,
                    "features": values,
                }
            )
        return out

    async def _scorecard(self, request: web.Request) -> web.Response:
        def read(line: LineRef, _spec: ProductionLineSpec) -> dict[str, Any]:
            return {"suppliers": [score_json(s) for s in self.scores.scorecard(line)]}

        return await self._answer(request, read)

    async def _epcis(self, request: web.Request) -> web.Response:
        def read(line: LineRef, _spec: ProductionLineSpec) -> dict[str, Any]:
            start, end = _window(request)
            return export(self._db.engine, line, start, end)

        return await self._answer(request, read, CONTENT_TYPE)
