"""When CP-SAT finds no schedule in time the dispatch rule's plan is returned, marked."""

from __future__ import annotations

import random

import pytest
from lineops.planning import (
    Alternative,
    Job,
    Method,
    Operation,
    PlanInfeasibleError,
    Problem,
    SolveOptions,
    solve,
    violations,
)


def _shop(seed: int) -> Problem:
    rng = random.Random(seed)
    machines = [str(m) for m in range(8)]
    jobs = []
    for j in range(12):
        order = rng.sample(machines, len(machines))
        ops = tuple(Operation((Alternative(m, rng.randint(1, 30)),)) for m in order)
        jobs.append(Job(f"j{j}", ops, due=rng.randint(60, 200), weight=rng.randint(1, 4)))
    return Problem(tuple(jobs), tuple(machines))


@pytest.mark.parametrize("rule", [Method.EDD, Method.WSPT, Method.MWKR])
def test_no_solution_in_time_returns_the_dispatch_plan(
    rule: Method, cp_sat_without_time: None
) -> None:
    problem = _shop(seed=1)
    schedule = solve(problem, SolveOptions(time_limit=5, workers=1, fallback=rule))
    assert schedule.method is rule
    assert schedule.status == "fallback: CP-SAT found no schedule in 5 s"
    assert violations(problem, schedule) == []


def test_a_fallback_plan_that_breaks_the_problem_is_an_error_not_a_plan(
    cp_sat_without_time: None,
) -> None:
    """Dispatching places every operation, past the horizon if need be: with no CP-SAT
    schedule in time such a plan came back (exit 0) with only a note."""
    jobs = tuple(Job(f"j{j}", (Operation((Alternative("m", 60),)),)) for j in range(5))
    problem = Problem(jobs, ("m",), horizon=200)  # 300 s of work on one unit
    with pytest.raises(PlanInfeasibleError) as caught:
        solve(problem, SolveOptions(time_limit=5, workers=1))
    message = str(caught.value)
    assert message.startswith("CP-SAT found no schedule in 5 s and the edd dispatch plan")
    assert "horizon" in message
