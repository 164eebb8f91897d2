"""Shared fixtures of the planning tests."""

from __future__ import annotations

from typing import Any

import pytest
from lineops.planning import SolveOptions, solver


@pytest.fixture
def cp_sat_without_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real CP-SAT, given no time at all: it stops before any solution (status
    UNKNOWN), so ``solve`` falls back to its dispatch rule."""
    make = solver._solver

    def no_time(options: SolveOptions, seconds: float, *tuning: Any) -> Any:
        cp = make(options, seconds, *tuning)
        cp.parameters.max_time_in_seconds = 0.0
        return cp

    monkeypatch.setattr(solver, "_solver", no_time)
