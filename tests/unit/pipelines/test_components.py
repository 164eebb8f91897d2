"""Components called through ``.python_func`` with local artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kfp import dsl
from lineops_pipelines.components.compare_champion import compare_with_champion
from lineops_pipelines.components.evaluate_model import evaluate_model
from lineops_pipelines.components.load_dataset import load_dataset
from lineops_pipelines.components.register_model import register_model
from lineops_pipelines.components.split_dataset import split_dataset
from lineops_pipelines.components.train_model import train_model
from lineops_pipelines.components.validate_dataset import validate_dataset
from lineops_pipelines.data import DataValidationError


def _artifact(cls: type, path: Path) -> dsl.Artifact:
    return cls(name=path.name, uri=str(path), metadata={})  # type: ignore[no-any-return]


def test_load_validate_split_train_evaluate_register(
    tmp_path: Path, small_frame: pd.DataFrame, bentoml_store: Path
) -> None:
    source = tmp_path / "rows.csv"
    small_frame.to_csv(source, index=False)
    dataset = _artifact(dsl.Dataset, tmp_path / "dataset")
    load_dataset.python_func(
        source=str(source), task="anomaly-detection", reduced=False, dataset=dataset
    )
    assert dataset.metadata["rows"] == 360

    report = _artifact(dsl.Metrics, tmp_path / "report")
    features = validate_dataset.python_func(
        dataset=dataset, task="anomaly-detection", label="fault", report=report
    )
    assert json.loads(features) == ["f1", "f2", "f3"]
    assert report.metadata["rows"] == 360

    train = _artifact(dsl.Dataset, tmp_path / "train")
    test = _artifact(dsl.Dataset, tmp_path / "test")
    window = split_dataset.python_func(
        dataset=dataset,
        task="anomaly-detection",
        split_by="time",
        parameters='{"lags": 2}',
        train=train,
        test=test,
    )
    assert json.loads(window)["method"] == "time"

    model = _artifact(dsl.Model, tmp_path / "model")
    train_model.python_func(
        train=train,
        task="anomaly-detection",
        features=features,
        label="fault",
        epochs=5,
        seed=0,
        parameters='{"lags": 2}',
        model=model,
    )
    assert (tmp_path / "model" / "model.json").is_file()
    assert model.metadata["threshold"] > 0

    metrics = _artifact(dsl.Metrics, tmp_path / "metrics")
    result = json.loads(
        evaluate_model.python_func(
            model=model, test=test, label="fault", dataset_source=str(source), metrics=metrics
        )
    )
    assert {"far", "detection_rate", "threshold"} <= set(result)
    assert metrics.metadata["threshold"] == pytest.approx(result["threshold"])

    out = register_model.python_func(
        model=model,
        task="anomaly-detection",
        model_name="toy",
        metrics=json.dumps(result),
        data_window=window,
        spec_hash="abc123",
        promote=False,
        reason="test",
        training_set=json.dumps({"line": "cell-line", "featureService": "sensor_window_v1"}),
    )
    assert out.tag.startswith("toy:") and out.stage == "candidate"
    from lineops_pipelines import registry

    meta, labels = registry.info(out.tag)
    assert meta["features"] == ["f1", "f2", "f3"]
    assert meta["spec_hash"] == "abc123"
    assert meta["threshold"] == pytest.approx(result["threshold"])
    assert labels["stage"] == "candidate"
    assert registry.model_path(out.tag).is_relative_to(bentoml_store)
    assert meta["training_set"] == {"line": "cell-line", "featureService": "sensor_window_v1"}

    # The registered model as champion, scored on the same held-out rows: same figures.
    again = json.loads(
        evaluate_model.python_func(
            model=model,
            test=test,
            label="fault",
            dataset_source=str(source),
            metrics=_artifact(dsl.Metrics, tmp_path / "metrics2"),
            champion_tag=out.tag,
        )
    )
    assert again["champion_comparable"] == 1.0
    assert again["champion_detection_rate"] == pytest.approx(result["detection_rate"])
    missing = json.loads(
        evaluate_model.python_func(
            model=model,
            test=test,
            label="fault",
            dataset_source=str(source),
            metrics=_artifact(dsl.Metrics, tmp_path / "metrics3"),
            champion_tag="toy:doesnotexist",
        )
    )
    assert missing["champion_comparable"] == 0.0 and "champion_far" not in missing


def test_validate_names_constant_features_and_drops_constant_counts(
    tmp_path: Path, small_frame: pd.DataFrame
) -> None:
    from lineops_pipelines import data

    frame = small_frame.assign(f2=1.5, temp__count=6)
    with pytest.raises(DataValidationError, match=r"constant features.*f2"):
        data.validate(frame, "anomaly-detection")
    report = data.validate(frame.drop(columns=["f2"]), "anomaly-detection")
    assert report["features"] == ["f1", "f3"]
    assert report["constant_counts_dropped"] == ["temp__count"]


def test_validate_fails_naming_the_column(tmp_path: Path, small_frame: pd.DataFrame) -> None:
    small_frame.loc[3, "f1"] = None
    dataset = _artifact(dsl.Dataset, tmp_path / "dataset")
    small_frame.to_parquet(dataset.path)
    report = _artifact(dsl.Metrics, tmp_path / "report")
    with pytest.raises(DataValidationError, match="column 'f1'"):
        validate_dataset.python_func(
            dataset=dataset, task="anomaly-detection", label="fault", report=report
        )


def test_compare_prefers_the_champion_scored_on_the_same_rows() -> None:
    out = compare_with_champion.python_func(
        task="fault-classification",
        candidate_metrics=json.dumps({"macro_f1": 0.9, "champion_macro_f1": 0.8}),
        champion_metrics=json.dumps({"macro_f1": 0.95}),
        metric="",
        minimum=0.0,
        must_beat_by=0.01,
    )
    assert out.promote and "0.81" in out.reason


@pytest.mark.parametrize(
    ("candidate", "champion", "minimum", "promote"),
    [
        (0.95, {}, 0.9, True),
        (0.85, {}, 0.9, False),
        (0.95, {"macro_f1": 0.94}, 0.0, True),
        (0.945, {"macro_f1": 0.94}, 0.0, False),
    ],
)
def test_compare_with_champion(
    candidate: float, champion: dict[str, float], minimum: float, promote: bool
) -> None:
    out = compare_with_champion.python_func(
        task="fault-classification",
        candidate_metrics=json.dumps({"macro_f1": candidate}),
        champion_metrics=json.dumps(champion),
        metric="",
        minimum=minimum,
        must_beat_by=0.01,
    )
    assert out.promote is promote
    assert "macro_f1" in out.reason


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "minimum", "promote"),
    [
        ("rmse", 30.0, {"rmse": 20.0}, 0.0, False),  # worse: higher
        ("rmse", 15.0, {"rmse": 20.0}, 0.0, True),
        ("rmse", 15.0, {}, 10.0, False),  # the minimum of a lower-is-better metric is a maximum
        ("neg_rmse", -15.0, {}, 0.0, True),  # 0.0 is no bound: nothing reaches it
        ("macro_f1", float("nan"), {}, 0.0, False),
        ("macro_f1", 0.9, {"macro_f1": float("nan")}, 0.0, True),
    ],
)
def test_compare_with_champion_reads_each_metric_in_its_direction(
    metric: str, candidate: float, champion: dict[str, float], minimum: float, promote: bool
) -> None:
    out = compare_with_champion.python_func(
        task="failure-prediction",
        candidate_metrics=json.dumps({metric: candidate}),
        champion_metrics=json.dumps(champion),
        metric=metric,
        minimum=minimum,
        must_beat_by=0.0,
    )
    assert out.promote is promote, out.reason
