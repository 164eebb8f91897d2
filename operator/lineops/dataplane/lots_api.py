"""HTTP routes of a line's lots and materials, the write side of issue #22 (under the line
path ``/v1/namespaces/{namespace}/lines/{line}``):

    POST …/material-lots            a receipt from a supplier
    POST …/work-orders              a work order
    POST …/lots                     open a production lot (or record it whole: with end, counts)
    POST …/lots/{lot}:close         close it: its good quantity becomes stock
    POST …/consumptions             input lots into an output lot or a maintenance record
    POST …/quality-results          an inspection of a lot
    POST …/maintenance              a planned or unplanned maintenance record
    GET  …/maintenance?workUnit=&from=&to=
    POST …/materials, PUT …/materials/{material}   unit and low-stock threshold
    GET  …/lots/{lot}               the lot, its inputs, quality results and predictions
    GET  …/inventory?material=      stock per material and lot, and the materials below threshold

A write is idempotent by its client id: 201 when stored, 200 with the same answer when the
same payload was already stored, 409 naming the id when another payload was. Quantities are
answered as exact decimal strings. Every refusal is a problem document naming the field.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane import lot_records as parse
from lineops.dataplane.db.database import Database
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.lines import LineRef
from lineops.dataplane.predictions_api import as_json as prediction_json
from lineops.dataplane.problems import problem, unknown_line
from lineops.dataplane.read_api import _BadQuery, _name
from lineops.dataplane.record_json import maintenance_json, record_json
from lineops.dataplane.record_routes import line_body, payload_problem
from lineops.dataplane.repositories.lots import (
    Consumption,
    Input,
    Lot,
    LotRepository,
    Maintenance,
    Material,
    MaterialStock,
    QualityResult,
    Refused,
    WorkOrder,
    Written,
    micros_text,
)
from lineops.dataplane.repositories.predictions import PredictionRepository

SpecOf = Callable[[str, str], ProductionLineSpec | None]
MAX_PREDICTIONS: Final = 1000  # per lot shown; the predictions route pages the rest


def _q(value: int | None) -> str | None:
    return None if value is None else micros_text(value)


def lot_json(lot: Lot) -> dict[str, Any]:
    return {
        **record_json(
            lot,
            "lot",
            "kind",
            "material",
            "unit",
            "quantity_micros",
            "remaining_micros",
            "status",
            "supplier",
            "supplier_lot",
            "received_at",
            "expected_at",
            "work_order",
            "work_unit",
        ),
        "start": lot.started_at,
        "end": lot.ended_at,
        # The counts are millionths too (pieces x 1_000_000), named without the suffix.
        "total": _q(lot.total),
        "good": _q(lot.good),
        "scrap": _q(lot.scrap),
        "recipe": None if lot.recipe is None else json.loads(lot.recipe),
        "createdAt": lot.created_at,
    }


def input_json(item: Input) -> dict[str, Any]:
    return record_json(item, "lot", "quantity_micros", "unit")


def consumption_json(c: Consumption) -> dict[str, Any]:
    return {
        "consumption": c.consumption,
        "inputs": [input_json(i) for i in c.inputs],
        **record_json(c, "output_lot", "maintenance", "consumed_at"),
    }


def quality_json(q: QualityResult) -> dict[str, Any]:
    return {
        **record_json(q, "result", "lot", "inspection", "outcome"),
        "measurements": json.loads(q.measurements),
        "inspectedAt": q.inspected_at,
    }


def maintenance_with_parts(m: Maintenance, parts: list[Input]) -> dict[str, Any]:
    return {**maintenance_json(m), "parts": [input_json(p) for p in parts]}


def work_order_json(w: WorkOrder) -> dict[str, Any]:
    return record_json(w, "work_order", "product", "quantity_micros", "unit", "due", "status")


def material_json(m: Material) -> dict[str, Any]:
    return record_json(m, "material", "unit", "low_stock_micros")


def stock_json(s: MaterialStock) -> dict[str, Any]:
    return {
        **record_json(s, "material", "unit", "on_hand_micros", "low_stock_micros", "low"),
        "lots": [
            record_json(x, "lot", "kind", "received_micros", "consumed_micros", "remaining_micros")
            for x in s.lots
        ],
    }


def _answer(written: Written, render: Callable[[Any], dict[str, Any]]) -> web.Response:
    return web.json_response(render(written.record), status=201 if written.created else 200)


def refused(exc: Refused) -> web.Response:
    return problem(exc.status, exc.code, str(exc), field=exc.field)


class StockMetrics:
    """Stock per material as gauges (in the material's unit), with its threshold and whether
    it is below (the ``LineopsMaterialLowStock`` alert reads the last)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["namespace", "line", "material"]
        self.on_hand = Gauge(
            "lineops_material_stock",
            "Stock on hand per material (received minus consumed), in the material's unit.",
            labels,
            registry=registry,
        )
        self.threshold = Gauge(
            "lineops_material_low_stock_threshold",
            "Low-stock threshold per material, in its unit (materials that declare one).",
            labels,
            registry=registry,
        )
        self.low = Gauge(
            "lineops_material_low_stock",
            "1 while a material's stock is below its low-stock threshold, else 0.",
            labels,
            registry=registry,
        )

    def update(self, line: LineRef, stocks: list[MaterialStock]) -> None:
        for s in stocks:
            key = (line.namespace, line.name, s.material)
            self.on_hand.labels(*key).set(s.on_hand_micros / 1_000_000)
            self.low.labels(*key).set(1 if s.low else 0)
            if s.low_stock_micros is not None:
                self.threshold.labels(*key).set(s.low_stock_micros / 1_000_000)
            else:  # a removed threshold: no stale series
                self.threshold.remove_by_labels(
                    {"namespace": line.namespace, "line": line.name, "material": s.material}
                )

    def forget(self, line: LineRef) -> None:
        labels = {"namespace": line.namespace, "line": line.name}
        for gauge in (self.on_hand, self.threshold, self.low):
            gauge.remove_by_labels(labels)


class LotsApi:
    def __init__(self, db: Database, spec_of: SpecOf, registry: CollectorRegistry) -> None:
        self.repo = LotRepository(db.engine)
        self._predictions = PredictionRepository(db.engine)
        self._spec_of = spec_of
        self.metrics = StockMetrics(registry)

    def routes(self, line_path: str) -> list[web.RouteDef]:
        p = line_path
        return [
            web.post(p + "/material-lots", self._receive),
            web.post(p + "/work-orders", self._work_order),
            web.post(p + "/lots", self._produce),
            web.post(p + "/lots/{lot}:close", self._close),
            web.get(p + "/lots/{lot}", self._show),
            web.post(p + "/consumptions", self._consume),
            web.post(p + "/quality-results", self._quality),
            web.post(p + "/maintenance", self._maintenance),
            web.get(p + "/maintenance", self._maintenance_list),
            web.post(p + "/materials", self._material),
            web.put(p + "/materials/{material}", self._material),
            web.get(p + "/inventory", self._inventory),
        ]

    def refresh_metrics(self, line: LineRef) -> None:
        """Recompute the line's stock gauges (blocking: one grouped query)."""
        self.metrics.update(line, self.repo.inventory(line))

    def forget_line(self, line: LineRef) -> None:
        """Drop a removed line's stock gauges (its lots and materials stay in the store): a
        low-stock series left behind would keep its alert firing for a line that is gone."""
        self.metrics.forget(line)

    async def _write(
        self,
        request: web.Request,
        write: Callable[[LineRef, ProductionLineSpec, Any], Written],
        render: Callable[[Any], dict[str, Any]],
        *,
        stock: bool = True,
        refresh_always: bool = False,
    ) -> web.Response:
        found = await line_body(request, self._spec_of)
        if isinstance(found, web.Response):
            return found
        ref, spec, body = found

        def run() -> Written:
            written = write(ref, spec, parse.decode(body))
            if stock and (written.created or refresh_always):
                self.refresh_metrics(ref)
            return written

        try:
            return _answer(await asyncio.to_thread(run), render)
        except PayloadError as exc:
            return payload_problem(exc)
        except Refused as exc:
            return refused(exc)

    async def _receive(self, request: web.Request) -> web.Response:
        return await self._write(
            request, lambda ref, _s, p: self.repo.receive(ref, parse.receipt(p)), lot_json
        )

    async def _work_order(self, request: web.Request) -> web.Response:
        return await self._write(
            request,
            lambda ref, _s, p: self.repo.add_work_order(ref, parse.work_order(p)),
            work_order_json,
            stock=False,
        )

    async def _produce(self, request: web.Request) -> web.Response:
        return await self._write(
            request,
            lambda ref, spec, p: self.repo.produce(ref, parse.production_lot(spec, p)),
            lot_json,
        )

    async def _close(self, request: web.Request) -> web.Response:
        lot = request.match_info["lot"]
        return await self._write(
            request,
            lambda ref, _s, p: self.repo.close(
                ref, parse.text(lot, "path.lot"), parse.lot_close(p)
            ),
            lot_json,
        )

    async def _consume(self, request: web.Request) -> web.Response:
        return await self._write(
            request,
            lambda ref, _s, p: self.repo.consume(ref, parse.consumption(p)),
            consumption_json,
        )

    async def _quality(self, request: web.Request) -> web.Response:
        return await self._write(
            request,
            lambda ref, _s, p: self.repo.add_quality_result(ref, parse.quality_result(p)),
            quality_json,
            stock=False,
        )

    async def _maintenance(self, request: web.Request) -> web.Response:
        return await self._write(
            request,
            lambda ref, spec, p: self.repo.add_maintenance(ref, parse.maintenance(spec, p)),
            maintenance_json,
            stock=False,
        )

    async def _material(self, request: web.Request) -> web.Response:
        name = request.match_info.get("material")
        return await self._write(
            request,
            lambda ref, _s, p: self.repo.set_material(ref, parse.material(p, name)),
            material_json,
            # A PUT that changes the threshold answers 200 (not created) but moves the
            # low-stock gauges: a raised threshold must be able to fire the alert now.
            refresh_always=True,
        )

    def _line(self, request: web.Request) -> LineRef | web.Response:
        ref = LineRef(request.match_info["namespace"], request.match_info["line"])
        if self._spec_of(ref.namespace, ref.name) is None:
            return unknown_line(ref.namespace, ref.name)
        return ref

    async def _show(self, request: web.Request) -> web.Response:
        ref = self._line(request)
        if isinstance(ref, web.Response):
            return ref
        name = request.match_info["lot"]
        try:
            parse.text(name, "path.lot")
        except PayloadError:
            return problem(
                404, "unknown-lot", f"lot {name[:40]!r} is not recorded", field="path.lot"
            )

        def read() -> dict[str, Any] | None:
            lot = self.repo.lot(ref, name)
            if lot is None:
                return None
            predictions = self._predictions.list(ref, lot=name, limit=MAX_PREDICTIONS)
            return {
                **lot_json(lot),
                "inputs": [
                    {"consumption": cid, **input_json(item), "consumedAt": at}
                    for cid, item, at in self.repo.inputs(ref, name)
                ],
                "qualityResults": [quality_json(q) for q in self.repo.quality_results(ref, name)],
                "predictions": [prediction_json(i, p) for i, p in predictions],
            }

        shown = await asyncio.to_thread(read)
        if shown is None:
            return problem(404, "unknown-lot", f"lot {name!r} is not recorded", field="path.lot")
        return web.json_response(shown)

    async def _inventory(self, request: web.Request) -> web.Response:
        ref = self._line(request)
        if isinstance(ref, web.Response):
            return ref

        def read() -> dict[str, Any]:
            material = _name(request, "material") if "material" in request.query else None
            stocks = self.repo.inventory(ref, material)
            return {
                "materials": [stock_json(s) for s in stocks],
                "lowStock": [s.material for s in stocks if s.low],
            }

        try:
            return web.json_response(await asyncio.to_thread(read))
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)

    async def _maintenance_list(self, request: web.Request) -> web.Response:
        ref = self._line(request)
        if isinstance(ref, web.Response):
            return ref

        def read() -> dict[str, Any]:
            unit = _name(request, "workUnit") if "workUnit" in request.query else None
            bounds: list[str | None] = []
            for key in ("from", "to"):
                raw = request.query.get(key)
                try:
                    bounds.append(None if raw is None else parse.when(raw, f"query.{key}"))
                except PayloadError as exc:
                    raise _BadQuery(exc.field, str(exc)) from None
            if bounds[0] is not None and bounds[1] is not None and not bounds[0] < bounds[1]:
                # As the shifts and genealogy windows answer; an empty list read as "none".
                raise _BadQuery("query.to", f"to: {bounds[1]} is not after from ({bounds[0]})")
            rows = self.repo.maintenance(ref, unit, bounds[0], bounds[1])
            return {"records": [maintenance_with_parts(m, parts) for m, parts in rows]}

        try:
            return web.json_response(await asyncio.to_thread(read))
        except _BadQuery as exc:
            return problem(400, "invalid-query", str(exc), field=exc.field)
