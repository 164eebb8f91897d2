"""The serving decisions (lineops.services.serving) against a recorded backend: what is asked
for, the Serving condition and status.serving for each state, and the wake-up annotation."""

from __future__ import annotations

import asyncio
from typing import Any

from lineops.api import reasons as R
from lineops.api.qualitymodel import ChampionStatus, QualityModelSpec, QualityModelStatus
from lineops.backends.serving.protocol import ChangeListener, ServeRequest, ServingState
from lineops.services.conditions import ConditionSet
from lineops.services.outcome import Outcome
from lineops.services.serving import ANNOTATION_SERVING_CHANGED, ServingService

from tests.unit.services.fake_kube import FakeKube


class RecordedBackend:
    def __init__(self, state: ServingState) -> None:
        self.next = state
        self.calls: list[Any] = []
        self.listeners: list[ChangeListener] = []

    def subscribe(self, listener: ChangeListener) -> None:
        self.listeners.append(listener)

    async def ensure(self, request: ServeRequest) -> ServingState:
        self.calls.append(request)
        return self.next

    def state(self, namespace: str, model: str) -> ServingState | None:
        return self.next

    async def stop(self, namespace: str, model: str) -> None:
        self.calls.append(("stop", namespace, model))

    async def suspend(self, namespace: str, model: str) -> None:
        self.calls.append(("suspend", namespace, model))

    async def close(self) -> None:
        pass


BODY: dict[str, Any] = {
    "metadata": {"name": "m", "namespace": "ns", "generation": 2},
    "spec": {"lineRef": "l", "task": "anomaly-detection", "featureService": "sensor_window_v1"},
    "status": {"endpoint": "http://127.0.0.1:4000"},
}


def _run(
    state: ServingState, champion: str | None, replicas: int = 1
) -> tuple[RecordedBackend, ConditionSet, Outcome[QualityModelStatus]]:
    backend = RecordedBackend(state)
    service = ServingService(backend, FakeKube())  # type: ignore[arg-type]
    spec = QualityModelSpec.model_validate({**BODY["spec"], "serving": {"replicas": replicas}})
    conds = ConditionSet([], 2)
    out = Outcome(QualityModelStatus())
    version = ChampionStatus(version=champion) if champion else None
    asyncio.run(service.reconcile(BODY, spec, version, conds, out))
    return backend, conds, out


def test_each_state_has_its_condition_and_status() -> None:
    url = "http://127.0.0.1:4000"
    serving = ServingState("Serving", url, "m:v1", since="2026-11-29T10:00:00Z")
    backend, conds, out = _run(serving, "m:v1")
    assert backend.calls == [ServeRequest("ns", "m", "m:v1")]
    cond = conds.get(R.SERVING)
    assert cond is not None and (cond.status, cond.reason) == ("True", R.DEPLOYED)
    assert out.status["serving"]["champion"] == "m:v1" and out.status["endpoint"] == url
    assert out.status["serving"]["since"] == "2026-11-29T10:00:00Z"

    # A new champion starting while the old one answers: not True yet, the old one named.
    starting = ServingState("Starting", url, "m:v1", pending="m:v2", since="2026-11-29T10:00:00Z")
    _, conds, out = _run(starting, "m:v2")
    cond = conds.get(R.SERVING)
    assert cond is not None and (cond.status, cond.reason) == ("False", R.SERVING_STARTING)
    assert "m:v1 answers meanwhile" in (cond.message or "")
    assert out.status["serving"]["challenger"] == "m:v2"

    dying = ServingState(
        "Restarting",
        url,
        failures=1,
        last_exit="m:v1 killed by SIGKILL",
        next_attempt="2026-11-29T10:00:01Z",
    )
    _, conds, _ = _run(dying, "m:v1")
    cond = conds.get(R.SERVING)
    assert cond is not None and cond.reason == R.SERVING_RESTARTING
    assert "killed by SIGKILL" in (cond.message or "") and "2026-11-29T10:00:01Z" in (
        cond.message or ""
    )
    _, conds, _ = _run(ServingState("Failed", url, failures=3), "m:v1")
    assert conds.get(R.SERVING).reason == R.SERVING_FAILED  # type: ignore[union-attr]


def test_nothing_is_served_without_a_champion_or_with_zero_replicas() -> None:
    state = ServingState("Serving", "u", "m:v1")
    for champion, replicas, reason, call in (
        ("m:v1", 0, R.DISABLED, "suspend"),  # kept to serve again (a canary's record)
        (None, 1, R.NO_CHAMPION, "stop"),
    ):
        backend, conds, out = _run(state, champion, replicas)
        assert backend.calls == [(call, "ns", "m")]
        cond = conds.get(R.SERVING)
        assert cond is not None and (cond.status, cond.reason) == ("False", reason)
        assert out.status["endpoint"] is None  # removed from the object
        assert out.status["serving"]["state"] == reason


def test_a_change_in_the_backend_touches_the_model() -> None:
    async def scenario() -> FakeKube:
        kube = FakeKube()
        backend = RecordedBackend(ServingState("Serving"))
        service = ServingService(backend, kube)  # type: ignore[arg-type]
        backend.listeners[0]("ns", "m")
        await asyncio.gather(*service._wakes)
        return kube

    kube = asyncio.run(scenario())
    (_plural, ns, name, patch) = kube.patches[0]
    assert (ns, name) == ("ns", "m")
    assert ANNOTATION_SERVING_CHANGED in patch["metadata"]["annotations"]


class FailingBackend(RecordedBackend):
    def __init__(self, error: Exception) -> None:
        super().__init__(ServingState("Serving"))
        self.error = error

    async def ensure(self, request: ServeRequest) -> ServingState:
        raise self.error


def test_a_backend_that_does_not_answer_makes_serving_unknown_not_failed() -> None:
    """A 429 from the API server said Serving=False ServingFailed (a champion's process
    died), moved lastTransitionTime, and contradicted status.serving and Ready."""
    from lineops.backends.errors import PermanentBackendError, TransientBackendError

    spec = QualityModelSpec.model_validate({**BODY["spec"], "serving": {"replicas": 1}})
    for error, expected in (
        (TransientBackendError("429 Too Many Requests"), ("Unknown", R.BACKEND_ERROR)),
        (PermanentBackendError("403 Forbidden"), ("False", R.BACKEND_REJECTED)),
    ):
        service = ServingService(FailingBackend(error), FakeKube())  # type: ignore[arg-type]
        conds = ConditionSet([], 2)
        out = Outcome(QualityModelStatus())
        champion = ChampionStatus(version="m:v1")
        asyncio.run(service.reconcile(BODY, spec, champion, conds, out))
        cond = conds.get(R.SERVING)
        assert cond is not None and (cond.status, cond.reason) == expected
        assert str(error) in (cond.message or "") and out.error is not None


def test_a_backend_message_longer_than_the_schema_allows_is_clipped_not_refused() -> None:
    # A failed process's log tail: 40,000 characters, past the status schema's 32 KiB.
    tail = "Traceback (most recent call last):\n" + "x" * 40_000
    failed = ServingState("Failed", "http://127.0.0.1:4000", failures=3, message=tail)

    _, conds, out = _run(failed, "m:v1")

    message = out.status["serving"]["message"]
    assert message.startswith("Traceback") and len(message) <= 4096
    assert message.endswith("more characters)")
    assert conds.get(R.SERVING) is not None
