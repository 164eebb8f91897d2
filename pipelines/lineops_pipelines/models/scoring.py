"""Load a saved model (directory or BentoML tag) and score rows of sensor values."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from lineops_pipelines.models.anomaly import AnomalyDetector
from lineops_pipelines.models.classifier import FaultClassifier
from lineops_pipelines.models.common import MODEL_JSON
from lineops_pipelines.models.failure import FailureModel
from lineops_pipelines.models.sklearn_model import FORMAT as SKLEARN_FORMAT
from lineops_pipelines.models.sklearn_model import SklearnModel

Model = AnomalyDetector | FaultClassifier | FailureModel | SklearnModel
LOADERS: dict[str, Any] = {
    "anomaly-detection": AnomalyDetector,
    "fault-classification": FaultClassifier,
    "failure-prediction": FailureModel,
}


class ModelNotFoundError(LookupError):
    """Neither a model directory nor a tag in the BentoML model store."""


def resolve(path_or_tag: str) -> Path:
    """A model directory: the path itself, or the files of a BentoML model store tag."""
    path = Path(path_or_tag)
    if (path / MODEL_JSON).is_file():
        return path
    if path.exists():
        raise ModelNotFoundError(f"{path_or_tag}: not a lineops model directory (no {MODEL_JSON})")
    if "/" in path_or_tag or path_or_tag.startswith("."):
        raise ModelNotFoundError(f"{path_or_tag}: no such model directory")
    from lineops_pipelines import registry

    return registry.model_path(path_or_tag)


def load(path_or_tag: str) -> Model:
    directory = resolve(path_or_tag)
    try:
        meta = json.loads((directory / MODEL_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # truncated, hand-edited, not UTF-8
        raise ModelNotFoundError(f"{directory / MODEL_JSON}: not a model card: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelNotFoundError(f"{directory / MODEL_JSON}: not a model card (not an object)")
    if meta.get("format") == SKLEARN_FORMAT:  # an estimator an engineer's pipeline registered
        try:
            return SklearnModel.load(directory)
        except ValueError as exc:
            raise ModelNotFoundError(str(exc)) from None
    task = meta.get("task")
    if task not in LOADERS:
        raise ModelNotFoundError(f"{path_or_tag}: unknown model task {task!r}")
    try:
        model: Model = LOADERS[task].load(directory)
    # A weights file missing, torn, empty (EOFError) or not a torch file at all
    # (pickle.UnpicklingError, e.g. "Unsupported operand 103"): a traceback before.
    except (OSError, KeyError, ValueError, RuntimeError, EOFError, pickle.UnpicklingError) as exc:
        # torch's own text runs to several paragraphs (weights_only advice): its first line
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ModelNotFoundError(
            f"{directory}: the {task} model cannot be loaded: {first}"
        ) from None
    return model


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """Floats as a list, None where not finite (a row before the model's window is full)."""
    out = np.asarray(values, dtype=np.float64).astype(object)
    out[~np.isfinite(np.asarray(values, dtype=np.float64))] = None
    column: list[float | None] = out.tolist()
    return column


def _where(known: np.ndarray, values: np.ndarray) -> list[Any]:
    """``values`` as a list, None where ``known`` is False."""
    out = np.asarray(values).astype(object)
    out[~known] = None
    column: list[Any] = out.tolist()
    return column


def score_columns(model: Model, x: np.ndarray) -> dict[str, list[Any]]:
    """The results of ``score_rows`` as columns: result field -> one value per input row, in
    order (None before a full window), only the fields of the model's task. Built from the
    model's arrays at once: a backfill of 10,000s of rows must not pay Python per value
    (served batches; ``score_rows`` is these columns turned into rows).

    fault-classification: ``label`` (classes the model cannot tell from normal reported as
    normal), ``raw_label`` (the most probable class), ``probabilities`` (class -> probability,
    rounded to 6 decimals); anomaly-detection: ``score``, ``alarm``; failure-prediction:
    ``rul``, ``score`` (failure risk), ``alarm``."""
    if isinstance(model, SklearnModel):
        rows = model.score_rows(x)
        keys = [k for k in rows[0] if k != "row"] if rows else []
        return {k: [r[k] for r in rows] for k in keys}
    if isinstance(model, AnomalyDetector):
        scores = np.asarray(model.score(x), dtype=np.float64)
        known = np.isfinite(scores)
        return {
            "score": _finite_or_none(scores),
            "alarm": _where(known, scores > model.threshold),
        }
    if isinstance(model, FaultClassifier):
        # The label a plant sees: classes the model cannot tell from normal are reported as
        # normal; the most probable class is kept as ``raw_label``. Serving uses this too.
        proba = model.predict_proba(x)
        reported, raw = model.report(proba)
        known = reported >= 0
        classes = np.asarray(model.classes, dtype=object)
        names = list(model.classes)
        # Rounded as numbers, then one list: no Python per probability.
        rounded = np.round(np.nan_to_num(proba), 6).tolist()
        return {
            "label": _where(known, classes[np.maximum(reported, 0)]),
            "raw_label": _where(known, classes[np.maximum(raw, 0)]),
            "probabilities": [
                dict(zip(names, p, strict=True)) if k else None
                for p, k in zip(rounded, known.tolist(), strict=True)
            ],
        }
    rul = np.asarray(model.predict_rul(x), dtype=np.float64)
    risk = np.asarray(model.failure_risk(rul), dtype=np.float64)
    return {
        "rul": _finite_or_none(rul),
        "score": _finite_or_none(risk),
        "alarm": _where(~np.isnan(rul), risk > 0.5),
    }


def score_rows(model: Model, x: np.ndarray) -> list[dict[str, Any]]:
    """One result per input row (0-based ``row``), in order; rows before a full window get
    ``score``/``label`` null instead of being dropped."""
    if isinstance(model, SklearnModel):
        return model.score_rows(x)
    columns = score_columns(model, x)
    keys = ["row", *columns]
    return [
        dict(zip(keys, (i, *values), strict=True))
        for i, values in enumerate(zip(*columns.values(), strict=True))
    ]
