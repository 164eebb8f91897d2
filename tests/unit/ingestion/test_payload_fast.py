"""The typed (msgspec) JSON decoder and the column-wise checks give exactly what the
reference decoder (stdlib json, reading by reading) gives: the same batch, or the same
error naming the same field."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion import payload
from lineops.dataplane.ingestion.payload import (
    _iso_times,
    arrow_iso_ns,
    parse_json_batch,
    parse_json_reference,
)

from tests.unit.ingestion.test_payload_fuzz import documents, encode


def outcome(decode: Any, body: bytes) -> tuple[Any, ...]:
    try:
        batch = decode(body)
    except PayloadError as exc:
        return ("error", exc.field, exc.status, str(exc))
    return (
        "batch",
        batch.work_unit.tolist(),
        batch.sensor.tolist(),
        batch.timestamp_ns.tolist(),
        [None if math.isnan(v) else v for v in batch.value.tolist()],
        batch.numeric.tolist(),
        [json.dumps(v, allow_nan=True) for v in batch.raw_value],
        batch.lot.tolist(),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_typed_decoder_matches_the_reference(document: Any) -> None:
    body = encode(document)
    assert outcome(parse_json_batch, body) == outcome(parse_json_reference, body)


def reading(**over: object) -> dict[str, object]:
    r: dict[str, object] = {
        "work_unit": "press-01",
        "sensor": "vibration_rms",
        "timestamp": "2026-01-01T00:00:00Z",
        "value": 1.5,
    }
    r.update(over)
    return r


@pytest.mark.parametrize(
    "readings",
    [
        [reading(), reading(value="Bad"), reading(value=None), reading(value=True)],
        [reading(value=7), reading(value=" 2e3 "), reading(lot="L-1")],
        [reading(timestamp=1767225600), reading(timestamp=1767225600.25)],
        [reading(timestamp="2026-01-01 00:00:00"), reading(timestamp="2026-01-01T00:00:01.5")],
        [reading(extra={"nested": [1, 2]})],
    ],
)
def test_well_formed_batches_take_the_typed_path(
    readings: list[dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps({"readings": readings}).encode()
    expected = outcome(parse_json_reference, body)

    def refuse(_body: object) -> None:
        raise AssertionError("fell back to the reference decoder")

    monkeypatch.setattr(payload, "parse_json_reference", refuse)
    assert outcome(parse_json_batch, body) == expected


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"readings": [{"work_unit": "a", "sensor": "b", "value": 1}]}', "readings[0].timestamp"),
        (json.dumps({"readings": [reading(), reading(sensor=3)]}).encode(), "readings[1].sensor"),
        (
            json.dumps({"readings": [reading(), reading(timestamp=True)]}).encode(),
            "readings[1].timestamp",
        ),
        (json.dumps({"readings": [reading(), reading(lot=["x"])]}).encode(), "readings[1].lot"),
        (
            json.dumps({"readings": [reading(work_unit="x" * 257)]}).encode(),
            "readings[0].work_unit",
        ),
        (
            b'{"readings": [{"work_unit": "\\ud800", "sensor": "b", "timestamp": 1, "value": 1}]}',
            "readings[0].work_unit",
        ),
        (b'\xef\xbb\xbf{"readings": 5}', "readings"),
    ],
)
def test_refused_documents_get_the_reference_error(body: bytes, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_json_batch(body)
    assert caught.value.field == field
    assert outcome(parse_json_batch, body) == outcome(parse_json_reference, body)


def test_too_many_readings_is_413_on_the_typed_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payload, "MAX_READINGS", 2)
    with pytest.raises(PayloadError) as caught:
        parse_json_batch(json.dumps({"readings": [reading()] * 3}).encode())
    assert (caught.value.field, caught.value.status) == ("readings", 413)


# ----------------------------------------------------------------------------- timestamps

offsets = st.sampled_from(["", "Z", "+00:00", "+01:00", "-05:30", "+0100", "+01", "z", " UTC"])
fractions = st.sampled_from(["", ".5", ".123456", ".123456789", ".1234567891", ".", ",5"])
shapes = st.sampled_from(
    ["%Y-%m-%d{s}%H:%M:%S", "%Y-%m-%d{s}%H:%M", "%Y-%m-%d", "%Y%m%d{s}%H%M%S", "%Y-%m-%d{s}%H"]
)


@st.composite
def iso_lists(draw: st.DrawFn) -> list[str]:
    """Lists of ISO-like texts, mostly sharing one offset style (what a sender does)."""
    shared = draw(offsets)
    texts = []
    for _ in range(draw(st.integers(1, 5))):
        early, late = draw(st.sampled_from([(1970, 2100), (1970, 2100), (1600, 2300)]))
        moment = draw(st.datetimes(datetime(early, 1, 1), datetime(late, 1, 1)))
        separator = draw(st.sampled_from(["T", "T", " ", "t"]))
        text = moment.strftime(draw(shapes).format(s=separator))
        if text.count(":") == 2:
            text += draw(fractions)
        texts.append(text + (draw(offsets) if draw(st.integers(0, 9)) == 0 else shared))
    if draw(st.integers(0, 4)) == 0:
        texts.append(draw(st.text(max_size=12)))
    return texts


@settings(max_examples=500, deadline=None)
@given(iso_lists())
def test_arrow_reads_iso_texts_as_pandas_does_or_leaves_them(texts: list[str]) -> None:
    fast = arrow_iso_ns(texts)
    if fast is None:
        return
    parsed = _iso_times(pd.Series(texts, dtype=object))
    assert not parsed.isna().any(), texts
    expected = parsed.astype("datetime64[ns, UTC]").astype(np.int64).to_numpy()
    assert fast.tolist() == expected.tolist(), texts


def test_arrow_reads_the_common_shapes() -> None:
    start = pd.Timestamp("2026-01-01", tz="UTC").value
    assert arrow_iso_ns(["2026-01-01T00:00:00Z", "2026-01-01T01:00:00.5+01:00"]) is not None
    assert arrow_iso_ns(["2026-01-01T00:00:00Z", "2026-01-01T01:00:00.5+01:00"]).tolist() == [
        start,
        start + 500_000_000,
    ]
    assert arrow_iso_ns(["2026-01-01 00:00:01", "2026-01-01"]).tolist() == [
        start + 1_000_000_000,
        start,
    ]
    # Mixed naive and offset texts are left to pandas (which reads naive as UTC).
    assert arrow_iso_ns(["2026-01-01T00:00:00Z", "2026-01-01 00:00:00"]) is None


def test_timestamps_of_all_kinds_through_the_typed_path() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    texts = [
        when.isoformat(),
        (when + timedelta(hours=1)).astimezone(timezone(timedelta(hours=2))).isoformat(),
        "2026-01-01 02:00:00",
    ]
    body = json.dumps({"readings": [reading(timestamp=t) for t in texts]}).encode()
    start = pd.Timestamp(when).value
    hour = 3_600_000_000_000
    assert parse_json_batch(body).timestamp_ns.tolist() == [start, start + hour, start + 2 * hour]
