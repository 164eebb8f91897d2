"""The training loop against a real kube-apiserver, with real kfp.local runs of the real
``quality-training`` pipeline on the reduced Tennessee Eastman set (``reduced: "true"``,
one epoch: about 20 s a run on two cores). Every wait polls with a deadline."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from lineops.backends.training import local_files as files

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator
from tests.support.processes import group_members

pytestmark = pytest.mark.integration

# The reduced TE files, not the line path (its own tests are in test_training_line.py).
FAST = {"dataset": "te", "reduced": "true", "epochs": "1"}
RUN_TIMEOUT = 240.0  # generous: CI shares two cores with the control plane


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"LINEOPS_DATA_DIR": str(tmp_path), "LINEOPS_TRAINING_RETRY_SECONDS": "1"}


def _model(name: str, **promotion: str) -> dict[str, Any]:
    body = res.example("qualitymodel-anomaly.yaml")
    body["metadata"]["name"] = name
    body["spec"]["lineRef"] = "press-line-1"  # trained on the TE files (FAST), not line data
    body["spec"]["training"] = {"parameters": dict(FAST), "cooldown": "1h"}
    body["spec"]["promotion"] = {"metric": "detection_rate", **promotion}
    return body


def _get(api: client.ApiClient, ns: str, name: str) -> dict[str, Any]:
    obj = res.get(api, ns, "QualityModel", name)
    assert obj is not None
    return obj


def _when(api: client.ApiClient, ns: str, name: str, check: Any, what: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = _get(api, ns, name)
        return obj if check(obj) else None

    return wait_for(probe, timeout=RUN_TIMEOUT, interval=0.5, what=what)


def _training(obj: dict[str, Any]) -> dict[str, Any]:
    return dict((obj.get("status") or {}).get("training") or {})


def _runs(data_dir: str) -> list[str]:
    runs = Path(data_dir) / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []


def _succeeded_run(data_dir: str, prefix: str) -> str | None:
    """The first run whose id starts with ``prefix`` and whose final state is Succeeded."""
    for run in _runs(data_dir):
        if run.startswith(prefix):
            state = files.read_state(files.run_dir(Path(data_dir), run))
            if state is not None and state.state == "Succeeded":
                return run
    return None


def _events(api: client.ApiClient, ns: str, name: str, reason: str) -> list[Any]:
    items = (
        client.CoreV1Api(api)
        .list_namespaced_event(ns, field_selector=f"involvedObject.name={name}")
        .items
    )
    return [e for e in items if e.reason == reason]


def _retrain_with_new_seed(
    api: client.ApiClient, ns: str, name: str, old_run: str, check: Any, what: str
) -> dict[str, Any]:
    """Change spec.training.parameters (a new spec hash); wait for a run other than
    ``old_run`` to succeed with ``check`` holding."""
    res.patch(
        api, ns, "QualityModel", name, {"spec": {"training": {"parameters": {**FAST, "seed": "1"}}}}
    )

    def succeeded(o: dict[str, Any]) -> bool:
        t = _training(o)
        return t.get("runId") not in (None, old_run) and t.get("state") == "Succeeded"

    return _when(api, ns, name, lambda o: succeeded(o) and check(o), what)


def test_runs_are_started_once_per_spec_and_gated(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
) -> None:
    res.create(api_client, namespace, res.example("productionline.yaml"))
    # A minimum no model reaches: the first candidate is trained but blocked.
    res.create(api_client, namespace, _model("anomaly", minimum="1.01"))
    with run_operator(operator_identity, namespace, extra_env=env):
        blocked = _when(
            api_client,
            namespace,
            "anomaly",
            lambda o: res.has_condition(o, "PromotionBlocked", "True", "BelowMinimum"),
            "the first run to finish and be blocked by the minimum",
        )
        first = _training(blocked)
        assert first["state"] == "Succeeded" and first["runId"] == first["requestName"]
        # The reduced TE faults (1, 2, 4, 6, 7) are large: a working detector finds nearly
        # every fault row and keeps its stored threshold's false alarms on unseen normal rows.
        assert float(first["metrics"]["detection_rate"]) > 0.9
        assert float(first["metrics"]["far"]) < 0.05
        assert res.has_condition(blocked, "Trained", "True", "TrainingSucceeded")
        assert res.has_condition(blocked, "Ready", "False", "NotTrained")
        challenger = blocked["status"]["challenger"]
        assert challenger["version"].startswith("anomaly:")
        assert "1.01" in res.condition(blocked, "PromotionBlocked")["message"]  # type: ignore[index]
        assert _runs(env["LINEOPS_DATA_DIR"]) == [first["runId"]]

        # Relaxing the minimum promotes the waiting challenger, without a new run.
        res.patch(
            api_client,
            namespace,
            "QualityModel",
            "anomaly",
            {"spec": {"promotion": {"minimum": "0.1", "mustBeatChampionBy": "0.5"}}},
        )
        promoted = _when(
            api_client,
            namespace,
            "anomaly",
            lambda o: res.has_condition(o, "Ready", "True"),
            "the challenger to be promoted",
        )
        champion = promoted["status"]["champion"]
        assert champion["version"] == challenger["version"]
        assert champion["score"] == first["metrics"]["detection_rate"]
        assert res.has_condition(promoted, "PromotionBlocked", "False", "Promoted")

        # New parameters: a new request and exactly one new run, which cannot beat the
        # champion by 0.5 (detection rates are at most 1).
        second = _retrain_with_new_seed(
            api_client,
            namespace,
            "anomaly",
            first["runId"],
            lambda o: res.has_condition(o, "PromotionBlocked", "True", "ChampionNotBeaten"),
            "the second run to finish and be blocked by the champion",
        )
        assert _training(second)["specHash"] != first["specHash"]
        assert second["status"]["champion"]["version"] == champion["version"]
        assert sorted(_runs(env["LINEOPS_DATA_DIR"])) == sorted(
            [first["runId"], _training(second)["runId"]]
        )
        assert len(res.training_requests(api_client, namespace, "anomaly")) == 2
    assert len(_events(api_client, namespace, "anomaly", "TrainingRunning")) == 2
    assert _events(api_client, namespace, "anomaly", "Promoted")
    # The registered models are in the BentoML store under the data directory.
    store = Path(env["LINEOPS_DATA_DIR"]) / "bentoml" / "models" / "anomaly"
    assert len([p for p in store.iterdir() if p.is_dir()]) == 2


def test_a_failing_step_is_shown_and_retried_a_bounded_number_of_times(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
) -> None:
    res.create(api_client, namespace, res.example("productionline.yaml"))
    body = _model("faults")
    body["spec"].update(task="fault-classification", label="no_such_column")
    body["spec"]["promotion"] = {"metric": "macro_f1"}
    res.create(api_client, namespace, body)
    with run_operator(operator_identity, namespace, extra_env=env):
        failed = _when(
            api_client,
            namespace,
            "faults",
            lambda o: (
                res.has_condition(o, "Trained", "False", "TrainingFailed")
                and _training(o).get("runId", "").endswith("-a3")
            ),
            "three failed attempts",
        )
    training = _training(failed)
    assert training["state"] == "Failed"
    assert "'validate'" in training["message"] and "no_such_column" in training["message"]
    message = res.condition(failed, "Trained")["message"]  # type: ignore[index]
    assert "'validate'" in message and "gave up after 3" in message
    base = training["requestName"]
    assert _runs(env["LINEOPS_DATA_DIR"]) == [base, f"{base}-a2", f"{base}-a3"]
    assert len(_events(api_client, namespace, "faults", "TrainingFailed")) == 3


def test_an_operator_restart_neither_loses_nor_duplicates_the_run(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
) -> None:
    res.create(api_client, namespace, res.example("productionline.yaml"))
    res.create(api_client, namespace, _model("restart", minimum="0.1"))
    with run_operator(operator_identity, namespace, extra_env=env):
        running = _when(
            api_client,
            namespace,
            "restart",
            lambda o: _training(o).get("state") in ("Pending", "Running"),
            "the run to start",
        )
    run_id = _training(running)["runId"]
    run_dir = Path(env["LINEOPS_DATA_DIR"]) / "runs" / run_id
    pid = files.read_pid(run_dir)  # "<pid> <start time>"
    assert pid is not None
    state = json.loads((run_dir / "state.json").read_text())["state"]
    if state in ("Pending", "Running"):
        os.kill(pid, 0)  # the worker outlived the operator (raises if it did not)

    with run_operator(operator_identity, namespace, extra_env=env):
        done = _when(
            api_client,
            namespace,
            "restart",
            lambda o: res.has_condition(o, "Ready", "True"),
            "the restarted operator to pick the run up and promote it",
        )
    assert _training(done)["runId"] == run_id and _training(done)["state"] == "Succeeded"
    assert _runs(env["LINEOPS_DATA_DIR"]) == [run_id]
    assert len(_events(api_client, namespace, "restart", "TrainingRunning")) == 1
    assert len(_events(api_client, namespace, "restart", "TrainingSucceeded")) == 1


def test_models_retrain_on_a_drift_alert_and_on_their_schedule(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
) -> None:
    """After a first successful run: the line's drift signal wakes the model that retrains on
    drift at once (no resync wait), and a cron slot starts a run for the scheduled model."""
    line = res.example("productionline.yaml")
    res.create(api_client, namespace, line)
    drifting = _model("drifting", minimum="0.1")
    drifting["spec"]["training"].update(retrainOn={"driftPsi": "0.2"}, cooldown="1s")
    scheduled = _model("scheduled", minimum="0.1")
    scheduled["spec"]["training"]["schedule"] = "* * * * *"  # every minute
    res.create(api_client, namespace, drifting)
    res.create(api_client, namespace, scheduled)

    def first_done(o: dict[str, Any]) -> bool:
        t = _training(o)
        return t.get("state") == "Succeeded" and t.get("runId") == t.get("requestName")

    with run_operator(operator_identity, namespace, extra_env=env):
        # (The scheduled model's first run is followed at once by the slot that passed while
        # it ran, in the same reconcile, so only the drifting model is awaited here.)
        _when(api_client, namespace, "drifting", first_done, "the first run to succeed")

        # An external drift detector's PSI on the line, above the model's limit.
        res.patch(
            api_client,
            namespace,
            "ProductionLine",
            line["metadata"]["name"],
            {"metadata": {"annotations": {"lineops.io/drift-psi": "0.9"}}},
        )
        started = _when(
            api_client,
            namespace,
            "drifting",
            lambda o: "-e" in _training(o).get("runId", ""),
            "the drift-triggered run to start",
        )
        # Drift stays above the limit: stop it so the 1 s cooldown does not chain runs.
        res.patch(
            api_client,
            namespace,
            "ProductionLine",
            line["metadata"]["name"],
            {"metadata": {"annotations": {"lineops.io/drift-psi": None}}},
        )
        drift_run = _training(started)["runId"]
        _when(
            api_client,
            namespace,
            "drifting",
            lambda o: (
                _training(o).get("runId") == drift_run and _training(o).get("state") == "Succeeded"
            ),
            "the drift-triggered run to succeed",
        )
        # The backend's record of each run, not status.training: a slot run that outlasts its
        # minute (a loaded CI machine) is followed by the next slot in the same reconcile, so
        # "Succeeded" may never be visible in the status (a CI run failed waiting for it).
        request = _training(
            _when(
                api_client,
                namespace,
                "scheduled",
                lambda o: bool(_training(o).get("requestName")),
                "the scheduled model's first run",
            )
        )["requestName"]
        slot_run = wait_for(
            lambda: _succeeded_run(env["LINEOPS_DATA_DIR"], request + "-s"),
            timeout=RUN_TIMEOUT,
            interval=0.5,
            what="a schedule-triggered run to succeed",
        )
        # The operator saw it end: its status shows it Succeeded, or already a later slot's run
        # (one run in flight at a time: the next slot starts only after this one ended).
        _when(
            api_client,
            namespace,
            "scheduled",
            lambda o: (
                _training(o).get("state") == "Succeeded"
                if _training(o).get("runId") == slot_run
                else _training(o).get("runId", "") > slot_run
            ),
            f"the operator to see {slot_run} end",
        )
    assert drift_run.startswith(_training(started)["requestName"] + "-e")
    drift_events = _events(api_client, namespace, "drifting", "TrainingRunning")
    assert any("drift PSI 0.9 above 0.2" in e.message for e in drift_events)
    schedule_events = _events(api_client, namespace, "scheduled", "TrainingRunning")
    assert any(slot_run in e.message and "schedule slot" in e.message for e in schedule_events)
    runs = _runs(env["LINEOPS_DATA_DIR"])
    assert drift_run in runs and slot_run in runs
    first = Path(env["LINEOPS_DATA_DIR"]) / "runs" / request
    assert json.loads((first / "state.json").read_text())["state"] == "Succeeded"
    # The drift model ran exactly twice: the spec run and the drift run.
    assert len([r for r in runs if r.startswith(_training(started)["requestName"])]) == 2


def test_a_spec_change_cancels_the_run_in_flight_and_trains_the_new_spec(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
) -> None:
    res.create(api_client, namespace, res.example("productionline.yaml"))
    body = _model("superseded", minimum="0.1")
    # A longer first run, so the spec change surely lands while it is in flight.
    body["spec"]["training"]["parameters"]["epochs"] = "30"
    res.create(api_client, namespace, body)
    with run_operator(operator_identity, namespace, extra_env=env):
        running = _when(
            api_client,
            namespace,
            "superseded",
            lambda o: _training(o).get("state") == "Running",
            "the first run to be running",
        )
        first = _training(running)
        done = _retrain_with_new_seed(
            api_client,
            namespace,
            "superseded",
            first["runId"],
            lambda o: res.has_condition(o, "Ready", "True"),
            "the new spec's run to succeed and be promoted",
        )
    second = _training(done)
    assert second["specHash"] != first["specHash"]
    runs = Path(env["LINEOPS_DATA_DIR"]) / "runs"
    assert _runs(env["LINEOPS_DATA_DIR"]) == sorted([first["runId"], second["runId"]])

    # The first run: canceled, its whole worker process group stopped, never promoted.
    old = json.loads((runs / first["runId"] / "state.json").read_text())
    assert old["state"] == "Failed" and old["failing_step"] is None
    assert old["message"] == f"canceled: superseded by spec hash {second['specHash']}"
    assert old.get("model_tag") is None
    worker = files.read_pid(runs / first["runId"])
    assert worker is not None and group_members(worker) == []
    (canceled,) = _events(api_client, namespace, "superseded", "TrainingCanceled")
    assert canceled.type == "Normal" and first["runId"] in canceled.message
    assert "superseded by spec hash" in canceled.message

    # The second run trained the new parameters and its model is the champion.
    new = json.loads((runs / second["runId"] / "state.json").read_text())
    assert new["state"] == "Succeeded" and new["model_tag"]
    request = json.loads((runs / second["runId"] / "request.json").read_text())
    assert request["parameters"] == {**FAST, "seed": "1"}
    assert done["status"]["champion"]["version"] == new["model_tag"]
    assert len(_events(api_client, namespace, "superseded", "TrainingRunning")) == 2
    assert len(_events(api_client, namespace, "superseded", "Promoted")) == 1
    assert not _events(api_client, namespace, "superseded", "TrainingFailed")
