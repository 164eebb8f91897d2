"""The Gantt chart's times are elapsed time from the plan's start, also across a DST change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lineops.services.reports.gantt import Bar, Blocked, GanttContent, gantt_figure


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


def test_interactive_bars_across_the_autumn_change_end_where_their_hover_says() -> None:
    # plotly.js reads an ISO time's clock and drops its offset; a bar's length is elapsed
    # milliseconds. Bars are drawn on the local clock: both ends local, length their
    # difference, so an 8-hour operation from 22:00 CEST ends at 05:00 (CET) on the axis.
    origin = datetime(2026, 10, 24, 22, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    eight_hours = 8 * 3600
    content = GanttContent(
        "line",
        ["press-01"],
        [Bar("press-01", "WO-1", 0, 0, eight_hours, "#1f77b4", False)],
        [Blocked("press-01", eight_hours, eight_hours + 3600, "maintenance")],
        {"WO-1": 0},
        {"WO-1": None},
        {"press-01": 0.9},
        [],
        origin,
    )
    fig = gantt_figure(content)
    drawn = {}
    for trace in fig.data:
        for base, length, text in zip(trace.base, trace.x, trace.text, strict=True):
            start = datetime.fromisoformat(base)
            assert start.tzinfo is None  # an offset would be dropped by plotly.js anyway
            drawn[text.split(" ")[0]] = (start, start + timedelta(milliseconds=length))
    assert drawn["WO-1"] == (datetime(2026, 10, 24, 22, 0), datetime(2026, 10, 25, 5, 0))
    assert drawn["maintenance"] == (datetime(2026, 10, 25, 5, 0), datetime(2026, 10, 25, 6, 0))
    hover = next(t for t in fig.data if t.name == "WO-1").text[0]
    assert "2026-10-24T22:00+02:00 - 2026-10-25T05:00+01:00 (8h00m)" in hover


def test_a_bar_inside_the_repeated_autumn_hour_is_not_drawn_backwards() -> None:
    # 02:40 CEST + 30 min is 02:10 CET: the clock runs back, and the bar was -30 min long,
    # drawn leftwards over earlier work. It keeps its real length.
    origin = datetime(2026, 10, 25, 2, 40, tzinfo=ZoneInfo("Europe/Berlin"))
    content = GanttContent(
        "line",
        ["press-01"],
        [Bar("press-01", "WO-1", 0, 0, 1800, "#1f77b4", False)],
        [],
        {"WO-1": 0},
        {"WO-1": None},
        {"press-01": 0.5},
        [],
        origin,
    )
    bar = next(t for t in gantt_figure(content).data if t.name == "WO-1")
    assert list(bar.x) == [1800 * 1000]
