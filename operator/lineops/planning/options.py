"""What a planner chooses: the objective, the solver's time and threads, the fallback rule."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lineops.planning.schedule import Method


class Objective(StrEnum):
    # Sum over orders of priority weight x time finished after the due date.
    TARDINESS = "tardiness"
    # End of the last operation.
    MAKESPAN = "makespan"
    # Weighted tardiness first; among plans as good, the shortest makespan.
    LEXICOGRAPHIC = "lexicographic"


# The objective stages, in lexicographic order, of each choice.
STAGES: dict[Objective, tuple[str, ...]] = {
    Objective.TARDINESS: ("tardiness",),
    Objective.MAKESPAN: ("makespan",),
    Objective.LEXICOGRAPHIC: ("tardiness", "makespan"),
}


@dataclass(frozen=True)
class SolveOptions:
    objective: Objective = Objective.TARDINESS
    time_limit: float = 10.0  # seconds of wall time for all stages together
    # CP-SAT's parallel portfolio; 2 matches the reference machine (and CI).
    workers: int = 2
    seed: int = 0
    # The dispatch rule used when the solver finds no schedule in time (also its first hint).
    fallback: Method = Method.EDD
    # Without a previous plan, start CP-SAT's search from the fallback's plan (the benchmark
    # turns it off to show what the search finds by itself).
    warm_start: bool = True
    log: bool = False  # CP-SAT's search log on stdout
    # Replanning: an operation that stays on its work unit and starts at most this much
    # earlier or later than in the previous plan does not count as moved (the floor sees
    # a small shift as the same plan; a tolerance of 0 counts any change).
    move_tolerance: int = 0

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time limit must be positive, got {self.time_limit}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.move_tolerance < 0:
            raise ValueError(f"move tolerance must not be negative, got {self.move_tolerance}")
        if self.fallback is Method.CP_SAT:
            raise ValueError("the fallback must be a dispatch rule (edd, wspt or mwkr)")
