"""Reconcile decisions (conditions, children, errors) with the Kubernetes side faked."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any, cast

import kopf
import yaml
from lineops.backends.kube import KubeBackend
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler
from lineops.services.outcome import DependencyUnavailable, InvalidSpec

from tests.unit.services.fake_kube import FakeKube

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _body(name: str, uid: str = "uid-1", generation: int = 1) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    doc["metadata"].update(namespace="ns", uid=uid, generation=generation)
    return doc


def _cond(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_line_is_ready_and_writes_an_owned_config() -> None:
    kube = FakeKube()
    out = _run(LineReconciler(cast(KubeBackend, kube)).reconcile(_body("productionline.yaml")))
    assert out.error is None
    assert _cond(out.status, "Ready")["status"] == "True"
    assert out.status["observedGeneration"] == 1
    ((ns, name),) = kube.config_maps
    owner = kube.config_maps[(ns, name)]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("ProductionLine", "uid-1", True)
    assert [e.reason for e in out.events] == ["ConfigApplied", "Reconciled"]


def test_second_reconcile_is_quiet() -> None:
    kube = FakeKube()
    rec = LineReconciler(cast(KubeBackend, kube))
    body = _body("productionline.yaml")
    body["status"] = _run(rec.reconcile(body)).status
    again = _run(rec.reconcile(body))
    assert again.events == []
    assert again.status["conditions"] == body["status"]["conditions"]


def test_invalid_line_spec_is_a_permanent_error_naming_the_field() -> None:
    body = _body("productionline.yaml")
    body["spec"]["workUnits"][0]["sensors"][0]["validRange"] = ["50", "0"]
    out = _run(LineReconciler(cast(KubeBackend, FakeKube())).reconcile(body))
    assert isinstance(out.error, InvalidSpec)
    assert isinstance(out.error, kopf.PermanentError)
    ready = _cond(out.status, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "spec.workUnits[0].sensors[0].validRange" in ready["message"]
    assert _cond(out.status, "SpecValid")["status"] == "False"


def test_a_name_nothing_can_be_named_after_is_an_invalid_spec_that_creates_nothing() -> None:
    """An object made before the CRDs carried the name rule (or with a CRD without it):
    a dotted line name used to fail in the PrometheusRule step with a traceback, retried
    forever; a 60-character model name got as far as a refused canary Service."""
    for name, body, reconciler in (
        ("press.line1", _body("productionline.yaml"), LineReconciler),
        ("m" * 49, _body("qualitymodel.yaml"), ModelReconciler),
    ):
        body["metadata"]["name"] = name
        kube = FakeKube()
        out = _run(reconciler(cast(KubeBackend, kube)).reconcile(body))
        assert isinstance(out.error, InvalidSpec)
        ready = _cond(out.status, "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
        assert ready["message"].startswith(f"metadata.name: {name!r} cannot name a "), ready
        assert kube.config_maps == {}


def test_api_server_down_is_a_temporary_error_with_the_cause_in_status() -> None:
    kube = FakeKube()
    kube.down = True
    out = _run(LineReconciler(cast(KubeBackend, kube)).reconcile(_body("productionline.yaml")))
    assert isinstance(out.error, DependencyUnavailable)
    assert isinstance(out.error, kopf.TemporaryError)
    assert _cond(out.status, "Ready")["reason"] == "BackendError"


def test_line_wakes_waiting_models_once() -> None:
    kube = FakeKube()
    model = _body("qualitymodel.yaml", uid="m-1")
    kube.custom[("qualitymodels", "ns", model["metadata"]["name"])] = model
    rec = LineReconciler(cast(KubeBackend, kube))
    _run(rec.reconcile(_body("te-line.yaml"), models=[model["metadata"]["name"]]))
    assert len(kube.patches) == 1
    annotations = kube.patches[0][3]["metadata"]["annotations"]
    model["metadata"]["annotations"] = annotations
    _run(rec.reconcile(_body("te-line.yaml"), models=[model["metadata"]["name"]]))
    assert len(kube.patches) == 1  # already woken by this very line: no second touch


def test_model_without_line_waits_and_requests_nothing() -> None:
    kube = FakeKube()
    out = _run(ModelReconciler(cast(KubeBackend, kube)).reconcile(_body("qualitymodel.yaml")))
    assert out.error is None
    ready = _cond(out.status, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "LineNotFound")
    assert "spec.lineRef" in ready["message"]
    assert kube.config_maps == {}


def test_model_requests_training_once_per_spec_hash() -> None:
    kube = FakeKube()
    line = _body("te-line.yaml")
    kube.custom[("productionlines", "ns", line["metadata"]["name"])] = line
    rec = ModelReconciler(cast(KubeBackend, kube))
    body = _body("qualitymodel.yaml")
    first = _run(rec.reconcile(body))
    body["status"] = first.status
    second = _run(rec.reconcile(body))
    assert len(kube.config_maps) == 1
    assert first.status["training"] == second.status["training"]
    assert [e.reason for e in second.events] == []

    changed = copy.deepcopy(body)
    changed["metadata"]["generation"] = 2
    changed["spec"].setdefault("training", {})["parameters"] = {"epochs": "99"}
    third = _run(rec.reconcile(changed))
    assert len(kube.config_maps) == 2
    assert third.status["training"]["specHash"] != first.status["training"]["specHash"]
    assert third.status["training"]["state"] == "Requested"


def test_prometheus_rule_is_applied_only_where_the_crd_is_served() -> None:
    kube = FakeKube()
    rec = LineReconciler(cast(KubeBackend, kube))
    out = _run(rec.reconcile(_body("productionline.yaml")))
    assert "no PrometheusRule CRD" in _cond(out.status, "Ready")["message"]
    assert not [k for k in kube.custom if k[0] == "prometheusrules"]

    kube.served_plurals.add("prometheusrules")
    out = _run(rec.reconcile(_body("productionline.yaml")))
    rule = kube.custom[("prometheusrules", "ns", "press-line-1-lineops")]
    assert rule["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert rule["metadata"]["labels"]["lineops.io/line"] == "press-line-1"
    assert "PrometheusRule press-line-1-lineops" in _cond(out.status, "Ready")["message"]
    assert "AlertRulesApplied" in [e.reason for e in out.events]


def test_the_prometheus_rule_carries_the_labels_a_prometheus_selects_rules_by() -> None:
    kube = FakeKube()
    kube.served_plurals.add("prometheusrules")
    rec = LineReconciler(cast(KubeBackend, kube), rule_labels={"release": "kube-prom"})
    _run(rec.reconcile(_body("productionline.yaml")))
    labels = kube.custom[("prometheusrules", "ns", "press-line-1-lineops")]["metadata"]["labels"]
    assert labels["release"] == "kube-prom" and labels["lineops.io/line"] == "press-line-1"
