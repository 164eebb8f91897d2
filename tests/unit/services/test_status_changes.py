"""Which status fields a reconcile's merge patch would change, as the API server applies it
(``lineops.services.status.changed_fields``): a reconcile that changes nothing sends no status
PATCH, also when a part written whole names its unset fields as null."""

from __future__ import annotations

from lineops.api.qualitymodel import QualityModelStatus, ServingStatus
from lineops.services.status import changed_fields, merge_patch


def test_a_part_written_whole_with_nulls_is_unchanged_once_stored() -> None:
    update = QualityModelStatus(
        serving=ServingStatus(state="Waiting", since="2026-11-30T01:00:00Z")
    )
    patch = merge_patch(update)
    assert None in patch["serving"].values()  # written whole: its unset fields as null
    # What the API server stores after applying it: no null fields.
    stored = {"serving": {k: v for k, v in patch["serving"].items() if v is not None}}
    assert changed_fields(stored, patch) == {}
    # Before it is stored, and when a field it clears is still there, it is a change.
    assert changed_fields({}, patch) == patch
    stale = {"serving": {**stored["serving"], "endpoint": "http://old"}}
    assert changed_fields(stale, patch) == patch


def test_removal_and_values() -> None:
    current = {"challenger": {"version": "v1"}, "observedGeneration": 2, "conditions": [{"a": 1}]}
    assert changed_fields(current, {"challenger": None}) == {"challenger": None}
    assert changed_fields({}, {"challenger": None}) == {}
    assert changed_fields(current, {"observedGeneration": 2, "conditions": [{"a": 1}]}) == {}
    assert changed_fields(current, {"conditions": [{"a": 2}]}) == {"conditions": [{"a": 2}]}
    # A nested merge keeps what the patch does not name: unchanged if the named parts are.
    current = {"training": {"state": "Requested", "runId": "r-1"}}
    assert changed_fields(current, {"training": {"state": "Requested"}}) == {}
    assert changed_fields(current, {"training": {"state": "Running"}}) != {}
