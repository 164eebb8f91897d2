"""The write side of lots and materials (issue #22) through the data plane's HTTP API, on
SQLite and PostgreSQL (``db_url``): receipts, work orders, production lots opened and
closed, consumptions into lots and maintenance records, quality results, materials with
thresholds, inventory and the lot's show page; idempotent repeats; every kind of bad input
refused with a 4xx naming the field and the database unchanged afterwards (a dump of the
tables before and after)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lineops.dataplane.db.tables import (
    consumptions,
    lots,
    maintenance,
    materials,
    quality_results,
    recalls,
    work_orders,
)
from lineops.dataplane.lines import LineRef
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

T0 = "2026-11-02T06:00:00+00:00"
TABLES = (lots, consumptions, work_orders, quality_results, maintenance, materials, recalls)


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        yield app


def post(served: ServedApp, route: str, body: Any) -> requests.Response:
    return requests.post(served.line_url(route), json=body, timeout=30)


def dump(served: ServedApp) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the lot tables, in id order: compared before and after a refusal."""
    with served.app.db.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))] for t in TABLES
        }


def receipt(lot: str = "S-1", quantity: Any = "25.5", **extra: Any) -> dict[str, Any]:
    return {
        "lot": lot,
        "material": "steel-coil",
        "unit": "kg",
        "quantity": quantity,
        "supplier": "acme",
        "supplierLot": f"ACME-{lot}",
        "receivedAt": T0,
        "expectedAt": "2026-11-01T00:00:00Z",
        **extra,
    }


def production(lot: str = "P-1", **extra: Any) -> dict[str, Any]:
    return {
        "lot": lot,
        "product": "bracket",
        "workUnit": "press-01",
        "start": "2026-11-02T07:00:00+01:00",
        "recipe": {"name": "r7", "force": 1200},
        **extra,
    }


def consumption(
    cid: str = "C-1", inputs: list[tuple[str, Any, str]] | None = None, **target: Any
) -> dict[str, Any]:
    items = inputs if inputs is not None else [("S-1", "10.25", "kg")]
    return {
        "consumption": cid,
        "inputs": [{"lot": lot, "quantity": q, "unit": u} for lot, q, u in items],
        "consumedAt": "2026-11-02T06:30:00Z",
        **(target or {"outputLot": "P-1"}),
    }


def stock(served: ServedApp, material: str) -> dict[str, Any]:
    answer = requests.get(served.line_url("inventory"), params={"material": material}, timeout=30)
    assert answer.status_code == 200, answer.text
    (entry,) = answer.json()["materials"]
    return dict(entry)


def seed(served: ServedApp) -> None:
    assert post(served, "material-lots", receipt()).status_code == 201
    assert post(served, "lots", production()).status_code == 201


def test_receipt_production_consumption_close_and_show(served: ServedApp) -> None:
    first = post(served, "material-lots", receipt(quantity=25.5))
    assert first.status_code == 201, first.text
    assert first.json()["quantity"] == "25.5"
    assert first.json()["remaining"] == "25.5"
    order = post(
        served,
        "work-orders",
        {"workOrder": "WO-1", "product": "bracket", "quantity": 100, "due": T0},
    )
    assert order.status_code == 201, order.text
    opened = post(served, "lots", production(workOrder="WO-1"))
    assert opened.status_code == 201, opened.text
    assert (opened.json()["status"], opened.json()["start"]) == (
        "open",
        "2026-11-02T06:00:00+00:00",
    )
    used = post(served, "consumptions", consumption(inputs=[("S-1", "10.1", "kg")]))
    assert used.status_code == 201, used.text
    assert stock(served, "steel-coil")["onHand"] == "15.4"  # exact: 25.5 - 10.1
    closed = requests.post(
        served.line_url("lots/P-1:close"),
        json={"end": "2026-11-02T08:00:00Z", "total": 100, "good": 97, "scrap": 3},
        timeout=30,
    )
    assert closed.status_code == 201, closed.text
    assert (closed.json()["status"], closed.json()["remaining"]) == ("closed", "97")
    assert stock(served, "bracket")["onHand"] == "97"
    inspected = post(
        served,
        "quality-results",
        {
            "result": "Q-1",
            "lot": "P-1",
            "inspection": "final",
            "outcome": "fail",
            "measurements": {"hole_diameter": 10.2},
            "inspectedAt": "2026-11-02T08:05:00Z",
        },
    )
    assert inspected.status_code == 201, inspected.text
    logged = post(
        served,
        "predictions",
        {
            "records": [
                {
                    "modelTag": "press-quality:abc",
                    "workUnit": "press-01",
                    "lot": "P-1",
                    "timestamp": "2026-11-02T07:30:00Z",
                    "features": {"x": 1.0},
                    "result": {"label": "ok"},
                }
            ]
        },
    )
    assert logged.json()["accepted"] == 1, logged.text
    shown = requests.get(served.line_url("lots/P-1"), timeout=30)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["inputs"] == [
        {
            "consumption": "C-1",
            "lot": "S-1",
            "quantity": "10.1",
            "unit": "kg",
            "consumedAt": "2026-11-02T06:30:00+00:00",
        }
    ]
    assert [q["outcome"] for q in body["qualityResults"]] == ["fail"]
    assert [p["modelTag"] for p in body["predictions"]] == ["press-quality:abc"]
    assert body["recipe"] == {"name": "r7", "force": 1200}
    assert (body["workOrder"], body["total"], body["scrap"]) == ("WO-1", "100", "3")


def test_maintenance_with_parts_and_its_window_query(served: ServedApp) -> None:
    assert post(served, "material-lots", receipt("BEARING-1", 4, material="bearing", unit="pcs")).ok
    record = {
        "maintenance": "M-1",
        "workUnit": "press-01",
        "kind": "unplanned",
        "reason": "bearing noise",
        "start": "2026-11-02T10:00:00Z",
        "end": "2026-11-02T11:30:00Z",
    }
    assert post(served, "maintenance", record).status_code == 201
    parts = consumption("C-M1", [("BEARING-1", 2, "pcs")], maintenance="M-1")
    assert post(served, "consumptions", parts).status_code == 201
    assert stock(served, "bearing")["onHand"] == "2"
    url = served.line_url("maintenance")
    found = requests.get(
        url, params={"workUnit": "press-01", "from": "2026-11-02T11:00:00Z"}, timeout=30
    ).json()["records"]
    assert [(m["maintenance"], m["parts"]) for m in found] == [
        ("M-1", [{"lot": "BEARING-1", "quantity": "2", "unit": "pcs"}])
    ]
    assert requests.get(url, params={"to": "2026-11-02T09:00:00Z"}, timeout=30).json() == {
        "records": []
    }
    assert requests.get(url, params={"from": "yesterday"}, timeout=30).status_code == 400
    backwards = {"from": "2026-11-03T00:00:00Z", "to": "2026-11-02T00:00:00Z"}
    answer = requests.get(url, params=backwards, timeout=30)  # was 200 with no records
    assert (answer.status_code, answer.json()["field"]) == (400, "query.to")


def test_thresholds_inventory_and_the_low_stock_gauge(served: ServedApp) -> None:
    seed(served)
    put = requests.put(
        served.line_url("materials/steel-coil"), json={"unit": "kg", "lowStock": 20}, timeout=30
    )
    assert put.status_code == 201, put.text
    assert requests.get(served.line_url("inventory"), timeout=30).json()["lowStock"] == []
    assert post(served, "consumptions", consumption(inputs=[("S-1", 6, "kg")])).ok
    inventory = requests.get(served.line_url("inventory"), timeout=30).json()
    assert inventory["lowStock"] == ["steel-coil"]
    (lot,) = next(m for m in inventory["materials"] if m["material"] == "steel-coil")["lots"]
    assert (lot["received"], lot["consumed"], lot["remaining"]) == ("25.5", "6", "19.5")
    scraped = requests.get(served.url + "/metrics", timeout=30).text
    labels = 'line="press-line-1",material="steel-coil",namespace="plant-a"'
    assert f"lineops_material_low_stock{{{labels}}} 1.0" in scraped
    assert f"lineops_material_stock{{{labels}}} 19.5" in scraped
    assert f"lineops_material_low_stock_threshold{{{labels}}} 20.0" in scraped
    # Raising stock clears it; a PUT replaces the threshold (200: the material existed).
    again = requests.put(
        served.line_url("materials/steel-coil"), json={"unit": "kg", "lowStock": 5}, timeout=30
    )
    assert again.status_code == 200
    assert requests.get(served.line_url("inventory"), timeout=30).json()["lowStock"] == []
    # ...and the gauges follow the PUT at once (they waited for an unrelated stock write).
    scraped = requests.get(served.url + "/metrics", timeout=30).text
    assert f"lineops_material_low_stock{{{labels}}} 0.0" in scraped
    assert f"lineops_material_low_stock_threshold{{{labels}}} 5.0" in scraped
    raised = requests.put(
        served.line_url("materials/steel-coil"), json={"unit": "kg", "lowStock": 50}, timeout=30
    )
    assert raised.status_code == 200
    scraped = requests.get(served.url + "/metrics", timeout=30).text
    assert f"lineops_material_low_stock{{{labels}}} 1.0" in scraped
    # A removed threshold leaves no threshold series behind.
    removed = requests.put(served.line_url("materials/steel-coil"), json={"unit": "kg"}, timeout=30)
    assert removed.status_code == 200
    scraped = requests.get(served.url + "/metrics", timeout=30).text
    assert f"lineops_material_low_stock_threshold{{{labels}}}" not in scraped
    assert f"lineops_material_low_stock{{{labels}}} 0.0" in scraped


STOCK_GAUGES = (
    "lineops_material_stock",
    "lineops_material_low_stock_threshold",
    "lineops_material_low_stock",
)


def stock_series(served: ServedApp) -> dict[tuple[str, str, str], float]:
    """The stock gauges scraped from /metrics: (name, line, material) -> value."""
    scraped = requests.get(served.url + "/metrics", timeout=30).text
    return {
        (sample.name, sample.labels["line"], sample.labels["material"]): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name in STOCK_GAUGES
    }


def test_a_removed_lines_stock_series_are_gone(served: ServedApp) -> None:
    """Removing a line drops its stock gauges, not another line's; configured again, its
    gauges are computed from the store (its lots and materials stay)."""
    other = LineRef(LINE.namespace, "press-line-2")
    spec = served.app.spec_of(LINE.namespace, LINE.name)
    assert spec is not None
    served.app.configure_line(other, spec)
    seed(served)
    for line in (LINE, other):
        put = requests.put(
            served.line_url("materials/steel-coil", line),
            json={"unit": "kg", "lowStock": 30},
            timeout=30,
        )
        assert put.status_code == 201, put.text
    before = stock_series(served)
    assert {key[1] for key in before} == {LINE.name, other.name}
    assert before[("lineops_material_stock", LINE.name, "steel-coil")] == 25.5
    assert before[("lineops_material_low_stock", LINE.name, "steel-coil")] == 1.0
    assert before[("lineops_material_stock", other.name, "steel-coil")] == 0.0

    served.app.remove_line(LINE)
    assert LINE not in served.app._lot_trackers  # no memory kept for a deleted line
    after = stock_series(served)
    assert [key for key in after if key[1] == LINE.name] == []
    assert after == {key: v for key, v in before.items() if key[1] == other.name}
    assert len(after) == len(STOCK_GAUGES)

    served.app.configure_line(LINE, spec)
    assert stock_series(served) == before


def test_a_repeated_write_is_answered_the_same(served: ServedApp) -> None:
    seed(served)
    first = post(served, "consumptions", consumption())
    again = post(served, "consumptions", consumption())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert stock(served, "steel-coil")["onHand"] == "15.25"  # consumed once
    repeat = post(served, "material-lots", receipt())
    assert repeat.status_code == 200
    assert repeat.json()["remaining"] == "15.25"


def test_concurrent_repeats_of_one_consumption_consume_once(served: ServedApp) -> None:
    from concurrent.futures import ThreadPoolExecutor

    seed(served)
    with ThreadPoolExecutor(8) as pool:
        codes = sorted(
            pool.map(lambda _: post(served, "consumptions", consumption()).status_code, range(8))
        )
    assert codes == [200] * 7 + [201]
    assert stock(served, "steel-coil")["onHand"] == "15.25"


def test_concurrent_receipts_of_a_new_material_in_two_units_store_one_unit(
    served: ServedApp,
) -> None:
    """The unit check read, then wrote: receipts in kg and lb at once both passed it, and
    the material's stock added kilograms to pounds."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [
        receipt(f"R-{i}", material="brass-bar", unit="kg" if i % 2 else "lb") for i in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda body: post(served, "material-lots", body).status_code, bodies))
    assert sorted(set(codes)) == [201, 422]
    t = lots.c
    with served.app.db.engine.connect() as conn:
        units = set(conn.execute(select(t.unit).where(t.material == "brass-bar")).scalars().all())
    assert len(units) == 1


BAD = [
    # (route, body, status, field, words in the detail)
    ("consumptions", consumption(inputs=[("NOPE", 1, "kg")]), 422, "inputs[0].lot", "NOPE"),
    ("consumptions", consumption(outputLot="NOPE"), 422, "outputLot", "not recorded"),
    ("consumptions", consumption(inputs=[("S-1", 0, "kg")]), 422, "inputs[0].quantity", "positive"),
    (
        "consumptions",
        consumption(inputs=[("S-1", -2, "kg")]),
        422,
        "inputs[0].quantity",
        "positive",
    ),
    (
        "consumptions",
        consumption(inputs=[("S-1", "1.0000001", "kg")]),
        422,
        "inputs[0].quantity",
        "6 decimals",
    ),
    ("consumptions", consumption(inputs=[("S-1", 1, "g")]), 422, "inputs[0].unit", "'kg'"),
    (
        "consumptions",
        consumption(inputs=[("S-1", "30", "kg")]),
        409,
        "inputs[0].quantity",
        "short by 5.5 kg",
    ),
    (
        "consumptions",
        consumption(inputs=[("S-1", 1, "kg"), ("S-1", 1, "kg")]),
        422,
        "inputs[1].lot",
        "twice",
    ),
    ("consumptions", consumption(inputs=[("P-1", 1, "pcs")]), 422, "inputs[0].lot", "cycle"),
    ("consumptions", consumption(outputLot="S-1"), 422, "outputLot", "material lot"),
    ("consumptions", consumption(maintenance="M-9"), 422, "maintenance", "not recorded"),
    (
        "consumptions",
        consumption(outputLot="P-1", maintenance="M"),
        422,
        "outputLot",
        "exactly one",
    ),
    ("material-lots", receipt(quantity="abc"), 422, "quantity", "not a decimal"),
    ("material-lots", receipt(receivedAt="2026-11-02T06:00:00"), 422, "receivedAt", "offset"),
    ("material-lots", receipt(lot="S-1", quantity=1), 409, "lot", "different payload"),
    ("lots", production(workUnit="lathe-9"), 422, "workUnit", "not a work unit"),
    ("lots", production(lot="P-2", workOrder="WO-404"), 422, "workOrder", "WO-404"),
    ("lots", production(lot="P-2", total=3), 422, "end", "when the lot ends"),
    (
        "quality-results",
        {"result": "Q", "lot": "NOPE", "inspection": "x", "outcome": "pass", "inspectedAt": T0},
        422,
        "lot",
        "NOPE",
    ),
    (
        "quality-results",
        {"result": "Q", "lot": "P-1", "inspection": "x", "outcome": "meh", "inspectedAt": T0},
        422,
        "outcome",
        "meh",
    ),
    (
        "maintenance",
        {
            "maintenance": "M",
            "workUnit": "press-01",
            "kind": "planned",
            "start": T0,
            "end": "2026-11-01T00:00:00Z",
        },
        422,
        "end",
        "before",
    ),
    ("materials", {"material": "steel-coil", "unit": "t"}, 422, "unit", "recorded in 'kg'"),
    ("lots", production(lot="P-2", product="steel-coil"), 422, "unit", "'kg'"),
    ("material-lots", receipt(lot="S-9", unit="g"), 422, "unit", "'kg'"),
    # a misspelt field was dropped: "totl" closed the lot with no counts
    ("lots/P-1:close", {"end": T0, "totl": 40, "good": 40}, 422, "totl", "unknown field"),
    ("lots", production(lot="P-2", work_order="WO-1"), 422, "work_order", "unknown field"),
    ("material-lots", receipt(lot="S-9", expectedAT=T0), 422, "expectedAT", "unknown field"),
    (
        "consumptions",
        {**consumption(), "inputs": [{"lot": "S-1", "quantity": 1, "unit": "kg", "qty": 1}]},
        422,
        "inputs[0].qty",
        "unknown field",
    ),
    ("lots/NOPE:close", {"end": T0}, 404, "path.lot", "NOPE"),
    ("lots/S-1:close", {"end": T0}, 409, "path.lot", "material lot"),
]


@pytest.mark.parametrize(("route", "body", "status", "field", "words"), BAD)
def test_bad_input_is_refused_naming_the_field_and_nothing_changes(
    served: ServedApp, route: str, body: Any, status: int, field: str, words: str
) -> None:
    seed(served)
    # P-1 made from S-1: S-1's stock and P-1's inputs are what a refusal must not touch.
    assert post(served, "consumptions", consumption("C-0", [("S-1", 1, "kg")])).ok
    before = dump(served)
    answer = post(served, route, body)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["field"] == field
    assert words in problem["detail"], problem["detail"]
    assert dump(served) == before


def test_a_cycle_through_two_lots_is_refused(served: ServedApp) -> None:
    seed(served)
    assert post(served, "lots", production("P-2")).ok
    assert post(served, "lots", production("P-3")).ok
    for lot in ("P-1", "P-2"):
        closed = requests.post(
            served.line_url(f"lots/{lot}:close"), json={"end": T0, "good": 5}, timeout=30
        )
        assert closed.status_code == 201, closed.text
    assert post(
        served, "consumptions", consumption("C-12", [("P-1", 1, "pcs")], outputLot="P-2")
    ).ok
    assert post(
        served, "consumptions", consumption("C-23", [("P-2", 1, "pcs")], outputLot="P-3")
    ).ok
    before = dump(served)
    # P-3 is made from P-2, made from P-1: P-3 into P-1 closes the loop.
    looped = post(served, "consumptions", consumption("C-31", [("P-3", 1, "pcs")], outputLot="P-1"))
    assert looped.status_code == 422, looped.text
    assert "cycle" in looped.json()["detail"]
    assert dump(served) == before


def test_a_refused_input_refuses_the_whole_consumption(served: ServedApp) -> None:
    """The first input fits, the second does not: neither is taken."""
    seed(served)
    assert post(served, "material-lots", receipt("S-2", 1)).ok
    before = dump(served)
    answer = post(served, "consumptions", consumption(inputs=[("S-1", 5, "kg"), ("S-2", 2, "kg")]))
    assert answer.status_code == 409
    assert answer.json()["field"] == "inputs[1].quantity"
    assert dump(served) == before


def test_routes_of_an_unknown_line_are_404(served: ServedApp) -> None:
    base = served.url + "/v1/namespaces/plant-a/lines/nope/"
    assert requests.post(base + "material-lots", json=receipt(), timeout=30).status_code == 404
    assert requests.get(base + "inventory", timeout=30).status_code == 404
    assert requests.get(served.line_url("lots/NOPE"), timeout=30).status_code == 404


def test_concurrent_consumptions_cannot_overdraw_a_lot(served: ServedApp) -> None:
    """Eight consumptions of 10 kg race for 25.5 kg: two fit, six are refused with the
    shortfall, and stock ends at 5.5 kg (PostgreSQL: concurrent transactions; SQLite: its
    write lock)."""
    from concurrent.futures import ThreadPoolExecutor

    seed(served)

    def take(i: int) -> int:
        body = consumption(f"C-{i}", [("S-1", 10, "kg")])
        return post(served, "consumptions", body).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(take, range(8)))
    assert codes == [201, 201] + [409] * 6
    entry = stock(served, "steel-coil")
    assert entry["onHand"] == "5.5"
    assert entry["lots"][0]["consumed"] == "20"


def test_concurrent_opposite_edges_cannot_both_land(served: ServedApp) -> None:
    """P-1 into P-2 and P-2 into P-1 at the same time: one is stored, the other is a cycle."""
    from concurrent.futures import ThreadPoolExecutor

    seed(served)
    assert post(served, "lots", production("P-2")).ok
    for lot in ("P-1", "P-2"):
        assert requests.post(
            served.line_url(f"lots/{lot}:close"), json={"end": T0, "good": 5}, timeout=30
        ).ok
    bodies = [
        consumption("C-A", [("P-1", 1, "pcs")], outputLot="P-2"),
        consumption("C-B", [("P-2", 1, "pcs")], outputLot="P-1"),
    ] * 4
    bodies = [{**b, "consumption": f"{b['consumption']}{i}"} for i, b in enumerate(bodies)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda b: post(served, "consumptions", b), bodies))
    stored = {a.json()["outputLot"] for a in answers if a.status_code == 201}
    assert len(stored) == 1, [a.text for a in answers]
    assert all(a.status_code == 201 or "cycle" in a.json()["detail"] for a in answers), [
        a.text for a in answers
    ]


def test_concurrent_closes_with_other_counts_store_one_and_refuse_the_rest(
    served: ServedApp,
) -> None:
    """Two stations close one lot at once, one all scrap, one all good: both read it open
    and both answered 201, the later silently replacing the first. Now one is stored and
    the other gets 409, on each of 12 lots."""
    from concurrent.futures import ThreadPoolExecutor

    end = "2026-11-02T08:00:00Z"
    lots = [f"R-{i}" for i in range(12)]
    for lot in lots:
        assert post(served, "lots", production(lot)).status_code == 201
    bodies = [
        (lot, counts)
        for lot in lots
        for counts in ({"total": 10, "good": 0, "scrap": 10}, {"total": 40, "good": 40})
    ]

    def close(item: tuple[str, dict[str, Any]]) -> tuple[str, int, dict[str, Any]]:
        lot, counts = item
        answer = post(served, f"lots/{lot}:close", {"end": end, **counts})
        return lot, answer.status_code, counts

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(close, bodies))
    for lot in lots:
        codes = sorted(code for name, code, _ in answers if name == lot)
        assert codes == [201, 409], (lot, codes)
        (won,) = [counts for name, code, counts in answers if name == lot and code == 201]
        shown = requests.get(served.line_url(f"lots/{lot}"), timeout=30).json()
        assert shown["good"] == str(won["good"]), (lot, shown, won)


def test_a_close_does_not_rewrite_an_earlier_close(served: ServedApp) -> None:
    """A close without `good` (scrap only, or no counts) was rewritten by a later one."""
    seed(served)
    assert post(served, "lots", production("P-2")).status_code == 201
    first = post(served, "lots/P-1:close", {"end": "2026-11-02T07:00:00Z", "total": 10, "scrap": 2})
    assert first.status_code == 201, first.text
    other = post(served, "lots/P-1:close", {"end": "2026-11-02T09:00:00Z", "total": 50, "good": 50})
    assert other.status_code == 409 and other.json()["field"] == "path.lot"
    bare = post(served, "lots/P-2:close", {"end": "2026-11-02T07:00:00Z"})
    assert bare.status_code == 201, bare.text
    moved = post(served, "lots/P-2:close", {"end": "2026-11-02T11:00:00Z"})
    assert moved.status_code == 409
    # Counts may still be added to a lot closed without them (as from its readings).
    counted = post(served, "lots/P-2:close", {"end": "2026-11-02T07:00:00Z", "good": 7})
    assert counted.status_code == 201, counted.text
    shown = requests.get(served.line_url("lots/P-1"), timeout=30).json()
    assert (shown["total"], shown["scrap"], shown["good"]) == ("10", "2", None)


def test_scrap_beyond_the_total_is_refused(served: ServedApp) -> None:
    seed(served)
    answer = post(
        served, "lots/P-1:close", {"end": "2026-11-02T08:00:00Z", "total": 10, "scrap": 25}
    )
    assert answer.status_code == 422 and answer.json()["field"] == "scrap"
