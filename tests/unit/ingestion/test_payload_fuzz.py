"""Fuzz: whatever arrives, no exception but PayloadError escapes, and every reading of an
accepted payload is accounted for (received = accepted + quarantined, in stores and metrics)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.payload import parse_json_batch

from tests.unit.ingestion.conftest import LINE, Stores, small_spec

SPEC = small_spec()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["Bad", "Inp OutRange", "I/O Timeout", "1.5", " 2e3 ", "nan", "-0"]),
)
names = st.one_of(
    st.sampled_from(
        ["press-01", "grinder-01", "press-99", "vibration_rms", "ram_force", "wheel_wear", ""]
    ),
    st.text(max_size=8),
    scalars,
)
stamps = st.one_of(
    st.datetimes(timezones=st.just(__import__("datetime").timezone.utc)).map(
        lambda d: d.isoformat()
    ),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01 00:00:00", "2026-13-01T00:00:00"]),
    st.none(),
)
reading = st.fixed_dictionaries(
    {},
    optional={
        "work_unit": names,
        "sensor": names,
        "timestamp": stamps,
        "value": st.one_of(scalars, st.lists(scalars, max_size=2)),
        "lot": st.one_of(st.none(), st.text(max_size=5), st.integers()),
    },
)
well_formed = st.fixed_dictionaries(
    {
        "work_unit": st.sampled_from(["press-01", "grinder-01", "press-99"]),
        "sensor": st.sampled_from(["vibration_rms", "ram_force", "wheel_wear", "x"]),
        "timestamp": st.integers(min_value=1_700_000_000, max_value=1_700_000_100),
        "value": scalars,
    }
)
documents = st.one_of(
    st.fixed_dictionaries({"readings": st.lists(st.one_of(reading, well_formed), max_size=12)}),
    st.fixed_dictionaries({"readings": st.lists(well_formed, max_size=30)}),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
    scalars,
    st.lists(scalars, max_size=3),
)


def encode(document: Any) -> bytes:
    return json.dumps(document, allow_nan=True).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_json_payloads_never_crash_and_every_reading_is_accounted_for(document: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stores = Stores(Path(tmp))
        try:
            ingestor = stores.ingestor(SPEC)
            try:
                batch = parse_json_batch(encode(document))
            except PayloadError as exc:
                assert exc.status in (400, 413, 422)
                return
            result = ingestor.ingest(batch)
            assert result.received == len(document["readings"])
            assert result.received == result.accepted + result.quarantined
            assert stores.offline.count(LINE) == result.accepted
            assert stores.quarantine.counts_by_reason(LINE) == result.reasons
            accepted, quarantined, reasons = stores.metrics.totals(LINE)
            assert (accepted, quarantined, reasons) == (
                result.accepted,
                result.quarantined,
                result.reasons,
            )
        finally:
            stores.quarantine.close()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_rejected_cleanly(raw: bytes) -> None:
    # Either a batch or a PayloadError; any other exception fails the test.
    with contextlib.suppress(PayloadError):
        parse_json_batch(raw)
