"""The tabu search in front of CP-SAT for a makespan-first pure job shop (planning.tabu):
never a longer or broken plan, only on the model it knows, and early out when it settles."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from lineops.planning import (
    Alternative,
    Job,
    Method,
    Objective,
    Operation,
    Problem,
    SolveOptions,
    Window,
    dispatch,
    solve,
    tabu,
    violations,
)
from lineops.planning.jssp import parse_jssp
from lineops.planning.schedule import Assignment, Schedule

from tests.unit.planning.test_planning_jssp import _published


def _generated(seed: int, jobs: int, machines: int) -> Problem:
    rng = random.Random(seed)
    rows = [f"{jobs} {machines}"]
    for _ in range(jobs):
        order = rng.sample(range(machines), machines)
        rows.append(" ".join(f"{m} {rng.randint(1, 99)}" for m in order))
    return parse_jssp("\n".join(rows))


def _one_after_another(problem: Problem) -> Schedule:
    """A feasible but poor plan: every job alone, one after the other."""
    clock, placed = 0, []
    for job in problem.jobs:
        for index, op in enumerate(job.operations):
            alt = op.alternatives[0]
            placed.append(Assignment(job.name, index, alt.work_unit, clock, clock + alt.duration))
            clock += alt.duration
    return Schedule(tuple(placed), Method.EDD, "dispatch")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_poor_plan_becomes_a_shorter_valid_one(seed: int) -> None:
    problem = _generated(seed, 8, 5)
    start = _one_after_another(problem)
    assert violations(problem, start) == []
    improved = tabu.improve(problem, start, seconds=2.0, seed=seed)
    assert violations(problem, improved) == []
    # serial plans are several times the optimum on such shops; the search must cut deep
    assert improved.makespan < 0.6 * start.makespan, (improved.makespan, start.makespan)
    assert sorted((a.job, a.index) for a in improved.assignments) == sorted(
        (a.job, a.index) for a in start.assignments
    )


def test_a_dispatch_plan_of_ft06_reaches_the_optimum_and_stops_early() -> None:
    text, optimum = _published("ft06")
    problem = parse_jssp(text, "ft06")
    start = dispatch(problem, Method.MWKR)
    assert start.makespan > optimum
    began = time.perf_counter()
    improved = tabu.improve(problem, start, seconds=60.0)
    # it settles on 55 and ends after its fruitless restarts, far before the 60 s it had
    # (a generous margin: the machine is shared)
    assert time.perf_counter() - began < 30
    assert violations(problem, improved) == []
    assert improved.makespan == optimum == 55


def test_a_plan_at_the_lower_bound_is_returned_as_it_is() -> None:
    # one work unit: every order of the jobs is optimal (its load), nothing to search
    problem = parse_jssp("3 1\n0 4\n0 2\n0 5\n")
    start = dispatch(problem, Method.EDD)
    assert tabu.improve(problem, start, seconds=5.0) is start


def test_zero_length_operations_give_a_valid_plan() -> None:
    problem = parse_jssp("3 3\n0 0 1 5 2 0\n1 0 0 4 2 3\n2 2 1 0 0 0\n")
    start = _one_after_another(problem)
    improved = tabu.improve(problem, start, seconds=0.5)
    assert violations(problem, improved) == []
    assert improved.makespan <= start.makespan


def _shop() -> Problem:
    return parse_jssp("2 2\n0 3 1 2\n1 4 0 1\n")


@pytest.mark.parametrize(
    ("case", "change"),
    [
        (
            "a release",
            lambda p: Problem(
                (Job("0", p.jobs[0].operations, release=1), *p.jobs[1:]), p.work_units
            ),
        ),
        (
            "an order dependency",
            lambda p: Problem(
                (p.jobs[0], Job("1", p.jobs[1].operations, after=("0",))), p.work_units
            ),
        ),
        (
            "a blocked window",
            lambda p: Problem(p.jobs, p.work_units, blocked=(Window("0", 0, 2, "maintenance"),)),
        ),
        ("a horizon", lambda p: Problem(p.jobs, p.work_units, horizon=100)),
        ("a changeover", lambda p: Problem(p.jobs, p.work_units, changeovers={("0", "a", "b"): 3})),
        (
            "a second eligible unit",
            lambda p: Problem(
                (Job("0", (Operation((Alternative("0", 3), Alternative("1", 4))),)), p.jobs[1]),
                p.work_units,
            ),
        ),
    ],
)
def test_only_a_pure_job_shop_is_searched(case: str, change: Callable[[Problem], Problem]) -> None:
    assert tabu.applies(_shop())
    assert not tabu.applies(change(_shop())), case


def test_solve_plans_a_job_shop_from_the_search_with_cp_sat() -> None:
    problem = _generated(7, 10, 5)
    dispatched = min(
        (dispatch(problem, rule) for rule in (Method.EDD, Method.WSPT, Method.MWKR)),
        key=lambda plan: plan.makespan,
    )
    schedule = solve(problem, SolveOptions(objective=Objective.MAKESPAN, time_limit=3, workers=1))
    assert violations(problem, schedule) == []
    assert schedule.method is Method.CP_SAT
    assert schedule.makespan < dispatched.makespan


def test_a_job_visiting_a_unit_twice_in_a_row_keeps_its_order_and_stops_early() -> None:
    # Swapping the two visits would reverse the job's own routing (a cycle): never offered,
    # so the search neither spins on it until its deadline nor breaks the plan.
    problem = parse_jssp("2 2\n0 3 0 3 1 3\n0 1\n")
    start = Schedule(
        (
            Assignment("1", 0, "0", 0, 1),
            Assignment("0", 0, "0", 1, 4),
            Assignment("0", 1, "0", 4, 7),
            Assignment("0", 2, "1", 7, 10),
        ),
        Method.EDD,
        "dispatch",
    )
    assert violations(problem, start) == []
    began = time.perf_counter()
    improved = tabu.improve(problem, start, seconds=30.0)
    assert time.perf_counter() - began < 15
    assert violations(problem, improved) == []
    assert improved.makespan <= start.makespan


def test_a_replan_from_a_later_instant_is_not_shortened_from_time_zero() -> None:
    # The search plans from 0; with not_before its plan would bound the model below what
    # any valid plan reaches, and CP-SAT would call a feasible problem infeasible.
    problem = parse_jssp("2 2\n0 3 1 2\n1 4 0 1\n")
    options = SolveOptions(objective=Objective.MAKESPAN, time_limit=2, workers=1)
    schedule = solve(problem, options, not_before=100)
    assert violations(problem, schedule) == []
    assert min(a.start for a in schedule.assignments) >= 100
    assert schedule.makespan == 106


def test_an_empty_problem_is_returned_as_it_is() -> None:
    problem = Problem((), ("0",))
    start = Schedule((), Method.EDD, "dispatch")
    assert tabu.improve(problem, start, seconds=1.0) is start
