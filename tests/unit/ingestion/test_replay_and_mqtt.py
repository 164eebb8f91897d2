"""Real datasets from the installed bibmon package, replay pacing, Sparkplug decoding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from lineops.api.productionline import ProductionLine
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.mqtt_bridge import MqttBridge, decode_message
from lineops.dataplane.ingestion.mqtt_client import MqttMessage, parse_topic
from lineops.services import replay

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_tennessee_eastman_runs_have_52_variables() -> None:
    normal = replay.load_te(0)
    assert normal.shape == (960, 52)
    assert replay.load_te(0, "train").shape == (500, 52)  # d00.dat is stored transposed
    assert replay.load_te(1, "train").shape == (480, 52)
    with pytest.raises(replay.DatasetError):
        replay.load_te(22)


def test_historian_sample_keeps_its_junk() -> None:
    frame = replay.load_historian()
    assert frame.shape == (3169, 108)
    values = pd.Series(frame.to_numpy().ravel())
    assert {"Bad", "Inp OutRange", "Scan Timeout"} <= set(values)


@pytest.mark.parametrize("dataset", ["te", "historian"])
def test_example_lines_match_their_dataset(dataset: str) -> None:
    line = ProductionLine.model_validate(
        yaml.safe_load((EXAMPLES / f"{dataset}-line.yaml").read_text())
    )
    sensors = [s.name for s in line.spec.work_units[0].sensors]
    assert sensors == [str(c) for c in replay.load(dataset).columns]
    assert all(s.valid_range is not None for s in line.spec.work_units[0].sensors)
    if dataset == "historian":  # cheap to regenerate: check the committed file is current
        assert (
            line.model_dump(mode="json", exclude_defaults=True)["spec"]["workUnits"]
            == (replay.line_manifest(dataset)["spec"]["workUnits"])
        )


def test_replay_batches_rows_that_fall_due_together() -> None:
    frame = replay.load_te(3).iloc[:10]
    sent: list[list[dict[str, Any]]] = []
    now = [0.0]

    def post(_url: str, readings: list[dict[str, Any]]) -> dict[str, Any]:
        sent.append(readings)
        return {"received": len(readings), "accepted": len(readings), "quarantined": 0}

    def sleep(seconds: float) -> None:
        now[0] += seconds

    # 3-minute rows at 360x: one row every 0.5 s of (fake) time.
    stats = replay.replay(
        frame,
        url="u",
        work_unit="te-process",
        speed=360.0,
        clock=lambda: now[0],
        sleep=sleep,
        post=post,
    )
    assert stats.rows == 10 and stats.received == 520
    assert now[0] == pytest.approx(4.5)
    fast = replay.replay(
        frame, url="u", work_unit="te-process", speed=0, post=post, max_batch_rows=4
    )
    assert fast.batches == 3


def test_replayed_rows_carry_the_lot_of_their_row() -> None:
    frame = replay.load_te(3).iloc[:7]
    lots = replay.LotNames("te-lot-", rows=3, first=41)
    seen = [
        {r["lot"] for r in readings}
        for _, readings in replay.reading_rows(frame, "te-process", lots)
    ]
    assert seen == [{"te-lot-0041"}] * 3 + [{"te-lot-0042"}] * 3 + [{"te-lot-0043"}]
    plain = next(replay.reading_rows(frame, "te-process"))[1]
    assert all("lot" not in r for r in plain)


def test_sparkplug_payloads_become_readings() -> None:
    payload = (
        b'{"timestamp": 1767225600000, "metrics": [{"name": "ram_force", "value": 2}, '
        b'{"name": "vibration_rms", "value": "Bad", "timestamp": "2026-01-01T00:00:01Z"}]}'
    )
    readings = decode_message(payload, "press-01")
    assert readings[0]["timestamp"] == 1767225600.0
    assert readings[1]["timestamp"] == "2026-01-01T00:00:01Z"
    with pytest.raises(PayloadError, match=r"metrics\[0\]\.name: missing"):
        decode_message(b'{"metrics": [{"value": 1}]}', "press-01")
    topic = parse_topic("spBv1.0/press-line-1/DDATA/edge-1/press-01")
    assert topic is not None and topic.device == "press-01"


def test_bridge_quarantines_bad_messages_and_groups_good_ones() -> None:
    ingested: list[tuple[str, int]] = []
    quarantined: list[str] = []
    bridge = MqttBridge(
        lambda line, rs: ingested.append((line, len(rs))),
        lambda line, dev, raw, why: quarantined.append(why),
    )
    good = b'{"timestamp": 1767225600000, "metrics": [{"name": "a", "value": 1}]}'
    bridge(
        [
            MqttMessage("spBv1.0/l1/DDATA/e/press-01", good, 1, 1),
            MqttMessage("spBv1.0/l1/DDATA/e/press-02", good, 2, 1),
            MqttMessage("spBv1.0/l1/DDATA/e/press-02", b"not json", 3, 1),
            MqttMessage("spBv1.0/l1/NBIRTH/e", good, 4, 1),
        ]
    )
    assert ingested == [("l1", 2)]
    assert len(quarantined) == 1 and quarantined[0].startswith("payload: not valid JSON")
