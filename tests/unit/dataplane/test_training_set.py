"""The line's training set: point-in-time features and labels, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.features import window_aggregates
from lineops.dataplane.repositories.mes import MachineEvent
from lineops.dataplane.training_set import (
    NORMAL,
    TrainingSetError,
    TrainingSetRequest,
    build,
    sample_times,
)

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _spec(units: dict[str, list[str]]) -> ProductionLineSpec:
    return ProductionLineSpec.model_validate(
        {
            "site": "plant-a",
            "area": "stamping",
            "workUnits": [
                {
                    "name": name,
                    "idealCycleTime": "1s",
                    "sensors": [{"name": s, "unit": "u"} for s in sensors],
                }
                for name, sensors in units.items()
            ],
            "features": {"window": "1m", "materializeEvery": "1s"},
        }
    )


SPEC = _spec({"press-01": ["vibration_rms", "ram_force"], "press-02": ["vibration_rms"]})


def readings(minutes: int, every_s: int = 10, unit: str = "press-01") -> pd.DataFrame:
    rows = []
    for i, s in enumerate(range(0, minutes * 60, every_s)):
        t = T0 + pd.Timedelta(seconds=s)
        rows.append((unit, "vibration_rms", t, float(i % 7)))
        rows.append((unit, "ram_force", t, 100.0 + i))
    return pd.DataFrame(rows, columns=["work_unit", "sensor", "timestamp", "value"])


def request(task: str = "fault-classification", **kw: object) -> TrainingSetRequest:
    values: dict[str, object] = {
        "feature_service": "sensor_window_v1",
        "task": task,
        "label": "failure" if task == "failure-prediction" else "fault",
        "window_seconds": 3600.0,
        "until": T0 + pd.Timedelta(hours=1),
    }
    values.update(kw)
    return TrainingSetRequest(**values)  # type: ignore[arg-type]


def event(minute: float, state: str = "running", reason: str = "") -> MachineEvent:
    at = T0 + pd.Timedelta(minutes=minute)
    return MachineEvent("press-01", at.isoformat(), state, reason)


def test_features_match_the_online_window_at_every_row() -> None:
    data = readings(20)
    out = build(SPEC, request(), data, [], T0, T0 + pd.Timedelta(minutes=20)).frame
    assert len(out) == 120  # one row per distinct reading time of press-01
    for row in (0, 5, 61, 119):
        t = out["timestamp"].iloc[row]
        upto = data[data["timestamp"] <= t]
        online = window_aggregates(upto, 60.0, ["vibration_rms", "ram_force"])
        for column in ("vibration_rms__mean", "ram_force__slope", "vibration_rms__count"):
            assert out[column].iloc[row] == pytest.approx(online[column].iloc[0], nan_ok=True)


def test_a_planted_future_value_or_event_never_reaches_an_earlier_row() -> None:
    data = readings(20)
    events = [event(0), event(12, reason="7")]
    before = build(SPEC, request(), data, events, T0, T0 + pd.Timedelta(minutes=20)).frame
    # The future: an absurd reading and a new fault, both after minute 15.
    future = pd.DataFrame(
        [("press-01", "vibration_rms", T0 + pd.Timedelta(minutes=15, seconds=1), 1e9)],
        columns=data.columns,
    )
    later = [*events, event(15.02, reason="9")]
    after = build(
        SPEC, request(), pd.concat([data, future]), later, T0, T0 + pd.Timedelta(minutes=20)
    ).frame
    past = after["timestamp"] <= T0 + pd.Timedelta(minutes=15)
    assert past.sum() == 91
    assert (after.loc[past, "vibration_rms__max"] < 1e6).all()
    pd.testing.assert_frame_equal(
        after[past].reset_index(drop=True),
        before[before["timestamp"] <= T0 + pd.Timedelta(minutes=15)].reset_index(drop=True),
    )
    labels = after.set_index("timestamp")["fault"]
    assert labels[T0 + pd.Timedelta(minutes=11, seconds=50)] == NORMAL
    assert labels[T0 + pd.Timedelta(minutes=12)] == "7"  # from the event on
    assert labels[T0 + pd.Timedelta(minutes=15)] == "7"
    assert labels[T0 + pd.Timedelta(minutes=15, seconds=10)] == "9"


def test_a_gap_starts_a_new_run_and_sampling_thins_rows() -> None:
    first = readings(10)
    second = readings(10)
    second["timestamp"] += pd.Timedelta(hours=2)
    data = pd.concat([first, second], ignore_index=True)
    out = build(
        SPEC,
        request(until=T0 + pd.Timedelta(hours=3), window_seconds=4 * 3600.0),
        data,
        [],
        T0,
        T0 + pd.Timedelta(hours=3),
    ).frame
    assert out["run"].nunique() == 2
    thinned = build(
        SPEC,
        request(sample_every_seconds=60.0),
        first,
        [],
        T0,
        T0 + pd.Timedelta(minutes=10),
    ).frame
    assert len(thinned) == 10
    assert (np.diff(thinned["timestamp"].astype("int64")) == 60 * 10**9).all()


def test_failure_target_is_hours_to_the_next_down_event_and_censors_the_rest() -> None:
    data = readings(30)
    events = [event(10, state="down"), event(11, state="running")]
    result = build(
        SPEC, request("failure-prediction"), data, events, T0, T0 + pd.Timedelta(minutes=30)
    )
    out = result.frame
    assert out["timestamp"].max() <= T0 + pd.Timedelta(minutes=10)  # after it: censored
    assert result.card["rowsCensored"] == 120
    first = out.iloc[0]
    assert first["rul"] == pytest.approx(10 / 60)
    assert out["rul"].is_monotonic_decreasing


def test_last_service_serves_the_raw_signal() -> None:
    data = readings(5)
    out = build(
        SPEC, request(feature_service="sensor_last_v1"), data, [], T0, T0 + pd.Timedelta(hours=1)
    )
    assert out.card["features"] == ["vibration_rms__last", "ram_force__last"]
    assert out.frame["ram_force__last"].tolist() == [100.0 + i for i in range(30)]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"feature_service": "nope_v9"}, "query.featureService"),
        ({"label": "lot_outcome"}, "query.label"),
        ({"task": "regression"}, "query.task"),
    ],
)
def test_bad_requests_name_the_parameter(change: dict[str, str], field: str) -> None:
    with pytest.raises(TrainingSetError) as caught:
        build(SPEC, request(**change), readings(1), [], T0, T0 + pd.Timedelta(minutes=1))
    assert caught.value.field == field


def test_units_lacking_a_sensor_of_the_service_are_left_out_or_refused() -> None:
    data = pd.concat([readings(5), readings(5, unit="press-02")], ignore_index=True)
    data = data[(data["work_unit"] == "press-01") | (data["sensor"] == "vibration_rms")]
    out = build(SPEC, request(), data, [], T0, T0 + pd.Timedelta(hours=1))
    assert out.card["workUnits"] == ["press-01"]
    alone = _spec({"press-01": ["vibration_rms"], "grinder-01": ["wheel_wear"]})
    with pytest.raises(TrainingSetError, match="press-01 lacks wheel_wear") as caught:
        build(alone, request(), data, [], T0, T0 + pd.Timedelta(hours=1))
    assert caught.value.field == "query.featureService"


def test_sample_times_keep_the_newest_time_of_each_interval() -> None:
    ts = np.array([0, 5, 10, 10, 19, 20, 45])
    assert sample_times(ts, 0).tolist() == [0, 5, 10, 19, 20, 45]
    assert sample_times(ts, 10).tolist() == [5, 19, 20, 45]


def test_rows_inside_an_out_of_control_stretch_are_marked() -> None:
    data = readings(10)
    stretch = [((T0 + pd.Timedelta(minutes=2)).value, (T0 + pd.Timedelta(minutes=3)).value)]
    out = build(SPEC, request(), data, [], T0, T0 + pd.Timedelta(minutes=10), stretch)
    marked = out.frame.loc[~out.frame["in_control"], "timestamp"]
    assert len(marked) == 6 and out.card["rowsOutOfControl"] == 6
    assert marked.min() == T0 + pd.Timedelta(minutes=2)
    assert marked.max() == T0 + pd.Timedelta(minutes=2, seconds=50)
