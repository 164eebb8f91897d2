"""The Gantt chart's PNG and page: blocked windows within the plan, a readable time axis for
long plans, order ids and reasons drawn as typed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lineops.planning.problem import Alternative, Job, Operation, Problem, Window
from lineops.planning.schedule import Assignment, Method, Schedule
from lineops.services.reports.gantt import (
    MAX_TICKS,
    gantt_content,
    gantt_page,
    gantt_png,
    tick_hours,
    write_gantt,
)
from matplotlib.figure import Figure
from matplotlib.text import Text

HOUR = 3600
DAY = 24 * HOUR
ORIGIN = datetime(2026, 10, 19, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def _plan(
    jobs: list[tuple[str, str, int, int]], blocked: tuple[Window, ...] = ()
) -> tuple[Problem, Schedule]:
    """One single-operation order per (order, work unit, start, end)."""
    problem = Problem(
        jobs=tuple(
            Job(name, (Operation((Alternative(unit, end - start),)),), due=end)
            for name, unit, start, end in jobs
        ),
        work_units=tuple(dict.fromkeys(unit for _, unit, _, _ in jobs)),
        blocked=blocked,
    )
    schedule = Schedule(
        tuple(Assignment(name, 0, unit, start, end) for name, unit, start, end in jobs),
        Method.EDD,
        "dispatch",
    )
    return problem, schedule


def test_blocked_windows_before_the_plan_start_are_left_out(tmp_path: Path) -> None:
    problem, schedule = _plan(
        [("WO-1", "press-01", 0, 8 * HOUR)],
        (
            Window("press-01", -16 * HOUR, -8 * HOUR, "night shift before the plan"),
            Window("press-01", -2 * HOUR, 2 * HOUR, "maintenance over the start"),
            Window("press-01", 4 * HOUR, 5 * HOUR, "break"),
        ),
    )
    content = gantt_content("line", problem, schedule, ORIGIN)
    assert [(b.start, b.end, b.reason) for b in content.blocked] == [
        (0, 2 * HOUR, "maintenance over the start"),
        (4 * HOUR, 5 * HOUR, "break"),
    ]
    page = gantt_page(content)
    assert "night shift before the plan" not in page
    assert "maintenance over the start (2026-10-19T06:00+02:00 - " in page


@pytest.mark.parametrize("days", [1, 3, 10, 21, 60, 400])
def test_the_png_time_axis_has_at_most_twelve_ticks(
    tmp_path: Path, drawn: list[Figure], days: int
) -> None:
    problem, schedule = _plan(
        [("WO-1", "press-01", 0, 4 * HOUR), ("WO-2", "grinder-01", 8 * HOUR, days * DAY)]
    )
    gantt_png(gantt_content("line", problem, schedule, ORIGIN), tmp_path / "plan.png")
    (ax,) = drawn[-1].axes
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert 3 <= len(ticks) <= MAX_TICKS


def test_tick_steps_are_whole_hours_days_or_weeks() -> None:
    assert tick_hours(10) == 1
    assert tick_hours(36) == 4
    assert tick_hours(21 * 24) == 48
    assert tick_hours(10 * 7 * 24) == 168
    assert tick_hours(60 * 7 * 24) % 168 == 0 and 60 * 7 * 24 / tick_hours(60 * 7 * 24) <= 11


def test_order_ids_and_reasons_with_dollars_are_drawn_as_typed(
    tmp_path: Path, drawn: list[Figure]
) -> None:
    problem, schedule = _plan(
        [("Cust $#12$ rush", "press-$_$", 0, 4 * HOUR)],
        (Window("press-$_$", 5 * HOUR, 6 * HOUR, "$_$ pay rise meeting"),),
    )
    artifact = write_gantt(gantt_content("Plan $_$", problem, schedule, ORIGIN), tmp_path)
    assert artifact.png.read_bytes()[:4] == b"\x89PNG"
    texts = [t for t in drawn[-1].findobj(Text) if isinstance(t, Text) and "$" in t.get_text()]
    shown = {t.get_text() for t in texts}
    assert {"Cust $#12$ rush", "press-$_$"} <= shown
    assert any(s.startswith("Plan $_$: production plan") for s in shown)
    assert all(not t.get_parse_math() for t in texts)
