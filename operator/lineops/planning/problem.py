"""The scheduling problem in whole time units (seconds from the plan's origin).

Everything the solver and the dispatch rules read is here, already reduced to integers:
jobs (one per work order) with their routings, the eligible work units of every operation
with its duration there, sequence-dependent changeovers and blocked windows. The order
book (``orders``) and the job-shop reader (``jssp``) build it; ``validate`` checks it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Alternative:
    """One eligible work unit of an operation and how long the operation takes there."""

    work_unit: str
    duration: int


@dataclass(frozen=True)
class Operation:
    """A step of a routing: done once, on exactly one of its alternatives."""

    alternatives: tuple[Alternative, ...]

    def duration_on(self, work_unit: str) -> int | None:
        return next((a.duration for a in self.alternatives if a.work_unit == work_unit), None)

    @property
    def shortest(self) -> int:
        return min(a.duration for a in self.alternatives)

    @property
    def longest(self) -> int:
        return max(a.duration for a in self.alternatives)


@dataclass(frozen=True)
class Job:
    """A work order: its product's routing, in order, with release, due date and weight.

    ``after`` names jobs that must be finished before this one starts (a sub-assembly).
    """

    name: str
    operations: tuple[Operation, ...]
    product: str = ""
    release: int = 0
    due: int | None = None
    weight: int = 1
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Window:
    """A time a work unit cannot process: maintenance (planned or predicted), off-shift,
    a breakdown. ``reason`` is shown in the Gantt chart and the CLI."""

    work_unit: str
    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Problem:
    jobs: tuple[Job, ...]
    work_units: tuple[str, ...]
    blocked: tuple[Window, ...] = ()
    # (work unit, product before, product after) -> changeover time; absent means none.
    changeovers: Mapping[tuple[str, str, str], int] = field(default_factory=dict)
    # Latest end of any operation; None: no limit (the solver derives a safe bound).
    horizon: int | None = None

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise KeyError(name)

    def operations(self) -> Iterator[tuple[Job, int, Operation]]:
        for job in self.jobs:
            for index, op in enumerate(job.operations):
                yield job, index, op

    def changeover(self, work_unit: str, before: str, after: str) -> int:
        if before == after:
            return 0
        return self.changeovers.get((work_unit, before, after), 0)

    def windows_on(self, work_unit: str) -> list[Window]:
        return sorted((w for w in self.blocked if w.work_unit == work_unit), key=lambda w: w.start)

    def upper_bound(self) -> int:
        """An end time some feasible schedule meets: after the last release and the last
        blocked window nothing waits, so all operations one after another from then on,
        each after the longest changeover. (Counting only the windows' lengths is not
        enough: a gap between two windows shorter than an operation is lost too.)"""
        ops = [op for _, _, op in self.operations()]
        free_from = max([0] + [job.release for job in self.jobs] + [w.end for w in self.blocked])
        longest_changeover = max(self.changeovers.values(), default=0)
        return free_from + sum(op.longest + longest_changeover for op in ops) + 1
