from __future__ import annotations

import re

import pytest
from lineops.api import reasons
from lineops.api.conditions import (
    CONDITION_TYPE_PATTERN,
    MAX_MESSAGE,
    REASON_PATTERN,
    Condition,
    find_condition,
    now_rfc3339,
    set_condition,
)
from pydantic import ValidationError

T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-02T00:00:00Z"


def test_set_condition_appends_a_new_type() -> None:
    conditions = set_condition([], "Ready", "True", "Reconciled", now=T0)
    assert conditions == [
        Condition(type="Ready", status="True", reason="Reconciled", last_transition_time=T0)
    ]


def test_same_status_keeps_the_transition_time() -> None:
    first = set_condition([], "Ready", "False", "Pending", "waiting", now=T0)
    second = set_condition(first, "Ready", "False", "LineNotFound", "no line", now=T1)
    assert second[0].last_transition_time == T0
    assert (second[0].reason, second[0].message) == ("LineNotFound", "no line")


def test_status_change_moves_the_transition_time_and_keeps_order() -> None:
    conditions = set_condition([], "Ready", "False", "Pending", now=T0)
    conditions = set_condition(conditions, "Trained", "False", "NotTrained", now=T0)
    conditions = set_condition(conditions, "Ready", "True", "Reconciled", now=T1)
    assert [c.type for c in conditions] == ["Ready", "Trained"]
    ready = find_condition(conditions, "Ready")
    assert ready is not None and ready.last_transition_time == T1
    assert find_condition(conditions, "Serving") is None


def test_condition_dumps_like_metav1_condition() -> None:
    (cond,) = set_condition([], "Ready", "True", "Reconciled", observed_generation=3, now=T0)
    assert cond.model_dump(mode="json") == {
        "type": "Ready",
        "status": "True",
        "reason": "Reconciled",
        "message": "",
        "lastTransitionTime": T0,
        "observedGeneration": 3,
    }


def test_now_is_rfc3339() -> None:
    Condition(type="Ready", status="True", reason="Reconciled", last_transition_time=now_rfc3339())


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "Maybe"},
        {"reason": "not camel case"},
        {"reason": ""},
        {"last_transition_time": "yesterday"},
        {"type": "Ready!"},
    ],
)
def test_condition_validation(fields: dict[str, str]) -> None:
    base = {"type": "Ready", "status": "True", "reason": "Reconciled", "last_transition_time": T0}
    with pytest.raises(ValidationError):
        Condition.model_validate({**base, **fields})


def _constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(reasons).items()
        if name.isupper() and isinstance(value, str)
    }


def test_reasons_and_types_are_valid_and_distinct_names() -> None:
    values = _constants()
    for name, value in values.items():
        assert re.match(REASON_PATTERN, value), name
        assert re.match(CONDITION_TYPE_PATTERN, value), name
        assert value[0].isupper(), name
    assert {"Reconciled", "InvalidSpec", "LineNotFound", "TrainingRequested", "Pending"} <= set(
        values.values()
    )


def test_condition_types() -> None:
    assert set(reasons.CONDITION_TYPES) == {
        "Ready",
        "FeaturesReady",
        "IngestionReady",
        "MonitoringReady",
        "InControl",
        "Trained",
        "Serving",
        "PromotionBlocked",
        "SpecValid",
    }


def test_a_message_of_any_length_is_clipped_not_refused() -> None:
    # A Feast exception of 40 KB made Condition() raise: the reconcile wrote no status.
    long = "x" * 40_000
    (cond,) = set_condition([], "Ready", "False", "BackendError", long, now=T0)
    assert len(cond.message) == MAX_MESSAGE
    assert cond.message.endswith(f"({40_000 - MAX_MESSAGE} more characters)")
    short = set_condition([], "Ready", "True", "Reconciled", "fine", now=T0)[0]
    assert short.message == "fine"
