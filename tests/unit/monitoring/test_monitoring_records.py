from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.records import PayloadError, parse_records

SPEC = ProductionLineSpec.model_validate(
    yaml.safe_load(
        (Path(__file__).resolve().parents[3] / "examples/productionline.yaml").read_text()
    )["spec"]
)
TS = "2026-11-20T06:00:00Z"


def test_each_bad_record_is_rejected_with_a_reason_naming_the_field() -> None:
    parsed = parse_records(
        "measurements",
        SPEC,
        {
            "records": [
                {"characteristic": "ring_diameter", "value": 74.0, "timestamp": TS},
                {"characteristic": "ring_diameter", "value": "Bad", "timestamp": TS},
                {"characteristic": "ring_diameter", "value": 74.0, "timestamp": "yesterday"},
                {
                    "characteristic": "ring_diameter",
                    "value": 74.0,
                    "timestamp": "2026-11-20T06:00:00",
                },
                {"characteristic": "nope", "value": 1, "timestamp": TS},
                {"characteristic": "reject_fraction", "value": 30, "timestamp": TS},
                {"characteristic": "reject_fraction", "value": 2.5, "timestamp": TS},
                "not an object",
            ]
        },
    )
    assert len(parsed.accepted) == 1
    details = [r.detail for r in parsed.rejected]
    assert details == [
        "records[1].value: 'Bad' is not a number",
        "records[2].timestamp: 'yesterday' is not ISO 8601",
        "records[3].timestamp: '2026-11-20T06:00:00' has no UTC offset",
        "records[4].characteristic: 'nope' is not declared by the line",
        "records[5].value: 30 defectives exceed the sample size 25",
        "records[6].value: 2.5 is not a whole count >= 0",
        "records[7]: must be an object",
    ]


def test_an_np_chart_takes_only_its_subgroup_size() -> None:
    # A stored other size made the np chart, and the line's whole monitor pass, fail.
    doc = yaml.safe_load(SPEC.model_dump_json(by_alias=True))
    for qc in doc["qualityCharacteristics"]:
        if qc["name"] == "reject_fraction":
            qc["chart"] = "np"
    spec = ProductionLineSpec.model_validate(doc)
    record = {"characteristic": "reject_fraction", "value": 2, "timestamp": TS}
    parsed = parse_records(
        "measurements",
        spec,
        {"records": [record, {**record, "sampleSize": 25}, {**record, "sampleSize": 50}]},
    )
    assert len(parsed.accepted) == 2
    assert [(r.index, r.reason, r.detail) for r in parsed.rejected] == [
        (
            2,
            "bad_count",
            "records[2].sampleSize: 50 differs from the np chart's subgroupSize 25 "
            "(a p chart takes varying sizes)",
        )
    ]
    p_chart = parse_records("measurements", SPEC, {"records": [{**record, "sampleSize": 50}]})
    assert len(p_chart.accepted) == 1  # a p chart takes it


def test_events_and_counts_validate_units_states_and_counts() -> None:
    events = parse_records(
        "events",
        SPEC,
        {
            "records": [
                {"workUnit": "press-01", "timestamp": TS, "state": "running"},
                {"workUnit": "press-99", "timestamp": TS, "state": "running"},
                {"workUnit": "press-01", "timestamp": TS, "state": "asleep"},
            ]
        },
    )
    assert [r.reason for r in events.rejected] == ["unknown_work_unit", "unknown_state"]
    counts = parse_records(
        "counts",
        SPEC,
        {
            "records": [
                {"workUnit": "press-01", "timestamp": TS, "total": 10, "good": 11},
                {"workUnit": "press-01", "timestamp": TS, "total": -1, "good": 0},
            ]
        },
    )
    assert [r.detail for r in counts.rejected] == [
        "records[0].good: 11 exceeds total 10",
        "records[1].total: -1 is not a whole count >= 0",
    ]


@pytest.mark.parametrize("payload", [[], "x", {"records": "x"}, {"rows": []}])
def test_unusable_envelopes_raise(payload: object) -> None:
    with pytest.raises(PayloadError):
        parse_records("measurements", SPEC, payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["characteristic", "value", "timestamp", "lot", "sampleSize", "x"]),
            json_values | st.sampled_from(["ring_diameter", "reject_fraction", TS]),
            max_size=6,
        ),
        max_size=20,
    ),
    st.sampled_from(["measurements", "events", "counts"]),
)
def test_every_record_is_accounted_for(records: list[dict[str, object]], kind: str) -> None:
    parsed = parse_records(kind, SPEC, {"records": records})
    assert parsed.received == len(records)
    assert sorted([r.index for r in parsed.rejected]) == sorted(
        set(r.index for r in parsed.rejected)
    )


def test_timestamps_are_stored_in_utc_so_text_order_is_time_order() -> None:
    records = [
        {"workUnit": "press-01", "timestamp": "2026-01-01T10:00:00Z", "state": "running"},
        {"workUnit": "press-01", "timestamp": "2026-01-01T11:30:00+01:00", "state": "down"},
        {"workUnit": "press-01", "timestamp": "2026-01-01T11:00:00Z", "state": "idle"},
    ]
    parsed = parse_records("events", SPEC, {"records": records})
    stamps = [e.timestamp for e in parsed.accepted]
    assert stamps[1] == "2026-01-01T10:30:00+00:00"
    assert [e.state for e in sorted(parsed.accepted, key=lambda e: e.timestamp)] == [
        "running",
        "down",
        "idle",
    ]
