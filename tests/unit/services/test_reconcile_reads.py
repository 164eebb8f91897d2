"""What a reconcile reads instead of asking the API server (issue 24): a model's line from the
operator's index (``line_view``), a line's wake of its models once per model and line object.
The Kubernetes side is faked; tests/integration/test_reconcile_requests.py counts the real
requests."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import yaml
from lineops.backends.kube import KubeBackend
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler, line_view
from lineops.services.training import line_signals, line_timezone

from tests.unit.services.fake_kube import FakeKube

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _body(name: str, uid: str = "uid-1") -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    doc["metadata"].update(namespace="ns", uid=uid, generation=1)
    return doc


class NoReads(FakeKube):
    async def get_custom(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        raise AssertionError(f"GET {plural}/{name}: the reconcile should not read it")


def _cond(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_the_line_view_keeps_what_training_reads() -> None:
    line = _body("te-line.yaml")
    line["metadata"]["annotations"] = {"lineops.io/drift-psi": "0.4", "other": "x" * 1000}
    line["spec"]["schedule"] = {"timezone": "Europe/Berlin"}
    line["status"] = {
        "spc": {"inControl": False},
        "drift": {"maxPsi": "0.31"},
        "oee": {"value": "0.5"},
    }
    view = line_view(line)
    assert line_signals(view) == line_signals(line)
    assert line_signals(view).out_of_control is True
    assert line_timezone(view) == "Europe/Berlin"
    assert "oee" not in view["status"] and "other" not in view["metadata"]["annotations"]
    assert "workUnits" not in view["spec"]


def test_a_model_with_the_line_index_does_not_read_its_line() -> None:
    kube = NoReads()
    line = _body("te-line.yaml")
    index = {("ns", line["metadata"]["name"]): line_view(line)}
    body = _body("qualitymodel.yaml")
    body["spec"]["lineRef"] = line["metadata"]["name"]
    rec = ModelReconciler(cast(KubeBackend, kube))
    out = asyncio.run(rec.reconcile(body, lambda ns, name: index.get((ns, name))))
    assert _cond(out.status, "Ready")["reason"] == "NotTrained"
    assert len(kube.config_maps) == 1  # the training request
    index.clear()  # the line is gone from the index: gone
    out = asyncio.run(rec.reconcile(body, lambda ns, name: index.get((ns, name))))
    assert _cond(out.status, "Ready")["reason"] == "LineNotFound"


def test_a_line_wakes_each_model_once_per_line_object_without_reading_it() -> None:
    kube = NoReads()
    rec = LineReconciler(cast(KubeBackend, kube))
    line = _body("te-line.yaml", uid="line-1")
    kube.missing.add("gone")
    for _ in range(3):
        asyncio.run(rec.reconcile(line, models=["a", "b", "gone"]))
    assert [(p[2], p[3]["metadata"]["annotations"]) for p in kube.patches] == [
        ("a", {"line.lineops.io/seen-uid": "line-1"}),
        ("b", {"line.lineops.io/seen-uid": "line-1"}),
    ]
    # A new line object of the same name (new uid) is news to the models.
    asyncio.run(rec.reconcile(_body("te-line.yaml", uid="line-2"), models=["a"]))
    assert kube.patches[-1][2:] == (
        "a",
        {"metadata": {"annotations": {"line.lineops.io/seen-uid": "line-2"}}},
    )
    # A model deleted and created again under its name is woken again.
    rec.forget_model("ns", "b")
    asyncio.run(rec.reconcile(_body("te-line.yaml", uid="line-2"), models=["b"]))
    assert kube.patches[-1][2] == "b"
    assert len(kube.patches) == 4
