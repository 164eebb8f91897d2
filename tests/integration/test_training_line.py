"""The line path end to end: readings and fault events go into a line's data plane, and a
QualityModel trains from that line's own training set (not from the TE files), with real
kfp.local runs of the shipped pipeline, on the real kube-apiserver. Every wait polls."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 300.0
STEP = pd.Timedelta(seconds=10)
EPISODE = 90  # samples (15 minutes) per fault episode
# Faults 1 and 2 shift one sensor each by four standard deviations, in alternating episodes.
SHIFTS = {"1": ("temp", 4.0), "2": ("pressure", 4.0)}


def _line(name: str, sensors: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "ProductionLine",
        "metadata": {"name": name},
        "spec": {
            "site": "test",
            "area": "cells",
            "workUnits": [
                {
                    "name": "cell-01",
                    "idealCycleTime": "10s",
                    "sensors": [
                        {"name": s, "unit": "u", "validRange": ["-100", "100"]} for s in sensors
                    ],
                }
            ],
            "features": {"window": "1m", "materializeEvery": "1s"},
        },
    }


def _model(name: str, line: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "QualityModel",
        "metadata": {"name": name},
        "spec": {
            "lineRef": line,
            "task": "fault-classification",
            "featureService": "sensor_window_v1",
            "label": "fault",
            "training": {"parameters": {"epochs": "3"}, "window": "2d"},
            "promotion": {"metric": "macro_f1"},
            **spec,
        },
    }


def history(
    start: pd.Timestamp, samples: int, sensors: list[str]
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Readings every 10 s with fault episodes, and the machine events that mark them."""
    rng = np.random.default_rng(7)
    times = start + STEP * np.arange(samples)
    label = np.array(["normal"] * samples, dtype=object)
    events = [{"workUnit": "cell-01", "timestamp": start.isoformat(), "state": "running"}]
    for k, begin in enumerate(range(3 * EPISODE, samples - EPISODE, 3 * EPISODE)):
        fault = "1" if k % 2 == 0 else "2"
        label[begin : begin + EPISODE] = fault
        for at, reason in ((begin, fault), (begin + EPISODE, "")):
            events.append(
                {
                    "workUnit": "cell-01",
                    "timestamp": times[at].isoformat(),
                    "state": "running",
                    "reason": reason,
                }
            )
    rows = []
    for sensor in sensors:
        values = rng.normal(0.0, 1.0, samples)
        for fault, (shifted, size) in SHIFTS.items():
            if shifted == sensor:
                values[label == fault] += size
        rows.append(
            pd.DataFrame(
                {"work_unit": "cell-01", "sensor": sensor, "timestamp": times, "value": values}
            )
        )
    return pd.concat(rows, ignore_index=True), events


def _post(url: str, body: bytes, content_type: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.loads(response.read()))


def send(data_url: str, ns: str, line: str, readings: pd.DataFrame, events: list[Any]) -> None:
    base = f"{data_url}/v1/namespaces/{ns}/lines/{line}"
    frame = readings.assign(timestamp=readings["timestamp"].map(lambda t: t.isoformat()))
    answer = _post(
        f"{base}/readings:bulk?backfill=true", frame.to_csv(index=False).encode(), "text/csv"
    )
    assert answer["accepted"] == len(readings), answer
    answer = _post(f"{base}/events", json.dumps({"records": events}).encode(), "application/json")
    assert answer["accepted"] == len(events), answer


def _wait(api: client.ApiClient, ns: str, name: str, check: Any, what: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = res.get(api, ns, "QualityModel", name)
        return obj if obj is not None and check(obj) else None

    return wait_for(probe, timeout=RUN_TIMEOUT, interval=0.5, what=what)


def _line_ready(api: client.ApiClient, ns: str, name: str) -> None:
    def ready() -> bool:
        obj = res.get(api, ns, "ProductionLine", name)
        return obj is not None and res.has_condition(obj, "Ready", "True")

    wait_for(ready, timeout=60, interval=0.2, what=f"line {name} Ready")


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"LINEOPS_DATA_DIR": str(tmp_path), "LINEOPS_TRAINING_RETRY_SECONDS": "600"}


def test_a_model_trains_on_its_lines_readings_and_fault_events(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
) -> None:
    sensors = ["temp", "pressure", "flow"]
    res.create(api_client, namespace, _line("cell-line", sensors))
    # flow is declared on this line but never reported: its features have no value.
    res.create(api_client, namespace, _line("gap-line", sensors))
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=12)).floor("min")
    readings, events = history(start, 1800, sensors)
    with run_operator(operator_identity, namespace, extra_env=env) as operator:
        _line_ready(api_client, namespace, "cell-line")
        _line_ready(api_client, namespace, "gap-line")
        send(operator.data_url, namespace, "cell-line", readings, events)
        partial = readings[readings["sensor"] != "flow"]
        send(operator.data_url, namespace, "gap-line", partial, events)
        res.create(api_client, namespace, _model("cells", "cell-line"))
        res.create(api_client, namespace, _model("gaps", "gap-line"))

        trained = _wait(
            api_client,
            namespace,
            "cells",
            lambda o: res.has_condition(o, "Trained", "True"),
            "the line-path model to train",
        )
        failed = _wait(
            api_client,
            namespace,
            "gaps",
            lambda o: res.has_condition(o, "Trained", "False", "TrainingFailed"),
            "the model without flow readings to fail",
        )

    training = trained["status"]["training"]
    # Two 4-sigma shifts on separate sensors: a working classifier tells them apart.
    assert float(training["metrics"]["macro_f1"]) > 0.8, training
    assert res.has_condition(trained, "Ready", "True")
    # It read the line's training set, not a file.
    request = json.loads(
        (Path(env["LINEOPS_DATA_DIR"]) / "runs" / training["runId"] / "request.json").read_text()
    )
    assert "/lines/cell-line/training-set?" in request["dataset"]
    # The model card records what it was trained on.
    tag = trained["status"]["champion"]["version"]
    name, version = tag.split(":")
    card_file = Path(env["LINEOPS_DATA_DIR"]) / "bentoml" / "models" / name / version / "model.yaml"
    card = yaml.safe_load(card_file.read_text())["metadata"]["training_set"]
    assert card["line"] == "cell-line" and card["featureService"] == "sensor_window_v1"
    assert card["featureServiceVersion"] == "v1" and card["label"] == "fault"
    assert card["rows"] == 1800 and set(card["classCounts"]) == {"normal", "1", "2"}
    assert pd.Timestamp(card["window"]["end"]) == readings["timestamp"].max()
    assert "temp__mean" in card["features"]

    message = res.condition(failed, "Trained")["message"]  # type: ignore[index]
    assert "'load'" in message and "flow__mean" in message, message
