"""A schedule and the figures a planner reads from it: makespan, tardiness, utilisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lineops.planning.problem import Problem


class Method(StrEnum):
    CP_SAT = "cp-sat"
    EDD = "edd"  # dispatch: earliest due date first
    WSPT = "wspt"  # dispatch: weighted shortest processing time first
    MWKR = "mwkr"  # dispatch: most work remaining first (a makespan rule; used as a hint)


@dataclass(frozen=True)
class Assignment:
    """One operation placed: order (job), its index in the routing, work unit, start, end."""

    job: str
    index: int
    work_unit: str
    start: int
    end: int


@dataclass(frozen=True)
class Schedule:
    assignments: tuple[Assignment, ...]
    method: Method
    # CP-SAT's status name (OPTIMAL, FEASIBLE) or "dispatch"; "fallback: ..." says why the
    # dispatch rule was used instead of the solver.
    status: str
    # The objective values reached, stage by stage (e.g. {"tardiness": 0, "moved": 3}).
    objectives: dict[str, int] = field(default_factory=dict)
    # The solver's proven lower bound of the first objective, when it has one.
    bound: int | None = None
    wall_seconds: float = 0.0
    notes: tuple[str, ...] = ()

    def by_operation(self) -> dict[tuple[str, int], Assignment]:
        return {(a.job, a.index): a for a in self.assignments}

    @property
    def makespan(self) -> int:
        return max((a.end for a in self.assignments), default=0)


def completion(schedule: Schedule) -> dict[str, int]:
    """End of each job's last operation."""
    ends: dict[str, int] = {}
    for a in schedule.assignments:
        ends[a.job] = max(ends.get(a.job, a.end), a.end)
    return ends


def tardiness(problem: Problem, schedule: Schedule) -> dict[str, int]:
    """How late each order is finished (0 when on time or without a due date)."""
    ends = completion(schedule)
    return {
        job.name: 0 if job.due is None else max(0, ends.get(job.name, 0) - job.due)
        for job in problem.jobs
    }


def weighted_tardiness(problem: Problem, schedule: Schedule) -> int:
    late = tardiness(problem, schedule)
    return sum(job.weight * late[job.name] for job in problem.jobs)


def moved_operations(previous: Schedule, schedule: Schedule, tolerance: int = 0) -> int:
    """Operations whose work unit differs from the previous plan's, or whose start does by
    more than ``tolerance`` (operations the previous plan did not have count as moved)."""
    before = previous.by_operation()
    moved = 0
    for a in schedule.assignments:
        old = before.get((a.job, a.index))
        if old is None or old.work_unit != a.work_unit or abs(old.start - a.start) > tolerance:
            moved += 1
    return moved


def utilisation(problem: Problem, schedule: Schedule) -> dict[str, float]:
    """Busy share of each work unit's available time between the plan's origin and its
    makespan; blocked windows (off-shift, maintenance) are not available time."""
    span = schedule.makespan
    result: dict[str, float] = {}
    for unit in problem.work_units:
        busy = sum(a.end - a.start for a in schedule.assignments if a.work_unit == unit)
        blocked = _covered([(max(0, w.start), min(span, w.end)) for w in problem.windows_on(unit)])
        available = span - blocked
        result[unit] = busy / available if available > 0 else 0.0
    return result


def _covered(spans: list[tuple[int, int]]) -> int:
    """Total length of the union of the intervals (windows may overlap)."""
    total = 0
    reach: int | None = None
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total
