"""``GET …/features/history``: a work unit's recent online feature rows from the aggregates
history the materialiser appends to (no Feast needed: the history is the data plane's own
Parquet), newest ``rows`` of them oldest first; bad queries are problem documents naming the
parameter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

NOW = pd.Timestamp("2026-11-30T01:00:00Z")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", f"sqlite:///{tmp_path / 'mes.db'}") as app:
        yield app


def push(served: ServedApp, unit: str, sensor: str, value: float, when: pd.Timestamp) -> None:
    """Readings of one sensor at ``when``, then a materialisation (one history row)."""
    rows = "".join(
        f"{unit},{sensor},{(when - pd.Timedelta(seconds=i)).isoformat()},{value}\n"
        for i in range(3)
    )
    body = ("work_unit,sensor,timestamp,value\n" + rows).encode()
    ingestion = served.app.ingestion
    assert ingestion.ingest_bulk(LINE.name, body, "text/csv", backfill=True).accepted == 3
    assert ingestion.materialize(LINE.name) == 1


def get(served: ServedApp, **query: str) -> requests.Response:
    return requests.get(served.line_url("features/history"), params=query, timeout=30)


def test_rows_are_the_units_newest_windows_oldest_first(served: ServedApp) -> None:
    for k in range(4):
        push(served, "press-01", "ram_force", 1000.0 + k, NOW + pd.Timedelta(minutes=k))
    push(served, "grinder-01", "spindle_power", 20.0, NOW)  # another unit: not in press-01's
    answer = get(served, workUnit="press-01", featureService="sensor_window_v1", rows="3")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["workUnit"] == "press-01" and "ram_force__last" in body["features"]
    last = body["features"].index("ram_force__last")
    assert [r["values"][last] for r in body["rows"]] == [1001.0, 1002.0, 1003.0]
    stamps = [pd.Timestamp(r["timestamp"]) for r in body["rows"]]
    assert stamps == [NOW + pd.Timedelta(minutes=k) for k in (1, 2, 3)]
    spindle = body["features"].index("spindle_power__mean")
    assert {r["values"][spindle] for r in body["rows"]} == {None}  # no value: null

    until = (NOW + pd.Timedelta(minutes=1, seconds=30)).isoformat()
    early = get(served, workUnit="press-01", featureService="sensor_last_v1", until=until)
    assert [pd.Timestamp(r["timestamp"]) for r in early.json()["rows"]] == [
        NOW,
        NOW + pd.Timedelta(minutes=1),
    ]
    assert all(f.endswith("__last") for f in early.json()["features"])
    assert get(served, workUnit="gauge-01", featureService="sensor_window_v1").json()["rows"] == []


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"featureService": "sensor_window_v1"}, 400, "query.workUnit"),
        ({"workUnit": "press-01"}, 400, "query.featureService"),
        ({"workUnit": "press-99", "featureService": "sensor_window_v1"}, 404, "query.workUnit"),
        ({"workUnit": "press-01", "featureService": "nope"}, 404, "query.featureService"),
        (
            {"workUnit": "press-01", "featureService": "sensor_window_v1", "rows": "0"},
            400,
            "query.rows",
        ),
        (
            {"workUnit": "press-01", "featureService": "sensor_window_v1", "until": "today"},
            400,
            "query.until",
        ),
        (
            {
                "workUnit": "press-01",
                "featureService": "sensor_window_v1",
                "until": "2026-11-30T01:00:00",
            },
            400,
            "query.until",
        ),
    ],
)
def test_bad_queries_are_problem_documents_naming_the_parameter(
    served: ServedApp, query: dict[str, str], status: int, field: str
) -> None:
    answer = get(served, **query)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["field"] == field


def test_an_unknown_line_is_a_404(served: ServedApp) -> None:
    url = f"{served.url}/v1/namespaces/plant-a/lines/no-such-line/features/history"
    answer = requests.get(url, params={"workUnit": "x", "featureService": "y"}, timeout=30)
    assert answer.status_code == 404 and answer.json()["field"] == "path.line"


def test_a_failed_push_is_taken_again_without_new_readings(
    served: ServedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The aggregates taken for a push that fails (a full disk, here injected) are pushed
    at the next materialisation; they waited for the unit's next readings before."""
    ingestion = served.app.ingestion
    body = f"work_unit,sensor,timestamp,value\npress-01,ram_force,{NOW.isoformat()},1000\n"
    assert ingestion.ingest_bulk(LINE.name, body.encode(), "text/csv", backfill=True).accepted
    import pyarrow.parquet as pq

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError("No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(pq, "write_table", full_disk)
        with pytest.raises(OSError, match="No space"):
            ingestion.materialize(LINE.name)
    assert ingestion.materialize(LINE.name) == 1
    answer = get(served, workUnit="press-01", featureService="sensor_last_v1")
    assert len(answer.json()["rows"]) == 1
