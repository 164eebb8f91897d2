"""Cluster-profile training: the compiled pipeline submitted to a KFP API server (kfp.Client).

The run's *name* is our run id. KFP assigns its own ids, so ``submit`` first lists runs
filtered by that name and only creates one when none exists: a restarted operator finds the run
it made instead of starting another. kfp.Client is blocking, so every call runs in a thread;
reads are retried with exponential backoff before the error reaches the service.

Metrics and the model tag of a succeeded run are not in the KFP run API (they live in ML
Metadata). The pipeline's ``register`` step writes them to the BentoML model store with the
label ``run-id`` = our run id, so the backend reads them from that store
(``$LINEOPS_MODEL_STORE``, the BENTOML_HOME the pipeline pods mount), in the same thread as the
KFP call.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import math
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

import yaml

from lineops.backends.training.contract import inputs_of, unwrap
from lineops.backends.training.kfp_platform import PodMounts, with_mounts
from lineops.backends.training.pipeline_args import StepFailed, arguments, declared_inputs
from lineops.backends.training.runs import RunPhase, RunRequest, RunState, TrainingBackendError
from lineops.settings import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)
PHASE: Final[dict[str, RunPhase]] = {
    "RUNTIME_STATE_UNSPECIFIED": "Pending",
    "PENDING": "Pending",
    "RUNNING": "Running",
    "PAUSED": "Running",
    "CANCELING": "Running",
    "SUCCEEDED": "Succeeded",
    # A skipped run trained nothing: as a success it showed Trained=True with no model.
    "SKIPPED": "Failed",
    "FAILED": "Failed",
    "CANCELED": "Failed",
}
RUN_ID_LABEL: Final = "run-id"  # set by the pipeline's register step (register_model.py)


@dataclass(frozen=True)
class KfpSettings:
    host: str
    token_file: Path | None = None
    experiment: str = "lineops"
    namespace: str | None = None  # multi-user KFP: the profile namespace
    retries: int = 3
    backoff_seconds: float = 0.5
    # Seconds to connect and to wait for an answer, per KFP request: kfp.Client sets none, so
    # a KFP that stops answering held a thread of the operator's shared pool for good.
    request_timeout: tuple[float, float] = (5.0, 30.0)
    # The BENTOML_HOME the pipeline pods register models in, as mounted in the operator's Pod;
    # None: a succeeded run reports no metrics (and the promotion gate says why).
    model_store: Path | None = None
    # What the pipeline pods mount (the store's claim, the data plane's token Secret), added
    # to the IR at submission (kfp_platform.py).
    mounts: PodMounts = field(default_factory=PodMounts)

    @classmethod
    def from_settings(cls, settings: Settings) -> KfpSettings:
        """The KFP part of the operator's settings; ValueError without a host."""
        if not settings.kfp_host:
            raise ValueError("LINEOPS_KFP_HOST is required in the cluster profile")
        return cls(
            host=settings.kfp_host,
            token_file=settings.kfp_token_file,
            experiment=settings.kfp_experiment,
            namespace=settings.kfp_namespace,
            model_store=settings.model_store,
            mounts=PodMounts(settings.model_store_claim, settings.api_token_secret),
        )


def _rfc3339(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        if moment.year < 1971:  # KFP writes the epoch for "not finished yet"
            return None
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def run_state(run_id: str, run: Any) -> RunState:
    """Our view of a ``kfp_server_api.V2beta1Run``."""
    phase = PHASE.get(str(run.state or "PENDING"), "Pending")
    step, message = None, ""
    if phase == "Failed":
        step, message = _failure(run)
    return RunState(
        run_id=run_id,
        state=phase,
        started_at=_rfc3339(run.created_at),
        finished_at=_rfc3339(run.finished_at) if phase in ("Succeeded", "Failed") else None,
        failing_step=step,
        message=message or f"KFP run {run.run_id}: {run.state}",
        # Metrics and the model tag live in ML Metadata, which the run API does not expose:
        # KfpTrainingBackend reads them from the model store (``with_results``).
        metrics={},
        model_tag=None,
    )


def _numbers(raw: Any) -> dict[str, float]:
    """The finite numbers of a metrics mapping (what the embedded profile's Metrics hold)."""
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in raw.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def _without_results(state: RunState, why: str) -> RunState:
    # Status polling stops once a run has ended, so this is logged about once per run.
    log.warning("training run %s: %s", state.run_id, why)
    return replace(state, message=why)


def with_results(state: RunState, kfp_id: str, store: Path | None) -> RunState:
    """A succeeded run's metrics and model tag, from the model the pipeline's register step
    labelled ``run-id=<our run id>`` in the BentoML store at ``store`` (newest if several).
    Blocking (reads the store): call it in a thread. Other states are returned unchanged."""
    if state.state != "Succeeded":
        return state
    if store is None:
        return _without_results(
            state,
            f"KFP run {kfp_id} succeeded; LINEOPS_MODEL_STORE not set: "
            "metrics and model tag unavailable",
        )
    # lineops_pipelines is imported by name, as the CLI does: it is the pipelines' package,
    # not a typed layer of the operator (and registry imports bentoml only when called).
    registry = importlib.import_module("lineops_pipelines.registry")
    found = registry.find_by_label(RUN_ID_LABEL, state.run_id, home=store)
    if found is None:
        return _without_results(
            state,
            f"KFP run {kfp_id} succeeded but no model with label "
            f"{RUN_ID_LABEL}={state.run_id} in model store {store}",
        )
    return replace(
        state,
        metrics=_numbers(found.metadata.get("metrics")),
        model_tag=str(found.tag),
        message=f"model {found.tag} (KFP run {kfp_id})",
    )


def _error(exc: Exception) -> str:
    """An API error as status, reason and the start of the body: its str() carries the HTTP
    response headers too (an auth proxy's Set-Cookie), which went into the model's status."""
    status = getattr(exc, "status", None)
    if status is None:
        return str(exc)
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    detail = " ".join(str(body or "").split())[:300]
    return f"{status} {getattr(exc, 'reason', '') or ''}".strip() + (
        f": {detail}" if detail else ""
    )


def _bound_requests(client: Any, timeout: tuple[float, float]) -> None:
    """Give every request of a kfp.Client ``timeout`` (connect, read) unless the call sets
    its own: the client's generated APIs share one REST client, and kfp.Client passes none
    (urllib3 then waits for ever)."""
    api = getattr(getattr(client, "_run_api", None), "api_client", None)
    rest = getattr(api, "rest_client", None)
    if rest is None:  # not a kfp.Client (a test's factory)
        return
    send = rest.request

    def request(*args: Any, _request_timeout: Any = None, **kwargs: Any) -> Any:
        return send(*args, _request_timeout=_request_timeout or timeout, **kwargs)

    rest.request = request


def _failure(run: Any) -> tuple[str | None, str]:
    tasks = list(getattr(run.run_details, "task_details", None) or [])
    failed = [t for t in tasks if str(t.state) == "FAILED" and not t.child_tasks]
    for task in failed:
        error = getattr(task.error, "message", None) if task.error else None
        return task.display_name, error or f"task {task.display_name} failed"
    error = getattr(run.error, "message", None) if run.error else None
    return None, error or ""


class KfpTrainingBackend:
    def __init__(
        self,
        settings: KfpSettings,
        pipelines_dir: Path,
        client_factory: Callable[..., Any] | None = None,
    ) -> None:
        self.settings = settings
        self.pipelines_dir = pipelines_dir
        self._factory = client_factory
        self._client: Any = None
        self._token: str | None = None
        self._ids: dict[str, str] = {}  # our run id -> KFP run id

    async def submit(self, run_id: str, request: RunRequest) -> RunState:
        return await self._call(self._submit, run_id, request)

    async def status(self, run_id: str) -> RunState | None:
        return await self._retrying(lambda: self._call(self._status, run_id))

    async def cancel(self, run_id: str, reason: str) -> RunState | None:
        return await self._retrying(lambda: self._call(self._cancel, run_id, reason))

    async def close(self) -> None:
        self._client = None

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(fn, *args)
        except (StepFailed, TrainingBackendError):
            raise
        except Exception as exc:  # kfp_server_api.ApiException, urllib3 errors, ...
            raise TrainingBackendError(f"KFP at {self.settings.host}: {_error(exc)}") from exc

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        delay = self.settings.backoff_seconds
        for _ in range(self.settings.retries - 1):
            try:
                return await attempt()
            except TrainingBackendError:
                await asyncio.sleep(delay)
                delay *= 2
        return await attempt()

    # --- blocking parts, run in a thread --------------------------------------------------

    def _kfp(self) -> Any:
        """The client, rebuilt when the mounted token rotates."""
        token = None
        if self.settings.token_file is not None:
            token = self.settings.token_file.read_text().strip()
        if self._client is None or token != self._token:
            factory = self._factory
            if factory is None:
                import kfp

                factory = kfp.Client
            self._client = factory(host=self.settings.host, existing_token=token)
            _bound_requests(self._client, self.settings.request_timeout)
            self._token = token
        return self._client

    def _find(self, run_id: str) -> Any:
        kfp_id = self._ids.get(run_id)
        if kfp_id is not None:
            try:
                return self._kfp().get_run(kfp_id)
            except Exception as exc:
                if getattr(exc, "status", None) != 404:
                    raise
                # Deleted in KFP: the run is gone, not the backend (a 404 kept as a backend
                # error was retried for ever); None lets the service submit it again.
                del self._ids[run_id]
                return None
        predicate = {"key": "name", "operation": "EQUALS", "string_value": run_id}
        page = self._kfp().list_runs(
            page_size=2,
            sort_by="created_at asc",
            namespace=self.settings.namespace,
            filter=json.dumps({"predicates": [predicate]}),
        )
        runs = list(page.runs or [])
        if not runs:
            return None
        self._ids[run_id] = runs[0].run_id  # the oldest, should two ever have been made
        return self._kfp().get_run(runs[0].run_id)

    def _submit(self, run_id: str, request: RunRequest) -> RunState:
        existing = self._find(run_id)
        if existing is not None:
            return self._state(run_id, existing)
        if request.kfp_pipeline:
            return self._submit_uploaded(run_id, request)
        with tempfile.TemporaryDirectory(prefix="lineops-ir-") as tmp:
            pipeline = self.pipelines_dir / f"{request.pipeline}.yaml"
            if request.pipeline_ir:  # an engineer's IR from a ConfigMap
                pipeline = Path(tmp) / "pipeline.yaml"
                pipeline.write_text(request.pipeline_ir, encoding="utf-8")
            if not pipeline.is_file():
                return RunState(
                    run_id, "Failed", message=f"pipeline {request.pipeline!r} not found"
                )
            try:
                args = arguments(request, declared_inputs(pipeline))
            except StepFailed as exc:
                return RunState(run_id, "Failed", failing_step=exc.step, message=exc.message)
            if not self.settings.mounts.empty:
                try:
                    ir = with_mounts(pipeline.read_text(encoding="utf-8"), self.settings.mounts)
                except ValueError as exc:
                    return RunState(run_id, "Failed", message=str(exc))
                pipeline = Path(tmp) / "submitted.yaml"
                pipeline.write_text(ir, encoding="utf-8")
            result = self._kfp().create_run_from_pipeline_package(
                str(pipeline),
                arguments=args,
                run_name=run_id,
                experiment_name=self.settings.experiment,
                namespace=self.settings.namespace,
            )
        self._ids[run_id] = result.run_id
        return self._state(run_id, self._kfp().get_run(result.run_id))

    def _submit_uploaded(self, run_id: str, request: RunRequest) -> RunState:
        """A run of a pipeline version already uploaded to KFP, by pipeline and version name.
        Its spec is KFP's, not ours to change: the model store and token mounts are not
        added (the version must carry them; docs/install.md)."""
        found = self._version(request.kfp_pipeline, request.kfp_version)
        if found is None:
            return RunState(
                run_id,
                "Failed",
                message=f"KFP has no pipeline {request.kfp_pipeline!r} "
                f"version {request.kfp_version!r}",
            )
        pipeline_id, version = found
        try:
            args = arguments(request, inputs_of(unwrap(version.pipeline_spec or {})))
        except StepFailed as exc:
            return RunState(run_id, "Failed", failing_step=exc.step, message=exc.message)
        client = self._kfp()
        experiment = client.create_experiment(
            self.settings.experiment, namespace=self.settings.namespace
        )
        run = client.run_pipeline(
            experiment_id=experiment.experiment_id,
            job_name=run_id,
            params=args,
            pipeline_id=pipeline_id,
            version_id=version.pipeline_version_id,
        )
        self._ids[run_id] = run.run_id
        return self._state(run_id, client.get_run(run.run_id))

    def _version(self, pipeline: str, version: str) -> tuple[str, Any] | None:
        """(pipeline id, V2beta1PipelineVersion) of the version named ``version``."""
        client = self._kfp()
        pipeline_id = client.get_pipeline_id(pipeline)
        if pipeline_id is None:
            return None
        predicate = {"key": "display_name", "operation": "EQUALS", "string_value": version}
        page = client.list_pipeline_versions(
            pipeline_id, page_size=2, filter=json.dumps({"predicates": [predicate]})
        )
        versions = list(page.pipeline_versions or [])
        if not versions:
            return None
        return pipeline_id, client.get_pipeline_version(
            pipeline_id, versions[0].pipeline_version_id
        )

    async def uploaded_pipeline(self, pipeline: str, version: str) -> str | None:
        """The uploaded version's pipeline spec as IR YAML (for the contract check)."""

        def fetch() -> str | None:
            found = self._version(pipeline, version)
            if found is None:
                return None
            return yaml.safe_dump(unwrap(found[1].pipeline_spec or {}), sort_keys=False)

        return await self._retrying(lambda: self._call(fetch))

    def _status(self, run_id: str) -> RunState | None:
        run = self._find(run_id)
        return None if run is None else self._state(run_id, run)

    def _cancel(self, run_id: str, reason: str) -> RunState | None:
        """``POST /apis/v2beta1/runs/{id}:terminate`` while the run is in flight. KFP stops it
        asynchronously: the answer is usually CANCELING (in flight), later CANCELED (Failed).
        KFP keeps no reason, so it goes into the returned state's message and the log."""
        run = self._find(run_id)
        if run is None:
            return None
        state = self._state(run_id, run)
        if not state.in_flight:
            return state  # ended already: its own verdict stands
        if str(run.state) != "CANCELING":  # terminating twice is pointless, never harmful
            log.info("training run %s (KFP run %s): terminating, %s", run_id, run.run_id, reason)
            self._kfp().terminate_run(run.run_id)
        after = self._kfp().get_run(run.run_id)
        state = self._state(run_id, after)
        if not state.in_flight and str(after.state) != "CANCELED":
            return state  # it ended on its own before the terminate reached it
        return replace(state, message=f"canceled: {reason} (KFP run {after.run_id}: {after.state})")

    def _state(self, run_id: str, run: Any) -> RunState:
        return with_results(run_state(run_id, run), str(run.run_id), self.settings.model_store)
