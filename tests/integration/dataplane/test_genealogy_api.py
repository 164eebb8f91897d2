"""The genealogy read routes on a small plant built by hand, on SQLite and PostgreSQL.

Four receipts from two suppliers, five production lots on the example line's work units,
maintenance on press-01, a failed inspection, a recall, predictions of two model tags and
ring-diameter measurements with one out-of-control subgroup. Every expected answer below
(trace depths, the supplier scorecard, which lots fall in which window) is worked out by
hand from that history, not read back from the code under test.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from lineops.dataplane.db.tables import (
    consumptions,
    lots,
    maintenance,
    predictions,
    quality_results,
    recalls,
)
from lineops.dataplane.epcis_check import check
from lineops.dataplane.repositories.mes import Measurement
from sqlalchemy import insert

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

BASE = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
HASH = "0" * 64


def at(minutes: float = 0, *, days: float = 0, hours: float = 0) -> str:
    return (BASE + timedelta(days=days, hours=hours, minutes=minutes)).isoformat()


def _common(name_column: str, name: str) -> dict[str, Any]:
    return {
        "namespace": LINE.namespace,
        "line": LINE.name,
        name_column: name,
        "payload_hash": HASH,
        "created_at": at(),
    }


def _lot(**values: Any) -> dict[str, Any]:
    """Every column of a lots row (executemany wants the same keys in every row)."""
    return {**{c.name: None for c in lots.columns if c.name != "id"}, **values}


def material(
    name: str, supplier: str, supplier_lot: str, received: str, expected: str | None
) -> dict[str, Any]:
    return _lot(
        **_common("lot", name),
        kind="material",
        material="steel-strip",
        unit="kg",
        quantity_micros=1_000_000_000,
        remaining_micros=1_000_000_000,
        status="open",
        supplier=supplier,
        supplier_lot=supplier_lot,
        received_at=received,
        expected_at=expected,
    )


def produced(name: str, unit: str, start: float, end: float) -> dict[str, Any]:
    return _lot(
        **_common("lot", name),
        kind="production",
        material="ring",
        unit="pcs",
        quantity_micros=500_000_000,
        remaining_micros=500_000_000,
        status="closed",
        work_unit=unit,
        started_at=at(start),
        ended_at=at(end),
    )


def edge(name: str, source: str, target: str, micros: int, when: float) -> dict[str, Any]:
    return {
        **_common("consumption", name),
        "input_lot": source,
        "output_lot": target,
        "maintenance": None,
        "quantity_micros": micros,
        "unit": "kg",
        "consumed_at": at(when),
    }


def repair(name: str, kind: str, start: float, end: float) -> dict[str, Any]:
    return {
        **_common("maintenance", name),
        "work_unit": "press-01",
        "kind": kind,
        "reason": "bearing",
        "start": at(start),
        "end": at(end),
    }


def build(served: ServedApp) -> None:
    engine = served.app.db.engine
    with engine.begin() as conn:
        conn.execute(
            insert(lots),
            [
                # acme: M1 two hours early, M2 ten hours late; borealis: M3 two hours late,
                # M4 without a promised date.
                material("M1", "acme", "acme-A", at(days=-5), at(days=-5, hours=2)),
                material("M2", "acme", "acme-B", at(days=-4, hours=10), at(days=-4)),
                material("M3", "borealis", "bor-1", at(days=-3, hours=2), at(days=-3)),
                material("M4", "borealis", "bor-2", at(days=-3), None),
                produced("P1", "press-01", 0, 60),
                produced("P2", "furnace-01", 120, 140),
                produced("P3", "grinder-01", 200, 260),
                produced("P4", "gauge-01", 300, 330),
                produced("P5", "press-01", 500, 560),
            ],
        )
        conn.execute(
            insert(consumptions),
            [
                edge("c1", "M1", "P1", 12_500_000, 1),
                edge("c1", "M3", "P1", 7_000_000, 1),
                edge("c2", "P1", "P2", 400_000_000, 121),
                edge("c3", "M2", "P3", 3_250_000, 201),
                edge("c4", "P2", "P4", 100_000_000, 301),
                edge("c4", "P3", "P4", 200_000_000, 301),
            ],
        )
        conn.execute(
            insert(maintenance),
            [
                repair("pm-0", "planned", -600, -540),
                repair("mnt-1", "unplanned", -120, -60),
                repair("mnt-2", "unplanned", 400, 420),
            ],
        )
        conn.execute(
            insert(quality_results),
            [
                {
                    **_common("result", "q1"),
                    "lot": "P2",
                    "inspection": "hardness",
                    "outcome": "fail",
                    "measurements": "{}",
                    "inspected_at": at(150),
                },
                {
                    **_common("result", "q2"),
                    "lot": "P3",
                    "inspection": "hardness",
                    "outcome": "pass",
                    "measurements": "{}",
                    "inspected_at": at(270),
                },
            ],
        )
        conn.execute(
            insert(recalls),
            [{**_common("recall", "r1"), "supplier_lot": "acme-B", "reason": "cracks"}],
        )
        conn.execute(
            insert(predictions),
            [
                {
                    "namespace": LINE.namespace,
                    "line": LINE.name,
                    "model_tag": tag,
                    "work_unit": None,
                    "lot": lot,
                    "timestamp": at(minute),
                    "features": "{}",
                    "result": "{}",
                }
                for tag, lot, minute in (
                    ("inspector:v2", "P2", 135),
                    ("inspector:v2", "P2", 138),
                    ("inspector:v2", "P4", 320),
                    ("inspector:v1", "P1", 30),
                )
            ],
        )
    # ring_diameter: 25 in-control subgroups (Phase I), one far off target, one back on it.
    rng = random.Random(11)
    values = [74.0 + rng.gauss(0, 0.005) for _ in range(125)]
    values += [74.2 + rng.gauss(0, 0.005) for _ in range(5)]
    values += [74.0 + rng.gauss(0, 0.005) for _ in range(5)]
    served.app.db.mes.add_measurements(
        LINE, [Measurement("ring_diameter", at(i), v) for i, v in enumerate(values)]
    )


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        build(app)
        yield app


def get(served: ServedApp, route: str, **params: Any) -> requests.Response:
    return requests.get(served.line_url(route), params=params, timeout=60)


def problem_of(answer: requests.Response, status: int, field: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["field"] == field, body
    return body


def test_backward_trace_with_quantities_depths_and_maintenance(served: ServedApp) -> None:
    answer = get(served, "lots/P4/trace", direction="backward", maintenance="true")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    got = {(e["inputLot"], e["outputLot"]): (e["depth"], e["quantity"]) for e in body["edges"]}
    assert got == {
        ("P2", "P4"): (1, "100"),
        ("P3", "P4"): (1, "200"),
        ("P1", "P2"): (2, "400"),
        ("M2", "P3"): (2, "3.25"),
        ("M1", "P1"): (3, "12.5"),
        ("M3", "P1"): (3, "7"),
    }
    assert body["cycles"] == [] and body["truncated"] is False
    assert body["lots"]["M2"]["supplierLot"] == "acme-B"
    # P1 started on press-01 after pm-0 (planned) and mnt-1 (unplanned).
    assert [m["maintenance"] for m in body["maintenance"]["P1"]] == ["pm-0", "mnt-1"]
    assert body["maintenance"]["P2"] == []  # nothing recorded on furnace-01
    shallow = get(served, "lots/P4/trace", depth=1).json()
    assert {e["inputLot"] for e in shallow["edges"]} == {"P2", "P3"}
    assert shallow["truncated"] is True
    forward = get(served, "lots/M1/trace", direction="forward").json()
    assert [(e["outputLot"], e["depth"]) for e in forward["edges"]] == [
        ("P1", 1),
        ("P2", 2),
        ("P4", 3),
    ]


def test_recall_and_lots_by_model_window_alert_and_repairs(served: ServedApp) -> None:
    recall = get(served, "recall", supplierLot="acme-B").json()
    assert recall["starts"] == ["M2"] and recall["affectedLots"] == ["P3", "P4"]
    judged = get(served, "lots", modelTag="inspector:v2").json()["lots"]
    assert [(j["lot"], j["predictions"]) for j in judged] == [("P2", 2), ("P4", 1)]
    assert judged[0]["record"]["workUnit"] == "furnace-01"
    during = get(served, "lots", **{"from": at(50), "to": at(210)}).json()["lots"]
    assert [lot["lot"] for lot in during] == ["P1", "P2", "P3"]
    narrowed = get(served, "lots", **{"from": at(50), "to": at(210), "workUnit": "grinder-01"})
    assert [lot["lot"] for lot in narrowed.json()["lots"]] == ["P3"]
    # The off-target subgroup is measurements 125..129; its stretch lasts until the next
    # subgroup is complete (measurement 134): P2 (120..140) ran then, nothing else did.
    alert = get(served, "lots", outOfControl="ring_diameter").json()
    assert [(w["from"], w["to"]) for w in alert["windows"]] == [(at(129), at(134))]
    assert [lot["lot"] for lot in alert["windows"][0]["lots"]] == ["P2"]
    between = get(served, "lots", afterMaintenance="mnt-1").json()
    assert between["before"]["maintenance"] == "mnt-2"
    assert [lot["lot"] for lot in between["lots"]] == ["P1"]
    after = get(served, "lots", afterMaintenance="mnt-2").json()
    assert after["before"] is None and [lot["lot"] for lot in after["lots"]] == ["P5"]
    explicit = get(served, "lots", afterMaintenance="pm-0", beforeMaintenance="mnt-2").json()
    assert [lot["lot"] for lot in explicit["lots"]] == ["P1"]


def test_supplier_scorecard_matches_the_hand_computation(served: ServedApp) -> None:
    answer = get(served, "suppliers/scorecard")
    assert answer.status_code == 200, answer.text
    scores = {s["supplier"]: s for s in answer.json()["suppliers"]}
    # acme: M1 -> P1, P2, P4; M2 -> P3, P4: 4 downstream lots; P2 failed inspection; the
    # recall of acme-B (M2) reaches P3 and P4: affected P2, P3, P4 = 3 of 4.
    assert scores["acme"] == {
        "supplier": "acme",
        "lotsReceived": 2,
        "downstreamLots": 4,
        "failedInspection": 1,
        "recalled": 2,
        "affected": 3,
        "affectedShare": 0.75,
        "receipts": {
            "onTime": 1,
            "late": 1,
            "withoutExpectedDate": 0,
            "onTimeShare": 0.5,
            "meanLatenessHours": 10.0,
        },
    }
    # borealis: M3 -> P1, P2, P4 (M4 unused): P2 failed, P4 recalled through acme-B.
    assert scores["borealis"]["downstreamLots"] == 3
    assert scores["borealis"]["affected"] == 2
    assert scores["borealis"]["affectedShare"] == pytest.approx(2 / 3)
    assert scores["borealis"]["receipts"] == {
        "onTime": 0,
        "late": 1,
        "withoutExpectedDate": 1,
        "onTimeShare": 0.0,
        "meanLatenessHours": 2.0,
    }


def test_sensor_windows_through_the_lot_matching(served: ServedApp) -> None:
    stamps = [BASE + timedelta(minutes=m) for m in range(110, 150)]
    values = [800.0 + i for i in range(len(stamps))]
    served.app.ingestion.offline.append(
        LINE.name,
        pa.table(
            {
                "work_unit": ["furnace-01"] * len(stamps),
                "sensor": ["zone1_temperature"] * len(stamps),
                "timestamp": pa.array(stamps, pa.timestamp("ns", tz="UTC")),
                "value": values,
                "lot": [None] * len(stamps),
                "received_at": pa.array(stamps, pa.timestamp("ns", tz="UTC")),
                "batch_id": ["b"] * len(stamps),
            }
        ),
    )
    answer = get(served, "lots/P4/sensor-windows", depth=2)
    assert answer.status_code == 200, answer.text
    windows = {w["lot"]: w for w in answer.json()["windows"]}
    assert set(windows) == {"P4", "P2", "P3", "P1"}  # production lots only, not M1..M3
    p2 = windows["P2"]
    assert (p2["workUnit"], p2["start"], p2["end"]) == ("furnace-01", at(120), at(140))
    inside = [v for s, v in zip(stamps, values, strict=True) if at(120) <= s.isoformat() <= at(140)]
    assert p2["features"]["zone1_temperature__count"] == len(inside) == 21
    assert p2["features"]["zone1_temperature__mean"] == pytest.approx(sum(inside) / len(inside))
    assert windows["P3"]["features"]["zone1_temperature__count"] == 0


def test_epcis_export_validates(served: ServedApp) -> None:
    answer = get(served, "epcis", **{"from": at(days=-6), "to": at(days=1)})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/ld+json")
    document = json.loads(answer.text)
    assert check(document) == []
    events = document["epcisBody"]["eventList"]
    kinds = [(e["type"], e.get("bizStep")) for e in events]
    assert kinds.count(("ObjectEvent", "receiving")) == 4
    assert kinds.count(("TransformationEvent", "commissioning")) == 5
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    p4 = next(e for e in events if e.get("transformationID", "").endswith(":P4"))
    assert sorted(
        (q["epcClass"].rsplit(":", 1)[1], q["quantity"]) for q in p4["inputQuantityList"]
    ) == [
        ("P2", 100),
        ("P3", 200),
    ]
    assert p4["outputQuantityList"][0]["uom"] == "H87"
    receipt = next(e for e in events if e["type"] == "ObjectEvent")
    assert receipt["action"] == "ADD" and receipt["quantityList"][0]["uom"] == "KGM"
    # A window holding only P3's end: one event, and the same document when asked again.
    narrow = {"from": at(250), "to": at(270)}
    first = get(served, "epcis", **narrow).json()
    assert [e["transformationID"].rsplit(":", 1)[1] for e in first["epcisBody"]["eventList"]] == [
        "P3"
    ]
    again = get(served, "epcis", **narrow).json()
    assert first["epcisBody"] == again["epcisBody"]


def test_epcis_event_ids_follow_the_content_and_times_sort_as_instants(
    served: ServedApp,
) -> None:
    spare = {**material("S1", "acme", "acme-S", at(700), None), "material": "bearing"}
    uncounted = {**produced("P9", "press-01", 800, 810), "quantity_micros": 0}
    quarter_past = (BASE + timedelta(minutes=900, milliseconds=250)).isoformat()
    late_fraction = {**produced("P11", "press-01", 890, 900), "ended_at": quarter_past}
    with served.app.db.engine.begin() as conn:
        conn.execute(
            insert(lots),
            [spare, uncounted, produced("P10", "press-01", 890, 900), late_fraction],
        )
        conn.execute(
            insert(consumptions),
            [
                {
                    **edge(f"s{i}", "S1", "", 1_000_000, when),
                    "output_lot": None,
                    "maintenance": "mnt-2",
                }
                for i, when in enumerate((710, 760))
            ],
        )

    def events(start: float, end: float) -> list[dict[str, Any]]:
        answer = get(served, "epcis", **{"from": at(start), "to": at(end)})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["epcisBody"]["eventList"]
        return found

    # mnt-2's parts split over two windows: two events, two ids; both windows: a third.
    first, second, both = events(705, 730), events(730, 800), events(705, 800)
    repairs = [
        next(e for e in found if e.get("bizStep") == "repairing") for found in (first, second, both)
    ]
    assert len({e["eventID"] for e in repairs}) == 3
    assert events(705, 730) == first  # the same window again: the same events
    # P9 was closed from its readings alone (no count): no output to export yet.
    assert not [e for e in events(800, 820) if e.get("transformationID", "").endswith(":P9")]
    # P10 ended at …:00, P11 a quarter second later: as text "…:00Z" sorted after
    # "…:00.250000Z" ('.' before 'Z').
    order = [e["transformationID"].rsplit(":", 1)[1] for e in events(880, 920)]
    assert order == ["P10", "P11"]


def test_the_checker_names_what_is_missing() -> None:
    broken = {
        "@context": "https://example.com/ctx",
        "type": "EPCISDocument",
        "schemaVersion": "1.2",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {
            "eventList": [
                {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "action": "MOVE"},
                {
                    "type": "TransformationEvent",
                    "eventTime": "2026-01-01T00:00:00",
                    "eventTimeZoneOffset": "+00:00",
                    "inputQuantityList": [{"epcClass": "not a uri", "uom": "kilogram"}],
                },
            ]
        },
    }
    problems = "\n".join(check(broken))
    for expected in (
        "@context",
        "schemaVersion",
        "eventList[0].eventTimeZoneOffset",
        "eventList[0].action",
        "eventList[0]: no object",
        "eventList[1].eventTime",
        "eventList[1].transformationID",
        "eventList[1].inputQuantityList[0].epcClass",
        "eventList[1].inputQuantityList[0].uom",
    ):
        assert expected in problems, expected


def test_bad_requests_are_problem_documents(served: ServedApp) -> None:
    problem_of(get(served, "lots/nope/trace"), 404, "path.lot")
    problem_of(get(served, "lots/P4/trace", direction="sideways"), 400, "query.direction")
    problem_of(get(served, "lots/P4/trace", depth=0), 400, "query.depth")
    for spelt in ("1_0", " 2", "٣", "--1"):  # int() took the first three
        problem_of(get(served, "lots/P4/trace", depth=spelt), 400, "query.depth")
    problem_of(get(served, "lots/P4/trace", maintenance="yes"), 400, "query.maintenance")
    problem_of(get(served, "recall", supplierLot="nope"), 404, "query.supplierLot")
    problem_of(get(served, "recall"), 400, "query.supplierLot")
    problem_of(get(served, "lots"), 400, "query")
    problem_of(get(served, "lots", modelTag="a", outOfControl="ring_diameter"), 400, "query")
    problem_of(get(served, "lots", **{"from": "yesterday", "to": at()}), 400, "query.from")
    early = "0001-01-01T00:00:00+01:00"  # before year 1 in UTC: was a 500
    problem_of(get(served, "lots", **{"from": early, "to": at()}), 400, "query.from")
    problem_of(get(served, "epcis", **{"from": early, "to": at()}), 400, "query.from")
    problem_of(get(served, "lots", **{"from": at(10), "to": at(5)}), 400, "query.to")
    problem_of(get(served, "lots", outOfControl="hardness"), 404, "query.outOfControl")
    problem_of(get(served, "lots", afterMaintenance="nope"), 404, "query.afterMaintenance")
    problem_of(
        get(served, "lots", afterMaintenance="mnt-2", beforeMaintenance="mnt-1"),
        400,
        "query.beforeMaintenance",
    )
    problem_of(get(served, "lots/nope/sensor-windows"), 404, "path.lot")
    # workUnit narrows a time window only: with another selector it was silently ignored
    problem_of(get(served, "lots", modelTag="inspector:v2", workUnit="x"), 400, "query.workUnit")
    problem_of(
        get(served, "lots", outOfControl="ring_diameter", workUnit="x"), 400, "query.workUnit"
    )
    problem_of(get(served, "epcis", **{"from": at()}), 400, "query.to")
    # An offset's '+' not encoded arrives as a space: the answer says so.
    raw = served.line_url("lots") + "?from=2026-01-01T00:00:00+01:00&to=2026-01-02T00:00:00Z"
    assert "%2B" in problem_of(requests.get(raw, timeout=30), 400, "query.from")["detail"]
    other = served.line_url("suppliers/scorecard").replace(LINE.name, "no-such-line")
    problem_of(requests.get(other, timeout=30), 404, "path.line")


def test_an_open_lot_that_starts_after_the_servers_clock_has_a_window(served: ServedApp) -> None:
    """A sensor clock ahead of the data plane's (within the readings' allowed skew) opens a
    lot whose start is later than "now": its window ends at its start instead of before it
    (which the lot matching refuses: the route answered 500)."""
    start = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    body = {"lot": "L-AHEAD", "product": "ring", "workUnit": "press-01", "start": start}
    created = requests.post(served.line_url("lots"), json=body, timeout=60)
    assert created.status_code == 201, created.text
    answer = get(served, "lots/L-AHEAD/sensor-windows")
    assert answer.status_code == 200, answer.text
    (window,) = [w for w in answer.json()["windows"] if w["lot"] == "L-AHEAD"]
    assert window["open"] is True and window["end"] is None and window["start"] == start
