"""The Serving condition, status.serving.canary and the Events for the cluster profile's
canary states (lineops.services.serving against a recorded backend): one Event per step
entered, none when a reconcile sees the same step again; a rolled back canary leaves the old
tag serving with Serving=False CanaryRolledBack."""

from __future__ import annotations

import asyncio
from typing import Any

from lineops.api import reasons as R
from lineops.api.qualitymodel import ChampionStatus, QualityModelSpec, QualityModelStatus
from lineops.backends.serving.protocol import CanaryState, ServingState
from lineops.services.conditions import ConditionSet
from lineops.services.outcome import Outcome
from lineops.services.serving import ServingService

from tests.unit.services.fake_kube import FakeKube
from tests.unit.serving.test_serving_service import BODY, RecordedBackend

URL = "http://m-serving.ns.svc:3000"


def _run(
    state: ServingState, champion: str, before: dict[str, Any] | None = None
) -> tuple[ConditionSet, Outcome[QualityModelStatus]]:
    backend = RecordedBackend(state)
    service = ServingService(backend, FakeKube())  # type: ignore[arg-type]
    body = {**BODY, "status": {"serving": before} if before else {}}
    spec = QualityModelSpec.model_validate({**BODY["spec"], "serving": {"canaryPercent": 50}})
    conds = ConditionSet([], 2)
    out = Outcome(QualityModelStatus())
    asyncio.run(service.reconcile(body, spec, ChampionStatus(version=champion), conds, out))
    request = backend.calls[0]
    assert request.owner is body and request.spec is spec  # what the cluster backend renders
    return conds, out


def test_canary_steps_are_reported_and_announced_once() -> None:
    waiting = CanaryState(
        "Progressing", "m:v2", "2026-11-29T10:00:00Z", "created", "WaitingForAvailable"
    )
    state = ServingState(
        "Canary", URL, "m:v1", "m:v2", message="canary m:v2: created", canary=waiting
    )
    conds, out = _run(state, "m:v2")
    cond = conds.get(R.SERVING)
    assert cond is not None and (cond.status, cond.reason) == ("False", R.CANARY)
    assert out.status["serving"]["canary"] == {
        "state": "Progressing",
        "step": "WaitingForAvailable",
        "tag": "m:v2",
        "since": "2026-11-29T10:00:00Z",
        "reason": "created",
    }
    assert [e.reason for e in out.events] == [R.CANARY_STARTED]
    # The next reconcile in the same step: no second Event.
    _, out = _run(state, "m:v2", before=out.status["serving"])
    assert out.events == []

    analysing = CanaryState("Progressing", "m:v2", "2026-11-29T10:00:05Z", "held 1 s", "Analysing")
    _, out = _run(
        ServingState("Canary", URL, "m:v1", "m:v2", canary=analysing),
        "m:v2",
        before={"canary": {"state": "Progressing", "step": "WaitingForAvailable", "tag": "m:v2"}},
    )
    assert [e.reason for e in out.events] == [R.CANARY_ANALYSING]


def test_a_rolled_back_canary_leaves_the_old_tag_serving() -> None:
    back = CanaryState("RolledBack", "m:v2", "2026-11-29T10:01:00Z", "error rate 0.5 above 0.05")
    state = ServingState(
        "Serving",
        URL,
        "m:v1",
        message="m:v2 was rolled back (error rate 0.5 above 0.05)",
        canary=back,
    )
    conds, out = _run(state, "m:v2")
    cond = conds.get(R.SERVING)
    assert cond is not None and (cond.status, cond.reason) == ("False", R.CANARY_ROLLED_BACK)
    assert "error rate 0.5" in (cond.message or "")
    assert out.status["serving"]["champion"] == "m:v1"
    assert [(e.type, e.reason) for e in out.events] == [("Warning", R.CANARY_ROLLED_BACK)]
    # The old champion serving after a promotion of the same canary tag is just Serving.
    promoted = CanaryState("Promoted", "m:v2", "2026-11-29T10:02:00Z", "held 5m")
    conds, out = _run(
        ServingState("Serving", URL, "m:v2", canary=promoted),
        "m:v2",
        before={"canary": {"state": "Progressing", "step": "Promoting", "tag": "m:v2"}},
    )
    assert conds.get(R.SERVING).status == "True"  # type: ignore[union-attr]
    assert out.events == []  # announced when promotion began


def test_a_cluster_start_says_what_it_waits_for() -> None:
    state = ServingState(
        "Starting", URL, pending="m:v1", waiting="its Deployment: 0/1 Pods available"
    )
    conds, _ = _run(state, "m:v1")
    cond = conds.get(R.SERVING)
    assert cond is not None and cond.reason == R.SERVING_STARTING
    assert "waiting for its Deployment: 0/1 Pods available" in (cond.message or "")


def test_a_canary_promoted_without_measured_traffic_is_a_warning() -> None:
    """The split is by connection: keep-alive clients may never reach the canary, and a
    promotion on readiness and the period alone deserves a look."""
    quiet = CanaryState(
        "Progressing",
        "m:v2",
        "2026-11-29T10:05:00Z",
        "held 300 s Available; no requests measured (maxErrorRate 0.01, ...)",
        "Promoting",
    )
    before = {"canary": {"state": "Progressing", "step": "Analysing", "tag": "m:v2"}}
    _, out = _run(ServingState("Canary", URL, "m:v1", "m:v2", canary=quiet), "m:v2", before)
    assert [(e.type, e.reason) for e in out.events] == [("Warning", R.CANARY_PROMOTED)]

    measured = CanaryState(
        "Progressing",
        "m:v2",
        "2026-11-29T10:05:00Z",
        "held 300 s Available; error rate 0",
        "Promoting",
    )
    _, out = _run(ServingState("Canary", URL, "m:v1", "m:v2", canary=measured), "m:v2", before)
    assert [(e.type, e.reason) for e in out.events] == [("Normal", R.CANARY_PROMOTED)]
