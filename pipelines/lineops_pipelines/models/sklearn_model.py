"""A scikit-learn estimator as a lineops model, so an ML engineer's pipeline can register one.

The directory holds ``model.json`` (``"format": "sklearn"``, task, features in input order,
classes, threshold) and ``estimator.joblib``. ``scoring.load`` and ``scoring.score_rows`` read
it like the torch models, so ``lineops model score`` and serving work unchanged:

* fault-classification: ``predict_proba``; ``classes`` names its columns (``classes_`` order);
* anomaly-detection: ``score`` = ``-score_samples`` (higher is more anomalous, as for
  IsolationForest), alarm above ``threshold``.

Rows are scored one by one (window 1): an estimator has no memory of earlier rows.
joblib loads pickles: load models only from a store you trust (your own registry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "sklearn"
ESTIMATOR_FILE = "estimator.joblib"
TASKS = ("fault-classification", "anomaly-detection")


@dataclass
class SklearnModel:
    task: str
    features: list[str]
    estimator: Any
    classes: list[str]
    threshold: float | None = None
    window: int = 1

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(np.asarray(x, dtype=np.float64)))

    def score(self, x: np.ndarray) -> np.ndarray:
        return -np.asarray(self.estimator.score_samples(np.asarray(x, dtype=np.float64)))

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        import joblib

        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.estimator, path / ESTIMATOR_FILE)
        meta = {
            **(extra or {}),
            "format": FORMAT,
            "task": self.task,
            "features": list(self.features),
            "classes": list(self.classes),
            "threshold": self.threshold,
            "window": self.window,
            "estimator": type(self.estimator).__name__,
        }
        (path / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> SklearnModel:
        import joblib

        path = Path(directory)
        meta = json.loads((path / "model.json").read_text())
        task = meta.get("task")
        if task not in TASKS:
            raise ValueError(f"{path}: a {FORMAT} model's task must be one of {', '.join(TASKS)}")
        if not meta.get("features"):
            raise ValueError(f"{path}: model.json lists no features")
        return cls(
            task=str(task),
            features=[str(f) for f in meta["features"]],
            estimator=joblib.load(path / ESTIMATOR_FILE),
            classes=[str(c) for c in meta.get("classes") or []],
            threshold=meta.get("threshold"),
        )

    def score_rows(self, x: np.ndarray) -> list[dict[str, Any]]:
        """What ``scoring.score_rows`` answers for the torch models of the same task."""
        if self.task == "anomaly-detection":
            threshold = self.threshold if self.threshold is not None else 0.0
            return [
                {"row": i, "score": float(s), "alarm": bool(s > threshold)}
                for i, s in enumerate(self.score(x))
            ]
        proba = self.predict_proba(x)
        results = []
        for i, p in enumerate(proba):
            label = self.classes[int(np.argmax(p))]
            results.append(
                {
                    "row": i,
                    "label": label,
                    "raw_label": label,
                    "probabilities": {
                        c: round(float(v), 6) for c, v in zip(self.classes, p, strict=False)
                    },
                }
            )
        return results
