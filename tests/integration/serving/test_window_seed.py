"""A model with a window of rows answers from its first prediction after a start when the
data plane already holds the unit's history of online rows: the quality inspector (a real
``bentoml serve`` process, started after the history was written) seeds its window from the
data plane's ``…/features/history`` instead of waiting for ``window`` more
materialisations. (A unit whose history holds one row only still waits: the first test of
test_quality_inspector.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from tests.integration.serving.conftest import LINE, Plant, Served
from tests.support.serving_model import MODEL_WINDOW

pytestmark = pytest.mark.integration
HIGH = {"ram_force": 1800.0, "vibration_rms": 3.0}


@pytest.fixture(scope="module")
def now() -> pd.Timestamp:
    """When the module's tests start, not when pytest imported the module: in a full run that
    is many minutes earlier (695 s once), and the served features were stale (409)."""
    return pd.Timestamp.now(tz="UTC").floor("s")


@pytest.fixture(scope="module")
def history(plant: Plant, now: pd.Timestamp) -> None:
    """Two materialised windows of press-01 (high ram force: class 1), before the inspector
    starts (this fixture is requested first)."""
    plant.send("press-01", HIGH, now - pd.Timedelta(seconds=60))
    plant.send("press-01", HIGH, now - pd.Timedelta(seconds=30))


def test_the_data_plane_serves_the_units_rows_oldest_first(
    history: None, plant: Plant, now: pd.Timestamp
) -> None:
    url = plant.served.line_url("features/history", LINE)
    query = {"workUnit": "press-01", "featureService": "sensor_window_v1"}
    body: dict[str, Any] = requests.get(url, params=query, timeout=30).json()
    stamps = [pd.Timestamp(r["timestamp"]) for r in body["rows"]]
    assert stamps == [now - pd.Timedelta(seconds=60), now - pd.Timedelta(seconds=30)]
    mean = body["features"].index("ram_force__mean")
    assert [r["values"][mean] for r in body["rows"]] == [1800.0, 1800.0]
    one = requests.get(url, params={**query, "rows": "1"}, timeout=30).json()["rows"]
    assert [pd.Timestamp(r["timestamp"]) for r in one] == stamps[-1:]
    until = (now - pd.Timedelta(seconds=45)).isoformat()
    early = requests.get(url, params={**query, "until": until}, timeout=30).json()["rows"]
    assert [pd.Timestamp(r["timestamp"]) for r in early] == stamps[:1]


def test_the_first_prediction_after_a_start_answers_from_the_seeded_window(
    history: None,
    plant: Plant,
    inspector: Served,
    model_store: tuple[Path, str],
    now: pd.Timestamp,
) -> None:
    answer = inspector.post("predict", {"work_unit": "press-01", "lot": "S-1"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # Without the seed: history_rows 1 and no label ("no answer yet: 1 of 2 rows").
    assert (body["history_rows"], body["rows_needed"]) == (MODEL_WINDOW, MODEL_WINDOW)
    assert body["label"] == "1" and body["model_tag"] == model_store[1]
    assert pd.Timestamp(body["feature_timestamp"]) == now - pd.Timedelta(seconds=30)

    # A newer window: one more row on top of the seeded ones.
    plant.send("press-01", {"ram_force": 1000.0, "vibration_rms": 3.0}, now)
    later = inspector.post("predict", {"work_unit": "press-01", "lot": "S-2"}).json()
    assert later["history_rows"] == MODEL_WINDOW + 1
    assert pd.Timestamp(later["feature_timestamp"]) == now
