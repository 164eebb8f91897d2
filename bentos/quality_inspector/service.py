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
from typing import Any

import anyio.to_thread
import bentoml
import msgspec
import pandas as pd
from lineops.cli.heap import freeze_startup_heap
from starlette.responses import Response

from quality_inspector import errors
from quality_inspector.config import ServingConfig
from quality_inspector.features import OnlineFeatures, OnlineRow
from quality_inspector.history_seed import HistorySeed
from quality_inspector.inspector import Champion, Inspector
from quality_inspector.metrics import ServingMetrics
from quality_inspector.prediction_log import PredictionLog
from quality_inspector.schemas import (
    BatchRequest,
    BatchResult,
    Lot,
    Prediction,
    PredictRequest,
    Result,
    WorkUnit,
)

log = logging.getLogger("quality_inspector")
RETRY_SECONDS = 2.0  # a line's feature service may be registered after the service starts

_encode = msgspec.json.Encoder().encode


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
            self.config.feast_repo,
            self.config.data_dir,
            str(line),
            str(service),
            self.config.feature_cache_ttl_s,
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
        seed = None
        if self.config.dataplane_url is not None:  # the window's rows from before the start
            seed = HistorySeed(
                self.config.dataplane_url,
                str(namespace),
                str(line),
                str(service),
                self.config.dataplane_token_file,
            )
        self.inspector = Inspector(self.config, champion, features, seed)
        tune_for_latency()
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

    @bentoml.api(input_spec=PredictRequest)
    async def predict(
        self,
        work_unit: WorkUnit,
        lot: Lot | None = None,
        readings: dict[str, float] | None = None,
    ) -> Prediction:
        """Judge a work unit from its newest online features; ``lot`` and the caller's raw
        ``readings`` are logged with the prediction (the model scores its own features).

        Answered on the event loop when the unit's features are cached (our part then takes
        a few tenths of a millisecond, about a seventh of the worker's time at saturation,
        the rest is BentoML's request handling: less than handing the call to BentoML's
        one-thread pool and back), in a thread when they must be read through Feast
        (milliseconds of blocking work, once per unit per materialisation) or the unit's
        history of rows from the data plane (once per unit, models with a window), or when
        the prediction log is full and the answer must wait for room in it."""
        try:
            inspector, _metrics, prediction_log = self._ready()
            online = inspector.features.cached(work_unit)
            # A full prediction log (the data plane down) makes the caller wait for room:
            # in a thread, or the wait froze every request of the worker, /livez included,
            # until the kubelet restarted it and the queued predictions were lost.
            if online is None or inspector.needs_seed(work_unit) or prediction_log.full:
                return await anyio.to_thread.run_sync(
                    self._predict, work_unit, lot, readings, online
                )
            return self._predict(work_unit, lot, readings, online)
        except errors.Unavailable as exc:
            if self.metrics is not None:  # ready: the feature store failed on this read
                self.metrics.refuse("feature_store_failed")
            return _unavailable(exc)  # type: ignore[return-value]

    def _predict(
        self,
        work_unit: str,
        lot: str | None,
        readings: dict[str, float] | None,
        online: OnlineRow | None,
    ) -> Prediction:
        inspector, metrics, prediction_log = self._ready()
        started = time.perf_counter()
        now = pd.Timestamp.now(tz="UTC")
        try:
            answer, used = inspector.predict(work_unit, now, online)
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

    @bentoml.api(input_spec=BatchRequest)
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
        try:
            inspector, metrics, prediction_log = self._ready()
        except errors.Unavailable as exc:
            return _unavailable(exc)  # type: ignore[return-value]
        started = time.perf_counter()
        if lots is not None and len(lots) != len(rows):
            raise errors.bad_field("lots", f"{len(lots)} lots for {len(rows)} rows")
        try:
            if work_unit is not None and inspector.features.row(work_unit).timestamp is None:
                # Checked as predict checks it: a unit the line does not have was scored and
                # its whole batch then quarantined by the data plane, out of sight.
                features = inspector.features
                raise errors.unknown_work_unit(work_unit, features.service, features.line)
            results, matrix = inspector.predict_batch(columns, rows)
        except errors.RequestProblem as exc:
            metrics.refuse(_reason(exc))
            raise
        except errors.Unavailable as exc:  # the feature store failed on the unit's read
            metrics.refuse("feature_store_failed")
            return _unavailable(exc)  # type: ignore[return-value]
        champion = inspector.champion
        # The log gets one columnar batch (a column per feature and result field; the data
        # plane stores a prediction per row): no record per row here (benchmarks/serving.py).
        prediction_log.add_columns(
            {
                "modelTag": champion.tag,
                "workUnit": work_unit,
                "timestamp": datetime.now(UTC).isoformat(),
                "lots": lots,
                "features": {n: matrix[:, j].tolist() for j, n in enumerate(champion.features)},
                "results": results,
            },
            len(rows),
        )
        # Counted once per label, not once per row: a backfill has 100,000s of rows.
        labels, abnormal = _labels(results, _normal_class(champion))
        metrics.answered_many(labels, abnormal)
        metrics.latency("predict_batch").observe(time.perf_counter() - started)
        # The answer is BatchResult's JSON, encoded by msgspec from plain dicts made from the
        # columns in one pass: building and dumping 10,000s of pydantic objects per call cost
        # more than the model. BentoML sends a Response as it is.
        keys = list(results)
        body = {
            "model_tag": champion.tag,
            "task": champion.task,
            "rows": len(rows),
            "results": [
                dict(zip(keys, v, strict=True)) for v in zip(*results.values(), strict=True)
            ],
        }
        return Response(_encode(body), media_type="application/json")  # type: ignore[return-value]


def tune_for_latency() -> None:
    """Once the model and the feature store are loaded (benchmarks/serving.py measured it):

    * torch scores one row at a time on one thread: its intra-op pool would spin OpenMP
      threads against the event loop and the request thread on a small machine (more
      latency, not less) and one worker is one process per core anyway;
    * the objects loaded so far (torch, Feast, pandas, BentoML, the model: about 380,000
      tracked by the collector) are moved out of its sight (``gc.freeze``), so a full
      collection no longer walks them: it took about a second on the shared 2-core machine
      (microseconds after the freeze) and landed on whichever request triggered it;
    * the youngest generation is collected every 50,000 net allocations instead of 700:
      a request allocates a few thousand objects, almost all freed by reference counting.
    """
    import torch

    torch.set_num_threads(1)
    freeze_startup_heap()  # the operator's and the data plane's tuning, the same numbers


def _labels(
    columns: dict[str, list[Any]], classes_normal: str | None
) -> tuple[list[str], list[bool | None]]:
    """``_label`` and ``_abnormal`` of every row of result columns, a column at a time."""
    if "label" in columns:
        label = columns["label"]
        return (
            ["none" if v is None else str(v) for v in label],
            [None if v is None else str(v) != classes_normal for v in label],
        )
    if "alarm" in columns:
        alarm = columns["alarm"]
        return (
            ["none" if v is None else "alarm" if v else "ok" for v in alarm],
            [None if v is None else bool(v) for v in alarm],
        )
    n = len(next(iter(columns.values()), []))
    return ["none"] * n, [None] * n


def _label(result: dict[str, Any]) -> str:
    if result.get("label") is not None:
        return str(result["label"])
    if result.get("alarm") is not None:
        return "alarm" if result["alarm"] else "ok"
    return "none"


def _normal_class(champion: Champion) -> str | None:
    classes = getattr(champion.model, "classes", None)
    return str(classes[0]) if classes else None  # the normal class comes first


def _unavailable(exc: errors.Unavailable) -> Response:
    """503 with the reason, in the body shape of the service's own refusals."""
    return Response(_encode([{"error": str(exc)}]), status_code=503, media_type="application/json")


def _reason(exc: errors.RequestProblem) -> str:
    return {404: "unknown_work_unit", 409: "stale_features", 422: "missing_features"}.get(
        exc.error_code.value, "bad_request"
    )
