"""A changeover is work on the work unit: it may not fall inside a blocked window
(maintenance, off shift), and the checker, CP-SAT's model and the dispatch rules agree."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lineops.planning import (
    Alternative,
    Assignment,
    Job,
    Method,
    Objective,
    Operation,
    Problem,
    Schedule,
    SolveOptions,
    Window,
    dispatch,
    solve,
    violations,
)


def _two_products(window: tuple[int, int] = (10, 20), changeover: int = 10) -> Problem:
    """Two 10-long operations of different products on one unit, a changeover between
    them either way, and a window right where the first one ends."""
    return Problem(
        jobs=(
            Job("a", (Operation((Alternative("u", 10),)),), product="pa", due=0),
            Job("b", (Operation((Alternative("u", 10),)),), product="pb", due=0),
        ),
        work_units=("u",),
        blocked=(Window("u", window[0], window[1], "maintenance"),),
        changeovers={("u", "pa", "pb"): changeover, ("u", "pb", "pa"): changeover},
    )


def _plan(*placed: tuple[str, int, int]) -> Schedule:
    return Schedule(
        assignments=tuple(Assignment(job, 0, "u", start, end) for job, start, end in placed),
        method=Method.EDD,
        status="dispatch",
    )


def test_the_checker_names_a_changeover_inside_a_window() -> None:
    problem = _two_products()
    # The operations keep clear of the window, but the changeover is all inside it.
    found = violations(problem, _plan(("a", 0, 10), ("b", 20, 30)))
    assert found == [
        "u: the changeover of 10 before order b, operation 0 (between 10 and 20) does not fit "
        "outside the blocked windows"
    ]
    # After the window it fits; so does a free stretch before the window.
    assert violations(problem, _plan(("a", 0, 10), ("b", 30, 40))) == []
    wider = _two_products(window=(25, 30))
    assert violations(wider, _plan(("a", 0, 10), ("b", 30, 40))) == []
    # Split by the window into two pieces of 5 and 5: a changeover is done in one piece.
    split = _two_products(window=(15, 20))
    assert violations(split, _plan(("a", 0, 10), ("b", 25, 35))) != []


@pytest.mark.parametrize("objective", list(Objective))
def test_cp_sat_keeps_the_changeover_out_of_the_window(objective: Objective) -> None:
    problem = _two_products()
    schedule = solve(problem, SolveOptions(objective=objective, time_limit=5.0, workers=1))
    assert violations(problem, schedule) == []
    assert schedule.status == "OPTIMAL"
    # First operation 0-10, window 10-20, changeover 20-30, second 30-40 (without the
    # rule it would be 30: the changeover hidden in the window).
    assert schedule.makespan == 40


@pytest.mark.parametrize("rule", [Method.EDD, Method.WSPT, Method.MWKR])
def test_dispatch_keeps_the_changeover_out_of_the_window(rule: Method) -> None:
    problem = _two_products()
    schedule = dispatch(problem, rule)
    assert violations(problem, schedule) == []
    assert schedule.makespan == 40


@st.composite
def _crowded(draw: st.DrawFn) -> Problem:
    """One or two units with long changeovers between every pair of products and many
    short windows: changeovers and windows meet often."""
    units = tuple(f"u{i}" for i in range(draw(st.integers(1, 2))))
    jobs = tuple(
        Job(
            f"j{j}",
            tuple(
                Operation(
                    tuple(
                        Alternative(u, draw(st.integers(1, 8)))
                        for u in draw(st.lists(st.sampled_from(units), min_size=1, unique=True))
                    )
                )
                for _ in range(draw(st.integers(1, 2)))
            ),
            product=draw(st.sampled_from(("p", "q", "r"))),
            due=draw(st.integers(0, 30)),
        )
        for j in range(draw(st.integers(2, 5)))
    )
    windows = []
    for _ in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, 50))
        windows.append(
            Window(draw(st.sampled_from(units)), start, start + draw(st.integers(1, 6)), "w")
        )
    changeovers = {
        (u, a, b): draw(st.integers(3, 9))
        for u in units
        for a in ("p", "q", "r")
        for b in ("p", "q", "r")
        if a != b
    }
    return Problem(jobs, units, tuple(windows), changeovers)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(_crowded())
def test_no_plan_puts_a_changeover_in_a_window(problem: Problem) -> None:
    for rule in (Method.EDD, Method.WSPT, Method.MWKR):
        assert violations(problem, dispatch(problem, rule)) == []
    for objective in (Objective.TARDINESS, Objective.MAKESPAN):
        schedule = solve(problem, SolveOptions(objective=objective, time_limit=2.0, workers=1))
        assert violations(problem, schedule) == []
