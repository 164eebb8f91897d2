"""Dispatch rules: the plan when the solver finds none in time, and the benchmark baseline.

Giffler and Thompson's active-schedule generation, extended to alternative work units,
releases, orders that wait for others, changeovers and blocked windows: among the next
operations of all orders, find the one that could finish first (on its best work unit);
every operation that could start on that unit before that finish competes for it, and the
rule picks one. EDD picks the earliest due date, WSPT the highest priority weight per
remaining processing time, MWKR the most remaining processing time (the classic makespan
rule; the solver uses it as one of its starting plans). No search, so it answers in
milliseconds on any size.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from lineops.planning.problem import Job, Operation, Problem
from lineops.planning.schedule import Assignment, Method, Schedule
from lineops.planning.validate import validate


@dataclass
class _Unit:
    busy: list[tuple[int, int]]  # blocked windows and kept operations, sorted by start
    end: int = 0
    product: str | None = None

    def first_fit(self, earliest: int, duration: int, setup: int = 0) -> int:
        """Earliest start >= ``earliest`` of a gap of ``duration`` between busy spans, with
        ``setup`` (the changeover, done right before it) free as well."""
        start = earliest
        # Spans sorted by start: once past one, a later jump never overlaps it again.
        for b_start, b_end in self.busy:
            if b_start >= start + duration:
                break
            if b_end > start - setup:
                start = max(start, b_end + setup)
        return start


def dispatch(
    problem: Problem,
    rule: Method = Method.EDD,
    *,
    fixed: Sequence[Assignment] = (),
    not_before: int = 0,
    follow: Schedule | None = None,
) -> Schedule:
    """A valid schedule by the dispatch rule (EDD, WSPT or MWKR); ``fixed`` operations (already
    started) stay as they are and nothing else starts before ``not_before``.

    ``follow``: a previous plan whose order to keep where it still can (competing
    operations go in the order of their previous starts, the rule breaks ties and ranks
    operations the plan did not have): a feasible plan close to it, the warm start of a
    replan after a breakdown made the previous plan itself infeasible."""
    if rule is Method.CP_SAT:
        raise ValueError("dispatch needs a dispatch rule (edd, wspt or mwkr), not cp-sat")
    validate(problem)
    began = time.perf_counter()
    jobs = {job.name: job for job in problem.jobs}
    units = {
        u: _Unit(busy=[(w.start, w.end) for w in problem.windows_on(u)]) for u in problem.work_units
    }
    done: dict[tuple[str, int], Assignment] = {(a.job, a.index): a for a in fixed}
    for a in fixed:
        unit = units[a.work_unit]
        bisect.insort(unit.busy, (a.start, a.end))
        if a.end >= unit.end:
            unit.end, unit.product = a.end, jobs[a.job].product
    previous = {(a.job, a.index): float(a.start) for a in follow.assignments} if follow else {}
    next_op = {name: _first_open(job, done) for name, job in jobs.items()}
    ready = {
        name: max([job.release, not_before] + [done[(name, i)].end for i in range(next_op[name])])
        for name, job in jobs.items()
    }
    placed = list(fixed)
    remaining = sum(len(job.operations) - next_op[name] for name, job in jobs.items())
    finished = {name for name, job in jobs.items() if next_op[name] == len(job.operations)}
    for _ in range(remaining):
        candidates = [
            name
            for name, job in jobs.items()
            if name not in finished and all(other in finished for other in job.after)
        ]
        options = {
            name: _best(problem, units, jobs[name], next_op[name], ready) for name in candidates
        }
        winner = min(candidates, key=lambda n: (options[n][2], options[n][1], n))
        unit_name, _, finish = options[winner]
        competing = [winner]
        for name in candidates:
            op = jobs[name].operations[next_op[name]]
            if name != winner and op.duration_on(unit_name) is not None:
                start, _ = _place(
                    problem, units, jobs[name], op, unit_name, _ready(jobs[name], ready)
                )
                if start < finish:
                    competing.append(name)
        chosen = min(
            competing,
            key=lambda n: (
                previous.get((n, next_op[n]), math.inf),
                *_priority(rule, jobs[n], next_op[n]),
            ),
        )
        job = jobs[chosen]
        index = next_op[chosen]
        start, end = _place(
            problem, units, job, job.operations[index], unit_name, _ready(job, ready)
        )
        unit = units[unit_name]
        unit.end, unit.product = end, job.product
        assignment = Assignment(chosen, index, unit_name, start, end)
        placed.append(assignment)
        ready[chosen] = end
        next_op[chosen] = index + 1
        if next_op[chosen] == len(job.operations):
            finished.add(chosen)
    notes: tuple[str, ...] = ()
    if problem.horizon is not None and any(a.end > problem.horizon for a in placed):
        notes = (f"the dispatch plan ends after the horizon ({problem.horizon})",)
    return Schedule(
        assignments=tuple(sorted(placed, key=lambda a: (a.start, a.work_unit))),
        method=rule,
        status="dispatch",
        wall_seconds=time.perf_counter() - began,
        notes=notes,
    )


def _first_open(job: Job, done: dict[tuple[str, int], Assignment]) -> int:
    index = 0
    while index < len(job.operations) and (job.name, index) in done:
        index += 1
    return index


def _ready(job: Job, ready: dict[str, int]) -> int:
    """When the job's next operation may start: its previous one is done and every order it
    waits for is finished (only finished ones are candidates, so ``ready`` is their end)."""
    return max([ready[job.name]] + [ready[other] for other in job.after])


def _place(
    problem: Problem, units: dict[str, _Unit], job: Job, op: Operation, unit_name: str, ready: int
) -> tuple[int, int]:
    unit = units[unit_name]
    duration = op.duration_on(unit_name)
    assert duration is not None
    setup = 0 if unit.product is None else problem.changeover(unit_name, unit.product, job.product)
    start = unit.first_fit(max(ready, unit.end + setup), duration, setup)
    return start, start + duration


def _best(
    problem: Problem,
    units: dict[str, _Unit],
    job: Job,
    index: int,
    ready: dict[str, int],
) -> tuple[str, int, int]:
    """(work unit, start, end) where the job's next operation would finish first."""
    op = job.operations[index]
    ready_at = _ready(job, ready)
    best: tuple[str, int, int] | None = None
    for alt in op.alternatives:
        start, end = _place(problem, units, job, op, alt.work_unit, ready_at)
        if best is None or (end, start) < (best[2], best[1]):
            best = (alt.work_unit, start, end)
    assert best is not None
    return best


def _priority(rule: Method, job: Job, index: int) -> tuple[float, float, str]:
    due = math.inf if job.due is None else float(job.due)
    if rule is Method.EDD:
        return due, float(job.release), job.name
    left = sum(op.shortest for op in job.operations[index:])
    if rule is Method.MWKR:
        return -float(left), due, job.name
    return -(job.weight / max(left, 1)), due, job.name
