"""The prediction log route of the data plane, on SQLite and PostgreSQL (``db_url``): a batch
is stored whole (accepted predictions in the log, refused ones in the quarantine with the
field named), reads filter by model tag and lot, bad input is a 4xx problem document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        yield app


def prediction(**fields: Any) -> dict[str, Any]:
    return {
        "modelTag": "press-fault:v1",
        "workUnit": "press-01",
        "lot": "L-1",
        "timestamp": "2026-11-29T10:00:00Z",
        "featureTimestamp": "2026-11-29T09:59:30+00:00",
        "features": {"ram_force__mean": 1200.5, "ram_force__count": 6},
        "result": {"label": "normal", "probabilities": {"normal": 0.9, "1": 0.1}},
        **fields,
    }


def test_predictions_are_logged_and_read_back_by_tag_and_lot(served: ServedApp) -> None:
    records = [
        prediction(),
        prediction(lot="L-2", modelTag="press-fault:v2"),
        prediction(lot=None, workUnit=None, featureTimestamp=None),
        prediction(workUnit="press-99"),  # not declared by the line
        prediction(features={"ram_force__mean": "Bad"}),
        prediction(timestamp="yesterday"),
        prediction(featureTimestamp="soon"),
        {k: v for k, v in prediction().items() if k != "result"},
    ]
    answer = requests.post(served.line_url("predictions"), json={"records": records}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["received"], body["accepted"], body["quarantined"]) == (8, 3, 5)
    assert body["reasons"] == {
        "unknown_work_unit": 1,
        "non_numeric": 1,
        "bad_timestamp": 2,
        "missing_field": 1,
    }
    details = [r["detail"] for r in body["rejected"]]
    assert "records[4].features.ram_force__mean: 'Bad' is not a number" in details
    assert any(d.startswith("records[6].featureTimestamp:") for d in details)
    assert "records[7].result: missing" in details

    logged = requests.get(served.line_url("predictions"), timeout=30).json()["records"]
    assert [r["lot"] for r in logged] == ["L-1", "L-2", None]
    assert logged[0]["features"] == {"ram_force__count": 6.0, "ram_force__mean": 1200.5}
    assert logged[0]["result"]["label"] == "normal"
    assert logged[0]["timestamp"] == "2026-11-29T10:00:00+00:00"
    by_tag = requests.get(
        served.line_url("predictions"), params={"modelTag": "press-fault:v2"}, timeout=30
    ).json()["records"]
    assert [r["lot"] for r in by_tag] == ["L-2"]
    by_lot = requests.get(served.line_url("predictions"), params={"lot": "L-1"}, timeout=30)
    assert [r["modelTag"] for r in by_lot.json()["records"]] == ["press-fault:v1"]
    page = requests.get(
        served.line_url("predictions"), params={"after": logged[0]["id"], "limit": 1}, timeout=30
    ).json()["records"]
    assert [r["id"] for r in page] == [logged[1]["id"]]
    quarantined = served.app.db.quarantine.list(LINE, kind="predictions")
    assert len(quarantined) == 5


@pytest.mark.parametrize(
    ("method", "kwargs", "status", "field"),
    [
        ("post", {"data": b"{not json"}, 400, "body"),
        ("post", {"json": {"rows": []}}, 422, "records"),
        ("post", {"json": []}, 422, "body"),
        ("get", {"params": {"limit": "lots"}}, 400, "query.limit"),
        ("get", {"params": {"after": "-1"}}, 400, "query.after"),
        ("get", {"params": {"modelTag": ""}}, 400, "query.modelTag"),
    ],
)
def test_bad_requests_are_problem_documents(
    served: ServedApp, method: str, kwargs: dict[str, Any], status: int, field: str
) -> None:
    answer = requests.request(method, served.line_url("predictions"), timeout=30, **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == field
    assert requests.get(served.line_url("predictions"), timeout=30).json() == {"records": []}


def test_an_unknown_line_is_a_404(served: ServedApp) -> None:
    url = f"{served.url}/v1/namespaces/plant-a/lines/no-such-line/predictions"
    for answer in (requests.get(url, timeout=30), requests.post(url, json={}, timeout=30)):
        assert answer.status_code == 404
        assert answer.json()["field"] == "path.line"


def columns_of(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Row-wise records of one tag, unit and timestamps as the columnar batch of them."""
    first = records[0]
    results = sorted({k for r in records for k in r["result"]})
    return {
        "modelTag": first["modelTag"],
        "workUnit": first["workUnit"],
        "timestamp": first["timestamp"],
        "featureTimestamp": first["featureTimestamp"],
        "lots": [r["lot"] for r in records],
        "features": {n: [r["features"][n] for r in records] for n in first["features"]},
        "results": {k: [r["result"].get(k) for r in records] for k in results},
    }


def test_a_columnar_batch_is_stored_as_the_rows_it_stands_for(served: ServedApp) -> None:
    """The same predictions posted row-wise and as a columnar batch read back the same, one
    per row (so lots are traced to the tag row by row); a row whose value cannot be stored
    is quarantined as its row-wise record, naming the batch, the column and the row."""
    rows = [
        prediction(lot=f"L-{i}", result={"label": str(i % 2), "probabilities": {"0": i / 4}})
        for i in range(4)
    ]
    rows[1]["lot"] = None
    rows[3]["result"] = {}  # before a full window: no field set (nulls in the columns)
    rows[3]["features"] = {"ram_force__mean": 1300, "ram_force__count": 6}  # ints: floats
    url = served.line_url("predictions")
    assert requests.post(url, json={"records": rows}, timeout=30).json()["accepted"] == 4
    bad = [dict(r) for r in rows]
    bad[1] = {**rows[1], "features": {"ram_force__mean": "Bad", "ram_force__count": 6}}
    bad[2] = {**rows[2], "lot": 17}
    batch = columns_of(bad)
    answer = requests.post(url, json={"records": [rows[0]], "batches": [batch]}, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["received"], body["accepted"], body["quarantined"]) == (5, 3, 2)
    assert body["reasons"] == {"non_numeric": 1, "wrong_type": 1}
    assert {(r["index"], r["detail"]) for r in body["rejected"]} == {
        (2, "batches[0].features.ram_force__mean[1]: 'Bad' is not a number"),
        (3, "batches[0].lots[2]: must be a string, got int"),
    }
    logged = requests.get(url, timeout=30).json()["records"]
    row_wise, again, from_batch = logged[:4], logged[4], logged[5:]
    strip = [{k: v for k, v in r.items() if k != "id"} for r in logged]
    assert strip[4] == strip[0]
    assert strip[5:] == [strip[0], strip[3]]
    assert from_batch[1]["features"] == {"ram_force__count": 6.0, "ram_force__mean": 1300.0}
    assert from_batch[1]["result"] == row_wise[3]["result"] == {} and again["lot"] == "L-0"
    quarantined = served.app.db.quarantine.list(LINE, kind="predictions")
    records = [dict(q.record or {}) for q in quarantined]
    assert sorted(repr(r["lot"]) for r in records) == ["17", "None"]
    assert {r["features"]["ram_force__mean"] for r in records} == {"Bad", 1200.5}


def test_non_finite_numbers_are_quarantined_on_both_paths(served: ServedApp) -> None:
    """NaN and infinite results were stored as null from a columnar batch (msgspec writes
    them so) though the row-wise path quarantines them; an integer feature beyond a float
    was a 500 on the row-wise path."""
    rows = [prediction(lot=f"L-{i}", result={"score": i / 4}) for i in range(3)]
    batch = columns_of(rows)
    batch["results"]["score"][1] = float("nan")
    huge = prediction(features={"ram_force__mean": 10**400, "ram_force__count": 6})
    nested = prediction(result={"scores": {"crack": [0.25, float("inf")]}})
    answer = requests.post(
        served.line_url("predictions"),
        data=json.dumps({"records": [huge, nested], "batches": [batch]}),  # json= refuses NaN
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["received"], body["accepted"], body["quarantined"]) == (5, 2, 3)
    assert body["reasons"] == {"non_numeric": 3}
    details = {r["index"]: r["detail"] for r in body["rejected"]}
    assert details[0].startswith("records[0].features.ram_force__mean: 1000")
    assert details[0].endswith("is not finite")
    # The error names the number itself, however deep in the result it sits.
    assert details[1] == "records[1].result.scores.crack[1]: not a finite number"
    assert details[3] == "batches[0].results.score[1]: not a finite number"
    logged = requests.get(served.line_url("predictions"), timeout=30).json()["records"]
    assert [r["result"] for r in logged] == [{"score": 0.0}, {"score": 0.5}]


def test_a_batch_level_problem_quarantines_every_row_of_the_batch(served: ServedApp) -> None:
    batch = columns_of([prediction(lot=f"L-{i}") for i in range(3)])
    answer = requests.post(
        served.line_url("predictions"),
        json={"batches": [{**batch, "workUnit": "press-99"}, batch]},
        timeout=30,
    )
    body = answer.json()
    assert (body["received"], body["accepted"], body["quarantined"]) == (6, 3, 3), body
    assert [r["index"] for r in body["rejected"]] == [0, 1, 2]
    assert body["rejected"][0]["detail"].startswith("batches[0].workUnit: 'press-99'")


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ([1, 2], "batches[0]"),
        ({"features": {}}, "batches[0].features"),
        ({"features": {"a": 1.0}}, "batches[0].features.a"),
        ({"features": {"a": [1.0, 2.0]}, "results": {"label": ["x"]}}, "batches[0].results.label"),
        ({"features": {"a": [1.0]}, "lots": ["L-1", "L-2"]}, "batches[0].lots"),
    ],
)
def test_a_batch_of_the_wrong_shape_is_refused_whole(
    served: ServedApp, batch: Any, field: str
) -> None:
    good = columns_of([prediction()])
    answer = requests.post(
        served.line_url("predictions"), json={"batches": [batch, good]}, timeout=30
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert requests.get(served.line_url("predictions"), timeout=30).json() == {"records": []}
