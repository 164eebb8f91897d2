"""Arrow IPC stream uploads: typed columns in, the same batch as the other formats out; a
wrong schema is refused naming the column, bad values are quarantined with a reason."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion import IngestionServer, IngestionService, columnar
from lineops.dataplane.ingestion.payload import parse_bulk
from prometheus_client import CollectorRegistry

from tests.unit.ingestion.conftest import LINE, Stores

ARROW = "application/vnd.apache.arrow.stream"
NOW = pd.Timestamp.now(tz="UTC").floor("s")


def stream(columns: dict[str, Any], chunk: int | None = None) -> bytes:
    table = pa.table(columns)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=chunk)
    return bytes(sink.getvalue().to_pybytes())


def good(n: int = 4, **over: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "work_unit": pa.array(["press-01"] * n),
        "sensor": pa.array(["vibration_rms", "ram_force"] * (n // 2)),
        "timestamp": pa.array(
            [(NOW + pd.Timedelta(seconds=i)).value // 1000 for i in range(n)],
            pa.timestamp("us", "UTC"),
        ),
        "value": pa.array([1.0 + i for i in range(n)], pa.float64()),
    }
    columns.update(over)
    return columns


def test_good_stream_decodes_and_is_stored(stores: Stores, spec: ProductionLineSpec) -> None:
    batch = parse_bulk(stream(good(), chunk=3), f"{ARROW}; charset=binary")
    assert batch.work_unit.tolist() == ["press-01"] * 4
    assert batch.sensor.tolist() == ["vibration_rms", "ram_force"] * 2
    assert batch.timestamp_ns.tolist() == [(NOW + pd.Timedelta(seconds=i)).value for i in range(4)]
    assert batch.value.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert batch.numeric.all()
    assert batch.lot.tolist() == [None] * 4
    result = stores.ingestor(spec).ingest(batch, source="bulk")
    assert (result.received, result.accepted, result.quarantined) == (4, 4, 0)
    assert stores.offline.count(LINE) == 4


def test_dictionary_names_iso_texts_lots_and_other_numeric_types() -> None:
    n = 4
    texts = [(NOW + pd.Timedelta(seconds=i)).isoformat() for i in range(n)]
    columns = good(
        n,
        work_unit=pa.array(["press-01", "grinder-01"] * 2).dictionary_encode(),
        timestamp=pa.array(texts),
        value=pa.array([1, 2, 3, 4], pa.int32()),
        lot=pa.array(["L-1", None, "L-2", None]),
        extra=pa.array([True] * n),
    )
    batch = parse_bulk(stream(columns, chunk=2), ARROW)
    assert batch.work_unit.tolist() == ["press-01", "grinder-01"] * 2
    assert batch.timestamp_ns.tolist() == [(NOW + pd.Timedelta(seconds=i)).value for i in range(n)]
    assert batch.value.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert batch.lot.tolist() == ["L-1", None, "L-2", None]


@pytest.mark.parametrize(
    ("unit", "tz"), [("s", "UTC"), ("ms", "Europe/Berlin"), ("ns", None), ("us", "+01:00")]
)
def test_timestamp_columns_are_instants_naive_meaning_utc(unit: str, tz: str | None) -> None:
    seconds = [NOW.value // 1_000_000_000 + i for i in range(2)]
    scale = {"s": 1, "ms": 1000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    column = pa.array([s * scale for s in seconds], pa.timestamp(unit, tz))
    batch = parse_bulk(stream(good(2, timestamp=column)), ARROW)
    assert batch.timestamp_ns.tolist() == [s * 1_000_000_000 for s in seconds]


def test_iso_texts_pandas_reads_but_arrow_does_not() -> None:
    texts = pa.array(["2026-01-01T00:00:00Z", "2026-01-01 00:00:01"])  # offset and naive
    batch = parse_bulk(stream(good(2, timestamp=texts)), ARROW)
    start = pd.Timestamp("2026-01-01", tz="UTC").value
    assert batch.timestamp_ns.tolist() == [start, start + 1_000_000_000]


def test_nulls_nan_and_infinity_are_quarantined_with_a_reason(
    stores: Stores, spec: ProductionLineSpec
) -> None:
    values = pa.array([1.0, None, float("nan"), float("inf")], pa.float64())
    batch = parse_bulk(stream(good(4, value=values)), ARROW)
    assert batch.numeric.tolist() == [True, False, False, False]
    result = stores.ingestor(spec).ingest(batch, source="bulk")
    assert (result.received, result.accepted, result.quarantined) == (4, 1, 3)
    assert result.reasons == {"non_numeric": 3}
    assert stores.quarantine.counts_by_reason(LINE) == {"non_numeric": 3}
    kept = stores.quarantine.list(LINE, reason="non_numeric")
    assert sorted((r.value or "null") for r in kept) == ["Infinity", "NaN", "null"]
    assert all(r.detail and "value" in r.detail for r in kept)
    assert stores.offline.count(LINE) == 1


def test_readings_the_line_does_not_accept_are_quarantined(
    stores: Stores, spec: ProductionLineSpec
) -> None:
    columns = good(
        4,
        work_unit=pa.array(["press-01", "press-99", "press-01", "press-01"]),
        sensor=pa.array(["vibration_rms", "vibration_rms", "spindle", "vibration_rms"]),
        value=pa.array([1.0, 1.0, 1.0, 99.0]),
    )
    result = stores.ingestor(spec).ingest(parse_bulk(stream(columns), ARROW), source="bulk")
    assert result.received == result.accepted + result.quarantined == 4
    assert result.reasons == {"unknown_work_unit": 1, "unknown_sensor": 1, "out_of_range": 1}


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({k: v for k, v in good().items() if k != "sensor"}, "sensor"),
        (good(value=pa.array(["1.0", "2", "x", "3"])), "value"),
        (good(value=pa.array([True] * 4)), "value"),
        (good(timestamp=pa.array([1_767_225_600] * 4, pa.int64())), "timestamp"),
        (good(work_unit=pa.array([1, 2, 3, 4])), "work_unit"),
        (good(lot=pa.array([1, 2, 3, 4])), "lot"),
    ],
)
def test_wrong_schema_is_refused_naming_the_column(columns: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_bulk(stream(columns), ARROW)
    assert (caught.value.field, caught.value.status) == (field, 422)
    assert str(caught.value).startswith(f"{field}: ")


def test_a_column_twice_is_refused() -> None:
    table = pa.table(good()).append_column("value", pa.array([1.0] * 4))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(PayloadError) as caught:
        parse_bulk(sink.getvalue().to_pybytes(), ARROW)
    assert (caught.value.field, caught.value.status) == ("value", 422)


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        (good(work_unit=pa.array(["press-01", None, "press-01", "press-01"])), "rows[1].work_unit"),
        (good(sensor=pa.array(["vibration_rms", "ram_force", "", "ram_force"])), "rows[2].sensor"),
        (
            good(timestamp=pa.array([None, 1, 2, 3], pa.timestamp("s", "UTC"))),
            "rows[0].timestamp",
        ),
        (good(timestamp=pa.array(["2026-01-01T00:00:00Z", "soon", "x", "y"])), "rows[1].timestamp"),
        (good(lot=pa.array(["L", "x" * 300, None, None])), "rows[1].lot"),
    ],
)
def test_rows_without_identity_are_refused_naming_row_and_column(
    columns: dict[str, Any], field: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_bulk(stream(columns), ARROW)
    assert (caught.value.field, caught.value.status) == (field, 422)


def test_out_of_range_timestamps_are_refused() -> None:
    column = pa.array([10**17, 0, 0, 0], pa.timestamp("s", "UTC"))  # beyond 2262 in ns
    with pytest.raises(PayloadError) as caught:
        parse_bulk(stream(good(timestamp=column)), ARROW)
    assert (caught.value.field, caught.value.status) == ("timestamp", 422)


@pytest.mark.parametrize("body", [b"", b"not arrow", b"PAR1garbage", stream(good())[:40]])
def test_unreadable_streams_are_400(body: bytes) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_bulk(body, ARROW)
    assert (caught.value.field, caught.value.status) == ("body", 400)


def test_empty_stream_with_the_schema_is_an_empty_batch() -> None:
    empty = {k: v.slice(0, 0) for k, v in good().items()}
    assert len(parse_bulk(stream(empty), ARROW)) == 0
    with pytest.raises(PayloadError) as caught:
        parse_bulk(stream({**empty, "value": pa.array([], pa.string())}), ARROW)
    assert caught.value.field == "value"


def test_too_many_rows_is_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columnar, "MAX_READINGS", 3)
    with pytest.raises(PayloadError) as caught:
        parse_bulk(stream(good()), ARROW)
    assert (caught.value.field, caught.value.status) == ("rows", 413)


def test_same_readings_as_json_give_the_same_batch() -> None:
    from lineops.dataplane.ingestion.payload import parse_json_batch

    n = 6
    stamps = [(NOW + pd.Timedelta(milliseconds=250 * i)) for i in range(n)]
    units = ["press-01", "grinder-01", "press-01"] * 2
    sensors = ["vibration_rms", "wheel_wear", "ram_force"] * 2
    values = [0.5, -1.25, 3.0, 4.5, 5.0, 6.75]
    import json

    body = json.dumps(
        {
            "readings": [
                {"work_unit": u, "sensor": s, "timestamp": t.isoformat(), "value": v}
                for u, s, t, v in zip(units, sensors, stamps, values, strict=True)
            ]
        }
    ).encode()
    from_json = parse_json_batch(body)
    from_arrow = parse_bulk(
        stream(
            {
                "work_unit": pa.array(units),
                "sensor": pa.array(sensors),
                "timestamp": pa.array([t.value for t in stamps], pa.timestamp("ns", "UTC")),
                "value": pa.array(values),
            }
        ),
        ARROW,
    )
    for name in ("work_unit", "sensor", "timestamp_ns", "value", "numeric", "lot"):
        assert np.array_equal(getattr(from_json, name), getattr(from_arrow, name)), name
    assert list(from_arrow.raw_value) == values


def test_over_http_through_the_bulk_route(tmp_path: Path, spec: ProductionLineSpec) -> None:
    """The bulk route dispatches on Content-Type; Arrow needs nothing of its own there."""

    async def scenario() -> None:
        registry = CollectorRegistry()
        service = IngestionService(tmp_path, registry)
        service.configure_line(LINE, spec)
        server = IngestionServer(service, registry)
        await server.start()
        try:
            route = next(
                r.canonical for r in server.app.router.resources() if r.canonical.endswith(":bulk")
            )
            url = server.url + route.replace("{namespace}", "default").replace("{line}", LINE)
            headers = {"Content-Type": ARROW}
            values = pa.array([1.0, 2.0, float("nan"), 4.0])
            async with aiohttp.ClientSession() as http:
                ok = await http.post(url, data=stream(good(value=values)), headers=headers)
                answer = await ok.json()
                assert ok.status == 200, answer
                assert (answer["received"], answer["accepted"], answer["quarantined"]) == (4, 3, 1)
                assert answer["reasons"] == {"non_numeric": 1}
                wrong = stream(good(value=pa.array(["1"] * 4)))
                refused = await http.post(url, data=wrong, headers=headers)
                problem = await refused.json(content_type=None)
                assert (refused.status, problem["field"]) == (422, "value")
            assert service.offline.count(LINE) == 3
        finally:
            await server.stop()
            await service.stop()

    asyncio.run(scenario())


def test_values_beyond_the_readings_bound_are_non_numeric() -> None:
    values = pa.array([1.0, 1.7e308, -1e101, float("inf")], pa.float64())
    batch = columnar.read_arrow_stream(stream(good(value=values)))
    assert batch.numeric.tolist() == [True, False, False, False]
