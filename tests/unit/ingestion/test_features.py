"""Window aggregates: exact formulas, pane windows, the Feast plan of a line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from lineops.dataplane.features import PaneWindow, plan_line_features, window_aggregates

from tests.unit.ingestion.conftest import small_spec

START = pd.Timestamp("2026-01-01", tz="UTC").value


def readings(n: int = 500, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = START + np.sort(rng.integers(0, 600 * 10**9, n))
    return pd.DataFrame(
        {
            "work_unit": rng.choice(["press-01", "grinder-01"], n),
            "sensor": rng.choice(["vibration_rms", "ram_force"], n),
            "timestamp": pd.to_datetime(ts, utc=True),
            # A large offset with a small trend: naive sums would lose the std.
            "value": 1e6 + rng.normal(size=n) + (ts - START) / 1e11,
        }
    )


def test_window_aggregates_match_numpy() -> None:
    frame = readings()
    out = window_aggregates(frame, 300, ["vibration_rms", "ram_force", "absent"])
    for unit in ("press-01", "grinder-01"):
        rows = frame[frame.work_unit == unit]
        end = rows.timestamp.max()
        sel = rows[(rows.timestamp > end - pd.Timedelta(seconds=300))]
        sel = sel[sel.sensor == "vibration_rms"]
        t = sel.timestamp.astype("int64").to_numpy() / 1e9
        v = sel.value.to_numpy()
        got = out.set_index("work_unit").loc[unit]
        assert got["event_timestamp"] == end
        assert np.isclose(got["vibration_rms__mean"], v.mean(), rtol=0, atol=1e-9)
        assert np.isclose(got["vibration_rms__std"], v.std(ddof=1), rtol=1e-9)
        assert np.isclose(got["vibration_rms__slope"], np.polyfit(t, v, 1)[0], rtol=1e-6)
        assert got["vibration_rms__min"] == v.min()
        assert got["vibration_rms__max"] == v.max()
        assert got["vibration_rms__last"] == v[-1]
        assert got["vibration_rms__count"] == len(v)
        assert got["absent__count"] == 0
        assert np.isnan(got["absent__mean"])


def test_pane_window_equals_exact_aggregates_when_the_data_fit_in_the_window() -> None:
    frame = readings()
    frame = frame[frame.timestamp < pd.Timestamp(START + 240 * 10**9, tz="UTC")]
    window = PaneWindow(300, ["vibration_rms", "ram_force"], panes=10)
    for chunk in np.array_split(np.arange(len(frame)), 7):
        part = frame.iloc[chunk]
        window.add(
            part.work_unit.to_numpy(object),
            part.sensor.to_numpy(object),
            part.timestamp.astype("int64").to_numpy(),
            part.value.to_numpy(),
        )
    assert window.dirty == {"press-01", "grinder-01"}
    panes = window.take_dirty().set_index("work_unit").sort_index()
    exact = window_aggregates(frame, 300, ["vibration_rms", "ram_force"])
    exact = exact.set_index("work_unit").sort_index()
    pd.testing.assert_frame_equal(panes, exact, check_exact=False, rtol=1e-7, atol=1e-6)
    assert window.dirty == set()


def test_pane_window_forgets_old_panes() -> None:
    window = PaneWindow(60, ["vibration_rms"], panes=6)
    for minute in range(10):
        ts = np.array([START + minute * 60 * 10**9])
        window.add(
            np.array(["press-01"], object),
            np.array(["vibration_rms"], object),
            ts,
            np.array([float(minute)]),
        )
    row = window.aggregates().iloc[0]
    # Minutes 0..7 are gone; minute 8 sits in the pane that straddles the window start
    # (panes make the window up to one pane longer than the exact one).
    assert row["vibration_rms__count"] == 2
    assert row["vibration_rms__last"] == 9.0


def test_plan_of_a_line(tmp_path: Path) -> None:
    plan = plan_line_features("press-line-1", small_spec(), tmp_path)
    (view,) = plan.views
    assert view.name == "press_line_1__sensor_window"
    names = [f.name for f in view.features]
    assert names[:7] == [
        f"vibration_rms__{a}" for a in ("mean", "std", "min", "max", "last", "slope", "count")
    ]
    assert "wheel_wear__slope" in names
    assert view.tags["window"] == "5m"
    window, last = plan.services
    assert (window.name, window.features) == ("press_line_1__sensor_window_v1", None)
    assert last.name == "press_line_1__sensor_last_v1"
    assert last.features == ("vibration_rms__last", "ram_force__last", "wheel_wear__last")
