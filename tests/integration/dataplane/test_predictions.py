"""The prediction log route of the data plane, on SQLite and PostgreSQL (``db_url``): a batch
is stored whole (accepted predictions in the log, refused ones in the quarantine with the
field named), reads filter by model tag and lot, bad input is a 4xx problem document."""

from __future__ import annotations

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
