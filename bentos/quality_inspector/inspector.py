"""The quality inspector without the web framework: the champion, its card, the online
features, a short history of them per work unit, and scoring through the pipeline's code.

Scoring is ``lineops_pipelines.models.scoring.score_rows`` (``score_columns`` for batches:
the same results as columns), the path ``lineops model score`` takes, so a served label is
the label the CLI reports (classes the model cannot tell from normal are reported as
normal). Models that read a window of rows (their ``window`` in ``model.json``) score the
series of online feature rows of the unit, one row per new feature timestamp: those the
data plane's history holds from before the process judged the unit first (history_seed.py),
then those this process has seen; they answer null until the window is full.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lineops_pipelines import registry
from lineops_pipelines.models.common import MODEL_JSON
from lineops_pipelines.models.scoring import Model, load, score_columns, score_rows

from quality_inspector import errors
from quality_inspector.config import ServingConfig
from quality_inspector.features import OnlineFeatures, OnlineRow
from quality_inspector.history_seed import RETRY_S, HistorySeed, SeedError

log = logging.getLogger(__name__)

RESULT_FIELDS = ("label", "raw_label", "probabilities", "score", "alarm", "rul")


FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Champion:
    tag: str
    model: Model
    task: str
    features: list[str]
    window: int  # rows the model needs before it answers
    card: dict[str, Any]  # the training set's card (line, namespace, featureService, ...)

    @classmethod
    def load(cls, tag: str) -> Champion:
        directory = registry.model_path(tag)
        meta = json.loads((Path(directory) / MODEL_JSON).read_text())
        metadata, _labels = registry.info(tag)
        model = load(str(directory))
        task = str(meta.get("task") or metadata.get("task") or "")
        card = metadata.get("training_set") or {}
        return cls(
            tag, model, task, list(meta["features"]), max(1, int(meta.get("window") or 1)), card
        )


@dataclass
class History:
    """Online feature rows of one work unit, one per feature timestamp, oldest first."""

    rows: deque[tuple[pd.Timestamp, np.ndarray]] = field(default_factory=deque)
    version: int = 0  # changes whenever ``rows`` does
    # The model's answer for the rows of ``version``: the same series scores the same, so
    # requests between two materialisations reuse it instead of running the model again.
    scored: tuple[int, dict[str, Any]] | None = None

    def add(self, when: pd.Timestamp, row: np.ndarray, keep: int) -> None:
        if self.rows and self.rows[-1][0] >= when:
            return  # the same window as before (no new readings since): not a new row
        self.rows.append((when, row))
        while len(self.rows) > keep:
            self.rows.popleft()
        self.version += 1

    def seed(self, rows: list[tuple[pd.Timestamp, np.ndarray]], keep: int) -> None:
        """Put ``rows`` (older history, oldest first) before the rows seen so far."""
        first = self.rows[0][0] if self.rows else None
        older = [(w, r) for w, r in rows if first is None or w < first]
        if not older:
            return
        self.rows.extendleft(reversed(older))
        while len(self.rows) > keep:
            self.rows.popleft()
        self.version += 1

    def series(self) -> np.ndarray:
        return np.vstack([r for _, r in self.rows])


def result_of(scored: dict[str, Any]) -> dict[str, Any]:
    return {k: scored.get(k) for k in RESULT_FIELDS}


class Inspector:
    def __init__(
        self,
        config: ServingConfig,
        champion: Champion,
        features: OnlineFeatures,
        seed: HistorySeed | None = None,
    ) -> None:
        self.config = config
        self.champion = champion
        self.features = features
        self._history: dict[str, History] = {}
        self._lock = threading.Lock()  # sync APIs run in a thread pool
        self._keep = max(champion.window, config.history_rows)
        # The data plane's history of online rows, for models with a window (see
        # history_seed.py): units seeded (or found to have none), and when to retry others.
        self._seed = seed if champion.window > 1 else None
        self._seeded: set[str] = set()
        self._retry_at: dict[str, float] = {}

    def needs_seed(self, work_unit: str) -> bool:
        """Whether judging the unit now would first read its history from the data plane
        (a blocking call: the caller then judges in a thread, not on the event loop)."""
        if self._seed is None or work_unit in self._seeded:
            return False
        return time.monotonic() >= self._retry_at.get(work_unit, 0.0)

    def _seed_history(self, work_unit: str, until: pd.Timestamp) -> None:
        assert self._seed is not None
        try:
            rows = self._seed.rows(work_unit, until, self.champion.features, self._keep)
        except SeedError as exc:
            self._retry_at[work_unit] = time.monotonic() + RETRY_S
            log.warning("no feature history for %s (retry in %.0f s): %s", work_unit, RETRY_S, exc)
            return
        with self._lock:
            self._history.setdefault(work_unit, History()).seed(rows, self._keep)
            self._seeded.add(work_unit)

    def predict(
        self, work_unit: str, now: pd.Timestamp, online: OnlineRow | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(the answer's fields, the features used) for the unit's newest online features
        (``online``: the row the caller already has from the cache)."""
        if online is None:
            online = self.features.row(work_unit)
        if online.timestamp is None:
            raise errors.unknown_work_unit(work_unit, self.features.service, self.features.line)
        # Stale before missing: old features are the bigger problem (the unit stopped
        # reporting), whatever they hold.
        age = (now - online.timestamp).total_seconds()
        if age > self.config.max_feature_age_s:
            raise errors.stale(
                work_unit, age, self.config.max_feature_age_s, online.timestamp.isoformat()
            )
        missing = [n for n in self.champion.features if online.values.get(n) is None]
        if missing:
            raise errors.missing_features(work_unit, missing)
        used = {n: float(online.values[n]) for n in self.champion.features}  # type: ignore[arg-type]
        row = np.array([used[n] for n in self.champion.features], dtype=float)
        # As predict_batch refuses them: a NaN (a deviation over one reading) or a value the
        # model's float32 cannot hold answered 200 with a null label, and stayed in the
        # unit's window to spoil the answers after it.
        unusable = [
            f"{n}={used[n]!r}"
            for n in self.champion.features
            if not math.isfinite(used[n]) or abs(used[n]) > FLOAT32_MAX
        ]
        if unusable:
            raise errors.unusable_features(work_unit, unusable, FLOAT32_MAX)
        if self.needs_seed(work_unit):
            self._seed_history(work_unit, online.timestamp)
        with self._lock:
            history = self._history.setdefault(work_unit, History())
            history.add(online.timestamp, row, self._keep)
            version, seen, cached = history.version, len(history.rows), history.scored
            if not self.config.answer_cache:
                cached = None
            series = None if cached and cached[0] == version else history.series()
        if series is None and cached is not None:
            result = cached[1]
        else:
            result = result_of(score_rows(self.champion.model, series)[-1])
            with self._lock:
                if history.version == version:
                    history.scored = (version, result)
        answer = {
            **result,
            "feature_timestamp": online.timestamp.to_pydatetime(),
            "feature_age_seconds": round(age, 3),
            "history_rows": seen,
            "rows_needed": self.champion.window,
        }
        return answer, used

    def predict_batch(
        self, columns: list[str], rows: list[list[float]]
    ) -> tuple[dict[str, list[Any]], np.ndarray]:
        """Score rows of feature values as one series, in order (a backfill): the results as
        columns (``score_columns``: result field -> a value per row) and the rows' values of
        the model's features (rows x ``champion.features``)."""
        if len(rows) > self.config.max_batch_rows:
            raise errors.too_large(len(rows), self.config.max_batch_rows)
        index = {name: i for i, name in enumerate(columns)}
        if len(index) != len(columns):
            raise errors.bad_field("columns", "a feature is named twice")
        missing = [n for n in self.champion.features if n not in index]
        if missing:
            raise errors.bad_field("columns", f"the model needs {', '.join(missing)}")
        for i, values in enumerate(rows):
            if len(values) != len(columns):
                raise errors.bad_field(
                    f"rows[{i}]", f"{len(values)} values for {len(columns)} columns"
                )
        matrix = np.asarray(rows, dtype=float)[:, [index[n] for n in self.champion.features]]
        if not np.isfinite(matrix).all():
            bad = int(np.argwhere(~np.isfinite(matrix))[0][0])
            raise errors.bad_field(f"rows[{bad}]", "holds a value that is not finite")
        # The model computes in float32: a larger value became infinite there and the rows
        # came back null with 200, as if the window were not full.
        beyond = np.abs(matrix) > FLOAT32_MAX
        if beyond.any():
            bad = int(np.argwhere(beyond)[0][0])
            raise errors.bad_field(f"rows[{bad}]", f"holds a value beyond ±{FLOAT32_MAX:.3g}")
        return score_columns(self.champion.model, matrix), matrix
