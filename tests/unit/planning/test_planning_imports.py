"""Importing planning (as the operator and the CLI do) does not load OR-Tools: CP-SAT is
imported when a model is built, so start-up stays light."""

from __future__ import annotations

import subprocess
import sys


def test_ortools_is_imported_only_when_solving() -> None:
    code = (
        "import sys, lineops.planning, lineops.planning.orders, lineops.cli.main\n"
        "lineops.cli.main.build_parser()\n"
        "assert 'ortools' not in sys.modules, sorted(m for m in sys.modules if 'ortools' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
