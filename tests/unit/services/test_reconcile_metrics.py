"""The reconcile counter keeps the result a handler classified (requeue vs error)."""

from __future__ import annotations

import kopf
import pytest
from lineops.backends.metrics import OperatorMetrics


def _count(metrics: OperatorMetrics, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "lineops_reconcile_total", {"kind": "QualityModel", "result": result}
    )
    return value or 0.0


def test_a_temporary_error_counts_as_requeue_and_anything_else_as_error() -> None:
    metrics = OperatorMetrics()
    # Deltas: in the full suite this series already holds the counts of operators that ran
    # earlier in the same process (76 successes were seen), despite the per-instance registry.
    before = {r: _count(metrics, r) for r in ("requeue", "error", "success")}
    with pytest.raises(kopf.TemporaryError), metrics.track("QualityModel") as result:
        result["result"] = "requeue"  # what handlers.glue sets for a TemporaryError
        raise kopf.TemporaryError("backend unreachable", delay=5)
    with pytest.raises(RuntimeError), metrics.track("QualityModel"):
        raise RuntimeError("bug")
    with metrics.track("QualityModel"):
        pass
    after = {r: _count(metrics, r) - before[r] for r in before}
    assert after == {"requeue": 1.0, "error": 1.0, "success": 1.0}
