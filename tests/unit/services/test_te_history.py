"""replay.te_history: TE runs laid end to end on one work unit, with the machine events that
label them as the TE files do."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from lineops.dataplane.repositories.mes import MachineEvent
from lineops.dataplane.training_set import fault_labels
from lineops.services import replay
from lineops_pipelines import te_data

START = pd.Timestamp("2021-03-01 06:00", tz="UTC")


def _labels(readings: pd.DataFrame, events: list[dict[str, str]]) -> np.ndarray:
    """The data plane's as-of join of the events onto one row per sample time."""
    rows = readings.drop_duplicates("timestamp")[["work_unit", "timestamp"]]
    records = [MachineEvent(e["workUnit"], e["timestamp"], e["state"], e["reason"]) for e in events]
    labels = fault_labels(rows.reset_index(drop=True), records).to_numpy()
    return np.array(["0" if v == "normal" else v for v in labels], dtype=object)


def test_training_runs_follow_each_other_faulty_from_their_first_sample() -> None:
    gap = pd.Timedelta(minutes=45)
    readings, events = replay.te_history("train", [0, 4, 11], START, gap)
    sizes = [500, 480, 480]
    assert len(readings) == sum(sizes) * 52
    assert list(readings.columns) == ["work_unit", "sensor", "timestamp", "value"]
    assert str(readings["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert (readings["work_unit"] == "te-process").all()
    stamps = readings["timestamp"].drop_duplicates().reset_index(drop=True)
    steps = stamps.diff().dropna().value_counts()
    assert dict(steps) == {replay.TE_PERIOD: sum(sizes) - 3, gap: 2}
    assert stamps.iloc[0] == START
    # Each run's values are its file's, sensor by sensor, sample by sample.
    first = 0
    for fault, size in zip([0, 4, 11], sizes, strict=True):
        part = readings.iloc[first * 52 : (first + size) * 52]
        wide = part.pivot(index="timestamp", columns="sensor", values="value")
        expected = replay.load_te(fault, "train")
        assert np.array_equal(wide[replay.TE_COLUMNS].to_numpy(), expected.to_numpy())
        first += size
    assert events == [
        {"workUnit": "te-process", "timestamp": t.isoformat(), "state": "running", "reason": r}
        for t, r in zip(stamps.iloc[[0, 500, 980]], ["", "4", "11"], strict=True)
    ]
    expected_labels = np.concatenate(
        [te_data.labels_for(f, n, test=False) for f, n in zip([0, 4, 11], sizes, strict=True)]
    ).astype(str)
    assert np.array_equal(_labels(readings, events), expected_labels)


def test_test_runs_turn_faulty_at_sample_160() -> None:
    readings, events = replay.te_history("test", [0, 7], START)
    stamps = readings["timestamp"].drop_duplicates().reset_index(drop=True)
    assert len(stamps) == 2 * 960
    assert stamps.iloc[960] - stamps.iloc[959] == replay.TE_GAP
    assert [(e["timestamp"], e["reason"]) for e in events] == [
        (stamps.iloc[0].isoformat(), ""),  # d00_te: normal throughout, one event
        (stamps.iloc[960].isoformat(), ""),
        (stamps.iloc[960 + replay.TE_FAULT_ONSET].isoformat(), "7"),
    ]
    expected = np.concatenate([te_data.labels_for(f, 960, test=True) for f in (0, 7)]).astype(str)
    assert np.array_equal(_labels(readings, events), expected)


def test_labels_do_not_depend_on_the_offset_events_are_sent_with() -> None:
    """A plant may post events in local time: the same instants with a +01:00 offset (their
    texts no longer sort in time order among UTC ones) label the same rows."""
    readings, events = replay.te_history(
        "train", [1, 2, 4, 5], START, pd.Timedelta(minutes=20), rows=5
    )
    local = [
        {**e, "timestamp": pd.Timestamp(e["timestamp"]).tz_convert("+01:00").isoformat()}
        if k % 2
        else e
        for k, e in enumerate(events)
    ]
    assert sorted(e["timestamp"] for e in local) != [e["timestamp"] for e in local]
    assert np.array_equal(_labels(readings, local), _labels(readings, events))


def test_rows_cut_every_run_and_a_run_cut_before_the_onset_stays_normal() -> None:
    readings, events = replay.te_history("test", [2, 5], START, rows=100)
    assert len(readings) == 2 * 100 * 52
    assert [e["reason"] for e in events] == ["", ""]
    readings, events = replay.te_history("test", [2], START, rows=161)
    assert [e["reason"] for e in events] == ["", "2"]


def test_a_naive_start_is_utc() -> None:
    readings, events = replay.te_history("train", [1], pd.Timestamp("2021-03-01 06:00"), rows=2)
    assert readings["timestamp"].iloc[0] == START
    assert events[0]["timestamp"] == "2021-03-01T06:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("validation",), {}, "split"),
        (("train", [1], START, pd.Timedelta(0)), {}, "gap"),
        (("train", [1]), {"rows": 0}, "rows"),
        (("train", []), {}, "no TE run"),
        (("test", [22]), {}, "0..21"),
    ],
)
def test_bad_arguments_are_refused(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(replay.DatasetError, match=message):
        replay.te_history(*args, **kwargs)
