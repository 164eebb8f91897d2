"""The training loop's decisions through ModelReconciler, with Kubernetes and the backend
faked: one run per trigger, polling, events, retries, the gate, restarts."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from lineops.backends.kube import KubeBackend
from lineops.services.model import ModelReconciler
from lineops.services.outcome import DependencyUnavailable, Outcome
from lineops.services.training import TrainingService
from lineops.services.training_policy import TrainingPolicy

from tests.unit.services.fake_kube import FakeKube
from tests.unit.training.fake_backend import FakeBackend

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _doc(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    doc["metadata"].update(namespace="ns", uid="uid-1", generation=1)
    return doc


class Harness:
    def __init__(self, retry_seconds: float = 30.0) -> None:
        self.kube = FakeKube()
        self.line = _doc("productionline.yaml")
        self.kube.custom[("productionlines", "ns", self.line["metadata"]["name"])] = self.line
        self.backend = FakeBackend()
        self.policy = TrainingPolicy(max_attempts=3, retry_seconds=retry_seconds)
        self.body = _doc("qualitymodel.yaml")
        self.body["spec"]["training"].pop("schedule")  # schedule tested on its own
        self.body["spec"]["promotion"] = {"metric": "macro_f1", "minimum": "0.8"}

    def reconciler(self) -> ModelReconciler:
        service = TrainingService(self.backend, self.policy)
        return ModelReconciler(cast(KubeBackend, self.kube), service)

    def step(self, reconciler: ModelReconciler | None = None) -> Outcome:
        out = asyncio.run((reconciler or self.reconciler()).reconcile(self.body))
        status = copy.deepcopy(self.body.get("status") or {})
        status.update(out.status)
        self.body["status"] = {k: v for k, v in status.items() if v is not None}
        return out

    @property
    def training(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.body["status"]["training"])

    def cond(self, type_: str) -> dict[str, Any]:
        return next(c for c in self.body["status"]["conditions"] if c["type"] == type_)


def test_first_reconcile_starts_exactly_one_run_and_later_ones_poll() -> None:
    h = Harness()
    first = h.step()
    ((run_id, request),) = h.backend.requests.items()
    assert run_id == h.training["requestName"] == h.training["runId"]
    assert request.task == "fault-classification" and request.dataset == "te"
    assert request.parameters["epochs"] == "20"
    assert [e.reason for e in first.events] == [
        "TrainingRequested",
        "TrainingRunning",
        "NotTrained",
    ]
    assert (h.cond("Trained")["status"], h.cond("Trained")["reason"]) == (
        "False",
        "TrainingRunning",
    )
    assert h.cond("Ready")["reason"] == "NotTrained"

    again = h.step()
    assert h.backend.submits == [run_id] and again.events == []


def test_success_promotes_then_a_worse_run_is_blocked_and_a_better_one_wins() -> None:
    h = Harness()
    h.step()
    run1 = h.training["runId"]
    h.backend.finish(run1, macro_f1=0.91, accuracy=0.95)
    out = h.step()
    assert [e.reason for e in out.events] == ["TrainingSucceeded", "Promoted", "Reconciled"]
    champion = h.body["status"]["champion"]
    assert champion["version"] == f"model:{run1}" and champion["score"] == "0.91"
    assert champion["servedSince"] == "2025-03-10T10:05:00Z"
    assert h.cond("Trained")["status"] == "True" and h.cond("Ready")["status"] == "True"
    assert (h.cond("PromotionBlocked")["status"], h.cond("PromotionBlocked")["reason"]) == (
        "False",
        "Promoted",
    )

    # A new spec: a new request and run, judged against the champion.
    h.body["spec"]["training"]["parameters"] = {"epochs": "21"}
    h.body["spec"]["promotion"]["mustBeatChampionBy"] = "0.01"
    h.step()
    run2 = h.training["runId"]
    assert run2 != run1 and len(h.backend.requests) == 2
    assert h.backend.requests[run2].champion_metrics == {"accuracy": 0.95, "macro_f1": 0.91}
    h.backend.finish(run2, macro_f1=0.915)
    out = h.step()
    blocked = h.cond("PromotionBlocked")
    assert (blocked["status"], blocked["reason"]) == ("True", "ChampionNotBeaten")
    assert "0.915" in blocked["message"] and "0.91" in blocked["message"]
    assert h.body["status"]["challenger"]["version"] == f"model:{run2}"
    assert h.body["status"]["champion"]["version"] == f"model:{run1}"
    assert "ChampionNotBeaten" in [e.reason for e in out.events]
    assert h.step().events == []  # judged once

    # Relaxing the policy lets the waiting challenger through without retraining.
    h.body["spec"]["promotion"]["mustBeatChampionBy"] = "0"
    out = h.step()
    assert h.body["status"]["champion"]["version"] == f"model:{run2}"
    assert "challenger" not in h.body["status"]
    assert [e.reason for e in out.events] == ["Promoted"]


def test_below_minimum_keeps_ready_false() -> None:
    h = Harness()
    h.step()
    h.backend.finish(h.training["runId"], macro_f1=0.5)
    h.step()
    assert h.cond("PromotionBlocked")["reason"] == "BelowMinimum"
    assert h.cond("Ready")["reason"] == "NotTrained"
    assert h.cond("Trained")["status"] == "True"


def test_failures_retry_with_backoff_then_stay_failed_until_the_spec_changes() -> None:
    h = Harness(retry_seconds=0)
    h.step()
    base = h.training["runId"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for attempt in (1, 2, 3):
        run_id = base if attempt == 1 else f"{base}-a{attempt}"
        assert h.training["runId"] == run_id
        h.backend.fail(run_id, "validate", "DataValidationError: column 'x' missing", past)
        out = h.step()
        assert any(e.reason == "TrainingFailed" and "'validate'" in e.message for e in out.events)
    trained = h.cond("Trained")
    assert (trained["status"], trained["reason"]) == ("False", "TrainingFailed")
    assert "validate" in trained["message"] and "gave up after 3" in trained["message"]
    assert h.training["state"] == "Failed" and h.training["runId"] == f"{base}-a3"
    h.step()
    assert len(h.backend.requests) == 3

    h.body["spec"]["training"]["parameters"] = {"epochs": "2"}
    h.step()
    assert len(h.backend.requests) == 4 and h.training["state"] == "Running"


def test_backoff_not_elapsed_waits() -> None:
    h = Harness(retry_seconds=3600)
    h.step()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    h.backend.fail(h.training["runId"], "train", "boom", now)
    h.step()
    h.step()
    assert len(h.backend.requests) == 1
    assert "retrying as" in h.cond("Trained")["message"]


def test_a_restarted_operator_finds_its_run_instead_of_starting_another() -> None:
    h = Harness()
    h.step(h.reconciler())
    h.step(h.reconciler())  # a fresh reconciler, as after a restart
    lost_status = copy.deepcopy(h.body)
    lost_status["status"].pop("training")  # even if the status patch never landed
    h.body = lost_status
    h.step(h.reconciler())
    assert len(h.backend.requests) == 1
    assert h.backend.submits.count(h.training["runId"]) == 2


def test_a_spec_change_waits_for_the_run_in_flight() -> None:
    h = Harness()
    h.step()
    old = h.training["runId"]
    h.body["spec"]["training"]["parameters"] = {"epochs": "3"}
    h.step()
    assert len(h.backend.requests) == 1
    assert "previous spec is still running" in h.cond("Trained")["message"]
    h.backend.finish(old, macro_f1=0.9)
    h.step()
    assert len(h.backend.requests) == 2 and h.training["runId"] != old


def test_spc_alert_retrains_after_the_cooldown_only() -> None:
    h = Harness()
    h.body["spec"]["training"]["cooldown"] = "1s"
    h.step()
    h.backend.finish(h.training["runId"], macro_f1=0.9)
    h.step()
    assert len(h.backend.requests) == 1
    h.line["status"] = {"spc": {"inControl": False}}
    out = h.step()
    assert len(h.backend.requests) == 2 and "-e" in h.training["runId"]
    assert any("control charts" in e.message for e in out.events)
    h.step()
    assert len(h.backend.requests) == 2  # in flight: at most one


def test_drift_annotation_on_the_line_triggers() -> None:
    h = Harness()
    h.body["spec"]["training"]["cooldown"] = "1s"
    h.step()
    h.backend.finish(h.training["runId"], macro_f1=0.9)
    h.line["metadata"]["annotations"] = {"lineops.io/drift-psi": "0.4"}
    h.step()
    assert len(h.backend.requests) == 2


def test_backend_down_is_a_temporary_error() -> None:
    h = Harness()
    h.backend.down = True
    out = h.step()
    assert isinstance(out.error, DependencyUnavailable)
    assert h.cond("Ready")["reason"] == "BackendError"
