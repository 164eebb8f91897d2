"""Replanning when a work unit goes down or a rush order arrives.

Operations that started before ``now`` stay exactly where the previous plan put them
(the shop floor has begun them); nothing else starts before ``now``. The objective is the
plan's own; a last stage then minimises the operations that move (another work unit or
another start) against the previous plan, so the floor sees as few changes as possible.
"""

from __future__ import annotations

from dataclasses import replace

from lineops.planning.options import SolveOptions
from lineops.planning.problem import Job, Problem, Window
from lineops.planning.schedule import Assignment, Schedule
from lineops.planning.solver import solve


def started(problem: Problem, previous: Schedule, now: int) -> list[Assignment]:
    """The previous plan's operations that began before ``now`` (of orders still planned)."""
    names = {job.name for job in problem.jobs}
    return [a for a in previous.assignments if a.start < now and a.job in names]


def replan(
    problem: Problem, previous: Schedule, now: int, options: SolveOptions | None = None
) -> Schedule:
    """The new plan: started operations kept, the previous plan as warm start, and as few
    moved operations as the objective allows."""
    return solve(
        problem,
        options,
        hint=previous,
        fixed=started(problem, previous, now),
        not_before=now,
        keep=previous,
    )


def from_scratch(
    problem: Problem, previous: Schedule, now: int, options: SolveOptions | None = None
) -> Schedule:
    """What planning again without the previous plan gives (started operations are still
    kept: they have happened). Replanning is measured against it."""
    return solve(problem, options, fixed=started(problem, previous, now), not_before=now)


def with_breakdown(problem: Problem, work_unit: str, start: int, end: int, reason: str) -> Problem:
    """The problem with the work unit down in [start, end)."""
    return replace(problem, blocked=(*problem.blocked, Window(work_unit, start, end, reason)))


def with_order(problem: Problem, job: Job) -> Problem:
    """The problem with one more (rush) order."""
    return replace(problem, jobs=(*problem.jobs, job))
