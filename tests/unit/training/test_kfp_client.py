"""The cluster-profile backend (kfp.Client) against a STAND-IN for the KFP API server.

No real KFP API server can run here (it needs MySQL, Argo and object storage), so this test
serves the few v2beta1 endpoints kfp.Client calls from a small HTTP server on 127.0.0.1. The
stand-in checks every request body against the ``kfp_server_api`` models (V2beta1Experiment,
V2beta1Run: no unknown fields, the right types) and the submitted pipeline spec against the
compiled ``quality-training`` pipeline, then serves run state the test sets.

A succeeded run's metrics and model tag come from the BentoML model store, where the pipeline's
``register`` step labels the model ``run-id=<our run id>``; the tests register into a temporary
store what that step would (the real component function, so the real ``registry.register``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import kfp_server_api
import pytest
import yaml
from kfp import dsl
from lineops.backends.training.contract import unwrap
from lineops.backends.training.kfp_client import KfpSettings, KfpTrainingBackend
from lineops.backends.training.kfp_platform import PodMounts
from lineops.backends.training.runs import RunRequest, TrainingBackendError
from lineops.settings import load_settings
from lineops_pipelines.components.register_model import register_model

from tests.unit.training.test_service import Harness

PIPELINES = Path(__file__).resolve().parents[3] / "pipelines" / "compiled"


def _validated(model: str, body: dict[str, Any]) -> Any:
    """Deserialize ``body`` into a kfp_server_api model, refusing fields it does not have."""
    cls = getattr(kfp_server_api, model)
    unknown = set(body) - set(cls.attribute_map.values())
    assert not unknown, f"{model}: unknown fields {unknown}"
    api = kfp_server_api.ApiClient()
    return api._ApiClient__deserialize(body, model)  # the generated client's own decoder


class _NotFound(Exception):
    """What KFP answers 404 for."""


class StandIn:
    def __init__(self) -> None:
        self.experiments: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.creates = 0
        self.terminates: list[str] = []
        self.token_seen: list[str | None] = []
        self.failures_left = 0  # 503s to serve before answering (backoff)
        # While cleared, requests for a run wait for it to be set (a KFP that stopped
        # answering); set by default.
        self.answering = threading.Event()
        self.answering.set()
        # Pipelines uploaded to KFP (spec.training.pipelineRef.kfp): id -> V2beta1Pipeline
        # fields plus its versions, id -> V2beta1PipelineVersion fields.
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.spec_names = {"quality-training", "gbt-training"}
        self.platform_specs: list[dict[str, Any]] = []  # of submitted pipelines, in order
        self.submitted_specs: list[dict[str, Any]] = []

    def upload(self, name: str, version: str, spec: dict[str, Any]) -> str:
        """What `kfp pipeline create` / `upload_pipeline_version` leave on the server."""
        pipeline = next((p for p in self.pipelines.values() if p["display_name"] == name), None)
        if pipeline is None:
            pipeline = {"pipeline_id": str(uuid.uuid4()), "display_name": name, "versions": {}}
            self.pipelines[pipeline["pipeline_id"]] = pipeline
        made = {
            "pipeline_id": pipeline["pipeline_id"],
            "pipeline_version_id": str(uuid.uuid4()),
            "display_name": version,
            "pipeline_spec": spec,
        }
        pipeline["versions"][made["pipeline_version_id"]] = made
        return str(made["pipeline_version_id"])

    def _pipelines(self, method: str, path: str, query: dict[str, list[str]]) -> Any:
        assert method == "GET", f"{method} {path}"
        parts = path.removeprefix("/apis/v2beta1/pipelines").strip("/").split("/")
        if parts == [""]:
            name = _filter_value(query)
            found = [
                {k: v for k, v in p.items() if k != "versions"}
                for p in self.pipelines.values()
                if p["display_name"] == name
            ]
            return {"pipelines": found, "total_size": len(found)}
        versions = self.pipelines[parts[0]]["versions"]
        if len(parts) == 2 and parts[1] == "versions":
            name = _filter_value(query)
            found = [v for v in versions.values() if v["display_name"] == name]
            return {"pipeline_versions": found, "total_size": len(found)}
        assert len(parts) == 3 and parts[1] == "versions", path
        return versions[parts[2]]

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        if path == "/apis/v2beta1/healthz":
            return {"multi_user": False}
        if path == "/apis/v2beta1/experiments" and method == "GET":
            name = _filter_value(query)
            found = [e for e in self.experiments.values() if e["display_name"] == name]
            return {"experiments": found, "total_size": len(found)}
        if path == "/apis/v2beta1/experiments" and method == "POST":
            experiment = _validated("V2beta1Experiment", body)
            assert experiment.display_name
            made = {**body, "experiment_id": str(uuid.uuid4())}
            self.experiments[made["experiment_id"]] = made
            return made
        if path.startswith("/apis/v2beta1/pipelines"):
            return self._pipelines(method, path, query)
        if path == "/apis/v2beta1/runs" and method == "POST":
            run = _validated("V2beta1Run", body)
            assert run.experiment_id in self.experiments
            spec = run.pipeline_spec
            if run.pipeline_version_reference is not None:  # an uploaded pipeline version
                assert spec is None
                ref = run.pipeline_version_reference
                version = self.pipelines[ref.pipeline_id]["versions"][ref.pipeline_version_id]
                spec = version["pipeline_spec"]
            # kfp.Client sends {"pipeline_spec", "platform_spec"} when the IR has a platform
            # spec (kfp-kubernetes mounts), the pipeline spec itself otherwise.
            self.platform_specs.append(spec.get("platform_spec", {}) if "root" not in spec else {})
            spec = unwrap(spec)
            self.submitted_specs.append(spec)
            assert spec["pipelineInfo"]["name"] in self.spec_names
            declared = spec["root"]["inputDefinitions"]["parameters"]
            assert set(run.runtime_config.parameters) <= set(declared)
            self.creates += 1
            made = {
                **body,
                "run_id": str(uuid.uuid4()),
                "state": "PENDING",
                "created_at": "2025-03-10T10:00:00Z",
            }
            self.runs[made["run_id"]] = made
            return made
        if path == "/apis/v2beta1/runs" and method == "GET":
            name = _filter_value(query)
            found = [r for r in self.runs.values() if r["display_name"] == name]
            return {"runs": found, "total_size": len(found)}
        if path.startswith("/apis/v2beta1/runs/") and path.endswith(":terminate"):
            # RunService.TerminateRun: POST, no body; KFP answers {} and moves the run to
            # CANCELING (the persistence agent later records CANCELED).
            assert method == "POST" and body is None, f"{method} {path} with {body!r}"
            run = self.runs[path.removeprefix("/apis/v2beta1/runs/").removesuffix(":terminate")]
            self.terminates.append(run["run_id"])
            if run["state"] in ("PENDING", "RUNNING"):
                run["state"] = "CANCELING"
            return {}
        if path.startswith("/apis/v2beta1/runs/") and method == "GET":
            run_id = path.rsplit("/", 1)[1]
            if run_id not in self.runs:  # deleted in KFP (or never made): KFP's 404
                raise _NotFound(f"run {run_id} not found")
            return self.runs[run_id]
        raise AssertionError(f"unexpected {method} {path}")


def _filter_value(query: dict[str, list[str]]) -> str:
    predicates = json.loads(query["filter"][0])["predicates"]
    (predicate,) = predicates
    # protojson accepts an enum by name or number; kfp.Client itself sends the number.
    assert predicate["key"] in ("name", "display_name") and predicate["operation"] in ("EQUALS", 1)
    return str(predicate.get("string_value", predicate.get("stringValue")))


@pytest.fixture
def stand_in() -> Iterator[tuple[StandIn, str]]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            state.token_seen.append(self.headers.get("Authorization"))
            if url.path.startswith("/apis/v2beta1/runs/"):
                state.answering.wait(60)
            if state.failures_left and url.path.startswith("/apis/v2beta1/runs/"):
                state.failures_left -= 1
                page = b"<html>upstream connect error</html>"
                self.send_response(503)
                # What an auth proxy in front of KFP sends along: never for the status.
                self.send_header("Set-Cookie", "oauth2_proxy=secret-session; HttpOnly")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            try:
                answer = state.handle(method, url.path, parse_qs(url.query), body)
                code = 200
            except _NotFound as exc:
                answer, code = {"error": str(exc), "code": 5}, 404
            except (AssertionError, KeyError) as exc:
                answer, code = {"error": str(exc)}, 400
            data = json.dumps(answer).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _request(run_id: str, **parameters: str) -> RunRequest:
    return RunRequest(
        run_id,
        "quality-training",
        "anomaly-detection",
        "te",
        {"epochs": "1", "reduced": "true", **parameters},
        model="m",
        promotion_metric="detection_rate",
    )


def _register_step(
    run: dict[str, Any],
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    **metrics: float,
) -> str:
    """Simulates what the pipeline's ``register`` step does in the cluster: the real
    register_model component, called with the arguments KFP received for this run, writes the
    candidate into the model store the pipeline pods mount as their BENTOML_HOME."""
    params = run["runtime_config"]["parameters"]
    model = tmp_path / f"model-{uuid.uuid4().hex}"
    model.mkdir()
    (model / "model.json").write_text('{"features": ["f1", "f2"], "window": 1}')
    with monkeypatch.context() as pod:  # the pod's environment, not the operator's
        pod.setenv("BENTOML_HOME", str(store))
        out = register_model.python_func(
            model=dsl.Model(name="model", uri=str(model), metadata={}),
            task=params["task"],
            model_name=params.get("model_name", ""),
            metrics=json.dumps(metrics),
            data_window="{}",
            spec_hash=params.get("spec_hash", ""),
            promote=True,
            reason="test",
            run_id=params["run_id"],
        )
    return str(out.tag)


def test_submit_is_idempotent_by_run_name_and_status_follows_the_run(
    stand_in: tuple[StandIn, str], tmp_path: Path
) -> None:
    server, host = stand_in
    token = tmp_path / "token"
    token.write_text("secret-1\n")
    settings = KfpSettings(host=host, token_file=token, backoff_seconds=0.01)

    async def scenario() -> None:
        backend = KfpTrainingBackend(settings, PIPELINES)
        first = await backend.submit("m-train-abc", _request("m-train-abc"))
        assert first.state == "Pending" and first.started_at == "2025-03-10T10:00:00Z"
        # A restarted operator (fresh backend, no cached ids) finds the run by its name.
        again = await KfpTrainingBackend(settings, PIPELINES).submit(
            "m-train-abc", _request("m-train-abc")
        )
        assert again.state == "Pending" and server.creates == 1

        (run,) = server.runs.values()
        assert run["display_name"] == "m-train-abc"
        params = run["runtime_config"]["parameters"]
        assert params["epochs"] == 1 and params["reduced"] is True
        assert params["task"] == "anomaly-detection"

        run.update(
            state="FAILED",
            finished_at="2025-03-10T10:03:00Z",
            run_details={
                "task_details": [
                    {
                        "display_name": "validate",
                        "state": "FAILED",
                        "error": {"message": "column 'x': missing"},
                    },
                    {"display_name": "load", "state": "SUCCEEDED"},
                ]
            },
        )
        server.failures_left = 2  # get_run answers 503 twice: retried with backoff
        failed = await backend.status("m-train-abc")
        assert failed is not None and failed.state == "Failed"
        assert failed.failing_step == "validate" and "missing" in failed.message
        assert failed.finished_at == "2025-03-10T10:03:00Z"
        assert await backend.status("never-submitted") is None

        run.update(state="SUCCEEDED", run_details={})
        done = await backend.status("m-train-abc")
        assert done is not None and done.state == "Succeeded"
        # No LINEOPS_MODEL_STORE: succeeded, but the state says why there are no metrics.
        assert done.metrics == {} and done.model_tag is None
        assert "LINEOPS_MODEL_STORE not set" in done.message

    asyncio.run(scenario())
    assert set(server.token_seen) == {"Bearer secret-1"}


def test_a_skipped_run_failed_and_a_deleted_run_is_gone_not_a_backend_error(
    stand_in: tuple[StandIn, str],
) -> None:
    server, host = stand_in
    settings = KfpSettings(host=host, backoff_seconds=0.01)

    async def scenario() -> None:
        backend = KfpTrainingBackend(settings, PIPELINES)
        await backend.submit("m-train-abc", _request("m-train-abc"))
        (run,) = server.runs.values()
        run.update(state="SKIPPED", finished_at="2025-03-10T10:03:00Z")
        skipped = await backend.status("m-train-abc")
        assert skipped is not None and skipped.state == "Failed"
        assert "SKIPPED" in skipped.message

        # Deleted in KFP after the backend had cached its id: gone, so the service can
        # submit the run again (a 404 was a backend error, retried for ever).
        server.runs.clear()
        assert await backend.status("m-train-abc") is None
        again = await backend.submit("m-train-abc", _request("m-train-abc"))
        assert again.state == "Pending" and server.creates == 2

    asyncio.run(scenario())


def test_a_kfp_error_is_reported_as_status_reason_and_body_without_headers(
    stand_in: tuple[StandIn, str],
) -> None:
    server, host = stand_in
    settings = KfpSettings(host=host, backoff_seconds=0.01, retries=1)

    async def scenario() -> str:
        backend = KfpTrainingBackend(settings, PIPELINES)
        await backend.submit("m-train-abc", _request("m-train-abc"))
        server.failures_left = 1
        with pytest.raises(TrainingBackendError) as failed:
            await backend.status("m-train-abc")
        return str(failed.value)

    message = asyncio.run(scenario())
    assert message == f"KFP at {host}: 503 Service Unavailable: <html>upstream connect error</html>"
    assert "secret-session" not in message


def test_a_kfp_that_stops_answering_is_a_backend_error_after_the_request_timeout(
    stand_in: tuple[StandIn, str],
) -> None:
    server, host = stand_in
    settings = KfpSettings(host=host, backoff_seconds=0.01, retries=1, request_timeout=(1.0, 0.5))

    async def scenario() -> None:
        backend = KfpTrainingBackend(settings, PIPELINES)
        await backend.submit("m-train-abc", _request("m-train-abc"))
        server.answering.clear()
        try:
            with pytest.raises(TrainingBackendError, match="timed out"):
                await asyncio.wait_for(backend.status("m-train-abc"), timeout=30)
        finally:
            server.answering.set()

    asyncio.run(scenario())


def test_a_succeeded_run_reads_metrics_and_tag_from_the_model_store(
    stand_in: tuple[StandIn, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, host = stand_in
    store = tmp_path / "bentoml"  # the shared volume, as mounted in the operator's Pod
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "operator-own-home"))
    settings = KfpSettings(host=host, backoff_seconds=0.01, model_store=store)
    backend = KfpTrainingBackend(settings, PIPELINES)

    first = asyncio.run(backend.submit("m-train-abc", _request("m-train-abc")))
    assert first.state == "Pending"
    (run,) = server.runs.values()
    assert run["runtime_config"]["parameters"]["run_id"] == "m-train-abc"
    run.update(state="SUCCEEDED", finished_at="2025-03-10T10:09:00Z")

    # Succeeded, but no model carries the run id (yet another run's model is there).
    other = {"runtime_config": {"parameters": {"task": "anomaly-detection", "run_id": "x"}}}
    _register_step(other, store, tmp_path, monkeypatch, detection_rate=0.2)
    bare = asyncio.run(backend.status("m-train-abc"))
    assert bare is not None and bare.state == "Succeeded"
    assert bare.metrics == {} and bare.model_tag is None
    assert "no model with label run-id=m-train-abc" in bare.message
    assert str(store) in bare.message
    assert bare.message in caplog.text  # the operator's log says why, too

    tag = _register_step(
        run, store, tmp_path, monkeypatch, detection_rate=0.93, far=0.04, threshold=1.5
    )
    assert tag.startswith("m:")
    done = asyncio.run(backend.status("m-train-abc"))
    assert done is not None and done.state == "Succeeded"
    assert done.model_tag == tag and done.finished_at == "2025-03-10T10:09:00Z"
    assert done.metrics == {"detection_rate": 0.93, "far": 0.04, "threshold": 1.5}
    assert tag in done.message
    # A restarted operator's submit finds the run and reads the same results.
    again = asyncio.run(
        KfpTrainingBackend(settings, PIPELINES).submit("m-train-abc", _request("m-train-abc"))
    )
    assert again.model_tag == tag and server.creates == 1


def test_a_cluster_run_promotes_its_model_to_champion(
    stand_in: tuple[StandIn, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The training service (Kubernetes faked) over the KFP backend: the run's metrics reach
    the promotion gate, which makes the registered model the champion."""
    server, host = stand_in
    store = tmp_path / "bentoml"
    h = Harness()
    h.backend = KfpTrainingBackend(  # type: ignore[assignment]
        KfpSettings(host=host, backoff_seconds=0.01, model_store=store), PIPELINES
    )
    h.step()
    assert h.training["state"] == "Pending"
    (run,) = server.runs.values()
    assert run["runtime_config"]["parameters"]["run_id"] == h.training["runId"]

    run.update(state="SUCCEEDED", finished_at="2025-03-10T10:09:00Z")
    tag = _register_step(run, store, tmp_path, monkeypatch, macro_f1=0.93, accuracy=0.95)
    out = h.step()
    assert [e.reason for e in out.events] == ["TrainingSucceeded", "Promoted", "Reconciled"]
    champion = h.body["status"]["champion"]
    assert champion["version"] == tag and champion["score"] == "0.93"
    assert champion["metrics"] == {"macro_f1": "0.93", "accuracy": "0.95"}
    assert h.cond("PromotionBlocked")["reason"] == "Promoted"
    assert h.cond("Ready")["status"] == "True"


def test_a_cluster_run_without_a_model_says_why_in_status(
    stand_in: tuple[StandIn, str], tmp_path: Path
) -> None:
    """No model for the run in the store: the run is Succeeded, not judged, and
    status.training.message names the store and the missing label."""
    server, host = stand_in
    store = tmp_path / "bentoml"
    h = Harness()
    h.backend = KfpTrainingBackend(  # type: ignore[assignment]
        KfpSettings(host=host, backoff_seconds=0.01, model_store=store), PIPELINES
    )
    h.step()
    (run,) = server.runs.values()
    run.update(state="SUCCEEDED", finished_at="2025-03-10T10:09:00Z")
    h.step()
    message = h.training["message"]
    assert message.startswith("model not registered: ")
    assert f"run-id={h.training['runId']}" in message and str(store) in message
    blocked = h.cond("PromotionBlocked")
    assert (blocked["status"], blocked["reason"]) == ("True", "NoModelRegistered")
    assert "champion" not in h.body["status"]


def test_cancel_terminates_a_run_in_flight_once_and_reports_its_state(
    stand_in: tuple[StandIn, str],
) -> None:
    server, host = stand_in
    settings = KfpSettings(host=host, backoff_seconds=0.01)

    async def scenario() -> None:
        backend = KfpTrainingBackend(settings, PIPELINES)
        await backend.submit("m-train-abc", _request("m-train-abc"))
        (run,) = server.runs.values()
        run["state"] = "RUNNING"
        stopping = await backend.cancel("m-train-abc", "superseded by spec hash 123")
        assert server.terminates == [run["run_id"]]
        assert stopping is not None and stopping.state == "Running"  # CANCELING
        assert stopping.message.startswith("canceled: superseded by spec hash 123")
        assert "CANCELING" in stopping.message
        # Again while it is stopping, from a restarted operator: no second terminate.
        again = await KfpTrainingBackend(settings, PIPELINES).cancel("m-train-abc", "again")
        assert again is not None and again.state == "Running"
        assert server.terminates == [run["run_id"]]

        run.update(state="CANCELED", finished_at="2025-03-10T10:04:00Z")
        done = await backend.cancel("m-train-abc", "superseded by spec hash 123")
        assert done is not None and done.state == "Failed"
        assert done.finished_at == "2025-03-10T10:04:00Z"
        assert server.terminates == [run["run_id"]]  # ended: nothing to terminate
        assert await backend.cancel("never-submitted", "x") is None

        # A run that ended on its own keeps its verdict.
        await backend.submit("m-train-def", _request("m-train-def"))
        other = next(r for r in server.runs.values() if r["display_name"] == "m-train-def")
        other.update(state="SUCCEEDED", finished_at="2025-03-10T10:05:00Z")
        finished = await backend.cancel("m-train-def", "too late")
        assert finished is not None and finished.state == "Succeeded"
        assert "canceled" not in finished.message
        assert server.terminates == [run["run_id"]]

    asyncio.run(scenario())


def test_a_spec_change_terminates_the_cluster_run_and_starts_the_new_one(
    stand_in: tuple[StandIn, str], tmp_path: Path
) -> None:
    """The training service over the KFP backend: the old spec's run is terminated (KFP is
    still stopping it), never gated, and the new spec's run is created in the same reconcile."""
    server, host = stand_in
    h = Harness()
    h.backend = KfpTrainingBackend(  # type: ignore[assignment]
        KfpSettings(host=host, backoff_seconds=0.01, model_store=tmp_path / "bentoml"), PIPELINES
    )
    h.step()
    old = h.training["runId"]
    (first,) = server.runs.values()
    first["state"] = "RUNNING"
    h.body["spec"]["training"]["parameters"] = {"epochs": "2"}
    out = h.step()
    assert server.terminates == [first["run_id"]] and first["state"] == "CANCELING"
    assert server.creates == 2 and h.training["runId"] != old
    assert [e.reason for e in out.events] == [
        "TrainingRequested",
        "TrainingCanceled",
        "TrainingRunning",
    ]
    assert "still stopping" in out.events[1].message
    assert "champion" not in h.body["status"]


def test_unknown_parameters_fail_before_anything_is_created(
    stand_in: tuple[StandIn, str],
) -> None:
    server, host = stand_in
    backend = KfpTrainingBackend(KfpSettings(host=host), PIPELINES)
    state = asyncio.run(backend.submit("r", _request("r", epochs="many")))
    assert state.state == "Failed" and state.failing_step == "parameters"
    assert server.creates == 0


def test_settings_need_a_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "TOKEN_FILE", "EXPERIMENT", "NAMESPACE"):
        monkeypatch.delenv(f"LINEOPS_KFP_{name}", raising=False)
    monkeypatch.delenv("LINEOPS_MODEL_STORE", raising=False)
    with pytest.raises(ValueError, match="LINEOPS_KFP_HOST"):
        KfpSettings.from_settings(load_settings())
    monkeypatch.setenv("LINEOPS_KFP_HOST", "http://127.0.0.1:1")
    monkeypatch.setenv("LINEOPS_KFP_TOKEN_FILE", "/var/run/secrets/kfp/token")
    settings = KfpSettings.from_settings(load_settings())
    assert settings.host == "http://127.0.0.1:1"
    assert settings.token_file == Path("/var/run/secrets/kfp/token")
    assert settings.experiment == "lineops" and settings.namespace is None
    assert settings.model_store is None
    monkeypatch.setenv("LINEOPS_MODEL_STORE", "/mnt/bentoml")
    monkeypatch.setenv("LINEOPS_KFP_NAMESPACE", "team-a")
    settings = KfpSettings.from_settings(load_settings())
    assert settings.model_store == Path("/mnt/bentoml") and settings.namespace == "team-a"


def test_pipeline_pods_mount_the_model_store_and_the_token(
    stand_in: tuple[StandIn, str], tmp_path: Path
) -> None:
    """The submitted pipeline carries, in every step, the shared model store's claim (the
    steps' BENTOML_HOME) and the data plane's token Secret (their LINEOPS_API_TOKEN_FILE), as
    kfp-kubernetes writes them into the Kubernetes platform spec; without mounts configured
    the IR goes as compiled."""
    server, host = stand_in
    mounts = PodMounts(model_store_claim="lineops-models", api_token_secret="lineops-api-token")
    settings = KfpSettings(host=host, backoff_seconds=0.01, mounts=mounts)

    async def scenario() -> None:
        await KfpTrainingBackend(settings, PIPELINES).submit("m-train-k8s", _request("m-train-k8s"))
        plain = KfpSettings(host=host, backoff_seconds=0.01)
        await KfpTrainingBackend(plain, PIPELINES).submit("m-train-bare", _request("m-train-bare"))

    asyncio.run(scenario())
    mounted, bare = server.platform_specs
    assert bare == {}
    spec = server.submitted_specs[0]
    executors = spec["deploymentSpec"]["executors"]
    configs = mounted["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(configs) == set(executors) and "exec-register-model" in configs
    for name, config in configs.items():
        (pvc,) = config["pvcMount"]
        assert pvc["mountPath"] == "/var/lib/lineops/model-store"
        assert pvc["pvcNameParameter"] == {"runtimeValue": {"constant": "lineops-models"}}
        (secret,) = config["secretAsVolume"]
        assert secret["mountPath"] == "/var/run/secrets/lineops/api"
        assert secret["secretNameParameter"] == {"runtimeValue": {"constant": "lineops-api-token"}}
        env = {e["name"]: e["value"] for e in executors[name]["container"]["env"]}
        assert env == {
            "BENTOML_HOME": "/var/lib/lineops/model-store",
            "LINEOPS_API_TOKEN_FILE": "/var/run/secrets/lineops/api/token",
        }
    # The compiled file itself is not changed (the mounts are added to a copy).
    assert "pvcMount" not in (PIPELINES / "quality-training.yaml").read_text()


def test_mounts_merge_into_an_engineers_platform_spec_and_bad_ir_is_named() -> None:
    from lineops.backends.training.kfp_platform import with_mounts

    ir = yaml.safe_dump_all(
        [
            {
                "pipelineInfo": {"name": "mine"},
                "deploymentSpec": {
                    "executors": {
                        "exec-a": {
                            "container": {"image": "x", "env": [{"name": "A", "value": "1"}]}
                        },
                        "exec-imp": {"importer": {"artifactUri": {}}},
                    }
                },
            },
            {
                "platforms": {
                    "kubernetes": {
                        "deploymentSpec": {
                            "executors": {"exec-a": {"nodeSelector": {"labels": {"gpu": "a100"}}}}
                        }
                    }
                }
            },
        ]
    )
    spec, platform = yaml.safe_load_all(with_mounts(ir, PodMounts("store", None)))
    config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-a"]
    assert config["nodeSelector"] == {"labels": {"gpu": "a100"}}  # the engineer's, kept
    assert config["pvcMount"][0]["constant"] == "store" and "secretAsVolume" not in config
    env = spec["deploymentSpec"]["executors"]["exec-a"]["container"]["env"]
    assert env == [
        {"name": "A", "value": "1"},
        {"name": "BENTOML_HOME", "value": "/var/lib/lineops/model-store"},
    ]
    assert "exec-imp" not in platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    with pytest.raises(ValueError, match=r"deploymentSpec\.executors"):
        with_mounts(yaml.safe_dump({"pipelineInfo": {"name": "x"}}), PodMounts("store"))


def test_kfp_settings_take_the_claim_and_the_token_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "LINEOPS_KFP_HOST": "http://kfp:8888",
        "LINEOPS_MODEL_STORE_CLAIM": "lineops-models",
        "LINEOPS_API_TOKEN_SECRET": "lineops-api-token",
    }.items():
        monkeypatch.setenv(name, value)
    assert KfpSettings.from_settings(load_settings()).mounts == PodMounts(
        "lineops-models", "lineops-api-token"
    )
