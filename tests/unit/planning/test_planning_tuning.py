"""The CP-SAT parameters `solve` sets beyond time, workers, seed and log: stronger
no-overlap propagation for a makespan-first pure job shop, nothing for anything else.

Read from CP-SAT's own search log, whose "Parameters:" line lists every parameter the
solve ran with that differs from CP-SAT's defaults."""

from __future__ import annotations

import pytest
from lineops.planning import (
    Alternative,
    Job,
    Objective,
    Operation,
    Problem,
    SolveOptions,
    Window,
    solve,
    violations,
)
from lineops.planning.jssp import parse_jssp
from lineops.planning.solver import is_job_shop

STRONG = "use_strong_propagation_in_disjunctive: true"
SHOP = "3 3\n0 3 1 2 2 2\n0 2 2 1 1 4\n1 4 2 3 0 1\n"


def _parameter_lines(
    problem: Problem, objective: Objective, capfd: pytest.CaptureFixture[str]
) -> list[str]:
    capfd.readouterr()
    schedule = solve(problem, SolveOptions(objective=objective, time_limit=5, workers=1, log=True))
    assert violations(problem, schedule) == []
    lines = [line for line in capfd.readouterr().out.splitlines() if line.startswith("Parameters:")]
    assert lines, "CP-SAT wrote no search log"
    return lines


def _with_due(problem: Problem) -> Problem:
    jobs = tuple(
        Job(job.name, job.operations, due=5 * (number + 1))
        for number, job in enumerate(problem.jobs)
    )
    return Problem(jobs, problem.work_units)


def test_a_makespan_first_job_shop_runs_with_strong_disjunctive_propagation(
    capfd: pytest.CaptureFixture[str],
) -> None:
    problem = parse_jssp(SHOP)
    assert is_job_shop(problem)
    lines = _parameter_lines(problem, Objective.MAKESPAN, capfd)
    assert all(STRONG in line for line in lines), lines


@pytest.mark.parametrize(
    ("case", "objective"),
    [
        ("tardiness first", Objective.TARDINESS),
        ("lexicographic: tardiness first", Objective.LEXICOGRAPHIC),
        ("two eligible work units", Objective.MAKESPAN),
        ("a blocked window", Objective.MAKESPAN),
        ("a changeover", Objective.MAKESPAN),
    ],
)
def test_anything_else_runs_with_cpsat_defaults(
    case: str, objective: Objective, capfd: pytest.CaptureFixture[str]
) -> None:
    problem = _with_due(parse_jssp(SHOP))
    if case == "two eligible work units":
        first = problem.jobs[0]
        flexible = Operation((Alternative("0", 3), Alternative("1", 4)))
        problem = Problem(
            (Job(first.name, (flexible, *first.operations[1:])), *problem.jobs[1:]),
            problem.work_units,
        )
    elif case == "a blocked window":
        problem = Problem(problem.jobs, problem.work_units, blocked=(Window("1", 0, 2, "test"),))
    elif case == "a changeover":
        jobs = tuple(
            Job(job.name, job.operations, product=f"p{number % 2}")
            for number, job in enumerate(problem.jobs)
        )
        problem = Problem(jobs, problem.work_units, changeovers={("2", "p0", "p1"): 2})
    assert is_job_shop(problem) == case.endswith("first")
    lines = _parameter_lines(problem, objective, capfd)
    assert not any(STRONG in line for line in lines), lines
