"""The cluster profile's rollout decisions (lineops.backends.serving.canary.decide), step by
step, on observed Deployments: first rollout, a direct rolling update (canaryPercent 0), a
canary that waits, is analysed, promoted, or rolled back (limits, start timeout), a rolled
back tag not retried, metrics that do not answer, and no metrics source."""

from __future__ import annotations

import pytest
from lineops.backends.serving.canary import (
    ANALYSING,
    PROGRESSING,
    PROMOTED,
    PROMOTING,
    ROLLED_BACK,
    WAITING,
    Measurement,
    MetricsFailed,
    NoMetrics,
    Record,
    Want,
    Workload,
    decide,
    window,
)

OLD, NEW = "m:v1", "m:v2"
T0 = 1_800_000_000.0


def want(tag: str = NEW, percent: int = 50, period: float = 60.0) -> Want:
    return Want(tag, 2, percent, period, max_error_rate=0.05, max_latency_p99=0.25)


def up(tag: str, replicas: int = 2, since: float | None = T0, created: float = T0) -> Workload:
    return Workload(tag, replicas, replicas, True, since, created)


def starting(tag: str, replicas: int = 1, created: float = T0) -> Workload:
    return Workload(tag, replicas, 0, False, None, created)


def test_first_rollout_creates_the_stable_deployment_and_waits() -> None:
    plan = decide(want(OLD), None, None, None, T0)
    assert (plan.stable_tag, plan.canary, plan.phase) == (OLD, None, "Starting")
    assert plan.serving is None and plan.pending == OLD and plan.wake_after
    plan = decide(want(OLD), starting(OLD, 2), None, None, T0)
    assert plan.phase == "Starting" and "0/2 Pods available" in (plan.waiting or "")
    plan = decide(want(OLD), up(OLD), None, None, T0)
    assert (plan.phase, plan.serving, plan.wake_after) == ("Serving", OLD, None)


def test_canary_percent_zero_rolls_the_stable_deployment_directly() -> None:
    plan = decide(want(percent=0), up(OLD), None, None, T0)
    assert (plan.stable_tag, plan.canary, plan.phase) == (NEW, None, "Starting")
    assert plan.serving == OLD and plan.canary_state is None


def test_a_good_canary_waits_is_analysed_and_is_promoted() -> None:
    # 1. Created beside the stable Deployment, 2 stable Pods at 50 %: 2 canary Pods.
    plan = decide(want(), up(OLD), None, None, T0)
    assert plan.stable_tag == OLD and plan.canary == (NEW, 2) and plan.phase == "Canary"
    assert plan.canary_state is not None and plan.canary_state.step == WAITING
    assert plan.canary_state.state == PROGRESSING and plan.serving == OLD
    # 2. Not Available yet.
    plan = decide(want(), up(OLD), starting(NEW, 2), None, T0 + 5)
    assert plan.canary_state and plan.canary_state.step == WAITING and not plan.measure
    # 3. Available: the caller is asked to measure first.
    canary = up(NEW, since=T0 + 10)
    plan = decide(want(), up(OLD), canary, None, T0 + 20)
    assert plan.measure and plan.canary_state and plan.canary_state.step == ANALYSING
    good = Measurement(error_rate=0.01, latency_p99=0.1, window=30)
    plan = decide(want(), up(OLD), canary, None, T0 + 20, good)
    assert plan.canary_state and plan.canary_state.step == ANALYSING
    assert plan.canary == (NEW, 2) and plan.stable_tag == OLD
    assert "held 10 s of 60 s" in plan.canary_state.reason
    assert plan.wake_after is not None and plan.wake_after <= 10
    # 4. The period held within the limits: the stable Deployment moves, the canary stays.
    plan = decide(want(), up(OLD), canary, None, T0 + 71, good)
    assert plan.stable_tag == NEW and plan.canary == (NEW, 2)
    assert plan.record is not None and plan.record.state == PROMOTED
    assert plan.canary_state and plan.canary_state.step == PROMOTING
    record = plan.record
    # 5. While the stable Deployment rolls, the canary is kept; once Available it goes.
    rolling = Workload(NEW, 2, 1, False, T0, T0)
    plan = decide(want(), rolling, canary, record, T0 + 75)
    assert plan.canary == (NEW, 2) and plan.phase == "Starting"
    plan = decide(want(), up(NEW), canary, record, T0 + 80)
    assert plan.canary is None and (plan.phase, plan.serving) == ("Serving", NEW)
    assert plan.canary_state and plan.canary_state.state == PROMOTED


@pytest.mark.parametrize(
    ("measured", "words"),
    [
        (Measurement(0.2, 0.1, 30), "error rate 0.2 above maxErrorRate 0.05"),
        (Measurement(0.0, 0.9, 30), "p99 latency 0.9 s above maxLatencyP99Seconds 0.25"),
    ],
)
def test_a_canary_over_a_limit_is_rolled_back(measured: Measurement, words: str) -> None:
    canary = up(NEW, since=T0)
    plan = decide(want(), up(OLD), canary, None, T0 + 5, measured)
    assert plan.stable_tag == OLD and plan.canary is None and plan.serving == OLD
    assert plan.record is not None and plan.record.state == ROLLED_BACK
    assert words in plan.record.reason and plan.phase == "Serving"
    # The same tag is not tried again; the old one keeps serving.
    again = decide(want(), up(OLD), None, plan.record, T0 + 100)
    assert again.canary is None and again.stable_tag == OLD and again.serving == OLD
    assert again.canary_state and again.canary_state.state == ROLLED_BACK
    # A newer champion gets its own canary.
    newer = decide(want("m:v3"), up(OLD), None, plan.record, T0 + 200)
    assert newer.canary == ("m:v3", 2)
    # Serving back after spec.serving.replicas 0 (the stable Deployment kept at 0 Pods, its
    # record with it): still the old tag, and looked at again until its Pods answer.
    suspended = Workload(OLD, 0, 0, False, None, T0)  # as cluster.workload() sees it
    back = decide(want(), suspended, None, plan.record, T0 + 300)
    assert (back.stable_tag, back.canary, back.serving) == (OLD, None, None)
    assert back.wake_after and "once its Deployment is available (0/0" in back.message
    rolling = decide(want(), Workload(OLD, 2, 1, False, None, T0), None, plan.record, T0 + 310)
    assert rolling.stable_tag == OLD and rolling.serving == OLD and rolling.wake_after


def test_a_canary_never_available_is_rolled_back_after_the_start_timeout() -> None:
    plan = decide(want(), up(OLD), starting(NEW, 2), None, T0 + 601, start_timeout=600)
    assert plan.canary is None and plan.record is not None
    assert plan.record.state == ROLLED_BACK and "not Available within 600 s" in plan.record.reason


def test_metrics_that_do_not_answer_hold_the_canary() -> None:
    canary = up(NEW, since=T0)
    plan = decide(want(), up(OLD), canary, None, T0 + 500, MetricsFailed("refused"))
    assert plan.stable_tag == OLD and plan.canary == (NEW, 2) and plan.record is None
    assert plan.canary_state and "metrics unavailable (refused)" in plan.canary_state.reason


def test_without_metrics_the_period_alone_promotes_and_says_so() -> None:
    canary = up(NEW, since=T0)
    plan = decide(want(), up(OLD), canary, None, T0 + 30, NoMetrics("no Prometheus"))
    assert plan.stable_tag == OLD
    plan = decide(want(), up(OLD), canary, None, T0 + 61, NoMetrics("no Prometheus"))
    assert plan.stable_tag == NEW and plan.record and plan.record.state == PROMOTED
    assert "promoted on readiness and the period alone" in plan.record.reason


def test_no_requests_is_no_reason_to_roll_back() -> None:
    plan = decide(want(), up(OLD), up(NEW), None, T0 + 61, Measurement(None, None, 61))
    assert (
        plan.stable_tag == NEW
        and "no requests measured" in (plan.record or Record("", "", "", "")).reason
    )


def test_the_window_starts_when_the_canary_became_available() -> None:
    assert window(up(NEW, since=T0), T0 + 100) == 100
    assert window(up(NEW, since=T0), T0 + 5) == 30  # at least a few scrapes


def test_the_canary_pod_pattern_matches_the_names_kubernetes_gives() -> None:
    import re

    from lineops.backends.serving.canary_metrics import pod_pattern

    short = "press-fault-serving-canary"
    assert re.fullmatch(pod_pattern(short), f"{short}-6d5f7c9b8-x2k4q")
    assert not re.fullmatch(pod_pattern(short), "press-fault-serving-7c9d8f6b5-p9l3m")
    # A 40-character model: the Pod name's base is cut to 58 characters before its random 5.
    long = "a" * 40 + "-serving-canary"
    base = f"{long}-6d5f7c9b8-"[:58]
    assert re.fullmatch(pod_pattern(long), base + "x2k4q")
    assert not re.fullmatch(pod_pattern(long), "a" * 40 + "-serving-7c9d8f6b5-p9l3m")
