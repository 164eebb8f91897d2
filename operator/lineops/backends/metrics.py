"""The operator's Prometheus metrics, named like controller-runtime's.

One registry per operator instance (kept in kopf's memo, not a module global), so two
operators in one test process never share counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

CONDITION_VALUES = {"True": 1.0, "False": 0.0, "Unknown": -1.0}


class OperatorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconcile_total = Counter(
            "lineops_reconcile_total",
            "Reconciliations by kind and result (success, error, requeue, stopped).",
            ["kind", "result"],
            registry=self.registry,
        )
        self.reconcile_errors_total = Counter(
            "lineops_reconcile_errors_total",
            "Reconciliations that ended in an error, by kind and error class.",
            ["kind", "error"],
            registry=self.registry,
        )
        self.reconcile_duration = Histogram(
            "lineops_reconcile_duration_seconds",
            "Time spent in one reconciliation.",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.condition = Gauge(
            "lineops_resource_condition",
            "Condition of each resource: 1 True, 0 False, -1 Unknown.",
            ["kind", "namespace", "name", "type", "reason"],
            registry=self.registry,
        )
        # (kind, namespace, name) -> the label sets of its condition series, for forget().
        self._condition_series: dict[tuple[str, str, str], set[tuple[str, ...]]] = {}
        self.monitor_pass_seconds = Gauge(
            "lineops_monitor_pass_seconds",
            "Duration of the last monitoring pass over all lines; above the monitoring period "
            "(LINEOPS_MONITOR_SECONDS), each line is re-evaluated that much less often.",
            registry=self.registry,
        )
        self.monitor_conflicts = Counter(
            "lineops_monitor_conflicts_total",
            "Monitoring ticks whose status patch was refused because the line had changed "
            "since it was read (optimistic lock); the next pass evaluates it again.",
            registry=self.registry,
        )
        self.training_requests_total = Counter(
            "lineops_training_requests_total",
            "Training requests created (one per QualityModel spec hash).",
            ["namespace", "model"],
            registry=self.registry,
        )

    @contextmanager
    def track(self, kind: str) -> Iterator[dict[str, str]]:
        """Times a reconcile; the caller sets ``result`` in the yielded dict. An exception
        counts as ``error`` unless the caller already classified it (``requeue``); work that
        a shutdown or deletion cancelled is ``stopped``."""
        outcome = {"result": "success"}
        started = time.perf_counter()
        try:
            yield outcome
        except asyncio.CancelledError:
            outcome["result"] = "stopped"
            raise
        except BaseException as exc:
            if outcome["result"] == "success":
                outcome["result"] = "error"
            self.reconcile_errors_total.labels(kind, type(exc).__name__).inc()
            raise
        finally:
            self.reconcile_duration.labels(kind).observe(time.perf_counter() - started)
            self.reconcile_total.labels(kind, outcome["result"]).inc()

    def set_conditions(
        self, kind: str, namespace: str, name: str, conditions: list[dict[str, str]]
    ) -> None:
        self.forget(kind, namespace, name)
        written = self._condition_series.setdefault((kind, namespace, name), set())
        for cond in conditions:
            labels = (kind, namespace, name, cond["type"], cond.get("reason", ""))
            self.condition.labels(*labels).set(CONDITION_VALUES.get(cond["status"], -1.0))
            written.add(labels)

    def forget(self, kind: str, namespace: str, name: str) -> None:
        """Drop a resource's series (on deletion, or before re-setting its conditions).

        Its series are looked up in this object's own index: scanning every series of every
        resource (prometheus_client has no lookup by label prefix) made each status write
        O(resources), 12 % of the operator's time at 1,000 lines (issue 24)."""
        for labels in self._condition_series.pop((kind, namespace, name), ()):
            self.condition.remove(*labels)

    def forget_model(self, namespace: str, name: str) -> None:
        """Drop a deleted QualityModel's training-request series (it stayed, for ever)."""
        with contextlib.suppress(KeyError):
            self.training_requests_total.remove(namespace, name)
