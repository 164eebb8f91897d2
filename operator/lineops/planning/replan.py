"""Replanning when a work unit goes down or a rush order arrives.

Operations that started before ``now`` stay exactly where the previous plan put them
(the shop floor has begun them); nothing else starts before ``now``. The objective is the
plan's own; a last stage then minimises the operations that move (another work unit or
another start) against the previous plan, so the floor sees as few changes as possible.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from lineops.planning.errors import PlanningInputError
from lineops.planning.options import SolveOptions
from lineops.planning.problem import Job, Problem, Window
from lineops.planning.schedule import Assignment, Schedule
from lineops.planning.solver import solve


def started(problem: Problem, previous: Schedule, now: int) -> list[Assignment]:
    """The previous plan's operations that began before ``now`` (of orders still planned),
    each checked against the problem: they are kept as they are, so one the problem cannot
    hold was a KeyError, or an AssertionError blaming the model."""
    jobs = {job.name: job for job in problem.jobs}
    kept = [a for a in previous.assignments if a.start < now and a.job in jobs]
    placed: dict[tuple[str, int], Assignment] = {}
    for a in kept:
        where = f"previous plan: order {a.job}, operation {a.index}"
        operations = jobs[a.job].operations
        if not 0 <= a.index < len(operations):
            raise PlanningInputError(where, f"the order has {len(operations)} operation(s)")
        durations = {alt.work_unit: alt.duration for alt in operations[a.index].alternatives}
        if a.work_unit not in durations:
            raise PlanningInputError(
                where, f"{a.work_unit!r} is not one of its work units ({', '.join(durations)})"
            )
        if a.end - a.start != durations[a.work_unit]:
            raise PlanningInputError(
                where,
                f"it takes {durations[a.work_unit]} s on {a.work_unit}, the plan gives it "
                f"{a.end - a.start} s",
            )
        if (a.job, a.index) in placed:
            raise PlanningInputError(where, "placed twice")
        if a.start < jobs[a.job].release:
            # The order book moved the release past work already begun: no plan can keep
            # both (it was an AssertionError blaming CP-SAT's plan).
            raise PlanningInputError(
                where,
                f"started at {a.start} s, before the order's release at {jobs[a.job].release} s",
            )
        placed[a.job, a.index] = a
    for (job, index), a in placed.items():
        before = placed.get((job, index - 1))
        if index > 0 and (before is None or before.end > a.start):
            raise PlanningInputError(
                f"previous plan: order {job}, operation {index}",
                f"started before operation {index - 1} had ended",
            )
    for (job, index), a in placed.items():
        for other in jobs[job].after if index == 0 else ():
            # It began: every order it waits for must have ended by then, in the kept part
            # (else "no schedule fits in the horizon", and a longer horizon was advised).
            last = len(jobs[other].operations) - 1 if other in jobs else -1
            done = placed.get((other, last))
            if other in jobs and (done is None or done.end > a.start):
                raise PlanningInputError(
                    f"previous plan: order {job}, operation 0",
                    f"started at {a.start} s, before order {other}, which it waits for, had ended",
                )
    by_unit = sorted(kept, key=lambda a: (a.work_unit, a.start))
    for first, second in pairwise(by_unit):
        if first.work_unit == second.work_unit and second.start < first.end:
            raise PlanningInputError(
                f"previous plan: order {second.job}, operation {second.index}",
                f"overlaps order {first.job}, operation {first.index} on {first.work_unit}",
            )
    return kept


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
