"""The backend error taxonomy: every backend error is transient or permanent, the reconcilers
catch the two bases (never a backend's own class), and the kopf glue turns them into a requeue
with a delay or a condition without a retry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import kopf
import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from lineops.api.productionline import ProductionLineStatus
from lineops.backends.errors import BackendError, PermanentBackendError, TransientBackendError
from lineops.backends.feast_store import FeastStore, FeatureStoreError
from lineops.backends.kube import KubeBackend, KubeForbidden, KubeRejected, KubeUnavailable
from lineops.backends.metrics import OperatorMetrics
from lineops.backends.training.runs import RunRequest, RunState, TrainingBackendError
from lineops.handlers.glue import apply_outcome
from lineops.services.conditions import ConditionSet
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler
from lineops.services.outcome import (
    BackendRejected,
    DependencyUnavailable,
    Outcome,
    backend_error,
    backend_failed,
)
from lineops.services.training import TrainingService
from lineops.services.training_policy import TrainingPolicy

from tests.unit.services.fake_kube import FakeKube
from tests.unit.training.fake_backend import FakeBackend

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _body(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    doc["metadata"].update(namespace="ns", uid="uid-1", generation=1)
    return doc


def _ready(out: Outcome[Any]) -> dict[str, Any]:
    return next(c for c in out.status["conditions"] if c["type"] == "Ready")


class _Invalid(PermanentBackendError):
    """A permanent error of some backend, for the reconcilers' side of the mapping."""


# --- which error is which ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (KubeUnavailable("API server unreachable"), True),
        (KubeForbidden("configmaps is forbidden"), True),  # RBAC is fixed outside the object
        (KubeRejected("ConfigMap is invalid"), False),
        (TrainingBackendError("KFP at http://kfp: 503"), True),
        (FeatureStoreError("Feast: registry locked"), True),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_every_backend_error_is_transient_or_permanent(
    error: BackendError, transient: bool
) -> None:
    assert isinstance(error, TransientBackendError) is transient
    assert isinstance(error, PermanentBackendError) is not transient


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (0, KubeUnavailable),
        (429, KubeUnavailable),
        (503, KubeUnavailable),
        (403, KubeForbidden),
        (400, KubeRejected),
        (422, KubeRejected),
    ],
)
def test_the_api_servers_answers_map_onto_the_taxonomy(
    status: int, expected: type[BackendError]
) -> None:
    kube = KubeBackend(client.ApiClient())

    def fails(**_: Any) -> None:
        raise ApiException(status=status, reason="Because")

    with pytest.raises(expected):
        asyncio.run(kube._call(fails))


def test_not_found_stays_an_api_exception_for_the_caller_to_judge() -> None:
    kube = KubeBackend(client.ApiClient())

    def missing(**_: Any) -> None:
        raise ApiException(status=404, reason="Not Found")

    with pytest.raises(ApiException):
        asyncio.run(kube._call(missing))


def test_feast_sdk_errors_become_transient_backend_errors() -> None:
    class Broken:
        def list_feature_services(self) -> list[Any]:
            raise RuntimeError("registry.db is locked")

    store = FeastStore(cast(Any, Broken()))
    with pytest.raises(FeatureStoreError, match=r"removing line 'press-1'.*locked"):
        store.remove_line("press-1")


# --- the one mapping ------------------------------------------------------------------------


def test_a_transient_error_is_a_requeue_after_its_retry_delay() -> None:
    error = backend_error(TransientBackendError("throttled", retry_after=42.0))
    assert isinstance(error, DependencyUnavailable) and isinstance(error, kopf.TemporaryError)
    assert error.delay == 42.0


def test_a_permanent_error_is_not_retried() -> None:
    error = backend_error(_Invalid("bad request"))
    assert isinstance(error, BackendRejected) and isinstance(error, kopf.PermanentError)


@pytest.mark.parametrize(
    ("error", "reason", "kopf_error"),
    [
        (KubeUnavailable("down"), "BackendError", kopf.TemporaryError),
        (KubeRejected("invalid"), "BackendRejected", kopf.PermanentError),
    ],
)
def test_backend_failed_sets_ready_false_with_the_cause(
    error: BackendError, reason: str, kopf_error: type[Exception]
) -> None:
    conds = ConditionSet(None, 1)
    out = Outcome(ProductionLineStatus())
    backend_failed(conds, out, error, "data plane")
    ready = conds.get("Ready")
    assert ready is not None
    assert (ready.status, ready.reason) == ("False", reason)
    assert ready.message == f"data plane: {error}"
    assert isinstance(out.error, kopf_error)


# --- through the reconcilers ----------------------------------------------------------------


class _RejectingKube(FakeKube):
    async def apply_config_map(self, namespace: str, body: dict[str, Any]) -> str:
        raise KubeRejected("ConfigMap press-line-1-lineops is invalid: data: Too long")


def test_a_line_whose_child_is_rejected_is_not_ready_and_not_retried() -> None:
    rec = LineReconciler(cast(KubeBackend, _RejectingKube()))
    out = asyncio.run(rec.reconcile(_body("productionline.yaml")))
    assert isinstance(out.error, BackendRejected)
    ready = _ready(out)
    assert (ready["status"], ready["reason"]) == ("False", "BackendRejected")
    assert "Too long" in ready["message"]


def test_an_rbac_denial_is_retried() -> None:
    class Denying(FakeKube):
        async def apply_config_map(self, namespace: str, body: dict[str, Any]) -> str:
            raise KubeForbidden('configmaps "x" is forbidden: User cannot update')

    out = asyncio.run(
        LineReconciler(cast(KubeBackend, Denying())).reconcile(_body("productionline.yaml"))
    )
    assert isinstance(out.error, DependencyUnavailable) and out.error.delay == 10.0
    assert _ready(out)["reason"] == "BackendError"


class _RejectingBackend(FakeBackend):
    async def submit(self, run_id: str, request: RunRequest) -> RunState:
        raise _Invalid(f"run {run_id}: the pipeline package is invalid")


class _DownBackend(FakeBackend):
    async def submit(self, run_id: str, request: RunRequest) -> RunState:
        raise TrainingBackendError("KFP at http://kfp: connection refused")


@pytest.mark.parametrize(
    ("backend", "error", "reason"),
    [
        (_RejectingBackend(), BackendRejected, "BackendRejected"),
        (_DownBackend(), DependencyUnavailable, "BackendError"),
    ],
    ids=["permanent", "transient"],
)
def test_training_backend_errors_go_through_the_same_mapping(
    backend: FakeBackend, error: type[Exception], reason: str
) -> None:
    kube = FakeKube()
    line = _body("te-line.yaml")
    kube.custom[("productionlines", "ns", line["metadata"]["name"])] = line
    rec = ModelReconciler(
        cast(KubeBackend, kube), TrainingService(backend, TrainingPolicy(max_attempts=3))
    )
    out = asyncio.run(rec.reconcile(_body("qualitymodel.yaml")))
    assert isinstance(out.error, error)
    ready = _ready(out)
    assert (ready["reason"], ready["message"].split(":")[0]) == (reason, "training backend")


# --- the kopf glue --------------------------------------------------------------------------


def _handle(out: Outcome[Any]) -> tuple[kopf.Patch, dict[str, str], BaseException]:
    body = kopf.Body({"metadata": {"namespace": "ns", "name": "press-line-1"}})
    patch = kopf.Patch()
    result = {"result": "success"}
    with pytest.raises((kopf.TemporaryError, kopf.PermanentError)) as raised:
        apply_outcome("GlueTestKind", body, patch, OperatorMetrics(), out, result)
    return patch, result, raised.value


@pytest.mark.parametrize(
    ("error", "result", "kopf_error"),
    [
        (KubeUnavailable("API server unreachable"), "requeue", kopf.TemporaryError),
        (KubeRejected("invalid"), "error", kopf.PermanentError),
    ],
)
def test_the_glue_writes_the_status_first_then_requeues_or_gives_up(
    error: BackendError, result: str, kopf_error: type[Exception]
) -> None:
    conds = ConditionSet(None, 1)
    out = Outcome(ProductionLineStatus())
    backend_failed(conds, out, error)
    out.update.conditions = conds.current
    patch, counted, raised = _handle(out)
    assert counted["result"] == result
    assert isinstance(raised, kopf_error)
    assert patch["status"]["conditions"][0]["reason"] in ("BackendError", "BackendRejected")
    if isinstance(raised, kopf.TemporaryError):
        assert raised.delay == 10.0


def test_the_glue_patches_only_the_status_fields_that_changed() -> None:
    conds = ConditionSet(None, 1)
    conds.set("Ready", "True", "Reconciled", "configured")
    out = Outcome(ProductionLineStatus())
    out.update.conditions = conds.current
    out.update.observed_generation = 2
    first = kopf.Patch()
    body = kopf.Body({"metadata": {"namespace": "ns", "name": "l"}, "status": {}})
    apply_outcome("GlueTestKind", body, first, OperatorMetrics(), out, {"result": "success"})
    assert set(first["status"]) == {"conditions", "observedGeneration"}
    # The same outcome against the status it wrote: nothing to send (kopf skips the PATCH).
    again = kopf.Patch()
    body = kopf.Body({"metadata": {"namespace": "ns", "name": "l"}, "status": first["status"]})
    apply_outcome("GlueTestKind", body, again, OperatorMetrics(), out, {"result": "success"})
    assert not again
    # A changed generation is sent alone.
    out.update.observed_generation = 3
    third = kopf.Patch()
    apply_outcome("GlueTestKind", body, third, OperatorMetrics(), out, {"result": "success"})
    assert dict(third["status"]) == {"observedGeneration": 3}
