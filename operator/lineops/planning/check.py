"""An independent check of a schedule against its problem.

It does not trust the solver or the dispatch rules: the tests run it on every schedule
they make, and ``plan`` runs it before returning, so a modelling slip shows up as a named
violation instead of a wrong plan on the shop floor.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection

from lineops.planning.problem import Problem, Window
from lineops.planning.schedule import Assignment, Schedule, completion


def violations(
    problem: Problem, schedule: Schedule, *, kept: Collection[tuple[str, int]] = ()
) -> list[str]:
    """Every way the schedule breaks the problem's rules; empty when it is valid.

    ``kept`` are operations a replan kept as they were (already started): they need not
    respect windows that became known after they started.
    """
    found: list[str] = []
    placed: dict[tuple[str, int], Assignment] = {}
    for each in schedule.assignments:
        key = (each.job, each.index)
        if key in placed:
            found.append(f"order {each.job}, operation {each.index}: scheduled twice")
        placed[key] = each
    expected: set[tuple[str, int]] = set()
    for job, index, op in problem.operations():
        expected.add((job.name, index))
        a = placed.get((job.name, index))
        where = f"order {job.name}, operation {index}"
        if a is None:
            found.append(f"{where}: not scheduled")
            continue
        duration = op.duration_on(a.work_unit)
        if duration is None:
            found.append(f"{where}: {a.work_unit} is not eligible")
        elif a.end - a.start != duration:
            found.append(f"{where}: takes {a.end - a.start}, not {duration}, on {a.work_unit}")
        if a.start < job.release:
            found.append(f"{where}: starts at {a.start} before the release {job.release}")
        before = placed.get((job.name, index - 1))
        if before is not None and a.start < before.end:
            found.append(f"{where}: starts before operation {index - 1} ends")
        if problem.horizon is not None and a.end > problem.horizon:
            found.append(f"{where}: ends at {a.end}, after the horizon {problem.horizon}")
    found += [
        f"order {job}, operation {index}: not in the problem"
        for job, index in sorted(set(placed) - expected)
    ]
    found += _waits(problem, schedule)
    found += _machines(problem, schedule, set(kept))
    return found


def _waits(problem: Problem, schedule: Schedule) -> list[str]:
    ends = completion(schedule)
    starts: dict[str, int] = {}
    for a in schedule.assignments:
        starts[a.job] = min(starts.get(a.job, a.start), a.start)
    return [
        f"order {job.name}: starts before order {other} is finished"
        for job in problem.jobs
        for other in job.after
        if job.name in starts and other in ends and starts[job.name] < ends[other]
    ]


def _machines(problem: Problem, schedule: Schedule, kept: set[tuple[str, int]]) -> list[str]:
    found: list[str] = []
    product = {job.name: job.product for job in problem.jobs}
    for unit in problem.work_units:
        # An operation that takes no time (published job-shop instances have some) occupies
        # nothing: it may sit anywhere, as CP-SAT's no-overlap lets an empty interval do.
        mine = sorted(
            (a for a in schedule.assignments if a.work_unit == unit and a.end > a.start),
            key=_order,
        )
        windows = problem.windows_on(unit)
        for first, second in itertools.pairwise(mine):
            gap = problem.changeover(unit, product.get(first.job, ""), product.get(second.job, ""))
            if first.end + gap > second.start:
                found.append(
                    f"{unit}: order {second.job}, operation {second.index} starts at "
                    f"{second.start}, before order {first.job}, operation {first.index} ends "
                    f"at {first.end}" + (f" plus the changeover {gap}" if gap else "")
                )
            elif (
                gap
                and (second.job, second.index) not in kept
                and _longest_free(windows, first.end, second.start) < gap
            ):
                found.append(
                    f"{unit}: the changeover of {gap} before order {second.job}, operation "
                    f"{second.index} (between {first.end} and {second.start}) does not fit "
                    "outside the blocked windows"
                )
        for window in windows:
            for a in mine:
                if (a.job, a.index) not in kept and a.start < window.end and window.start < a.end:
                    found.append(
                        f"{unit}: order {a.job}, operation {a.index} ({a.start}-{a.end}) "
                        f"overlaps the blocked window {window.reason!r} "
                        f"({window.start}-{window.end})"
                    )
    return found


def _longest_free(windows: list[Window], start: int, end: int) -> int:
    """The longest stretch of [start, end) outside every window: a changeover is work on
    the unit (cleaning, retooling), done in one piece, so it needs a free stretch as long
    as itself between the two operations."""
    longest, cursor = 0, start
    for window in windows:  # sorted by start
        if window.end <= cursor or window.start >= end:
            continue
        longest = max(longest, window.start - cursor)
        cursor = max(cursor, window.end)
    return max(longest, end - cursor)


def _order(a: Assignment) -> tuple[int, int]:
    return a.start, a.end
