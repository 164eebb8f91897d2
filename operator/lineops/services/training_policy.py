"""Pure training decisions: run ids, retries with backoff, cooldown, and what triggers a run.

Every run id is derived from the training request's name plus what triggered it, so a
restarted operator recomputes the same id and the backend's idempotent submit returns the run
already made instead of starting a second one:

* ``<request>``            the first run for a spec hash;
* ``<request>-s<slot>``    the cron slot of ``spec.training.schedule`` (read in the line's time
                           zone), as ``YYYYMMDDHHMM`` in UTC;
* ``<request>-e<window>``  an SPC or drift trigger, in the cooldown window it fell into;
* ``...-a<n>``             the n-th attempt after failures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from lineops.api.qualitymodel import QualityModelStatus
from lineops.services.status import read_status
from lineops.services.training_cron import Cron, slot_id, zone_of
from lineops.settings import Settings

IN_FLIGHT: Final = ("Pending", "Running")
_ATTEMPT: Final = re.compile(r"^(.*)-a([0-9]+)$")
TriggerKind = Literal["spec", "schedule", "spc", "drift"]


@dataclass(frozen=True)
class TrainingPolicy:
    max_attempts: int = 3
    retry_seconds: float = 30.0  # first retry delay; doubles per attempt
    retry_max_seconds: float = 900.0
    poll_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainingPolicy:
        return cls(
            max_attempts=settings.training_max_attempts,
            retry_seconds=settings.training_retry_seconds,
            retry_max_seconds=settings.training_retry_max_seconds,
            poll_seconds=settings.training_poll_seconds,
        )

    def backoff(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt ``failed_attempt`` failed, before the next one."""
        return float(min(self.retry_seconds * 2.0 ** (failed_attempt - 1), self.retry_max_seconds))


def split_attempt(run_id: str) -> tuple[str, int]:
    match = _ATTEMPT.match(run_id)
    return (match.group(1), int(match.group(2))) if match else (run_id, 1)


def attempt_id(base: str, attempt: int) -> str:
    return base if attempt == 1 else f"{base}-a{attempt}"


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def needs_polling(status: Mapping[str, Any], policy: TrainingPolicy) -> bool:
    """Whether the short poll timer has work (a run in flight or a retry still to come),
    from the object's ``status``."""
    training = read_status(QualityModelStatus, status).training
    state, run_id = (None, None) if training is None else (training.state, training.run_id)
    if not run_id:
        return False
    if state in IN_FLIGHT:
        return True
    return state == "Failed" and split_attempt(run_id)[1] < policy.max_attempts


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    run_id: str
    why: str


def retry_due(
    run_id: str, finished_at: str | None, policy: TrainingPolicy, now: datetime
) -> tuple[str, float] | None:
    """``(next run id, seconds until due)`` after a failure, or None when attempts are spent."""
    base, attempt = split_attempt(run_id)
    if attempt >= policy.max_attempts:
        return None
    finished = parse_time(finished_at) or now
    wait = (finished + timedelta(seconds=policy.backoff(attempt)) - now).total_seconds()
    return attempt_id(base, attempt + 1), max(0.0, wait)


def retry_at(run_id: str, finished_at: str | None, policy: TrainingPolicy) -> str | None:
    """When the next attempt after a failed ``run_id`` is due (RFC 3339), None when attempts
    are spent or the run's end is not known."""
    _, attempt = split_attempt(run_id)
    finished = parse_time(finished_at)
    if attempt >= policy.max_attempts or finished is None:
        return None
    due = finished + timedelta(seconds=policy.backoff(attempt))
    return due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_window(now: datetime, cooldown_seconds: float) -> str:
    """The cooldown window ``now`` falls into, as ``YYYYMMDDHHMM`` of its start."""
    span = max(60.0, cooldown_seconds)
    start = datetime.fromtimestamp(now.timestamp() // span * span, UTC)
    return slot_id(start)


@dataclass(frozen=True)
class LineSignals:
    """What the line's status says right now (the retrainOn inputs)."""

    out_of_control: bool = False
    drift_psi: float | None = None


def next_trigger(
    request: str,
    last_started: datetime | None,
    schedule: str | None,
    spc_alert: bool,
    drift_limit: float | None,
    cooldown_seconds: float,
    signals: LineSignals,
    now: datetime,
    timezone: str | None = None,
) -> tuple[Trigger | None, str]:
    """After a successful run: the next run to start, if any, and why not otherwise.

    ``timezone`` is the line's (``spec.schedule.timezone``): cron fields are local wall time."""
    if schedule:
        zone, note = zone_of(timezone)
        slot = Cron.parse(schedule).latest(now, zone)
        if slot is not None and (last_started is None or slot > last_started):
            local = slot.astimezone(zone)
            when = local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")
            if note:
                when += f" ({note})"
            return Trigger("schedule", f"{request}-s{slot_id(slot)}", f"schedule slot {when}"), ""
    event: tuple[TriggerKind, str] | None = None
    if spc_alert and signals.out_of_control:
        event = ("spc", "the line's control charts are out of control (status.spc.inControl)")
    elif (
        drift_limit is not None
        and signals.drift_psi is not None
        and signals.drift_psi > drift_limit
    ):
        event = ("drift", f"drift PSI {signals.drift_psi:g} above {drift_limit:g}")
    if event is None:
        return None, ""
    if last_started is not None:
        ready_at = last_started + timedelta(seconds=cooldown_seconds)
        if now < ready_at:
            # An absolute time: "for another 3599s" changed the status on every reconcile.
            until = ready_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return None, f"{event[1]}; retraining held by the cooldown until {until}"
    run_id = f"{request}-e{event_window(now, cooldown_seconds)}"
    return Trigger(event[0], run_id, event[1]), ""
