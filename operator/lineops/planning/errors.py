"""The exceptions planning raises; each message names the order, product or operation."""

from __future__ import annotations


class PlanningInputError(ValueError):
    """Input a plan cannot be made from: an unknown work unit in a routing, a negative time,
    a due date before the release, orders that wait for each other in a cycle, ...

    ``where`` names the record (``order WO-7, operation 2``) so a caller reading a file can
    point at it; the message starts with it.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


class PlanInfeasibleError(RuntimeError):
    """The solver proved that no schedule satisfies the constraints (e.g. the orders do not
    fit in the horizon around the blocked windows)."""
