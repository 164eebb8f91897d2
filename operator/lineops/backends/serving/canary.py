"""The cluster profile's rollout decisions for one model (pure): from what the cluster shows
(the stable and canary Deployments, the last canary's outcome), the analysis measurement and
the time, what to apply next and what to report.

A new champion, while an old one serves and ``canaryPercent`` is above 0:

1. ``WaitingForAvailable``: a canary Deployment of the new tag is created beside the stable
   one, with Pods in the share ``canaryPercent`` of the Service's Pods (approximately:
   ``manifests.canary_replicas``); it must become Available within ``start_timeout``.
2. ``Analysing``: once Available it is held for ``canaryAnalysis.period``; every check reads
   its 5xx rate and p99 latency since it became Available. Above a limit: rolled back.
3. ``Promoting``: the period held within the limits: the stable Deployment moves to the new
   tag (rolling update, never below its count); the canary is removed once the stable one is
   Available again. The outcome is ``Promoted``.

Rolled back: the canary is removed, the old tag keeps serving, and the outcome
(``RolledBack``, tag, reason) is recorded on the stable Deployment, so the same tag is not
tried again; a newer champion is. With ``canaryPercent`` 0 (or nothing serving yet) the
stable Deployment moves to the new tag directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from lineops.backends.serving.manifests import canary_replicas, canary_share
from lineops.backends.serving.protocol import CanaryState, Phase

PROGRESSING: Final = "Progressing"
PROMOTED: Final = "Promoted"
ROLLED_BACK: Final = "RolledBack"
WAITING: Final = "WaitingForAvailable"
ANALYSING: Final = "Analysing"
PROMOTING: Final = "Promoting"
MIN_WINDOW: Final = 30.0  # seconds: a rate needs a few scrapes


def rfc3339(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class Workload:
    """One Deployment as observed: its tag, desired and available Pods, whether its rollout
    is complete and every Pod available, and since when (its Available condition)."""

    tag: str
    replicas: int
    available_replicas: int
    available: bool
    available_since: float | None = None
    created: float | None = None


@dataclass(frozen=True)
class Record:
    """The last canary's outcome, kept on the stable Deployment."""

    state: str
    tag: str
    since: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "tag": self.tag, "since": self.since, "reason": self.reason}


@dataclass(frozen=True)
class Want:
    tag: str
    replicas: int
    canary_percent: int
    period: float
    max_error_rate: float
    max_latency_p99: float


@dataclass(frozen=True)
class Measurement:
    """The canary's 5xx share and p99 latency (seconds) over ``window`` seconds; None where
    there were no requests to measure."""

    error_rate: float | None
    latency_p99: float | None
    window: float


@dataclass(frozen=True)
class NoMetrics:
    """Nothing to measure with (no Prometheus configured): promote on readiness and the
    period alone."""

    why: str


@dataclass(frozen=True)
class MetricsFailed:
    """The metrics source did not answer: hold (neither promote nor roll back blind)."""

    why: str


Verdict = Measurement | NoMetrics | MetricsFailed


@dataclass(frozen=True)
class Plan:
    """What to apply: the stable Deployment's tag (and the record it carries), the canary
    (tag, replicas) or None to remove it; and what to report."""

    stable_tag: str
    canary: tuple[str, int] | None
    record: Record | None
    phase: Phase
    serving: str | None
    pending: str | None
    message: str
    waiting: str | None = None
    canary_state: CanaryState | None = None
    wake_after: float | None = None  # seconds until the next look (None: nothing pending)
    measure: bool = False  # the caller should measure the canary and decide again


def _state(record: Record | None) -> CanaryState | None:
    if record is None:
        return None
    return CanaryState(record.state, record.tag, record.since, record.reason)


def _count(w: Workload) -> str:
    return f"{w.available_replicas}/{w.replicas} Pods available"


def decide(
    want: Want,
    stable: Workload | None,
    canary: Workload | None,
    record: Record | None,
    now: float,
    verdict: Verdict | None = None,
    *,
    poll: float = 2.0,
    check_every: float = 10.0,
    start_timeout: float = 600.0,
) -> Plan:
    """The next step. ``verdict`` is the canary's measurement when it is Analysing (the
    caller measures when a first call answers ``measure=True`` and decides again)."""
    tag = want.tag
    if stable is None:
        return Plan(
            tag,
            None,
            record,
            "Starting",
            None,
            tag,
            f"{tag} starting",
            waiting="its Deployment to be created",
            canary_state=_state(record),
            wake_after=poll,
        )
    if stable.tag == tag:
        # Promoted (or rolled out directly): the canary goes once the stable one is back.
        keep = canary if canary is not None and not stable.available else None
        if stable.available:
            return Plan(
                tag,
                None,
                record,
                "Serving",
                tag,
                None,
                f"{tag}: {_count(stable)}",
                canary_state=_state(record),
            )
        return Plan(
            tag,
            None if keep is None else (keep.tag, keep.replicas),
            record,
            "Starting",
            None if stable.available_replicas == 0 else tag,
            tag,
            f"{tag} rolling out",
            waiting=f"its Deployment: {_count(stable)}",
            canary_state=_state(record),
            wake_after=poll,
        )
    old = stable.tag
    if record is not None and record.state == ROLLED_BACK and record.tag == tag:
        # Also after spec.serving.replicas went 0 and back (the stable Deployment was kept at
        # 0 Pods with this record): the tag judged bad is not rolled out without a canary.
        up = stable.available and stable.available_replicas > 0
        return Plan(
            old,
            None,
            record,
            "Serving",
            old if stable.available_replicas else None,
            None,
            f"{tag} was rolled back ({record.reason}); {old} keeps serving"
            + ("" if up else f" once its Deployment is available ({_count(stable)})"),
            canary_state=_state(record),
            wake_after=None if up else poll,
        )
    if want.canary_percent == 0 or stable.available_replicas == 0:
        # Nothing to compare against (or no canary asked for): a rolling update.
        return Plan(
            tag,
            None,
            record,
            "Starting",
            old if stable.available_replicas else None,
            tag,
            f"{tag} rolling out",
            waiting=f"its Deployment: {_count(stable)}",
            canary_state=_state(record),
            wake_after=poll,
        )
    pods = canary_replicas(stable.replicas, want.canary_percent)
    share = canary_share(stable.replicas, pods)
    split = (
        f"{pods} canary Pod(s) beside {stable.replicas} stable: {share:.0%} of the Service's "
        f"Pods for canaryPercent {want.canary_percent}"
    )

    def progressing(step: str, since: float, reason: str, wake: float, measure: bool) -> Plan:
        state = CanaryState(PROGRESSING, tag, rfc3339(since), reason, step)
        return Plan(
            old,
            (tag, pods),
            record,
            "Canary",
            old,
            tag,
            f"canary {tag}: {reason}",
            canary_state=state,
            wake_after=wake,
            measure=measure,
        )

    def rolled_back(reason: str) -> Plan:
        done = Record(ROLLED_BACK, tag, rfc3339(now), reason)
        return Plan(
            old,
            None,
            done,
            "Serving",
            old,
            None,
            f"{tag} was rolled back ({reason}); {old} keeps serving",
            canary_state=_state(done),
        )

    if canary is None or canary.tag != tag:
        return progressing(WAITING, now, f"created; {split}", poll, False)
    created = canary.created or now
    if not canary.available:
        if now - created > start_timeout:
            return rolled_back(f"not Available within {start_timeout:g} s ({_count(canary)})")
        return progressing(
            WAITING, created, f"waiting for Available ({_count(canary)}); {split}", poll, False
        )
    since = canary.available_since or created
    held = max(now - since, 0.0)
    if verdict is None:
        return progressing(ANALYSING, since, "measuring", poll, True)
    limits = f"maxErrorRate {want.max_error_rate:g}, maxLatencyP99Seconds {want.max_latency_p99:g}"
    if isinstance(verdict, MetricsFailed):
        return progressing(
            ANALYSING,
            since,
            f"held {held:.0f} s of {want.period:g} s; metrics unavailable ({verdict.why}), "
            "holding until they answer",
            check_every,
            False,
        )
    if isinstance(verdict, Measurement):
        if verdict.error_rate is not None and verdict.error_rate > want.max_error_rate:
            return rolled_back(
                f"error rate {verdict.error_rate:.4g} above maxErrorRate "
                f"{want.max_error_rate:g} over {verdict.window:.0f} s"
            )
        if verdict.latency_p99 is not None and verdict.latency_p99 > want.max_latency_p99:
            return rolled_back(
                f"p99 latency {verdict.latency_p99:.4g} s above maxLatencyP99Seconds "
                f"{want.max_latency_p99:g} over {verdict.window:.0f} s"
            )
        measured = (
            "no requests measured"
            if verdict.error_rate is None and verdict.latency_p99 is None
            else f"error rate {_fmt(verdict.error_rate)}, p99 {_fmt(verdict.latency_p99, ' s')}"
        )
    else:
        measured = f"not measured ({verdict.why}): promoted on readiness and the period alone"
    if held < want.period:
        return progressing(
            ANALYSING,
            since,
            f"held {held:.0f} s of {want.period:g} s; {measured} ({limits}); {split}",
            min(check_every, max(want.period - held, 0.5)),
            False,
        )
    done = Record(
        PROMOTED,
        tag,
        rfc3339(now),
        f"held {want.period:g} s Available; {measured} ({limits})",
    )
    return Plan(
        tag,
        (tag, pods),  # kept until the stable Deployment runs the new tag
        done,
        "Canary",
        old,
        tag,
        f"canary {tag} promoted; the stable Deployment moves to it",
        canary_state=CanaryState(PROGRESSING, tag, rfc3339(now), done.reason, PROMOTING),
        wake_after=poll,
    )


def window(canary: Workload, now: float) -> float:
    """Seconds of the canary's life to measure: since it became Available (at least
    MIN_WINDOW, so a rate has a few scrapes)."""
    since = canary.available_since or canary.created or now
    return max(now - since, MIN_WINDOW)


def _fmt(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.4g}{unit}"
