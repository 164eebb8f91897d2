"""Checks a problem before any solving, so bad input fails with the record it is in."""

from __future__ import annotations

from lineops.planning.errors import PlanningInputError
from lineops.planning.problem import Problem

# CP-SAT works in 64-bit integers and adds times up, lateness multiplied by priority: a time
# beyond about 31 years of seconds (or a plan spanning more) is a typo, a quantity or a
# duration off by orders of magnitude, that would overflow inside the solver; priorities up
# to 1000 leave the weighted sums room for millions of operations.
MAX_TIME = 10**9
MAX_WEIGHT = 1000


def _time(where: str, what: str, value: int) -> None:
    if abs(value) > MAX_TIME:
        raise PlanningInputError(where, f"{what} {value} s is beyond the limit of {MAX_TIME} s")


def _where(job: str, index: int | None = None) -> str:
    return f"order {job}" if index is None else f"order {job}, operation {index}"


def validate(problem: Problem) -> None:
    """Raise PlanningInputError for the first problem found, naming its order/operation."""
    units = set(problem.work_units)
    if len(units) != len(problem.work_units):
        raise PlanningInputError("work units", "a work unit is listed twice")
    names = [job.name for job in problem.jobs]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise PlanningInputError(_where(name), "order id used twice")
        seen.add(name)
    for job in problem.jobs:
        _check_job(problem, job.name, units)
    for window in problem.blocked:
        where = f"blocked window {window.reason!r} on {window.work_unit}"
        if window.work_unit not in units:
            raise PlanningInputError(where, f"unknown work unit {window.work_unit!r}")
        if window.end <= window.start:
            raise PlanningInputError(where, "end is not after start")
        _time(where, "start", window.start)
        _time(where, "end", window.end)
    for (unit, before, after), seconds in problem.changeovers.items():
        where = f"changeover {before} -> {after} on {unit}"
        if unit not in units:
            raise PlanningInputError(where, f"unknown work unit {unit!r}")
        if seconds < 0:
            raise PlanningInputError(where, f"negative changeover time {seconds}")
        _time(where, "changeover time", seconds)
    if problem.horizon is not None and problem.horizon <= 0:
        raise PlanningInputError("horizon", f"must be positive, got {problem.horizon}")
    span = problem.horizon if problem.horizon is not None else problem.upper_bound()
    _time("horizon", "the plan's span", span)
    _check_no_cycle(problem)


def _check_job(problem: Problem, name: str, units: set[str]) -> None:
    job = problem.job(name)
    if not job.operations:
        raise PlanningInputError(_where(name), "routing has no operations")
    if job.release < 0:
        raise PlanningInputError(_where(name), f"negative release time {job.release}")
    _time(_where(name), "release", job.release)
    if job.due is not None:
        _time(_where(name), "due", job.due)
    if job.due is not None and job.due < job.release:
        raise PlanningInputError(_where(name), f"due ({job.due}) is before release ({job.release})")
    if not 0 < job.weight <= MAX_WEIGHT:
        raise PlanningInputError(
            _where(name), f"priority weight must be in 1..{MAX_WEIGHT}, got {job.weight}"
        )
    for index, op in enumerate(job.operations):
        if not op.alternatives:
            raise PlanningInputError(_where(name, index), "no eligible work unit")
        seen: set[str] = set()
        for alt in op.alternatives:
            if alt.work_unit not in units:
                raise PlanningInputError(
                    _where(name, index), f"unknown work unit {alt.work_unit!r} in the routing"
                )
            if alt.work_unit in seen:
                raise PlanningInputError(
                    _where(name, index), f"work unit {alt.work_unit!r} listed twice"
                )
            seen.add(alt.work_unit)
            if alt.duration < 0:
                raise PlanningInputError(
                    _where(name, index),
                    f"negative processing time {alt.duration} on {alt.work_unit}",
                )
            _time(_where(name, index), f"processing time on {alt.work_unit}", alt.duration)
    known = {j.name for j in problem.jobs}
    for other in job.after:
        if other not in known:
            raise PlanningInputError(_where(name), f"waits for unknown order {other!r}")


def _check_no_cycle(problem: Problem) -> None:
    """Orders that wait for each other (A after B after A) can never start."""
    after = {job.name: job.after for job in problem.jobs}
    done: set[str] = set()
    for start in after:
        path: list[str] = []
        on_path: set[str] = set()
        # Iterative depth-first search: deep chains must not hit the recursion limit.
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                if node in done:
                    continue
                if node in on_path:
                    cycle = [*path[path.index(node) :], node]
                    raise PlanningInputError(
                        _where(cycle[0]), "orders wait for each other: " + " -> ".join(cycle)
                    )
                path.append(node)
                on_path.add(node)
            successors = after[node]
            if i < len(successors):
                stack.append((node, i + 1))
                stack.append((successors[i], 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)
