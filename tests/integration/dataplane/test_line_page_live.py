"""The line page's JSON (``/lines/{ns}/{line}/live``) on a served data plane: OEE over the
window the operator's status uses (up to the newest record, not the last machine event),
the newest predictions first, and no prediction records when the data plane has a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.dashboards import line_data
from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

TOKEN = "line-page-token"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path, f"sqlite:///{tmp_path / 'mes.db'}") as app:
        yield app


def _live(served: ServedApp) -> dict[str, Any]:
    answer = requests.get(f"{served.url}/lines/{LINE.namespace}/{LINE.name}/live", timeout=30)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _post(served: ServedApp, kind: str, records: list[dict[str, Any]], **headers: str) -> None:
    answer = requests.post(
        served.line_url(kind), json={"records": records}, headers=headers, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["quarantined"] == 0, answer.text


def _event(hour: int, state: str) -> dict[str, Any]:
    return {"workUnit": "press-01", "timestamp": f"2026-11-20T{hour:02d}:00:00Z", "state": state}


def _count(hour: int, total: int, good: int) -> dict[str, Any]:
    return {
        "workUnit": "press-01",
        "timestamp": f"2026-11-20T{hour:02d}:00:00Z",
        "total": total,
        "good": good,
    }


def _prediction(n: int) -> dict[str, Any]:
    return {
        "modelTag": "press-fault:v1",
        "workUnit": "press-01",
        "lot": f"L-{n}",
        "timestamp": f"2026-11-29T10:{n:02d}:00Z",
        "features": {"ram_force__mean": 1200.5},
        "result": {"label": "normal"},
    }


def test_oee_counts_the_output_after_the_last_machine_event(served: ServedApp) -> None:
    _post(served, "events", [_event(6, "running")])
    assert _live(served)["oee"] == {
        "note": "one machine event so far: OEE needs a span of time after it"
    }

    # Down since 08:00; a count at 09:00 is the newest record: the window runs to it.
    _post(served, "events", [_event(8, "down")])
    _post(served, "counts", [_count(7, 100, 90), _count(9, 1000, 10)])
    oee = _live(served)["oee"]

    assert oee["window"] == ["2026-11-20T06:00:00+00:00", "2026-11-20T09:00:00+00:00"]
    assert oee["line"]["availability"] == pytest.approx(2 / 3)  # 2 h running of 3
    assert oee["line"]["quality"] == pytest.approx(100 / 1100)


def test_the_newest_predictions_come_first(served: ServedApp) -> None:
    _post(served, "predictions", [_prediction(n) for n in range(12)])

    shown = _live(served)["predictions"]

    assert [p["lot"] for p in shown] == [f"L-{n}" for n in range(11, 1, -1)]


def test_a_data_plane_with_a_token_shows_no_prediction_records(tmp_path: Path) -> None:
    with served_dataplane(tmp_path, f"sqlite:///{tmp_path / 'mes.db'}", token=TOKEN) as served:
        _post(served, "predictions", [_prediction(1)], Authorization=f"Bearer {TOKEN}")

        state = _live(served)

        assert state["predictions"] is None
        assert state["line"] == LINE.name  # the rest of the page is there
        # The log itself is where it was, behind the token.
        guarded = requests.get(served.line_url("predictions"), timeout=30)
        assert guarded.status_code == 401


def test_the_newest_alarms_are_sent_and_the_total_counted(served: ServedApp) -> None:
    """A line's whole history of violations was sent every 2 s."""
    base = served.line_url("").rstrip("/")
    line_data.in_control_phase(base)
    for hour in (9, 11, 13):  # 60 subgroups 0.02 mm off target: beyond the 3-sigma limits
        line_data.shifted_phase(base, subgroups=20, start_hour=hour)

    state = _live(served)

    assert len(state["alarms"]) == 50 < state["alarmsTotal"]
    subgroups = [a["subgroup"] for a in state["alarms"]]
    # Numbered from 1 on the chart: the 85th subgroup is the newest.
    assert subgroups == sorted(subgroups, reverse=True) and subgroups[0] == 85


def test_an_unchanged_line_answers_304_without_charting_its_history(
    served: ServedApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lineops.dataplane.line_page.routes as routes

    computed: list[str] = []
    real = routes.line_state

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        computed.append("state")
        return real(*args, **kwargs)

    monkeypatch.setattr(routes, "line_state", counted)
    url = f"{served.url}/lines/{LINE.namespace}/{LINE.name}/live"
    first = requests.get(url, timeout=30)
    etag = first.headers["ETag"]

    again = requests.get(url, headers={"If-None-Match": etag}, timeout=30)

    assert (first.status_code, again.status_code) == (200, 304)
    assert computed == ["state"]  # the 304 came from the records' newest ids alone
    _post(served, "events", [_event(6, "running")])
    changed = requests.get(url, headers={"If-None-Match": etag}, timeout=30)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json()["oee"] is not None
