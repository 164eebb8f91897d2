"""The long-running servers move their start-up heap out of the garbage collector's sight
once started (lineops/cli/heap.py). In a process of its own: freezing is process-wide and
this one runs the test suite."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import gc, json, logging, weakref
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
from lineops.cli.heap import YOUNGEST_THRESHOLD, freeze_startup_heap

class Node:
    pass

kept = [Node() for _ in range(1000)]  # reachable: frozen
a, b = Node(), Node()
a.other, b.other = b, a  # an unreachable cycle: collected first, never frozen
dead = weakref.ref(a)
del a, b
before = gc.get_freeze_count()
freeze_startup_heap()
print(json.dumps({
    "before": before,
    "frozen": gc.get_freeze_count(),
    "threshold": gc.get_threshold()[0],
    "expected_threshold": YOUNGEST_THRESHOLD,
    "cycle_collected": dead() is None,
}))
"""


def test_the_heap_is_collected_then_frozen_and_the_youngest_threshold_raised() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(out.stdout)
    assert found["before"] == 0
    said = [line for line in out.stderr.splitlines() if line.startswith("lineops.cli.heap ")]
    assert said == [
        f"lineops.cli.heap start-up heap frozen: {found['frozen']} objects out of the "
        f"garbage collector's sight; youngest generation collected every "
        f"{found['expected_threshold']} net allocations"
    ]
    assert found["frozen"] > 1000  # the interpreter's own objects and ``kept``
    assert found["threshold"] == found["expected_threshold"] > 700  # 700: CPython's default
    assert found["cycle_collected"] is True
