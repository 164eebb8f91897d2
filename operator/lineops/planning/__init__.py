"""Production planning: which work unit makes what, when, so that urgent orders ship on time.

Pure (no Kubernetes, no operator layers) and cheap to import: OR-Tools CP-SAT is imported
only when a model is built (``cpsat``). ``problem`` holds the model in whole seconds,
``orders`` reads an order book against a ProductionLine, ``jssp`` the standard job-shop
format; ``solver`` plans with CP-SAT (for a pure job shop's makespan, from ``tabu``'s
plan) and falls back to ``dispatch`` (EDD / WSPT); ``replan``
keeps started operations and moves as few others as it can; ``check`` verifies any plan.
"""

from __future__ import annotations

from lineops.planning.check import violations
from lineops.planning.dispatch import dispatch
from lineops.planning.errors import PlanInfeasibleError, PlanningInputError
from lineops.planning.options import Objective, SolveOptions
from lineops.planning.problem import Alternative, Job, Operation, Problem, Window
from lineops.planning.replan import replan
from lineops.planning.schedule import (
    Assignment,
    Method,
    Schedule,
    tardiness,
    utilisation,
    weighted_tardiness,
)
from lineops.planning.solver import solve
from lineops.planning.validate import MAX_TIME, MAX_WEIGHT, validate

__all__ = [
    "MAX_TIME",
    "MAX_WEIGHT",
    "Alternative",
    "Assignment",
    "Job",
    "Method",
    "Objective",
    "Operation",
    "PlanInfeasibleError",
    "PlanningInputError",
    "Problem",
    "Schedule",
    "SolveOptions",
    "Window",
    "dispatch",
    "replan",
    "solve",
    "tardiness",
    "utilisation",
    "validate",
    "violations",
    "weighted_tardiness",
]
