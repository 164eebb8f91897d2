"""Run ids, retries with backoff, cooldown and the retrain triggers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lineops.services.training_policy import (
    LineSignals,
    TrainingPolicy,
    attempt_id,
    event_window,
    needs_polling,
    next_trigger,
    retry_due,
    split_attempt,
)

NOW = datetime(2025, 3, 10, 10, 30, tzinfo=UTC)
POLICY = TrainingPolicy(max_attempts=3, retry_seconds=30)


def _trigger(**kw: object) -> tuple[object, str]:
    args: dict[str, object] = dict(
        request="m-train-abc",
        last_started=NOW - timedelta(hours=5),
        schedule=None,
        spc_alert=False,
        drift_limit=None,
        cooldown_seconds=3600.0,
        signals=LineSignals(),
        now=NOW,
    )
    args.update(kw)
    return next_trigger(**args)  # type: ignore[arg-type]


def test_attempt_ids_round_trip() -> None:
    assert split_attempt("m-train-abc") == ("m-train-abc", 1)
    assert split_attempt("m-train-abc-a3") == ("m-train-abc", 3)
    assert attempt_id("m-train-abc", 1) == "m-train-abc"
    assert attempt_id("m-train-abc-s202503100300", 2) == "m-train-abc-s202503100300-a2"


def test_retries_back_off_exponentially_and_stop() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert TrainingPolicy(retry_seconds=600).backoff(5) == 900.0  # capped
    finished = (NOW - timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert retry_due("r", finished, POLICY, NOW) == ("r-a2", 20.0)
    assert retry_due("r-a2", finished, POLICY, NOW) == ("r-a3", 50.0)
    assert retry_due("r-a3", finished, POLICY, NOW) is None


def test_only_runs_in_flight_or_with_retries_left_are_polled() -> None:
    def status(state: str, run: str = "r") -> dict[str, object]:
        return {"training": {"state": state, "runId": run}}

    assert needs_polling(status("Running"), POLICY)
    assert needs_polling(status("Pending"), POLICY)
    assert needs_polling(status("Failed", "r-a2"), POLICY)
    assert not needs_polling(status("Failed", "r-a3"), POLICY)
    assert not needs_polling(status("Succeeded"), POLICY)
    assert not needs_polling({}, POLICY)


def test_schedule_slot_after_the_last_run_triggers_once_with_a_slot_id() -> None:
    trigger, _ = _trigger(schedule="0 8 * * *")
    assert trigger is not None and trigger.kind == "schedule"  # type: ignore[attr-defined]
    assert trigger.run_id == "m-train-abc-s202503100800"  # type: ignore[attr-defined]
    # The slot's own run started after the slot: nothing more until the next slot.
    again, _ = _trigger(schedule="0 8 * * *", last_started=NOW - timedelta(hours=2, minutes=29))
    assert again is None


def test_schedule_is_read_in_the_lines_time_zone() -> None:
    # NOW is 10:30 UTC = 11:30 in Berlin: "0 11 * * *" Berlin time has passed (10:00 UTC),
    # while in UTC it would still be yesterday's 11:00.
    trigger, _ = _trigger(schedule="0 11 * * *", timezone="Europe/Berlin")
    assert trigger.run_id == "m-train-abc-s202503101000"  # type: ignore[attr-defined]
    assert "2025-03-10 11:00 CET" in trigger.why  # type: ignore[attr-defined]
    utc, _ = _trigger(schedule="0 11 * * *")
    assert utc is None  # yesterday 11:00 UTC is before the last run (05:30 UTC)
    unknown, _ = _trigger(schedule="0 8 * * *", timezone="Nowhere/Atlantis")
    assert "unknown time zone 'Nowhere/Atlantis'" in unknown.why  # type: ignore[attr-defined]


def test_spc_alert_respects_cooldown_and_names_the_window() -> None:
    out = LineSignals(out_of_control=True)
    trigger, _ = _trigger(spc_alert=True, signals=out)
    assert trigger.run_id == "m-train-abc-e202503101000"  # type: ignore[attr-defined]
    waiting, why = _trigger(spc_alert=True, signals=out, last_started=NOW - timedelta(minutes=20))
    # Until a time, not "for another 2400s": the same text on every reconcile, no PATCH.
    assert waiting is None and why.endswith("held by the cooldown until 2025-03-10T11:10:00Z")
    _, later = _trigger(spc_alert=True, signals=out, last_started=NOW - timedelta(minutes=20))
    assert later == why
    ignored, _ = _trigger(spc_alert=False, signals=out)
    assert ignored is None


def test_drift_above_the_limit_triggers() -> None:
    assert _trigger(drift_limit=0.25, signals=LineSignals(drift_psi=0.2))[0] is None
    trigger, _ = _trigger(drift_limit=0.25, signals=LineSignals(drift_psi=0.31))
    assert trigger.kind == "drift"  # type: ignore[attr-defined]


def test_event_windows_are_stable_within_the_cooldown() -> None:
    assert event_window(NOW, 3600) == event_window(NOW + timedelta(minutes=29), 3600)
    assert event_window(NOW, 3600) != event_window(NOW + timedelta(minutes=30), 3600)
    assert event_window(NOW, 0) == "202503101030"
