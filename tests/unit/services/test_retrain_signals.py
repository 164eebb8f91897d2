"""The line wakes its models when one of their retrainOn triggers starts to hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from lineops.api.constants import ANNOTATION_RETRAIN_SIGNAL
from lineops.backends.kube import KubeBackend, KubeUnavailable
from lineops.services.line import LineReconciler
from lineops.services.retrain_signals import RetrainWaker, Watcher

from tests.unit.services.fake_kube import FakeKube

NOW = datetime(2025, 3, 10, 10, 30, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _line(in_control: bool | None = None, psi: float | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if in_control is not None:
        status["spc"] = {"inControl": in_control}
    if psi is not None:
        status["drift"] = {"maxPsi": str(psi)}
    return {"metadata": {"name": "line-1", "namespace": "ns"}, "status": status}


def _wake(waker: RetrainWaker, line: dict[str, Any], *watchers: Watcher) -> list[str]:
    return asyncio.run(waker.wake("ns", line, watchers, NOW))


def test_models_are_touched_on_the_rising_edge_of_their_own_trigger_only() -> None:
    kube = FakeKube()
    waker = RetrainWaker(cast(KubeBackend, kube))
    spc = Watcher("spc-model", spc_alert=True)
    drift = Watcher("drift-model", drift_limit=0.25)
    assert _wake(waker, _line(True, 0.1), spc, drift) == []
    assert _wake(waker, _line(False, 0.1), spc, drift) == ["spc-model"]
    assert _wake(waker, _line(False, 0.1), spc, drift) == []  # still holding: no second touch
    assert _wake(waker, _line(False, 0.3), spc, drift) == ["drift-model"]
    assert _wake(waker, _line(True, 0.1), spc, drift) == []
    assert _wake(waker, _line(False, 0.1), spc, drift) == ["spc-model"]  # a new alert
    names = [name for _, _, name, _ in kube.patches]
    assert names == ["spc-model", "drift-model", "spc-model"]
    annotation = kube.patches[1][3]["metadata"]["annotations"][ANNOTATION_RETRAIN_SIGNAL]
    assert annotation == "drift 2025-03-10T10:30:00Z"


def test_a_deleted_model_is_skipped_and_a_failed_patch_is_retried() -> None:
    kube = FakeKube()
    kube.missing.add("gone")
    waker = RetrainWaker(cast(KubeBackend, kube))
    assert _wake(waker, _line(False), Watcher("gone", spc_alert=True)) == []
    assert waker._holding == {}  # nothing kept for a model that is gone
    kube.down = True
    model = Watcher("m", spc_alert=True)
    with pytest.raises(KubeUnavailable, match="unreachable"):
        _wake(waker, _line(False), model)
    kube.down = False
    assert _wake(waker, _line(False), model) == ["m"]  # the edge was not consumed


def test_the_drift_annotation_on_the_line_wakes_a_drift_model_from_its_reconcile() -> None:
    kube = FakeKube()
    line: dict[str, Any] = yaml.safe_load((EXAMPLES / "productionline.yaml").read_text())
    line["metadata"].update(namespace="ns", uid="uid-1", generation=1)
    line["metadata"]["annotations"] = {"lineops.io/drift-psi": "0.7"}
    rec = LineReconciler(cast(KubeBackend, kube))
    out = asyncio.run(rec.reconcile(line, watchers=[Watcher("m", drift_limit=0.2)]))
    assert out.error is None
    touched = [p for p in kube.patches if ANNOTATION_RETRAIN_SIGNAL in str(p[3])]
    assert [p[2] for p in touched] == ["m"]


def test_a_forgotten_model_is_touched_again_on_the_next_alert() -> None:
    kube = FakeKube()
    waker = RetrainWaker(cast(KubeBackend, kube))
    model = Watcher("m", spc_alert=True)
    assert _wake(waker, _line(False), model) == ["m"]
    assert _wake(waker, _line(False), model) == []
    waker.forget("ns", "m")  # deleted (and perhaps recreated under the same name)
    assert _wake(waker, _line(False), model) == ["m"]
