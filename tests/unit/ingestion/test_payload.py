"""Decoding JSON batches and CSV/Parquet uploads: shape errors name the field."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.payload import parse_bulk, parse_json_batch


def body(readings: object) -> bytes:
    return json.dumps({"readings": readings}).encode()


def reading(**over: object) -> dict[str, object]:
    r: dict[str, object] = {
        "work_unit": "press-01",
        "sensor": "vibration_rms",
        "timestamp": "2026-01-01T00:00:00Z",
        "value": 1.5,
    }
    r.update(over)
    return r


def test_decodes_a_batch_with_iso_and_epoch_times_and_lots() -> None:
    batch = parse_json_batch(
        body(
            [
                reading(lot="L-1"),
                reading(timestamp="2026-01-01T01:00:00+01:00", value="2.5"),
                reading(timestamp="2026-01-01 00:00:01", value=3),
            ]
        )
    )
    start = pd.Timestamp("2026-01-01", tz="UTC").value
    assert batch.timestamp_ns.tolist() == [start, start, start + 1_000_000_000]
    assert batch.value.tolist() == [1.5, 2.5, 3.0]
    assert batch.numeric.all()
    assert batch.lot.tolist() == ["L-1", None, None]
    epoch = parse_json_batch(body([reading(timestamp=1767225600), reading(timestamp=1767225600.5)]))
    assert epoch.timestamp_ns.tolist() == [start, start + 500_000_000]


@pytest.mark.parametrize("junk", ["Inp OutRange", "Bad", "I/O Timeout", "", None, True, "nan"])
def test_historian_junk_is_kept_as_non_numeric_not_rejected(junk: object) -> None:
    batch = parse_json_batch(body([reading(value=junk), reading()]))
    assert batch.numeric.tolist() == [False, True]
    assert batch.raw_value[0] == junk
    assert np.isnan(batch.value[0])


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        (b"{not json", "body", 400),
        (b"\xff\xfe", "body", 400),
        (b"[]", "body", 422),
        (b'{"data": []}', "readings", 422),
        (b'{"readings": {}}', "readings", 422),
        (
            body([reading(), reading(), reading(), {"work_unit": "a", "sensor": "b", "value": 1}]),
            "readings[3].timestamp",
            422,
        ),
        (body([reading(), "x"]), "readings[1]", 422),
        (body([reading(work_unit=7)]), "readings[0].work_unit", 422),
        (body([reading(sensor="")]), "readings[0].sensor", 422),
        (body([reading(timestamp="yesterday")]), "readings[0].timestamp", 422),
        (body([reading(timestamp=1767225600000)]), "readings[0].timestamp", 422),
        (body([reading(timestamp=[1])]), "readings[0].timestamp", 422),
        # Mixed strings and numbers: the second one named (was "readings[1]>[0].timestamp").
        (
            body([reading(timestamp=1767247200.5), reading(timestamp="x")]),
            "readings[1].timestamp",
            422,
        ),
        (body([reading(lot=5)]), "readings[0].lot", 422),
    ],
)
def test_malformed_payload_names_the_field(payload: bytes, field: str, status: int) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_json_batch(payload)
    assert caught.value.field == field
    assert caught.value.status == status
    assert str(caught.value).startswith(f"{field}: ")


def test_missing_value_is_a_shape_error() -> None:
    with pytest.raises(PayloadError, match=r"readings\[0\]\.value: missing"):
        parse_json_batch(body([{"work_unit": "a", "sensor": "b", "timestamp": 1}]))


CSV = (
    "work_unit,sensor,timestamp,value,lot\n"
    "press-01,vibration_rms,2026-01-01T00:00:00Z,1.5,L-1\n"
    "press-01,vibration_rms,2026-01-01T00:00:01Z,Bad,\n"
)


HEADER = b"work_unit,sensor,timestamp,value\n"


def test_csv_upload_keeps_junk_values_as_non_numeric() -> None:
    batch = parse_bulk(CSV.encode(), "text/csv; charset=utf-8")
    assert batch.numeric.tolist() == [True, False]
    assert batch.raw_value[1] == "Bad"
    assert batch.lot.tolist() == ["L-1", None]


def test_csv_header_names_with_spaces_and_quotes_are_the_columns() -> None:
    # "work_unit, sensor, ..." as spreadsheets write it: was "sensor: missing column"
    text = (
        '\ufeffwork_unit, sensor ,"timestamp", value\npress-01,ram_force,2026-01-01T00:00:00Z,7\n'
    )
    batch = parse_bulk(text.encode(), "text/csv")
    assert (batch.work_unit.tolist(), batch.sensor.tolist()) == (["press-01"], ["ram_force"])
    assert batch.value.tolist() == [7.0]


def test_parquet_upload() -> None:
    frame = pd.DataFrame(
        {
            "work_unit": ["press-01"] * 2,
            "sensor": ["ram_force"] * 2,
            "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
            "value": [1.0, 2.0],
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    batch = parse_bulk(buffer.getvalue(), "application/vnd.apache.parquet")
    assert len(batch) == 2
    assert batch.value.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("payload", "content_type", "field", "status"),
    [
        (b"work_unit,sensor,value\na,b,1\n", "text/csv", "timestamp", 422),
        (b"work_unit,sensor,timestamp,value\na,b,soon,1\n", "text/csv", "rows[0].timestamp", 422),
        (b"PAR1garbage", "application/vnd.apache.parquet", "body", 400),
        (CSV.encode(), "application/pdf", "Content-Type", 415),
        # The JSON and Arrow paths' limits hold for CSV too (they were not checked there).
        (
            HEADER + f"a,b,2026-01-01,1\n{'w' * 254},b,2026-01-01,1\n".encode(),
            "text/csv",
            "rows[1].work_unit",
            422,
        ),
        (
            f"work_unit,sensor,timestamp,value\na,{'s' * 254},2026-01-01,1\n".encode(),
            "text/csv",
            "rows[0].sensor",
            422,
        ),
        (
            f"work_unit,sensor,timestamp,value,lot\na,b,2026-01-01,1,{'L' * 254}\n".encode(),
            "text/csv",
            "rows[0].lot",
            422,
        ),
    ],
)
def test_bulk_errors(payload: bytes, content_type: str, field: str, status: int) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_bulk(payload, content_type)
    assert (caught.value.field, caught.value.status) == (field, status)


def _parquet(**columns: object) -> bytes:
    frame = pd.DataFrame(
        {
            "work_unit": ["press-01"],
            "sensor": ["ram_force"],
            "timestamp": pd.to_datetime(["2026-01-01"], utc=True),
            "value": [1.0],
            **columns,
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    return buffer.getvalue()


def test_parquet_lots_must_be_text_and_within_the_lots_api_limit() -> None:
    batch = parse_bulk(_parquet(lot=["L" * 253]), "application/vnd.apache.parquet")
    assert batch.lot.tolist() == ["L" * 253]
    with pytest.raises(PayloadError) as caught:
        parse_bulk(_parquet(lot=[5]), "application/vnd.apache.parquet")
    assert (caught.value.field, caught.value.status) == ("lot", 422)
    assert "must be a string column, not int64" in str(caught.value)
    with pytest.raises(PayloadError) as caught:
        parse_bulk(_parquet(lot=["L" * 254]), "application/vnd.apache.parquet")
    assert caught.value.field == "rows[0].lot"
    with pytest.raises(PayloadError) as caught:  # and the JSON path's limit is the same
        parse_json_batch(body([reading(lot="L" * 254)]))
    assert caught.value.field == "readings[0].lot"


@pytest.mark.parametrize("huge", [1.7e308, -1e101, 10**200, "1e150"])
def test_values_beyond_the_readings_bound_are_non_numeric(huge: object) -> None:
    # Finite, but the window aggregates overflowed (a mean of -inf, answers with Infinity).
    batch = parse_json_batch(body([reading(value=huge), reading(value=1e100)]))
    assert batch.numeric.tolist() == [False, True]
    csv = HEADER + f"a,b,2026-01-01,{huge}\na,b,2026-01-02,-1e100\n".encode()
    assert parse_bulk(csv, "text/csv").numeric.tolist() == [False, True]


def test_csv_cells_are_only_missing_when_empty() -> None:
    # Arrow's default null list turned the lot "NA" into no lot and "NaN" text into null.
    csv = HEADER[:-1] + b",lot\na,b,2026-01-01,NaN,NA\na,b,2026-01-02,1,\n"
    batch = parse_bulk(csv, "text/csv")
    assert batch.lot.tolist() == ["NA", None]
    assert batch.raw_value[0] == "NaN" and batch.numeric.tolist() == [False, True]


def test_parquet_names_must_be_text_and_decimal_values_are_numbers() -> None:
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    def upload(**columns: object) -> bytes:
        table = pa.table(
            {
                "work_unit": pa.array(["press-01"]),
                "sensor": pa.array(["ram_force"]),
                "timestamp": pa.array(["2026-01-01T00:00:00Z"]),
                "value": pa.array([1.0]),
                **columns,
            }
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()

    money = pa.array([decimal.Decimal("12.50")], type=pa.decimal128(5, 2))
    batch = parse_bulk(upload(value=money), "application/vnd.apache.parquet")
    assert batch.value.tolist() == [12.5] and batch.numeric.tolist() == [True]
    for column in ("work_unit", "sensor"):
        with pytest.raises(PayloadError) as caught:
            parse_bulk(upload(**{column: pa.array([5])}), "application/vnd.apache.parquet")
        assert (caught.value.field, caught.value.status) == (column, 422)


def test_a_time_beyond_the_stored_span_says_which_span() -> None:
    # 9999-12-31 is valid ISO 8601; it was refused as "not an ISO 8601 time".
    with pytest.raises(PayloadError) as caught:
        parse_json_batch(body([reading(), reading(timestamp="9999-12-31T23:59:59Z")]))
    assert caught.value.field == "readings[1].timestamp"
    assert "within 1677-09-22..2262-04-11" in caught.value.problem
    csv = HEADER + b"a,b,0001-01-01T00:00:00Z,1\n"
    with pytest.raises(PayloadError, match=r"within 1677-09-22\.\.2262-04-11"):
        parse_bulk(csv, "text/csv")
