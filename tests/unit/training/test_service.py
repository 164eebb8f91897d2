"""The training loop's decisions through ModelReconciler, with Kubernetes and the backend
faked: one run per trigger, polling, events, retries, the gate, restarts."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import yaml
from lineops.backends.kube import KubeBackend
from lineops.backends.training.runs import RunRequest, RunState, TrainingBackendError
from lineops.services.model import ModelReconciler
from lineops.services.outcome import DependencyUnavailable, Outcome
from lineops.services.training import TrainingService
from lineops.services.training_policy import TrainingPolicy, needs_polling

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
        self.line = _doc("te-line.yaml")
        self.kube.custom[("productionlines", "ns", self.line["metadata"]["name"])] = self.line
        self.backend = FakeBackend()
        self.policy = TrainingPolicy(max_attempts=3, retry_seconds=retry_seconds)
        self.body = _doc("qualitymodel.yaml")
        self.body["spec"]["training"].pop("schedule")  # schedule tested on its own
        self.body["spec"]["promotion"] = {"metric": "macro_f1", "minimum": "0.8"}

    def reconciler(self) -> ModelReconciler:
        service = TrainingService(self.backend, self.policy, lambda ns, line: "http://plane:8081")
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
    assert request.task == "fault-classification"
    # The line path: the model's own line, feature service, label and window at the trigger.
    url = urlsplit(request.dataset)
    assert url.netloc == "plane:8081"
    assert url.path == "/v1/namespaces/ns/lines/te-line/training-set"
    query = parse_qs(url.query)
    assert query["featureService"] == ["sensor_last_v1"] and query["label"] == ["fault"]
    assert query["window"] == ["30d"] and query["task"] == ["fault-classification"]
    assert datetime.fromisoformat(query["until"][0]) <= datetime.now(UTC)
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


def test_the_gate_compares_with_the_champion_scored_on_the_same_held_out_rows() -> None:
    h = Harness()
    h.step()
    run1 = h.training["runId"]
    h.backend.finish(run1, macro_f1=0.95)
    h.step()
    # Retraining on a newer window: the champion's 0.95 was earned on older data.
    h.body["spec"]["training"]["parameters"] = {"epochs": "21"}
    h.step()
    run2 = h.training["runId"]
    assert h.backend.requests[run2].champion_tag == f"model:{run1}"
    # On this run's held-out rows the champion scores 0.85 and the candidate 0.90.
    h.backend.finish(run2, macro_f1=0.90, champion_macro_f1=0.85)
    h.step()
    assert h.body["status"]["champion"]["version"] == f"model:{run2}"
    message = h.cond("PromotionBlocked")["message"]
    assert "beats the champion's 0.85" in message, message


def test_a_challenger_of_an_earlier_spec_is_dropped_not_promoted_by_a_new_threshold() -> None:
    """Run 1 is below the minimum; the user changes the training spec (here its parameters;
    a feature service or label alike) and lowers the minimum in one edit. Run 1 was trained
    for a spec that is gone: it was promoted in that same reconcile."""
    h = Harness()
    h.step()
    run1 = h.training["runId"]
    h.backend.finish(run1, macro_f1=0.75)
    h.step()
    assert h.cond("PromotionBlocked")["reason"] == "BelowMinimum"
    assert h.body["status"]["challenger"]["specHash"] == h.training["specHash"]
    h.body["spec"]["training"]["parameters"] = {"epochs": "21"}
    h.body["spec"]["promotion"]["minimum"] = "0.7"
    h.step()
    assert "champion" not in h.body["status"] and "challenger" not in h.body["status"]
    dropped = h.cond("PromotionBlocked")
    assert (dropped["status"], dropped["reason"]) == ("False", "ChallengerSuperseded")
    assert f"model:{run1}" in dropped["message"]
    # The new spec's own run is judged as usual.
    run2 = h.training["runId"]
    assert run2 != run1
    h.backend.finish(run2, macro_f1=0.72)
    h.step()
    assert h.body["status"]["champion"]["version"] == f"model:{run2}"


def test_below_minimum_keeps_ready_false() -> None:
    h = Harness()
    h.step()
    h.backend.finish(h.training["runId"], macro_f1=0.5)
    h.step()
    assert h.cond("PromotionBlocked")["reason"] == "BelowMinimum"
    assert h.cond("Ready")["reason"] == "NotTrained"
    assert h.cond("Trained")["status"] == "True"


def test_a_run_that_registered_no_model_is_not_promoted() -> None:
    h = Harness()
    h.step()
    run_id = h.training["runId"]
    h.backend.finish(run_id, macro_f1=0.91)
    h.backend.runs[run_id] = replace(h.backend.runs[run_id], model_tag=None)

    out = h.step()

    assert [e.reason for e in out.events] == ["TrainingSucceeded", "NoModelRegistered"]
    assert h.cond("PromotionBlocked")["reason"] == "NoModelRegistered"
    assert "champion" not in h.body["status"] and "challenger" not in h.body["status"]
    assert "registered no model" in h.cond("Trained")["message"]
    assert h.training["message"].endswith("not gated: the run registered no model to serve")
    assert h.cond("Ready")["reason"] == "NotTrained"


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


def test_a_schedule_slot_runs_once_though_the_backend_dates_its_run_before_the_slot() -> None:
    # The fake backend dates every run 2025-03-10: a KFP clock behind the operator's.
    h = Harness()
    h.body["spec"]["training"]["schedule"] = "0 * * * *"
    h.step()
    h.backend.finish(h.training["runId"], macro_f1=0.91)
    h.step()
    slot_run = h.training["runId"]
    assert "-s" in slot_run and h.training["state"] == "Running"
    h.backend.finish(slot_run, macro_f1=0.92)
    h.step()
    submits = len(h.backend.submits)

    for _ in range(3):
        out = h.step()
        assert "TrainingRunning" not in [e.reason for e in out.events]
    assert len(h.backend.submits) == submits and h.training["runId"] == slot_run


def test_spent_retries_leave_the_next_schedule_slot_to_start_a_run() -> None:
    h = Harness(retry_seconds=0)
    h.body["spec"]["training"]["schedule"] = "0 * * * *"
    h.step()
    base = h.training["runId"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for run_id in (base, f"{base}-a2", f"{base}-a3"):
        assert h.training["runId"] == run_id
        # Started now: after the latest hourly slot, so no slot is due yet.
        h.backend.runs[run_id] = replace(h.backend.runs[run_id], started_at=now)
        h.backend.fail(run_id, "load", "data plane unreachable", now)
        h.step()
    assert h.training["runId"] == f"{base}-a3" and len(h.backend.requests) == 3
    assert h.cond("Trained")["message"].endswith(
        "change the spec to try again, or the next schedule slot starts a new run"
    )
    h.step()
    assert len(h.backend.requests) == 3

    # Two hours on, as far as the schedule is concerned: a slot after the failed run's start.
    earlier = datetime.now(UTC) - timedelta(hours=2)
    h.body["status"]["training"]["startedAt"] = earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    h.step()
    assert "-s" in h.training["runId"] and h.training["state"] == "Running"
    assert len(h.backend.requests) == 4


def test_backoff_not_elapsed_waits() -> None:
    h = Harness(retry_seconds=3600)
    h.step()
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    h.backend.fail(h.training["runId"], "train", "boom", now)
    h.step()
    first = h.cond("Trained")["message"]
    h.step()
    assert len(h.backend.requests) == 1
    # When, not how long ("in 3599s", "in 3598s"): the status does not change per poll.
    wait = timedelta(seconds=h.policy.backoff(1))
    due = (datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ") + wait).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first.endswith(f"retrying as {h.training['runId']}-a2 at {due}"), first
    assert h.cond("Trained")["message"] == first


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


def test_a_spec_change_cancels_the_run_in_flight_and_starts_the_new_specs_run() -> None:
    h = Harness()
    h.step()
    old, old_hash = h.training["runId"], h.training["specHash"]
    h.body["spec"]["training"]["parameters"] = {"epochs": "3"}
    out = h.step()
    new, new_hash = h.training["runId"], h.training["specHash"]
    assert new != old and new_hash != old_hash
    assert h.backend.cancels == [(old, f"superseded by spec hash {new_hash}")]
    assert h.backend.runs[old].state == "Failed"
    assert list(h.backend.requests) == [old, new]  # exactly one new run
    assert h.backend.requests[new].parameters == {"epochs": "3"}
    assert h.training["state"] == "Running" and h.training["requestName"] == new
    reasons = [e.reason for e in out.events]
    assert reasons == ["TrainingRequested", "TrainingCanceled", "TrainingRunning"]
    canceled = next(e for e in out.events if e.reason == "TrainingCanceled")
    assert canceled.type == "Normal"
    assert old in canceled.message and f"superseded by spec hash {new_hash}" in canceled.message
    assert h.cond("Trained")["reason"] == "TrainingRunning"

    # Nothing of the old run comes back: no second cancel, no retry of it, no promotion.
    assert h.step().events == []
    assert h.backend.cancels == [(old, f"superseded by spec hash {new_hash}")]
    h.backend.finish(new, macro_f1=0.9)
    out = h.step()
    assert [e.reason for e in out.events] == ["TrainingSucceeded", "Promoted", "Reconciled"]
    assert h.body["status"]["champion"]["version"] == f"model:{new}"
    assert list(h.backend.requests) == [old, new]


def test_an_old_spec_run_that_succeeded_before_the_cancel_is_not_promoted() -> None:
    h = Harness()
    h.step()
    old = h.training["runId"]
    h.backend.finish(old, macro_f1=0.99)  # ends on its own before the operator notices
    h.body["spec"]["training"]["parameters"] = {"epochs": "3"}
    out = h.step()
    assert [c[0] for c in h.backend.cancels] == [old]
    assert h.backend.runs[old].state == "Succeeded"  # the cancel left it as it was
    reasons = [e.reason for e in out.events]
    assert "Promoted" not in reasons and "TrainingCanceled" not in reasons
    succeeded = next(e for e in out.events if e.reason == "TrainingSucceeded")
    assert f"model:{old}" in succeeded.message and "not gated" in succeeded.message
    assert "champion" not in h.body["status"] and "challenger" not in h.body["status"]
    assert len(h.backend.requests) == 2 and h.training["runId"] != old
    assert h.cond("Ready")["reason"] == "NotTrained"


def test_a_canceled_run_is_recorded_and_not_retried_when_the_new_submit_fails() -> None:
    h = Harness(retry_seconds=0)
    h.step()
    old = h.training["runId"]
    h.body["spec"]["training"]["parameters"] = {"epochs": "3"}
    submit = h.backend.submit

    async def down(run_id: str, request: RunRequest) -> RunState:
        raise TrainingBackendError("backend down")

    h.backend.submit = down  # type: ignore[method-assign]
    out = h.step()
    assert isinstance(out.error, DependencyUnavailable)
    # The cancel is recorded under the old request: Failed, canceled, not a retry candidate.
    assert h.training["runId"] == old and h.training["state"] == "Failed"
    assert h.training["message"].startswith("canceled: superseded by spec hash")
    assert h.training["requestName"] == old
    assert "TrainingCanceled" in [e.reason for e in out.events]
    assert "TrainingFailed" not in [e.reason for e in out.events]
    assert needs_polling(h.body["status"], h.policy)  # the poll timer brings the new run

    h.backend.submit = submit  # type: ignore[method-assign]
    h.step()
    assert list(h.backend.requests) == [old, h.training["runId"]]
    assert not h.training["runId"].endswith("-a2") and h.training["state"] == "Running"
    assert len(h.backend.cancels) == 1


def test_a_repeated_reconcile_of_the_stale_status_cancels_idempotently() -> None:
    """The status patch after the cancel never landed (operator restarted): the next reconcile
    cancels again, which changes nothing, and finds the new run instead of starting another."""
    h = Harness()
    h.step()
    old = h.training["runId"]
    h.body["spec"]["training"]["parameters"] = {"epochs": "3"}
    stale = copy.deepcopy(h.body)
    h.step(h.reconciler())
    new = h.training["runId"]
    h.body = stale
    h.step(h.reconciler())
    assert [c[0] for c in h.backend.cancels] == [old, old]
    assert h.backend.cancels[0] == h.backend.cancels[1]
    assert h.backend.runs[old].message == f"canceled: {h.backend.cancels[0][1]}"
    assert list(h.backend.requests) == [old, new] and h.training["runId"] == new
    assert h.backend.submits == [old, new, new]


def test_returning_to_a_canceled_spec_trains_it_as_the_next_attempt() -> None:
    h = Harness(retry_seconds=0)
    original = copy.deepcopy(h.body["spec"]["training"]["parameters"])
    h.step()
    first = h.training["runId"]
    h.body["spec"]["training"]["parameters"] = {"epochs": "3"}
    h.step()
    second = h.training["runId"]
    h.body["spec"]["training"]["parameters"] = original  # back to the first spec
    h.step()  # cancels the second run; the first spec's run id is found, canceled
    assert [c[0] for c in h.backend.cancels] == [first, second]
    h.step()
    assert h.training["runId"] == f"{first}-a2" and h.training["state"] == "Running"
    assert list(h.backend.requests) == [first, second, f"{first}-a2"]
    assert "champion" not in h.body["status"]


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


def test_a_pipeline_problem_keeps_ready_true_while_the_champion_serves() -> None:
    """With a champion, a pipelineRef to a missing ConfigMap left Ready as it was before
    (a BackendError or LineNotFound from an earlier reconcile) next to the new problem."""
    h = Harness()
    h.step()
    h.backend.finish(h.training["runId"], macro_f1=0.91)
    h.step()
    assert h.cond("Ready")["status"] == "True"
    # An earlier reconcile's cause, as a backend outage leaves it:
    ready = h.cond("Ready")
    ready.update(status="False", reason="BackendError", message="training backend: down")
    h.body["spec"]["training"].pop("pipeline")
    h.body["spec"]["training"]["parameters"] = {}
    h.body["spec"]["training"]["pipelineRef"] = {"configMap": {"name": "no-such-pipeline"}}
    h.step()
    trained, ready = h.cond("Trained"), h.cond("Ready")
    assert (trained["status"], trained["reason"]) == ("False", "PipelineNotFound")
    assert (ready["status"], ready["reason"]) == ("True", "Reconciled")
    assert "no new training" in ready["message"] and "no-such-pipeline" in ready["message"]


def test_deleting_a_model_cancels_its_run_in_flight() -> None:
    h = Harness()
    h.step()
    run_id = h.training["runId"]
    reconciler = h.reconciler()

    asyncio.run(reconciler.retire("ns", h.body["metadata"]["name"], h.body))

    assert h.backend.cancels == [(run_id, "model deleted")]
    # A finished run is left alone, and a backend that is down does not stop the deletion.
    h.backend.cancels.clear()
    h.backend.finish(run_id, macro_f1=0.9)
    h.step()
    asyncio.run(reconciler.retire("ns", h.body["metadata"]["name"], h.body))
    assert h.backend.cancels == []
    h.body["status"]["training"]["state"] = "Running"
    h.backend.down = True
    asyncio.run(reconciler.retire("ns", h.body["metadata"]["name"], h.body))


def test_a_model_of_a_line_being_deleted_starts_no_run() -> None:
    h = Harness()
    h.line["metadata"]["deletionTimestamp"] = "2026-12-01T03:00:00Z"

    h.step()

    assert h.backend.requests == {}
    ready = h.cond("Ready")
    assert (ready["status"], ready["reason"]) == ("False", "LineNotReady")
    assert "is being deleted" in ready["message"]
