"""Load a saved model (directory or BentoML tag) and score rows of sensor values."""

from __future__ import annotations

import json
import math
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
    meta = json.loads((directory / MODEL_JSON).read_text())
    if meta.get("format") == SKLEARN_FORMAT:  # an estimator an engineer's pipeline registered
        try:
            return SklearnModel.load(directory)
        except ValueError as exc:
            raise ModelNotFoundError(str(exc)) from None
    task = meta.get("task")
    if task not in LOADERS:
        raise ModelNotFoundError(f"{path_or_tag}: unknown model task {task!r}")
    model: Model = LOADERS[task].load(directory)
    return model


def _num(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def score_rows(model: Model, x: np.ndarray) -> list[dict[str, Any]]:
    """One result per input row (0-based ``row``), in order; rows before a full window get
    ``score``/``label`` null instead of being dropped."""
    results: list[dict[str, Any]] = []
    if isinstance(model, SklearnModel):
        return model.score_rows(x)
    if isinstance(model, AnomalyDetector):
        scores = model.score(x)
        for i, s in enumerate(scores):
            value = _num(s)
            alarm = None if value is None else bool(value > model.threshold)
            results.append({"row": i, "score": value, "alarm": alarm})
    elif isinstance(model, FaultClassifier):
        # The label a plant sees: classes the model cannot tell from normal are reported as
        # normal; the most probable class is kept as ``raw_label``. Serving uses this too.
        proba = model.predict_proba(x)
        reported, raw = model.report(proba)
        classes = model.classes
        # Plain Python numbers (tolist) before the loop: indexing numpy per row and element
        # cost more than the model itself on a backfill of 10,000s of rows (served batches).
        rows = zip(reported.tolist(), raw.tolist(), proba.tolist(), strict=True)
        for i, (rep, most, p) in enumerate(rows):
            if rep < 0:
                results.append({"row": i, "label": None, "raw_label": None, "probabilities": None})
            else:
                results.append(
                    {
                        "row": i,
                        "label": classes[rep],
                        "raw_label": classes[most],
                        "probabilities": {c: round(v, 6) for c, v in zip(classes, p, strict=False)},
                    }
                )
    else:
        rul = model.predict_rul(x)
        risk = model.failure_risk(rul)
        for i, (r, k) in enumerate(zip(rul, risk, strict=False)):
            results.append(
                {
                    "row": i,
                    "rul": _num(r),
                    "score": _num(k),
                    "alarm": None if np.isnan(r) else bool(k > 0.5),
                }
            )
    return results
