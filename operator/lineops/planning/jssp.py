"""The standard job-shop benchmark format (OR-Library, JSPLIB, Taillard's in this layout).

Lines starting with ``#`` are comments; the first other line holds ``jobs machines``; then
one line per job of ``machine duration`` pairs, machines numbered from 0. Blank lines are
skipped. A job visits every machine it lists, in that order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lineops.planning.errors import PlanningInputError
from lineops.planning.problem import Alternative, Job, Operation, Problem
from lineops.planning.validate import MAX_TIME


def machine_name(index: int) -> str:
    return str(index)


def parse_jssp(text: str, source: str = "instance") -> Problem:
    """The instance as a Problem with jobs ``0..n-1`` and work units ``"0".."m-1"``; errors
    name the 1-based line of ``source``."""
    rows = [
        (number, line.split())
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not rows:
        raise PlanningInputError(source, "no 'jobs machines' line")
    (number, header), body = rows[0], rows[1:]
    counts = _integers(source, number, header)
    if len(counts) != 2 or counts[0] < 1 or counts[1] < 1:
        raise PlanningInputError(
            f"{source}: line {number}",
            f"expected 'jobs machines' (two positive integers), got {' '.join(header)!r}",
        )
    jobs_count, machines = counts
    if len(body) != jobs_count:
        raise PlanningInputError(
            source, f"the header announces {jobs_count} jobs, the file has {len(body)} job lines"
        )
    jobs = []
    for job_index, (line_number, fields) in enumerate(body):
        values = _integers(source, line_number, fields)
        where = f"{source}: line {line_number}"
        if not values or len(values) % 2:
            raise PlanningInputError(where, "expected pairs of 'machine duration'")
        operations = []
        for machine, duration in zip(values[::2], values[1::2], strict=True):
            if not 0 <= machine < machines:
                raise PlanningInputError(where, f"machine {machine} is out of 0..{machines - 1}")
            if duration < 0:
                raise PlanningInputError(where, f"negative duration {duration}")
            if duration > MAX_TIME:
                raise PlanningInputError(
                    where, f"duration {duration} is beyond the limit of {MAX_TIME}"
                )
            operations.append(Operation((Alternative(machine_name(machine), duration),)))
        jobs.append(Job(name=str(job_index), operations=tuple(operations)))
    return Problem(jobs=tuple(jobs), work_units=tuple(machine_name(m) for m in range(machines)))


_INTEGER = re.compile(r"-?[0-9]+")


def _integers(source: str, number: int, fields: Sequence[str]) -> list[int]:
    # ASCII digits only: int() would also take "1_0", "+2" and other scripts' digits.
    for field in fields:
        if not _INTEGER.fullmatch(field):
            raise PlanningInputError(f"{source}: line {number}", f"{field!r} is not an integer")
    return [int(field) for field in fields]
