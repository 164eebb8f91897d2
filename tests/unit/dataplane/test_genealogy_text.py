"""The text `lineops lots trace` prints for a maintenance record, with and without a reason
(the data plane accepts maintenance records that give none)."""

from __future__ import annotations

from lineops.cli.genealogy_cmd import _reason_and


def test_a_maintenance_record_without_a_reason_shows_only_its_start() -> None:
    start = "2026-11-02T06:00:00+00:00"
    assert _reason_and({"reason": "bearing", "start": start}) == f"bearing, {start}"
    assert _reason_and({"reason": None, "start": start}) == start
    assert _reason_and({"reason": "", "start": start}) == start
