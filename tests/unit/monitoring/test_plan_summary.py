"""The current plan as a line's status shows it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from lineops.services.monitoring.plan_summary import summarise_plan

STORED = {
    "id": 7,
    "createdAt": "2026-12-01T08:00:00+00:00",
    "method": "cp-sat",
    "end": "2026-12-10T20:00:00+01:00",
    "weightedTardiness": 5400,
    "lateOrders": 1,  # as the data plane counted it from tardiness
    "plan": {
        "schedule": [{"order": order, "index": 0} for order in ("WO-1", "WO-2", "WO-3")],
        "tardiness": {"WO-1": 0, "WO-2": 3600, "WO-3": 0},
        "lateOrders": ["WO-2", "WO-3"],  # the client's list, not trusted
        "blocked": [
            {  # the line's nights: blocked for the planner, but no maintenance
                "workUnit": "press-01",
                "start": "2026-12-01T22:00:00+01:00",
                "end": "2026-12-02T06:00:00+01:00",
                "reason": "off shift",
            },
            {
                "workUnit": "grinder-01",
                "start": "2026-12-09T11:00:00+01:00",
                "end": "2026-12-09T14:00:00+01:00",
                "reason": "predicted spindle bearing failure (p=0.82)",
            },
            {
                "workUnit": "press-01",
                "start": "2026-12-08T22:00:00+01:00",
                "end": "2026-12-09T02:00:00+01:00",
                "reason": "planned die maintenance",
            },
        ],
    },
}


def test_counts_and_the_first_window_not_yet_over() -> None:
    before = summarise_plan(STORED, datetime(2026, 12, 1, tzinfo=UTC))
    assert (before.plan_id, before.orders, before.orders_late) == (7, 3, 1)
    assert before.weighted_tardiness == 5400
    assert before.next_maintenance is not None
    assert before.next_maintenance.work_unit == "press-01"  # the earlier of the two
    assert before.next_maintenance.reason == "planned die maintenance"  # not the night
    during = summarise_plan(STORED, datetime(2026, 12, 9, 0, 30, tzinfo=UTC))
    assert during.next_maintenance is not None and during.next_maintenance.work_unit == "press-01"
    after = summarise_plan(STORED, datetime(2026, 12, 9, 1, 30, tzinfo=UTC))
    assert after.next_maintenance is not None
    assert after.next_maintenance.reason.startswith("predicted spindle")
    assert summarise_plan(STORED, datetime(2026, 12, 31, tzinfo=UTC)).next_maintenance is None


def test_a_plan_stored_before_times_were_normalised_reads_as_rfc_3339() -> None:
    # Stored as sent once: any ISO 8601 form; the status (RFC 3339 only) refused it on every
    # tick. A window's reason sent as null is no reason, not the text "None".
    old = {**STORED, "end": "2026-12-10 20:23:21+01:00", "plan": copy.deepcopy(STORED["plan"])}
    old["plan"]["blocked"][2]["reason"] = None
    summary = summarise_plan(old, datetime(2026, 12, 1, tzinfo=UTC))
    assert summary.end == "2026-12-10T20:23:21+01:00"
    assert summary.next_maintenance is not None and summary.next_maintenance.reason == ""
