"""The batch-wise shortcuts of classification and storage change nothing that is observed:
keys equal the stored ones, both pair lookups agree, duplicates keep the first reading sent,
the feature window sees every accepted reading however the adds are grouped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.features import PaneWindow, line_sensors
from lineops.dataplane.ingestion import line_ingestor, validation
from lineops.dataplane.ingestion.payload import parse_json_batch
from lineops.dataplane.ingestion.state import reading_keys
from lineops.dataplane.ingestion.validation import reading_keys_of

from tests.unit.ingestion.conftest import LINE, Stores

NOW = pd.Timestamp.now(tz="UTC").floor("s")


def body(rows: list[tuple[str, str, float, object]]) -> bytes:
    return json.dumps(
        {
            "readings": [
                {
                    "work_unit": unit,
                    "sensor": sensor,
                    "timestamp": (NOW + pd.Timedelta(seconds=offset)).isoformat(),
                    "value": value,
                }
                for unit, sensor, offset, value in rows
            ]
        }
    ).encode()


def test_keys_from_factorised_names_equal_the_stored_ones() -> None:
    rows = [
        ("a", "x", 0, 1),
        ("b", "x", 1, 1),
        ("a", "y", 2, 1),
        ("é", "x", 3, 1),
        ("a", "x", 4, 1),
    ]
    batch = parse_json_batch(body(rows))
    units, sensors = batch.names()
    expected = reading_keys(batch.work_unit, batch.sensor, batch.timestamp_ns)
    assert reading_keys_of(units, sensors, batch.timestamp_ns).tolist() == expected.tolist()


MIXED = [
    ("press-01", "vibration_rms", 0, 1.0),
    ("press-01", "ram_force", 0, 1.0),
    ("press-01", "wheel_wear", 0, 1.0),  # a sensor of another unit
    ("grinder-01", "wheel_wear", 0, 1.0),
    ("press-99", "ram_force", 0, 1.0),
    ("press-01", "ram_force", 1, 9999.0),
    ("grinder-01", "vibration_rms", 1, 1.0),
]


def test_dense_and_sparse_pair_lookups_agree(
    stores: Stores, spec: ProductionLineSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    dense = stores.ingestor(spec).ingest(parse_json_batch(body(MIXED)))
    assert dense.reasons == {"unknown_sensor": 2, "unknown_work_unit": 1, "out_of_range": 1}
    monkeypatch.setattr(validation, "_DENSE_PAIRS", 0)
    later = [(u, s, t + 10, v) for u, s, t, v in MIXED]
    sparse = stores.ingestor(spec).ingest(parse_json_batch(body(later)))
    assert (sparse.accepted, sparse.reasons) == (dense.accepted, dense.reasons)


def test_repeats_in_a_batch_keep_the_first_sent(stores: Stores, spec: ProductionLineSpec) -> None:
    rows = [("press-01", "ram_force", i % 7, float(i)) for i in range(200)]
    ingestor = stores.ingestor(spec)
    result = ingestor.ingest(parse_json_batch(body(rows)))
    assert (result.accepted, result.reasons) == (7, {"duplicate": 193})
    stored = stores.offline.read(LINE).sort_values("timestamp")
    assert stored["value"].tolist() == [float(i) for i in range(7)]


def test_window_sees_every_accepted_reading_however_adds_are_grouped(
    stores: Stores, spec: ProductionLineSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(3)
    batches = []
    for b in range(4):
        rows = [
            (unit, sensor, b * 10 + i * 0.25, float(rng.normal(10, 2)))
            for i in range(12)
            for unit, sensor in [("press-01", "vibration_rms"), ("press-01", "ram_force")]
        ]
        rows.append(("grinder-01", "wheel_wear", b * 10, float(b)))
        rows.append(("press-01", "vibration_rms", b * 10, "Bad"))  # quarantined: not in it
        batches.append(body(rows))

    grouped = stores.ingestor(spec)
    for payload in batches:
        grouped.ingest(parse_json_batch(payload))
    assert grouped._pending_rows > 0  # still waiting for the window

    reference = PaneWindow(spec.features.window_seconds, line_sensors(spec), panes=20)
    for payload in batches:
        batch = parse_json_batch(payload)
        ok = batch.numeric
        reference.add(
            batch.work_unit[ok], batch.sensor[ok], batch.timestamp_ns[ok], batch.value[ok]
        )

    ours = grouped.take_aggregates().set_index("work_unit").sort_index()
    expected = reference.take_dirty().set_index("work_unit").sort_index()
    pd.testing.assert_frame_equal(ours, expected, check_exact=False, rtol=1e-9)
    assert grouped._pending_rows == 0
    assert grouped.take_aggregates().empty  # nothing new since

    monkeypatch.setattr(line_ingestor, "WINDOW_CHUNK", 1)  # fold on every batch
    one_by_one = Stores(stores.root / "again")
    try:
        eager = one_by_one.ingestor(spec)
        for payload in batches:
            eager.ingest(parse_json_batch(payload))
            assert eager._pending_rows == 0
        again = eager.take_aggregates().set_index("work_unit").sort_index()
        pd.testing.assert_frame_equal(again, expected, check_exact=False, rtol=1e-9)
    finally:
        one_by_one.quarantine.close()


def test_spec_update_drops_pending_readings_and_replays_the_store(
    stores: Stores, spec: ProductionLineSpec
) -> None:
    ingestor = stores.ingestor(spec)
    ingestor.ingest(parse_json_batch(body([("press-01", "ram_force", 0, 5.0)])))
    wider = spec.model_copy(deep=True)
    wider.work_units[0].sensors[1].valid_range = ["0", "5000"]
    ingestor.update_spec(wider)
    aggregates = ingestor.take_aggregates()
    assert aggregates.loc[0, "ram_force__count"] == 1  # once, from the store


def test_a_retry_after_a_failed_quarantine_write_stores_each_reading_once(
    stores: Stores, spec: ProductionLineSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The readings were written before the quarantine: when the quarantine write failed,
    the client's retry stored the readings a second time (the duplicate memory is only
    updated once both stores have the batch)."""
    ingestor = stores.ingestor(spec)
    batch = parse_json_batch(body(MIXED))
    real = stores.quarantine.add_rows
    calls = []

    def failing_once(rows: object) -> None:
        calls.append(rows)
        if len(calls) == 1:
            raise OSError("database is locked")
        real(rows)  # type: ignore[arg-type]

    monkeypatch.setattr(stores.quarantine, "add_rows", failing_once)
    with pytest.raises(OSError):
        ingestor.ingest(batch)
    assert stores.offline.count(LINE) == 0  # nothing of the failed batch is stored
    retried = ingestor.ingest(parse_json_batch(body(MIXED)))
    assert retried.accepted == stores.offline.count(LINE) == 3
    assert "duplicate" not in retried.reasons and retried.quarantined == 4
