"""The reconcile counter keeps the result a handler classified (requeue vs error)."""

from __future__ import annotations

import kopf
import pytest
from lineops.backends.metrics import OperatorMetrics

KIND = "MetricsTestKind"  # a kind no operator reconciles: its series are this test's alone


def _count(metrics: OperatorMetrics, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "lineops_reconcile_total", {"kind": KIND, "result": result}
    )
    return value or 0.0


def test_a_temporary_error_counts_as_requeue_and_anything_else_as_error() -> None:
    metrics = OperatorMetrics()
    # Its own kind: in the full suite a fresh instance's series for kind="QualityModel" started
    # from the counts of operators that ran earlier in this process (77 when first created),
    # despite the per-instance registry.
    before = {r: _count(metrics, r) for r in ("requeue", "error", "success")}
    with pytest.raises(kopf.TemporaryError), metrics.track(KIND) as result:
        result["result"] = "requeue"  # what handlers.glue sets for a TemporaryError
        raise kopf.TemporaryError("backend unreachable", delay=5)
    with pytest.raises(RuntimeError), metrics.track(KIND):
        raise RuntimeError("bug")
    with metrics.track(KIND):
        pass
    after = {r: _count(metrics, r) - before[r] for r in before}
    assert after == {"requeue": 1.0, "error": 1.0, "success": 1.0}


def _condition_series(metrics: OperatorMetrics) -> set[tuple[str, ...]]:
    return {
        tuple(s.labels[k] for k in ("kind", "namespace", "name", "type", "reason"))
        for family in metrics.registry.collect()
        if family.name == "lineops_resource_condition"
        for s in family.samples
    }


def test_conditions_are_replaced_and_forgotten_per_resource() -> None:
    metrics = OperatorMetrics()
    ready = {"type": "Ready", "status": "False", "reason": "Pending"}
    metrics.set_conditions("ProductionLine", "ns", "a", [ready])
    metrics.set_conditions("ProductionLine", "ns", "b", [ready])
    # A's Ready moves on: its old series goes, B's stays.
    metrics.set_conditions(
        "ProductionLine", "ns", "a", [{"type": "Ready", "status": "True", "reason": "Reconciled"}]
    )
    assert _condition_series(metrics) == {
        ("ProductionLine", "ns", "a", "Ready", "Reconciled"),
        ("ProductionLine", "ns", "b", "Ready", "Pending"),
    }
    metrics.forget("ProductionLine", "ns", "a")
    metrics.forget("ProductionLine", "ns", "a")  # twice: nothing left to drop, no error
    assert _condition_series(metrics) == {("ProductionLine", "ns", "b", "Ready", "Pending")}


def test_a_deleted_models_training_request_series_goes() -> None:
    from lineops.backends.metrics import OperatorMetrics

    metrics = OperatorMetrics()
    metrics.training_requests_total.labels("plant-a", "press-fault").inc()
    metrics.training_requests_total.labels("plant-a", "other").inc()

    metrics.forget_model("plant-a", "press-fault")
    metrics.forget_model("plant-a", "press-fault")  # twice: a repeated delete handler

    models = {
        s.labels["model"]
        for m in metrics.registry.collect()
        for s in m.samples
        if s.name == "lineops_training_requests_total"
    }
    assert models == {"other"}
