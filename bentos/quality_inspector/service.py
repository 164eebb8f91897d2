"""BentoML 1.4 service: a QualityModel's champion answering with its line's online features.

    bentoml serve quality_inspector.service:QualityInspector --working-dir bentos --port 3000

configured by ``LINEOPS_SERVING_*`` variables (see config.py and docs/serving.md). The
champion and the feature store load in a thread after start: ``/readyz`` answers 200 only
once both are loaded, ``/livez`` as soon as the process serves.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import bentoml
import pandas as pd
from pydantic import Field

from quality_inspector import errors
from quality_inspector.config import ServingConfig
from quality_inspector.features import OnlineFeatures
from quality_inspector.inspector import Champion, Inspector
from quality_inspector.metrics import ServingMetrics
from quality_inspector.prediction_log import PredictionLog
from quality_inspector.schemas import BatchResult, Prediction, Result

log = logging.getLogger("quality_inspector")
RETRY_SECONDS = 2.0  # a line's feature service may be registered after the service starts

WorkUnit = Annotated[str, Field(min_length=1, max_length=253, description="a work unit")]
Lot = Annotated[str | None, Field(None, min_length=1, max_length=253)]


def _abnormal(result: dict[str, Any], classes_normal: str | None) -> bool | None:
    if result.get("alarm") is not None:
        return bool(result["alarm"])
    if result.get("label") is not None:
        return str(result["label"]) != classes_normal
    return None


@bentoml.service(name="quality_inspector", workers=1, traffic={"timeout": 60})
class QualityInspector:
    def __init__(self) -> None:
        # A configuration error stops the process at start, naming the variable.
        self.config = ServingConfig.from_env()
        self.inspector: Inspector | None = None
        self.metrics: ServingMetrics | None = None
        self.prediction_log: PredictionLog | None = None
        self.problem = "loading the model and the feature store"
        self._stop = threading.Event()
        threading.Thread(target=self._load, name="loader", daemon=True).start()

    # ------------------------------------------------------------------ loading

    def _load(self) -> None:
        while not self._stop.is_set():
            try:
                self._load_once()
                return
            except Exception as exc:  # model store or Feast not there yet: say why, retry
                self.problem = f"{type(exc).__name__}: {exc}"
                log.warning("not ready (retrying in %.0f s): %s", RETRY_SECONDS, self.problem)
            self._stop.wait(RETRY_SECONDS)

    def _load_once(self) -> None:
        champion = Champion.load(self.config.model_tag)
        card = champion.card
        line = self.config.line or card.get("line")
        namespace = self.config.namespace or card.get("namespace") or "default"
        service = self.config.feature_service or card.get("featureService")
        if not line or not service:
            raise ValueError(
                "the model card names no line or feature service: set "
                "LINEOPS_SERVING_LINE and LINEOPS_SERVING_FEATURE_SERVICE"
            )
        features = OnlineFeatures.open(
            self.config.feast_repo, self.config.data_dir, str(line), str(service)
        )
        self.metrics = ServingMetrics(str(line), self.config.model_name, champion.tag)
        self.prediction_log = PredictionLog(
            self.config.dataplane_url,
            str(namespace),
            str(line),
            self.config.dataplane_token_file,
            self.metrics.log_failures.inc,
        )
        self.namespace = str(namespace)
        self.inspector = Inspector(self.config, champion, features)
        self.problem = ""
        log.info("ready: %s on line %s/%s, %s", champion.tag, namespace, line, service)

    def __is_ready__(self) -> bool:
        return self.inspector is not None

    def _ready(self) -> tuple[Inspector, ServingMetrics, PredictionLog]:
        if self.inspector is None or self.metrics is None or self.prediction_log is None:
            raise errors.not_ready(self.problem)
        return self.inspector, self.metrics, self.prediction_log

    @bentoml.on_shutdown
    def close(self) -> None:
        self._stop.set()
        if self.prediction_log is not None:
            self.prediction_log.close()

    # ------------------------------------------------------------------ endpoints

    @bentoml.api
    def predict(
        self,
        work_unit: WorkUnit,
        lot: Lot = None,
        readings: dict[str, float] | None = None,
    ) -> Prediction:
        """Judge a work unit from its newest online features; ``lot`` and the caller's raw
        ``readings`` are logged with the prediction (the model scores its own features)."""
        inspector, metrics, prediction_log = self._ready()
        started = time.perf_counter()
        now = pd.Timestamp.now(tz="UTC")
        try:
            answer, used = inspector.predict(work_unit, now)
        except errors.RequestProblem as exc:
            metrics.refuse(_reason(exc))
            raise
        champion = inspector.champion
        prediction = Prediction(
            line=inspector.features.line,
            namespace=self.namespace,
            model=self.config.model_name,
            model_tag=champion.tag,
            task=champion.task,
            work_unit=work_unit,
            lot=lot,
            feature_service=inspector.features.service,
            **answer,
        )
        result = prediction.model_dump(include=set(Result.model_fields), exclude_none=True)
        if readings:
            result["readings"] = readings
        prediction_log.add(
            {
                "modelTag": champion.tag,
                "workUnit": work_unit,
                "lot": lot,
                "timestamp": now.isoformat(),
                "featureTimestamp": prediction.feature_timestamp.isoformat(),
                "features": used,
                "result": result,
            }
        )
        metrics.answered(_label(answer), _abnormal(answer, _normal_class(champion)))
        metrics.latency("predict").observe(time.perf_counter() - started)
        return prediction

    @bentoml.api
    def predict_batch(
        self,
        columns: list[str],
        rows: list[list[float]],
        lots: list[str | None] | None = None,
        work_unit: WorkUnit | None = None,
    ) -> BatchResult:
        """Score rows of feature values (``columns`` names them) as one series in time order:
        a backfill. One call is the batch: rows of different callers are never merged, since
        a model with a window would read them as one series (so no adaptive batching)."""
        inspector, metrics, prediction_log = self._ready()
        started = time.perf_counter()
        if lots is not None and len(lots) != len(rows):
            raise errors.bad_field("lots", f"{len(lots)} lots for {len(rows)} rows")
        try:
            results = inspector.predict_batch(columns, rows)
        except errors.RequestProblem as exc:
            metrics.refuse(_reason(exc))
            raise
        champion = inspector.champion
        now = datetime.now(UTC).isoformat()
        index = [columns.index(n) for n in champion.features]
        normal = _normal_class(champion)
        for i, result in enumerate(results):
            prediction_log.add(
                {
                    "modelTag": champion.tag,
                    "workUnit": work_unit,
                    "lot": None if lots is None else lots[i],
                    "timestamp": now,
                    "features": dict(
                        zip(champion.features, (rows[i][j] for j in index), strict=True)
                    ),
                    "result": {k: v for k, v in result.items() if v is not None},
                }
            )
        # Counted once per label, not once per row: a backfill has 100,000s of rows.
        metrics.answered_many([_label(r) for r in results], [_abnormal(r, normal) for r in results])
        metrics.latency("predict_batch").observe(time.perf_counter() - started)
        return BatchResult(
            model_tag=champion.tag,
            task=champion.task,
            rows=len(results),
            results=[Result(**r) for r in results],
        )


def _label(result: dict[str, Any]) -> str:
    if result.get("label") is not None:
        return str(result["label"])
    if result.get("alarm") is not None:
        return "alarm" if result["alarm"] else "ok"
    return "none"


def _normal_class(champion: Champion) -> str | None:
    classes = getattr(champion.model, "classes", None)
    return str(classes[0]) if classes else None  # the normal class comes first


def _reason(exc: errors.RequestProblem) -> str:
    return {404: "unknown_work_unit", 409: "stale_features", 422: "missing_features"}.get(
        exc.error_code.value, "bad_request"
    )
