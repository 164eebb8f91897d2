"""The service's own Prometheus series, labelled by line, model and model tag.

BentoML 1.4 serves ``/metrics`` from prometheus_client in multi-process mode (its workers
get ``PROMETHEUS_MULTIPROC_DIR`` in their environment before anything is imported), so these
are plain prometheus_client objects on the default registry (``bentoml.metrics`` is
deprecated in 1.4), created in the worker at service start. The service runs one worker: the
per-unit history and the anomaly-rate window are per process, and a second worker would split
them (see docs/serving.md).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections import deque
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

LABELS: Final = ["line", "model", "model_tag"]
RATE_WINDOW: Final = 100  # predictions the anomaly rate is taken over


class ServingMetrics:
    def __init__(self, line: str, model: str, tag: str) -> None:
        self._values = (line, model, tag)
        self.latency_by_endpoint = Histogram(
            "lineops_serving_latency_seconds",
            "Time to answer a prediction (feature lookup and scoring), per endpoint.",
            [*LABELS, "endpoint"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.predictions = Counter(
            "lineops_serving_predictions_total",
            "Predictions answered, by reported label (anomaly and failure models: alarm or "
            "ok; none while the model's window is not full).",
            [*LABELS, "label"],
        )
        self.refused = Counter(
            "lineops_serving_refused_total",
            "Prediction requests refused, by reason (unknown_work_unit, stale_features, ...).",
            [*LABELS, "reason"],
        )
        self.anomaly_rate = Gauge(
            "lineops_serving_anomaly_rate",
            f"Share of the last {RATE_WINDOW} answered predictions that were not normal "
            "(an alarm, or a label other than the normal class).",
            LABELS,
            multiprocess_mode="mostrecent",
        ).labels(line, model, tag)
        self.log_failures = Counter(
            "lineops_serving_prediction_log_failures_total",
            "Predictions the data plane did not take (unreachable or refused the batch).",
            LABELS,
        ).labels(line, model, tag)
        self._recent: deque[bool] = deque(maxlen=RATE_WINDOW)

    def latency(self, endpoint: str) -> Histogram:
        return self.latency_by_endpoint.labels(*self._values, endpoint)

    def answered(self, label: str, abnormal: bool | None) -> None:
        self.predictions.labels(*self._values, label).inc()
        if abnormal is not None:
            self._recent.append(abnormal)
            self.anomaly_rate.set(sum(self._recent) / len(self._recent))

    def answered_many(self, labels: list[str], abnormal: list[bool | None]) -> None:
        for label, n in Tally(labels).items():
            self.predictions.labels(*self._values, label).inc(n)
        known = [a for a in abnormal if a is not None]
        if known:
            self._recent.extend(known[-RATE_WINDOW:])
            self.anomaly_rate.set(sum(self._recent) / len(self._recent))

    def refuse(self, reason: str) -> None:
        self.refused.labels(*self._values, reason).inc()
