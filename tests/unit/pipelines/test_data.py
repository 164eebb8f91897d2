from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lineops_pipelines import data


def test_features_exclude_reserved_columns(small_frame: pd.DataFrame) -> None:
    assert data.feature_columns(small_frame) == ["f1", "f2", "f3"]


def test_missing_values_fail_naming_the_column(small_frame: pd.DataFrame) -> None:
    small_frame.loc[5, "f2"] = np.nan
    with pytest.raises(data.DataValidationError, match=r"column 'f2'.*missing"):
        data.validate(small_frame, "fault-classification")


def test_non_numeric_cells_fail_naming_the_column(small_frame: pd.DataFrame) -> None:
    small_frame["f3"] = small_frame["f3"].astype(object)
    small_frame.loc[7, "f3"] = "#N/A"
    with pytest.raises(data.DataValidationError, match=r"column 'f3'.*non-numeric"):
        data.validate(small_frame, "anomaly-detection")


def test_values_beyond_the_readings_bound_fail_naming_the_column(
    small_frame: pd.DataFrame,
) -> None:
    # 1e308 is finite; it trained a model of NaN (NaN metrics, every later score null).
    small_frame.loc[4, "f1"] = 1e308
    with pytest.raises(data.DataValidationError, match=r"column 'f1': 1e\+308 at row 4 is beyond"):
        data.validate(small_frame, "anomaly-detection")


def test_class_imbalance_fails_naming_the_class(small_frame: pd.DataFrame) -> None:
    rare = small_frame[small_frame["fault"] != 2]
    frame = pd.concat([rare, small_frame[small_frame["fault"] == 2].head(1)])
    with pytest.raises(data.DataValidationError, match="column 'fault': class '2'"):
        data.validate(frame, "fault-classification")


def test_label_required_for_classification(small_frame: pd.DataFrame) -> None:
    with pytest.raises(data.DataValidationError, match="column 'fault'"):
        data.validate(small_frame.drop(columns="fault"), "fault-classification")
    report = data.validate(small_frame.drop(columns="fault"), "anomaly-detection")
    assert report["features"] == ["f1", "f2", "f3"]


def test_time_split_keeps_order_and_gap_per_run(small_frame: pd.DataFrame) -> None:
    parts = data.split(small_frame, by="time", test_fraction=0.25, gap=10)
    for run in "abc":
        train = parts.train[parts.train["run"] == run]["sample"]
        test = parts.test[parts.test["run"] == run]["sample"]
        assert train.max() + 10 < test.min()
        assert len(train) == 90
    assert parts.method == "time"


def test_lot_split_keeps_lots_whole(small_frame: pd.DataFrame) -> None:
    parts = data.split(small_frame, by="auto", test_fraction=0.25)
    assert parts.method == "lot"
    assert not set(parts.train["lot"]) & set(parts.test["lot"])


def test_run_split_holds_out_whole_runs(small_frame: pd.DataFrame) -> None:
    parts = data.split(small_frame, by="run", test_fraction=0.34)
    assert set(parts.test["run"]) == {"c"}
    assert "c" not in set(parts.train["run"])


def test_run_split_holds_out_the_runs_that_ended_last() -> None:
    """A line's training set comes sorted by work unit, then time: in appearance order the
    alphabetically last unit was held out, though others ran later."""
    start = pd.Timestamp("2026-11-01", tz="UTC")
    frames = [
        pd.DataFrame(
            {
                "run": unit,
                "timestamp": start + pd.to_timedelta(offset + np.arange(10), unit="h"),
                "f1": np.arange(10.0),
                "rul": np.arange(9, -1, -1),
            }
        )
        for unit, offset in (("grinder-01", 100), ("press-01", 0), ("press-02", 10))
    ]
    parts = data.split(pd.concat(frames, ignore_index=True), by="run", test_fraction=0.34)
    assert set(parts.test["run"]) == {"grinder-01"}


def test_te_dataset_uses_the_canonical_split() -> None:
    frame = data.load_dataset("te", reduced=True)
    parts = data.split(frame)
    assert parts.method == "column"
    assert set(parts.train["run"]) == {"d00", "d01", "d02", "d04", "d06", "d07"}
    assert all(r.endswith("_te") for r in set(parts.test["run"]))


def test_kept_rows_split_runs_where_rows_were_removed() -> None:
    frame = pd.DataFrame(
        {
            "run": ["a"] * 6 + ["b"] * 3,
            "timestamp": list(range(6)) + list(range(3)),
            "x": range(9),
        }
    )
    mask = pd.Series([True, True, False, True, True, True, True, False, True])
    kept = data.keep_rows(frame, mask)
    assert kept["x"].tolist() == [0, 1, 3, 4, 5, 6, 8]
    assert kept["run"].tolist() == ["a/1", "a/1", "a/2", "a/2", "a/2", "b/3", "b/4"]
