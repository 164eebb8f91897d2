from __future__ import annotations

import numpy as np
import pandas as pd
from lineops.services.monitoring.drift_tracker import REFERENCE_SAMPLES, DriftTracker


def _frame(values: np.ndarray, start: int, sensor: str = "oil_temperature") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "work_unit": "press-01",
            "sensor": sensor,
            "value": values,
            "timestamp": pd.to_datetime(np.arange(start, start + len(values)), unit="s", utc=True),
        }
    )


def test_shift_is_detected_and_nothing_is_reread_without_new_data() -> None:
    rng = np.random.default_rng(0)
    reference = _frame(rng.normal(40, 1, REFERENCE_SAMPLES), 0)
    store = {"rows": pd.concat([reference, _frame(rng.normal(40, 1, 500), 1000)])}
    reads = {"first": 0}

    def first() -> pd.DataFrame:
        reads["first"] += 1
        return store["rows"].head(REFERENCE_SAMPLES)

    tracker = DriftTracker(
        count=lambda: len(store["rows"]),
        read_first=first,
        read_recent=lambda _: store["rows"].tail(500),
    )
    stable = tracker.evaluate().worst
    assert stable is not None and stable.band == "stable" and stable.psi < 0.1
    assert tracker.evaluate() is tracker.evaluate()  # unchanged store: cached
    store["rows"] = pd.concat([store["rows"], _frame(rng.normal(43, 1, 500), 5000)])
    shifted = tracker.evaluate().worst
    assert shifted is not None
    assert (shifted.feature, shifted.band) == ("press-01/oil_temperature", "significant")
    assert reads["first"] == 1  # a complete reference is read once


def test_sensors_with_too_few_readings_get_no_verdict() -> None:
    rows = _frame(np.arange(20.0), 0)
    tracker = DriftTracker(count=lambda: 20, read_first=lambda: rows, read_recent=lambda _: rows)
    assert tracker.evaluate().features == ()
