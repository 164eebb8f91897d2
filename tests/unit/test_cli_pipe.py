"""`lineops ... | head`: a reader that goes away ends the command quietly, without a
traceback (a real child process and a real pipe)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path


def test_a_closed_pipe_ends_the_command_without_a_traceback(tmp_path: Path) -> None:
    # 100 jobs x 20 machines print about 2,000 schedule lines (~90 KB): more than a pipe
    # holds, so the child is still writing when the reader closes its end.
    rng = random.Random(7)
    rows = ["100 20"]
    for _ in range(100):
        machines = rng.sample(range(20), 20)
        rows.append(" ".join(f"{m} {rng.randint(1, 99)}" for m in machines))
    instance = tmp_path / "big.txt"
    instance.write_text("\n".join(rows) + "\n")
    command = [sys.executable, "-m", "lineops.cli.main", "plan", "jssp", "--instance"]
    child = subprocess.Popen(
        [*command, str(instance), "--time-limit", "1", "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline().startswith(b"makespan ")
    child.stdout.close()
    errors = child.stderr.read().decode()
    assert child.wait(timeout=120) == 1
    assert errors == ""
