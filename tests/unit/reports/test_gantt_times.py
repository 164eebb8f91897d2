"""The Gantt chart's times are elapsed time from the plan's start, also across a DST change."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lineops.services.reports.gantt import GanttContent


def _content(origin: datetime) -> GanttContent:
    return GanttContent("line", [], [], [], {}, {}, {}, [], origin)


def test_a_time_after_the_autumn_change_is_the_plans_instant() -> None:
    # 22:00 CEST on the night Berlin's clocks go back: eight hours later it is 05:00 CET
    # (04:00 UTC), not the 06:00 wall-clock addition would print.
    origin = datetime(2026, 10, 24, 22, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    when = _content(origin).when(8 * 3600)
    assert isinstance(when, datetime)
    assert when.astimezone(UTC) == datetime(2026, 10, 25, 4, 0, tzinfo=UTC)
    assert _content(origin).stamp(8 * 3600) == "2026-10-25T05:00+01:00"


def test_without_an_origin_times_stay_numbers() -> None:
    content = GanttContent("jssp", [], [], [], {}, {}, {}, [], None)
    assert content.when(42) == 42 and content.stamp(42) == "42"
