"""Classification into accepted / quarantined, durable storage, counters and restarts."""

from __future__ import annotations

import json

import pandas as pd
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.ingestion.line_ingestor import LineIngestor
from lineops.dataplane.ingestion.payload import parse_json_batch
from prometheus_client import CollectorRegistry

from tests.unit.ingestion.conftest import LINE, Stores

NOW = pd.Timestamp.now(tz="UTC").floor("s")


def batch(*readings: tuple[str, str, float, object]) -> bytes:
    return json.dumps(
        {
            "readings": [
                {
                    "work_unit": unit,
                    "sensor": sensor,
                    "timestamp": (NOW + pd.Timedelta(seconds=offset)).isoformat(),
                    "value": value,
                }
                for unit, sensor, offset, value in readings
            ]
        }
    ).encode()


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, {"line": LINE, **labels}) or 0.0


def test_every_reason_and_counters_balance(stores: Stores, spec: ProductionLineSpec) -> None:
    ingestor = stores.ingestor(spec, allowed_lateness_s=60)
    first = ingestor.ingest(parse_json_batch(batch(("press-01", "vibration_rms", 0, 1.0))))
    assert (first.accepted, first.quarantined) == (1, 0)
    result = ingestor.ingest(
        parse_json_batch(
            batch(
                ("press-01", "vibration_rms", -1, 2.0),  # accepted (within lateness)
                ("press-99", "vibration_rms", 0, 1.0),  # unknown work unit
                ("press-01", "spindle_power", 0, 1.0),  # unknown sensor (for this unit)
                ("press-01", "vibration_rms", 1, "Inp OutRange"),  # historian junk
                ("press-01", "vibration_rms", 2, 51.0),  # above validRange
                ("press-01", "ram_force", 2, -0.5),  # below validRange
                ("press-01", "vibration_rms", 3600, 1.0),  # an hour in the future
                ("press-01", "vibration_rms", 0, 1.0),  # duplicate of the first batch
                ("press-01", "ram_force", 5, 7.0),  # accepted ...
                ("press-01", "ram_force", 5, 8.0),  # ... and its duplicate in the batch
                ("press-01", "ram_force", -120, 1.0),  # beyond the allowed lateness
                ("grinder-01", "wheel_wear", -86400, 1e9),  # no validRange, new unit: fine
            )
        )
    )
    assert result.received == 12
    assert result.accepted == 3
    assert result.reasons == {
        "unknown_work_unit": 1,
        "unknown_sensor": 1,
        "non_numeric": 1,
        "out_of_range": 2,
        "future": 1,
        "duplicate": 2,
        "late": 1,
    }
    assert result.received == result.accepted + result.quarantined
    # Stores and counters agree with the answers.
    assert stores.offline.count(LINE) == 4
    assert stores.quarantine.counts_by_reason(LINE) == result.reasons
    junk = stores.quarantine.list(LINE, reason="non_numeric")
    assert junk[0].value == "Inp OutRange"
    reg = stores.registry
    assert sample(reg, "lineops_ingest_readings_total", outcome="accepted") == 4
    assert sample(reg, "lineops_ingest_readings_total", outcome="quarantined") == 9
    assert sample(reg, "lineops_ingest_quarantined_total", reason="duplicate") == 2


def test_backfill_skips_the_lateness_check(stores: Stores, spec: ProductionLineSpec) -> None:
    ingestor = stores.ingestor(spec, allowed_lateness_s=60)
    ingestor.ingest(parse_json_batch(batch(("press-01", "ram_force", 0, 1.0))))
    old = parse_json_batch(batch(("press-01", "ram_force", -7200, 1.0)))
    assert ingestor.ingest(old).reasons == {"late": 1}
    assert ingestor.ingest(old, backfill=True).accepted == 1


def test_restart_remembers_what_was_stored(stores: Stores, spec: ProductionLineSpec) -> None:
    payload = batch(("press-01", "ram_force", 0, 1.0), ("press-01", "ram_force", 1, 2.0))
    stores.ingestor(spec).ingest(parse_json_batch(payload))
    # A new process on the same data: the retried batch must not be stored twice.
    again = LineIngestor(
        LINE,
        spec,
        offline=stores.offline,
        quarantine=stores.quarantine,
        metrics=stores.metrics,
    )
    result = again.ingest(parse_json_batch(payload))
    assert result.reasons == {"duplicate": 2}
    assert stores.offline.count(LINE) == 2
    aggregates = again.take_aggregates()
    assert aggregates.loc[0, "ram_force__count"] == 2


def test_a_restart_remembers_a_unit_quiet_for_longer_than_the_horizon(
    stores: Stores, spec: ProductionLineSpec
) -> None:
    """Memory is rebuilt from the line's newest readings: the grinder, quiet for an hour,
    had no watermark and no duplicate keys after a restart, and its batch sent again was
    stored twice."""
    quiet = batch(
        ("grinder-01", "wheel_wear", -3600, 5.0), ("grinder-01", "wheel_wear", -3599, 6.0)
    )
    first = stores.ingestor(spec)
    first.ingest(parse_json_batch(quiet))
    first.ingest(parse_json_batch(batch(("press-01", "ram_force", 0, 1.0))))
    again = stores.ingestor(spec)  # a new process on the same data

    result = again.ingest(parse_json_batch(quiet))

    assert result.reasons == {"duplicate": 2}
    assert stores.offline.count(LINE) == 3


def test_a_restart_rebuilds_the_same_window_features(
    stores: Stores, spec: ProductionLineSpec
) -> None:
    """The live window keeps whole panes (window/20): its oldest pane reaches up to a pane
    past the window, and a restore of only the window's span lost readings of it."""
    # The newest reading a second before a pane boundary (panes of 15 s on the epoch's
    # grid): the oldest kept pane then begins 14 s before (newest - window).
    shift = -(NOW.value // 10**9 % 15) - 1
    payload = batch(
        *(("press-01", "ram_force", shift - second, float(second)) for second in range(330))
    )
    live = stores.ingestor(spec)
    live.ingest(parse_json_batch(payload))
    before = live.take_aggregates()

    after = stores.ingestor(spec).take_aggregates()  # a new process on the same data

    assert after.loc[0, "ram_force__count"] == before.loc[0, "ram_force__count"] > 300
    assert after.loc[0, "ram_force__mean"] == before.loc[0, "ram_force__mean"]


def test_spec_update_applies_new_ranges(stores: Stores, spec: ProductionLineSpec) -> None:
    ingestor = stores.ingestor(spec)
    assert ingestor.ingest(parse_json_batch(batch(("press-01", "ram_force", 0, 3000.0)))).reasons
    wider = spec.model_copy(deep=True)
    wider.work_units[0].sensors[1].valid_range = ["0", "5000"]
    ingestor.update_spec(wider)
    assert ingestor.ingest(parse_json_batch(batch(("press-01", "ram_force", 1, 3000.0)))).accepted
