"""Bad input on every write route of the data plane, on SQLite and PostgreSQL (``db_url``).

For each route: a body that does not decode, the wrong shape or types, an unknown line or
namespace, an oversized payload, a write without the bearer token when auth is on. Each is
answered with a 4xx RFC 9457 problem document naming the field, and nothing of the request
is written: every store is read back after each answer (the MES tables and their quarantine
through ``app.db``, the readings' Parquet offline store and their quarantine through
``app.ingestion``). Batches that do decode store every item, accepted or quarantined:
``received = accepted + quarantined``, in the answer and in the stores.

Duplicates: a reading with the (work unit, sensor, timestamp) of one already accepted is
quarantined as ``duplicate``, whatever its value (first write wins). MES records carry no
identity: a batch sent twice is stored twice (documented below; clients must not resend a
batch that was acknowledged).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from lineops.dataplane import record_routes
from lineops.dataplane.db.tables import machine_events, measurements, production_counts, quarantine
from lineops.dataplane.ingestion import http_server
from sqlalchemy import func, select

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

TOKEN: Final = "s3cret-token"
JSON_ROUTES: Final = ("readings", "measurements", "events", "counts")
WRITE_ROUTES: Final = (*JSON_ROUTES, "readings:bulk")
CSV: Final = "text/csv"
PARQUET: Final = "application/vnd.apache.parquet"


def now(offset_s: float = 0.0) -> str:
    return datetime.fromtimestamp(time.time() - 60 + offset_s, UTC).isoformat()


def reading(offset_s: float = 0.0, **fields: Any) -> dict[str, Any]:
    return {
        "work_unit": "press-01",
        "sensor": "ram_force",
        "timestamp": now(offset_s),
        "value": 1200.0,
        **fields,
    }


def good_body(route: str, n: int = 3, *, sensor: str = "ram_force") -> tuple[bytes, str]:
    """A valid body of ``n`` items for a route, and its Content-Type."""
    if route == "readings:bulk":
        rows = "".join(f"press-01,{sensor},{now(i)},{100 + i}\n" for i in range(n))
        return f"work_unit,sensor,timestamp,value\n{rows}".encode(), CSV
    items: list[dict[str, Any]]
    if route == "readings":
        items = [reading(i, sensor=sensor, value=100.0 + i) for i in range(n)]
        return json.dumps({"readings": items}).encode(), "application/json"
    if route == "measurements":
        items = [
            {"characteristic": "ring_diameter", "timestamp": now(i), "value": 74.0 + i / 1000}
            for i in range(n)
        ]
    elif route == "events":
        items = [
            {"workUnit": "press-01", "timestamp": now(i), "state": "running"} for i in range(n)
        ]
    else:
        items = [
            {"workUnit": "press-01", "timestamp": now(i), "total": 10, "good": 9} for i in range(n)
        ]
    return json.dumps({"records": items}).encode(), "application/json"


def stored(served: ServedApp) -> dict[str, Any]:
    """Everything the data plane has written, for any line: MES tables and their
    quarantine (row counts, whole tables), readings in Parquet and in their quarantine."""
    app = served.app
    with app.db.engine.connect() as conn:
        rows = {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (measurements, machine_events, production_counts, quarantine)
        }
    offline = app.ingestion.offline
    parquet_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in offline.root.rglob("*.parquet"))
    return {
        **rows,
        "quarantine_by_reason": app.db.quarantine.counts_by_reason(include_released=True),
        "readings": parquet_rows,
        "readings_quarantined": app.ingestion.quarantine.counts_by_reason(),
    }


def assert_problem(
    response: requests.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert response.headers["Content-Type"].startswith("application/problem+json"), where
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"].startswith("https://"), body
    assert body["title"] and body["detail"], body
    if field is not None:
        assert body.get("field") == field, body
    return body


def post(
    served: ServedApp,
    route: str,
    body: bytes | Iterator[bytes],
    content_type: str = "application/json",
    *,
    ns: str = LINE.namespace,
    line: str = LINE.name,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    url = f"{served.url}/v1/namespaces/{ns}/lines/{line}/{route}"
    return requests.post(
        url, data=body, headers={"Content-Type": content_type, **(headers or {})}, timeout=60
    )


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        yield app


@pytest.fixture
def served_with_token(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url, token=TOKEN) as app:
        yield app


@pytest.fixture
def small_limits(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServedApp]:
    """The same app with 64 KiB body limits (the real ones are 256 MiB for readings and
    32 MiB for a records batch: the mechanism is the same, the test stays small)."""
    monkeypatch.setattr(http_server, "MAX_BODY_BYTES", 64 * 1024)
    monkeypatch.setattr(record_routes, "MAX_BODY", 64 * 1024)
    with served_dataplane(tmp_path / "data", db_url) as app:
        yield app


# ------------------------------------------------------------------ bodies that do not decode

NOT_DECODABLE: Final = [
    ("readings", b'{"readings": [', "application/json", "body"),
    ("readings", b"\xff\xfe\x00garbage", "application/json", "body"),
    ("measurements", b"{not json", "application/json", "body"),
    ("events", b"", "application/json", "body"),
    ("counts", b"\x00" * 10, "application/json", "body"),
    ("counts", b"[" * 100_000, "application/json", "body"),  # nested past the parser's depth
    ("readings:bulk", bytes(range(256)) * 4, CSV, "body"),
    ("readings:bulk", b"PAR1 not parquet PAR1", PARQUET, "body"),
]


def test_a_body_that_does_not_decode_is_a_400_and_writes_nothing(
    served: ServedApp, subtests: pytest.Subtests
) -> None:
    before = stored(served)
    for route, body, content_type, field in NOT_DECODABLE:
        with subtests.test(route=route, body=body[:20]):
            assert_problem(post(served, route, body, content_type), 400, field)
            assert stored(served) == before


# ------------------------------------------------------------------ wrong shape, wrong types

WRONG_SHAPE: Final = [
    ("readings", [1, 2], "body"),
    ("readings", {"rows": []}, "readings"),
    ("readings", {"readings": {"work_unit": "press-01"}}, "readings"),
    # The bad reading comes last: the two good ones before it are not stored either.
    ("readings", {"readings": [reading(0), reading(1), 7]}, "readings[2]"),
    ("readings", {"readings": [reading(0), reading(1, work_unit=5)]}, "readings[1].work_unit"),
    ("readings", {"readings": [reading(0), reading(1, sensor=None)]}, "readings[1].sensor"),
    ("readings", {"readings": [reading(0), {"work_unit": "press-01"}]}, "readings[1].sensor"),
    ("readings", {"readings": [reading(0), reading(1, timestamp=[1])]}, "readings[1].timestamp"),
    ("readings", {"readings": [reading(0), reading(1, timestamp="soon")]}, "readings[1].timestamp"),
    ("readings", {"readings": [reading(0), reading(1, lot={"id": 1})]}, "readings[1].lot"),
    ("measurements", {"records": "all of them"}, "records"),
    ("measurements", ["records"], "body"),
    ("events", {}, "records"),
    ("counts", {"records": None}, "records"),
    ("counts", "records", "body"),
]


def test_the_wrong_shape_is_a_422_naming_the_field_and_writes_nothing(
    served: ServedApp, subtests: pytest.Subtests
) -> None:
    before = stored(served)
    for route, payload, field in WRONG_SHAPE:
        with subtests.test(route=route, field=field):
            assert_problem(post(served, route, json.dumps(payload).encode()), 422, field)
            assert stored(served) == before


def _parquet(**columns: Any) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


WRONG_BULK: Final = [
    (b"work_unit,sensor,value\npress-01,ram_force,1\n", CSV, "timestamp"),
    (
        f"work_unit,sensor,timestamp,value\npress-01,ram_force,{now()},1\n"
        f"press-01,ram_force,not a time,2\n".encode(),
        CSV,
        "rows[1].timestamp",
    ),
    (
        f"work_unit,sensor,timestamp,value,value\npress-01,ram_force,{now()},1,2\n".encode(),
        CSV,
        "value",
    ),
    (
        f"work_unit,sensor,timestamp,value\n,ram_force,{now()},1\n".encode(),
        CSV,
        "rows[0].work_unit",
    ),
    (
        _parquet(
            work_unit=["press-01"],
            sensor=["ram_force"],
            timestamp=pa.array([datetime(2026, 1, 1).date()]),
            value=[1.0],
        ),
        PARQUET,
        "timestamp",
    ),
    (
        _parquet(
            work_unit=pa.array([b"\xff\xfe"]),
            sensor=["ram_force"],
            timestamp=[now()],
            value=[1.0],
        ),
        PARQUET,
        "work_unit",
    ),
]


def test_a_bulk_upload_of_the_wrong_shape_is_a_422_and_writes_nothing(
    served: ServedApp, subtests: pytest.Subtests
) -> None:
    before = stored(served)
    for body, content_type, field in WRONG_BULK:
        with subtests.test(content_type=content_type, field=field):
            assert_problem(post(served, "readings:bulk", body, content_type), 422, field)
            assert stored(served) == before


def test_a_backfill_flag_that_is_neither_true_nor_false_is_a_400(served: ServedApp) -> None:
    body, content_type = good_body("readings:bulk")
    before = stored(served)
    answer = post(served, "readings:bulk?backfill=maybe", body, content_type)
    assert_problem(answer, 400, "query.backfill")  # was read as false, silently
    assert stored(served) == before
    assert post(served, "readings:bulk?backfill=no", body, content_type).status_code == 200


def test_an_unsupported_media_type_is_a_415_and_writes_nothing(
    served: ServedApp, subtests: pytest.Subtests
) -> None:
    before = stored(served)
    for route, content_type, field in [
        ("readings", "text/plain", "header.Content-Type"),
        ("readings:bulk", "application/pdf", "Content-Type"),
        ("readings:bulk", "", "Content-Type"),
        # The record routes decoded any body as JSON whatever it said it was.
        ("measurements", "text/plain", "header.Content-Type"),
        ("events", "text/csv", "header.Content-Type"),
        ("counts", "application/x-www-form-urlencoded", "header.Content-Type"),
    ]:
        with subtests.test(route=route, content_type=content_type):
            body, _ = good_body(route)
            assert_problem(post(served, route, body, content_type), 415, field)
            assert stored(served) == before


def test_records_of_the_wrong_type_inside_a_batch_are_quarantined_not_refused(
    served: ServedApp,
) -> None:
    """For MES records only the envelope is refused; a record of the wrong shape or type is
    quarantined with the field in its detail, next to the good ones of the batch."""
    good = {"characteristic": "ring_diameter", "timestamp": now(), "value": 74.0}
    records = [
        good,
        7,
        {**good, "value": "seventy-four"},
        {**good, "value": "7_4.0"},  # float() reads 74.0; readings quarantine it
        {**good, "characteristic": 5},
        {**good, "timestamp": "yesterday"},
        {**good, "lot": "\u0000"},  # PostgreSQL text cannot hold NUL
        {**good, "lot": "L" * 254},  # longer than the lot column
        {**good, "lot": {"a": 1}},  # was stored as the text "{'a': 1}"
        {**good, "timestamp": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC: was a 500
    ]
    answer = post(served, "measurements", json.dumps({"records": records}).encode())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["received"], body["accepted"], body["quarantined"]) == (10, 1, 9)
    assert body["reasons"] == {"wrong_type": 5, "non_numeric": 2, "bad_timestamp": 2}
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert body["rejected"][2]["detail"] == "records[3].value: '7_4.0' is not a number"
    assert body["rejected"][3]["detail"].startswith("records[4].characteristic:")
    assert body["rejected"][7]["detail"] == "records[8].lot: must be a string, got dict"
    assert body["rejected"][8]["detail"] == (
        "records[9].timestamp: '0001-01-01T00:00:00+01:00' falls outside years 1..9999 in UTC"
    )
    after = stored(served)
    assert after["measurements"] == 1 and after["quarantine"] == 9


@pytest.mark.parametrize(
    ("route", "record", "field"),
    [
        # "sample_size" for sampleSize: the point was charted against the chart's own n
        (
            "measurements",
            {"characteristic": "reject_fraction", "value": 2, "sample_size": 50},
            "'sample_size'",
        ),
        ("counts", {"workUnit": "press-01", "total": 5, "good": 4, "scrap": 1}, "'scrap'"),
        ("events", {"workUnit": "press-01", "state": "down", "cause": "jam"}, "'cause'"),
        (
            "predictions",
            {"modelTag": "m:1", "features": {"a": 1.0}, "result": {}, "model": "m"},
            "'model'",
        ),
    ],
)
def test_a_record_with_an_unknown_field_is_quarantined_naming_it(
    served: ServedApp, route: str, record: dict[str, Any], field: str
) -> None:
    """An unknown field was dropped and the record stored without it."""
    sent = {**record, "timestamp": now()}
    answer = post(served, route, json.dumps({"records": [sent]}).encode())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["reasons"]) == (0, {"wrong_type": 1})
    assert f"records[0]: unknown field {field}" in body["rejected"][0]["detail"]


# ------------------------------------------------------------------ values beyond the stores


BEYOND_THE_STORES: Final = [
    ("counts", {"workUnit": "press-01", "total": 2**63, "good": 1}, "bad_count"),
    ("counts", {"workUnit": "press-01", "total": 1e300, "good": 1}, "bad_count"),
    ("measurements", {"characteristic": "ring_diameter", "value": 10**400}, "non_numeric"),
    # Finite, but the live charts' sums of squares overflowed into Infinity and NaN.
    ("measurements", {"characteristic": "ring_diameter", "value": -1.7e308}, "non_numeric"),
    ("events", {"workUnit": "press-01", "state": "down", "reason": {"x": 1}}, "wrong_type"),
    (
        "measurements",
        {"characteristic": "reject_fraction", "value": 1, "sampleSize": 2**31},
        "bad_count",
    ),
    ("measurements", {"characteristic": "\ud800", "value": 1}, "unknown_characteristic"),
    ("events", {"workUnit": "press-01", "state": "running", "reason": "a\u0000b"}, "wrong_type"),
    ("events", {"workUnit": "\u0000", "state": "running"}, "unknown_work_unit"),
]


def test_values_the_database_cannot_hold_are_quarantined_not_a_server_error(
    served: ServedApp, subtests: pytest.Subtests
) -> None:
    """Integers beyond BIGINT/INTEGER, NUL characters and lone surrogates: PostgreSQL (and
    partly SQLite) refuses them; the data plane quarantines the record instead of failing
    the batch with a 500, and the quarantine keeps what was sent."""
    for route, record, reason in BEYOND_THE_STORES:
        with subtests.test(route=route, record=record):
            payload = json.dumps({"records": [{"timestamp": now(), **record}]})
            answer = post(served, route, payload.encode())
            assert answer.status_code == 200, answer.text
            assert answer.json()["reasons"] == {reason: 1}
            *_, item = served.app.db.quarantine.list(LINE, kind=route)
            assert item.reason == reason
            assert item.record == json.loads(payload)["records"][0]  # as sent, losslessly


# ------------------------------------------------------------------ unknown line / namespace


def test_an_unknown_line_or_namespace_is_a_404_and_writes_nothing(
    served: ServedApp, subtests: pytest.Subtests
) -> None:
    before = stored(served)
    for route in WRITE_ROUTES:
        body, content_type = good_body(route)
        for ns, line in [(LINE.namespace, "no-such-line"), ("other-ns", LINE.name), ("x", "y")]:
            with subtests.test(route=route, line=f"{ns}/{line}"):
                answer = post(served, route, body, content_type, ns=ns, line=line)
                problem = assert_problem(answer, 404, "path.line")
                assert f"{ns}/{line}" in problem["detail"]
                assert stored(served) == before


def test_an_unknown_route_or_method_is_a_problem_too(served: ServedApp) -> None:
    base = f"{served.url}/v1/namespaces/{LINE.namespace}/lines/{LINE.name}"
    assert_problem(requests.post(f"{base}/no-such-route", data=b"{}", timeout=30), 404, "path")
    answer = requests.delete(f"{base}/readings", timeout=30)  # GET and POST are routes
    assert_problem(answer, 405, "method")
    assert set(answer.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}


# ------------------------------------------------------------------ oversized payloads


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_an_oversized_payload_is_a_413_and_writes_nothing(
    small_limits: ServedApp, route: str
) -> None:
    body, content_type = good_body(route, n=1500)  # > 64 KiB
    assert len(body) > 64 * 1024
    before = stored(small_limits)
    assert_problem(post(small_limits, route, body, content_type), 413, "body")
    assert stored(small_limits) == before
    # Without a Content-Length (chunked), the limit holds all the same.
    chunks = iter([body[: len(body) // 2], body[len(body) // 2 :]])
    assert_problem(post(small_limits, route, chunks, content_type), 413, "body")
    assert stored(small_limits) == before
    # A batch under the limit on the same server is stored.
    small, _ = good_body(route, n=3)
    assert post(small_limits, route, small, content_type).status_code == 200


def test_too_many_readings_is_a_413(served: ServedApp, monkeypatch: pytest.MonkeyPatch) -> None:
    from lineops.dataplane.ingestion import payload

    monkeypatch.setattr(payload, "MAX_READINGS", 2)
    before = stored(served)
    body, _ = good_body("readings", n=3)
    assert_problem(post(served, "readings", body), 413, "readings")
    body, _ = good_body("readings:bulk", n=3)
    assert_problem(post(served, "readings:bulk", body, CSV), 413, "rows")
    assert stored(served) == before


# ------------------------------------------------------------------ duplicates


@pytest.mark.parametrize("route", ["readings", "readings:bulk"])
def test_readings_sent_twice_are_quarantined_as_duplicates(served: ServedApp, route: str) -> None:
    body, content_type = good_body(route, n=4)
    first = post(served, route, body, content_type).json()
    assert (first["received"], first["accepted"], first["quarantined"]) == (4, 4, 0)
    again = post(served, route, body, content_type).json()
    assert (again["received"], again["accepted"], again["quarantined"]) == (4, 0, 4)
    assert again["reasons"] == {"duplicate": 4}
    after = stored(served)
    assert after["readings"] == 4
    assert after["readings_quarantined"] == {"duplicate": 4}
    assert served.app.ingestion.offline.count(LINE.name) == 4


def test_a_backfill_sent_twice_is_stored_once(served: ServedApp) -> None:
    """A backfill reaches back past the duplicate memory (the lateness horizon, minutes):
    the second copy of a year-old day was stored again but for its last minutes."""
    rows = ["work_unit,sensor,timestamp,value"] + [
        f"press-01,ram_force,2025-01-01T06:{m:02d}:00+00:00,{1000 + m}" for m in range(20)
    ]
    body = ("\n".join(rows) + "\n").encode()
    first = post(served, "readings:bulk?backfill=true", body, CSV).json()
    assert (first["accepted"], first["quarantined"]) == (20, 0)
    again = post(served, "readings:bulk?backfill=true", body, CSV).json()
    assert (again["accepted"], again["quarantined"]) == (0, 20)
    assert again["reasons"] == {"duplicate": 20}
    assert served.app.ingestion.offline.count(LINE.name) == 20
    # A backfill overlapping the stored day stores only what is new.
    more = rows[:1] + [f"press-01,ram_force,2025-01-01T06:{m:02d}:00+00:00,7" for m in (19, 20)]
    third = post(served, "readings:bulk?backfill=true", ("\n".join(more) + "\n").encode(), CSV)
    assert (third.json()["accepted"], third.json()["reasons"]) == (1, {"duplicate": 1})
    assert served.app.ingestion.offline.count(LINE.name) == 21


def test_a_duplicate_with_another_value_is_quarantined_first_write_wins(
    served: ServedApp,
) -> None:
    stamp = now()
    first = reading(timestamp=stamp, value=1000.0)
    other = reading(timestamp=stamp, value=2000.0)  # same key, different payload
    answer = post(served, "readings", json.dumps({"readings": [first, other]}).encode()).json()
    assert (answer["accepted"], answer["quarantined"], answer["reasons"]) == (
        1,
        1,
        {"duplicate": 1},
    )
    again = post(served, "readings", json.dumps({"readings": [other]}).encode()).json()
    assert again["reasons"] == {"duplicate": 1}
    values = served.app.ingestion.offline.read(LINE.name)["value"].tolist()
    assert values == [1000.0]
    (latest, *_) = served.app.ingestion.quarantine.list(LINE.name)
    assert (latest.reason, latest.value) == ("duplicate", "2000.0")


@pytest.mark.parametrize("route", ["measurements", "events", "counts"])
def test_mes_records_sent_twice_are_stored_twice(served: ServedApp, route: str) -> None:
    """MES records have no identity (no id, no natural key enforced): a resent batch is
    appended again. Documented behaviour, not an endorsement: a client retrying a batch whose
    acknowledgement it lost duplicates it (measurements then shift SPC subgroups)."""
    body, _ = good_body(route, n=2)
    for _ in range(2):
        answer = post(served, route, body).json()
        assert (answer["received"], answer["accepted"], answer["quarantined"]) == (2, 2, 0)
    table = {"measurements": "measurements", "events": "machine_events"}.get(
        route, "production_counts"
    )
    assert stored(served)[table] == 4


# ------------------------------------------------------------------ authentication


def test_a_write_without_the_token_is_a_401_and_writes_nothing(
    served_with_token: ServedApp, subtests: pytest.Subtests
) -> None:
    before = stored(served_with_token)
    wrong = [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN]
    for route in WRITE_ROUTES:
        body, content_type = good_body(route)
        for authorization in wrong:
            with subtests.test(route=route, authorization=authorization):
                headers = {} if authorization is None else {"Authorization": authorization}
                answer = post(served_with_token, route, body, content_type, headers=headers)
                assert_problem(answer, 401, "header.Authorization")
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                assert stored(served_with_token) == before


def test_a_write_with_the_token_is_stored(served_with_token: ServedApp) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for route in WRITE_ROUTES:
        # Another sensor for the bulk upload: the JSON readings of the same times came first.
        sensor = "hydraulic_pressure" if route == "readings:bulk" else "ram_force"
        body, content_type = good_body(route, sensor=sensor)
        answer = post(served_with_token, route, body, content_type, headers=headers)
        assert answer.status_code == 200, f"{route}: {answer.text}"
        assert answer.json()["accepted"] == 3, f"{route}: {answer.text}"
    after = stored(served_with_token)
    assert after["readings"] == 6
    assert (after["measurements"], after["machine_events"], after["production_counts"]) == (
        3,
        3,
        3,
    )
    # Reads stay open for probes and scrapers.
    for path in ("/healthz", "/metrics", "/openapi.json"):
        assert requests.get(f"{served_with_token.url}{path}", timeout=30).status_code == 200


def test_an_unknown_line_needs_the_token_first(served_with_token: ServedApp) -> None:
    """Without the token nothing is told about which lines exist."""
    body, _ = good_body("readings")
    assert_problem(post(served_with_token, "readings", body, line="no-such-line"), 401)


# ------------------------------------------------------------------ mixed batches


def test_a_mixed_readings_batch_stores_every_item(served: ServedApp) -> None:
    items = [
        reading(0),
        reading(1, sensor="no-such-sensor"),
        reading(2, work_unit="no-such-unit"),
        reading(3, value="Bad"),
        reading(4, value=1e9),  # outside validRange 0..2500
        reading(5, value=None),
        reading(6, timestamp=now(3600 * 24)),  # a day ahead of the clock
        reading(7, value="1250.5"),  # a numeric string is a number
    ]
    answer = post(served, "readings", json.dumps({"readings": items}).encode()).json()
    assert answer["received"] == 8 == answer["accepted"] + answer["quarantined"]
    assert answer["accepted"] == 2
    assert answer["reasons"] == {
        "unknown_sensor": 1,
        "unknown_work_unit": 1,
        "non_numeric": 2,
        "out_of_range": 1,
        "future": 1,
    }
    after = stored(served)
    assert after["readings"] == 2 == served.app.ingestion.offline.count(LINE.name)
    assert after["readings_quarantined"] == answer["reasons"]


def test_a_mixed_bulk_upload_stores_every_item(served: ServedApp) -> None:
    csv = (
        "work_unit,sensor,timestamp,value,lot\n"
        f"press-01,ram_force,{now(0)},1200,L-1\n"
        f"press-01,ram_force,{now(1)},Bad,\n"
        f"press-01,nope,{now(2)},1,\n"
        f"press-01,vibration_rms,{now(3)},51,\n"
        f"grinder-01,wheel_wear,{now(4)},3.5,L-2\n"
    )
    answer = post(served, "readings:bulk", csv.encode(), CSV).json()
    assert (answer["received"], answer["accepted"], answer["quarantined"]) == (5, 2, 3)
    assert answer["reasons"] == {"non_numeric": 1, "unknown_sensor": 1, "out_of_range": 1}
    after = stored(served)
    assert after["readings"] == 2 and after["readings_quarantined"] == answer["reasons"]


@pytest.mark.parametrize("route", ["measurements", "events", "counts"])
def test_a_mixed_records_batch_stores_every_item(served: ServedApp, route: str) -> None:
    body, _ = good_body(route, n=2)
    good = json.loads(body)["records"]
    bad = {
        "measurements": [
            {"characteristic": "no-such", "timestamp": now(), "value": 1},
            {"characteristic": "ring_diameter", "timestamp": now()},
        ],
        "events": [
            {"workUnit": "press-01", "timestamp": now(), "state": "exploded"},
            {"workUnit": "nope", "timestamp": now(), "state": "running"},
        ],
        "counts": [
            {"workUnit": "press-01", "timestamp": now(), "total": 5, "good": 6},
            {"workUnit": "press-01", "timestamp": now(), "total": -1, "good": 0},
        ],
    }[route]
    answer = post(served, route, json.dumps({"records": [*good, *bad]}).encode()).json()
    assert (answer["received"], answer["accepted"], answer["quarantined"]) == (4, 2, 2)
    assert sum(answer["reasons"].values()) == 2
    ref = LINE
    mes = served.app.db.mes
    kept = {
        "measurements": lambda: len(mes.measurements(ref, "ring_diameter")),
        "events": lambda: len(mes.events(ref)),
        "counts": lambda: len(mes.counts(ref)),
    }[route]()
    assert kept == answer["accepted"]
    assert served.app.db.quarantine.counts_by_reason(ref) == answer["reasons"]
    assert all(item.kind == route for item in served.app.db.quarantine.list(ref))


# ------------------------------------------------------------------ release


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"reasons": ["late"]}, "reasons", "unknown key"),
        ({"kind": "readings", "reason": "unknown-sensor"}, "reason", "not a quarantine reason"),
    ],
)
def test_a_release_body_with_a_misspelt_key_or_reason_is_refused_and_releases_nothing(
    served: ServedApp, body: dict[str, Any], field: str, words: str
) -> None:
    """A typo must not widen a release: ``reasons`` (for ``reason``) released every
    quarantined reading, including the ones kept there on purpose."""
    unknown = reading(sensor="no_such_sensor")
    sent = post(served, "readings", json.dumps({"readings": [unknown]}).encode()).json()
    assert sent["reasons"] == {"unknown_sensor": 1}
    answer = post(served, "quarantine:release", json.dumps(body).encode())
    assert words in assert_problem(answer, 422, field)["detail"]
    assert stored(served)["readings_quarantined"] == {"unknown_sensor": 1}
    assert served.app.ingestion.offline.count(LINE.name) == 0


def test_seconds_with_the_first_day_window_is_refused(served: ServedApp) -> None:
    """`seconds` sizes the recent window only; with first-day it was taken, any value."""
    url = served.line_url("readings")
    answer = requests.get(url, params={"window": "first-day", "seconds": "-5"}, timeout=30)
    assert "window=recent" in assert_problem(answer, 400, "query.seconds")["detail"]
    assert requests.get(url, params={"window": "first-day"}, timeout=30).status_code == 200
    answer = requests.get(url, params={"window": "recent", "seconds": "0"}, timeout=30)
    assert_problem(answer, 400, "query.seconds")
