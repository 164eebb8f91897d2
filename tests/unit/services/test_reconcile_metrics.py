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
