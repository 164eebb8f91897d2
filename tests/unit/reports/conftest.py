"""Input files for report tests: textbook SPC data plus a small machine-state log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

from tests.unit.mes.conftest import ORANGE_JUICE, PISTON_RINGS

# Phase II: the first 12 Phase I subgroups again, shifted up by 0.012 mm (about 2.7 sigma of
# the subgroup mean), so the report has run-rule violations to flag.
SHIFT = 0.012
START = datetime(2024, 3, 1, 6, 0)

# (work unit, minute, state, reason): an 8-hour shift of two machines.
EVENTS = [
    ("press-01", 0, "running", ""),
    ("press-01", 120, "down", "die jam"),
    ("press-01", 150, "running", ""),
    ("press-01", 300, "changeover", ""),
    ("press-01", 320, "running", ""),
    ("press-01", 480, "planned-stop", ""),
    ("grinder-01", 0, "running", ""),
    ("grinder-01", 200, "idle", "starved"),
    ("grinder-01", 230, "running", ""),
    ("grinder-01", 480, "planned-stop", ""),
]


def piston_rows() -> list[list[str]]:
    return [line.split() for line in PISTON_RINGS.splitlines() if line.strip()]


@dataclass(frozen=True)
class Inputs:
    rings: Path  # xbar-r data, 25 Phase I + 12 shifted subgroups
    rejects: Path  # p chart data, count,n
    events: Path
    counts: Path


def write_inputs(directory: Path) -> Inputs:
    rows = piston_rows()
    shifted = [[f"{float(v) + SHIFT:.3f}" for v in row] for row in rows[:12]]
    rings = directory / "ring_diameter.csv"
    rings.write_text(
        "subgroup,x1,x2,x3,x4,x5\n"
        + "".join(f"{i},{','.join(r)}\n" for i, r in enumerate(rows + shifted, start=1)),
        encoding="utf-8",
    )
    rejects = directory / "reject_fraction.csv"
    rejects.write_text("count,n\n" + "".join(f"{c},50\n" for c in ORANGE_JUICE), encoding="utf-8")
    events = directory / "events.csv"
    events.write_text(
        "timestamp,work_unit,state,reason\n"
        + "".join(
            f"{(START + timedelta(minutes=m)).isoformat()},{unit},{state},{reason}\n"
            for unit, m, state, reason in EVENTS
        ),
        encoding="utf-8",
    )
    counts = directory / "counts.csv"
    counts.write_text(
        "timestamp,work_unit,total,good\n"
        + "".join(
            f"{(START + timedelta(hours=h, minutes=30)).isoformat()},{unit},{total},{good}\n"
            for h in range(8)
            for unit, total, good in (("press-01", 2300, 2270), ("grinder-01", 1200, 1185))
        ),
        encoding="utf-8",
    )
    return Inputs(rings, rejects, events, counts)


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    data = tmp_path / "data"
    data.mkdir()
    return write_inputs(data)


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """Every matplotlib figure saved during the test, to look at what the PNG shows."""
    figures: list[Figure] = []
    save = Figure.savefig

    def spy(self: Figure, *args: Any, **kwargs: Any) -> None:
        figures.append(self)
        save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return figures
