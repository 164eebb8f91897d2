from __future__ import annotations

from lineops.services.conditions import ConditionSet

OLD = [
    {
        "type": "Ready",
        "status": "True",
        "reason": "Reconciled",
        "message": "fine",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": 1,
    }
]


def test_same_status_keeps_transition_time_but_updates_generation_and_message() -> None:
    conds = ConditionSet(OLD, generation=2)
    conds.set("Ready", "True", "Reconciled", "still fine")
    (ready,) = conds.dump()
    assert ready["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert ready["observedGeneration"] == 2
    assert ready["message"] == "still fine"
    assert not conds.transitioned("Ready")


def test_status_change_moves_transition_time() -> None:
    conds = ConditionSet(OLD, generation=2)
    conds.set("Ready", "False", "InvalidSpec", "spec.site: bad")
    (ready,) = conds.dump()
    assert ready["lastTransitionTime"] != "2026-01-01T00:00:00Z"
    assert conds.transitioned("Ready")


def test_new_condition_is_appended_and_counts_as_transition() -> None:
    conds = ConditionSet(OLD, generation=1)
    conds.set("SpecValid", "True", "Reconciled")
    assert [c["type"] for c in conds.dump()] == ["Ready", "SpecValid"]
    assert conds.transitioned("SpecValid")
    assert not conds.transitioned("Ready")


def test_unparseable_existing_entries_are_replaced_not_fatal() -> None:
    conds = ConditionSet([{"type": "Ready", "status": "Maybe"}], generation=1)
    conds.set("Ready", "True", "Reconciled")
    assert conds.dump()[0]["status"] == "True"
