"""Every plan, from CP-SAT or a dispatch rule, respects the problem (checked independently
by lineops.planning.check): no overlaps, routings, eligibility, blocked windows, releases,
changeovers, orders that wait for others."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from lineops.planning import (
    Method,
    Objective,
    Problem,
    SolveOptions,
    dispatch,
    solve,
    violations,
    weighted_tardiness,
)

from tests.unit.planning.strategies import problems

FAST = SolveOptions(time_limit=2.0, workers=1)


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_cp_sat_plans_are_valid(problem: Problem) -> None:
    for objective in Objective:
        schedule = solve(problem, SolveOptions(objective=objective, time_limit=2.0, workers=1))
        assert violations(problem, schedule) == []


@settings(deadline=None, max_examples=150)
@given(problems(max_jobs=8, max_units=4, max_ops=4))
@pytest.mark.parametrize("rule", [Method.EDD, Method.WSPT, Method.MWKR])
def test_dispatch_plans_are_valid(rule: Method, problem: Problem) -> None:
    schedule = dispatch(problem, rule)
    assert schedule.method is rule
    assert violations(problem, schedule) == []


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_jobs=4, max_units=2, max_ops=2))
def test_a_proven_optimum_is_no_worse_than_the_dispatch_rules(problem: Problem) -> None:
    schedule = solve(problem, FAST)
    if schedule.status == "OPTIMAL":
        for rule in (Method.EDD, Method.WSPT):
            assert weighted_tardiness(problem, schedule) <= weighted_tardiness(
                problem, dispatch(problem, rule)
            )


@settings(deadline=None, max_examples=100)
@given(problems(max_jobs=6, max_units=3, max_ops=3), problems(max_jobs=6, max_units=3, max_ops=3))
def test_dispatch_following_another_plan_is_valid(problem: Problem, other: Problem) -> None:
    """Following a plan (a replan's repaired warm start) yields a valid plan, whether the
    plan fits the problem or not (here: the plan of another random problem)."""
    for follow in (dispatch(problem, Method.WSPT), dispatch(other, Method.EDD)):
        assert violations(problem, dispatch(problem, Method.EDD, follow=follow)) == []
