"""The per-shift OEE routes of the data plane, on SQLite and PostgreSQL (``db_url``): a batch
PUT is upserted by shift start (the same start again replaces, never duplicates) and read back
by range; a bad record is refused whole with a 422 naming it; planned maintenance of the
equipment history is served for the shifts' exclusion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lineops.dataplane.db.tables import maintenance

from tests.support.dataplane_server import ServedApp, served_dataplane


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        yield app


def _shift(name: str, start: str, end: str, run: float, **extra: Any) -> dict[str, Any]:
    return {
        "shift": name,
        "shiftStart": start,
        "shiftEnd": end,
        "plannedBusySeconds": 32_400.0,
        "runSeconds": run,
        "maintenanceSeconds": 0.0,
        "total": 1_000,
        "good": 990,
        "availability": run / 32_400.0,
        "performance": None,
        "quality": 0.99,
        "oee": None,
        **extra,
    }


NIGHT = _shift("night", "2026-10-24T22:00:00+02:00", "2026-10-25T06:00:00+01:00", 30_000.0)
EARLY = _shift("early", "2026-10-25T06:00:00+01:00", "2026-10-25T14:00:00+01:00", 28_000.0)


def test_shifts_are_upserted_and_read_back_by_range(served: ServedApp) -> None:
    url = served.line_url("shifts")
    answer = requests.put(url, json={"records": [NIGHT, EARLY]}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"stored": 2}
    again = requests.put(url, json={"records": [{**NIGHT, "runSeconds": 31_000.0}]}, timeout=30)
    assert again.status_code == 200, again.text
    records = requests.get(url, timeout=30).json()["records"]
    assert [(r["shift"], r["shiftStart"], r["runSeconds"]) for r in records] == [
        ("night", "2026-10-24T20:00:00+00:00", 31_000.0),  # stored in UTC
        ("early", "2026-10-25T05:00:00+00:00", 28_000.0),
    ]
    assert records[0]["performance"] is None and records[0]["computedAt"]
    later = requests.get(url, params={"from": "2026-10-25T05:00:00Z"}, timeout=30).json()
    assert [r["shift"] for r in later["records"]] == ["early"]


def test_a_new_layout_replaces_the_shifts_it_overlaps(served: ServedApp) -> None:
    """After a schedule change the monitor recomputes recent shifts under new starts: the
    rows of the old layout stayed, and the history counted those hours twice."""
    url = served.line_url("shifts")
    assert requests.put(url, json={"records": [NIGHT, EARLY]}, timeout=30).ok
    moved = _shift("early", "2026-10-25T07:00:00+01:00", "2026-10-25T15:00:00+01:00", 27_000.0)
    assert requests.put(url, json={"records": [moved]}, timeout=30).ok
    records = requests.get(url, timeout=30).json()["records"]
    assert [(r["shift"], r["shiftStart"]) for r in records] == [
        ("night", "2026-10-24T20:00:00+00:00"),  # not overlapped: kept
        ("early", "2026-10-25T06:00:00+00:00"),  # the new early shift, the old one gone
    ]


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({**EARLY, "good": 2_000}, "records[1].good"),
        ({**EARLY, "shiftEnd": "2026-10-25T05:00:00+01:00"}, "records[1].shiftEnd"),
        ({**EARLY, "shiftStart": "2026-10-25T06:00:00"}, "records[1].shiftStart"),
        ({**EARLY, "runSeconds": -1}, "records[1].runSeconds"),
        ({**EARLY, "oee": "high"}, "records[1].oee"),
        ({**EARLY, "availability": 7.5}, "records[1].availability"),
        ({**EARLY, "quality": 1.01}, "records[1].quality"),
        ({**EARLY, "runSeconds": 10**400}, "records[1].runSeconds"),  # was a 500
        ({**EARLY, "shift": ""}, "records[1].shift"),
        ({**EARLY, "shiftStart": NIGHT["shiftStart"]}, "records[1].shiftStart"),
        # one layout of shifts per batch: an early shift starting inside the night
        ({**EARLY, "shiftStart": "2026-10-25T05:00:00+01:00"}, "records[1].shiftStart"),
    ],
)
def test_a_bad_record_refuses_the_batch_naming_it(
    served: ServedApp, record: dict[str, Any], field: str
) -> None:
    answer = requests.put(served.line_url("shifts"), json={"records": [NIGHT, record]}, timeout=30)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert requests.get(served.line_url("shifts"), timeout=30).json()["records"] == []


def test_a_bad_range_is_a_400_naming_the_parameter(served: ServedApp) -> None:
    url = served.line_url("shifts")
    answer = requests.get(url, params={"from": "yesterday"}, timeout=30)
    assert (answer.status_code, answer.json()["field"]) == (400, "query.from")
    answer = requests.get(
        url, params={"from": "2026-10-25T00:00:00Z", "to": "2026-10-24T00:00:00Z"}, timeout=30
    )
    assert (answer.status_code, answer.json()["field"]) == (400, "query.to")


def test_planned_maintenance_is_served(served: ServedApp) -> None:
    with served.app.db.engine.begin() as conn:
        conn.execute(
            maintenance.insert(),
            [
                {
                    "namespace": "plant-a",
                    "line": "press-line-1",
                    "maintenance": key,
                    "payload_hash": key,
                    "created_at": "2026-10-26T00:00:00Z",
                    "work_unit": "press-01",
                    "kind": kind,
                    "reason": "service",
                    "start": "2026-10-25T07:00:00+01:00",
                    "end": "2026-10-25T09:00:00+01:00",
                }
                for key, kind in (("m1", "planned"), ("m2", "unplanned"))
            ],
        )
    url = served.line_url("shifts/maintenance")
    records = requests.get(url, params={"from": "2026-10-25T00:00:00Z"}, timeout=30).json()
    assert records["records"] == [
        {
            "workUnit": "press-01",
            "start": "2026-10-25T06:00:00+00:00",
            "end": "2026-10-25T08:00:00+00:00",
            "reason": "service",
        }
    ]
    later = requests.get(url, params={"from": "2026-10-25T08:00:00Z"}, timeout=30).json()
    assert later["records"] == []


def test_shifts_of_an_unknown_line_are_404(served: ServedApp) -> None:
    url = served.url + "/v1/namespaces/plant-a/lines/nope/shifts"
    assert requests.put(url, json={"records": [EARLY]}, timeout=30).status_code == 404
    assert requests.get(url, timeout=30).status_code == 404
