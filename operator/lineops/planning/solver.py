"""Solving: CP-SAT stage by stage (lexicographic objectives), warm-started from a previous
plan or the dispatch rule (for a pure job shop's makespan, that plan shortened by a tabu
search first), with the dispatch plan as the answer when CP-SAT finds none."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from lineops.planning import tabu
from lineops.planning.check import violations
from lineops.planning.cpsat import CpModel, build
from lineops.planning.dispatch import dispatch
from lineops.planning.errors import PlanInfeasibleError, PlanningInputError
from lineops.planning.options import STAGES, SolveOptions
from lineops.planning.problem import Problem
from lineops.planning.schedule import Assignment, Method, Schedule, weighted_tardiness

# Relative shares of the time of the objective stages: the primary objective matters
# most; later stages start from its solution and usually need little time; the
# moved-operations stage of a replan least (its objective is already folded into the
# stages before it).
FIRST_STAGE_WEIGHT = 1.5
MOVED_STAGE_WEIGHT = 0.5
# The dispatch rules tried for the starting plan (the best by the first objective wins).
DISPATCH_RULES = (Method.EDD, Method.WSPT, Method.MWKR)
# CP-SAT parameters beyond time, workers, seed and log, for a makespan-first job shop (one
# work unit per operation, no changeovers, no blocked windows: only no-overlaps and
# precedences). Compared with CP-SAT's defaults on generated Taillard-style 20x15
# instances, never the published ones (benchmarks/planning_variants.py, docs/planning.md):
# the stronger no-overlap propagation gave makespans 1.1 % shorter on average at 30 s (4
# instances) and 0.9 % and 1.3 % at 60 s (6 + 6 others), shorter on 14 of 16, 2 ties.
JOB_SHOP_MAKESPAN_PARAMETERS: Mapping[str, Any] = MappingProxyType(
    {"use_strong_propagation_in_disjunctive": True}
)
_NO_TUNING: Mapping[str, Any] = MappingProxyType({})
# The share of the time limit a tabu search (lineops.planning.tabu) gets before CP-SAT, for a
# makespan-first pure job shop started from scratch: its plan is CP-SAT's hint and its
# makespan the model's horizon. Chosen on generated instances like the parameters above.
JOB_SHOP_TABU_SHARE = 1 / 6


def solve(
    problem: Problem,
    options: SolveOptions | None = None,
    *,
    hint: Schedule | None = None,
    fixed: Sequence[Assignment] = (),
    not_before: int = 0,
    keep: Schedule | None = None,
) -> Schedule:
    """The best schedule CP-SAT finds within the time limit.

    ``hint`` warm-starts the search (a previous plan); without it the dispatch plan does.
    ``fixed`` operations (already started) stay as they are and nothing else starts before
    ``not_before``. With ``keep``, a last stage minimises the operations whose work unit or
    start differ from that plan. When CP-SAT finds no schedule in time, the dispatch plan
    (``options.fallback``) is returned, marked as such. A proven infeasible problem raises
    PlanInfeasibleError.
    """
    from ortools.sat.python import cp_model

    options = options or SolveOptions()
    began = time.perf_counter()
    # Validates the problem as well; its plan is the fallback.
    fallback = dispatch(problem, options.fallback, fixed=fixed, not_before=not_before)
    stages = STAGES[options.objective] + (("moved",) if keep else ())
    # The best of the dispatch plans by the first objective (milliseconds each) is the
    # warm start unless a previous plan is given.
    best_rule = min(
        [fallback]
        + [
            dispatch(problem, rule, fixed=fixed, not_before=not_before)
            for rule in DISPATCH_RULES
            if rule is not options.fallback
        ],
        key=lambda plan: _first_objective(problem, stages[0], plan),
    )
    if (
        stages[0] == "makespan"
        and hint is None
        and not fixed
        and not not_before  # the search plans from time 0
        and options.warm_start
        and JOB_SHOP_TABU_SHARE > 0
        and tabu.applies(problem)
    ):
        best_rule = tabu.improve(
            problem, best_rule, options.time_limit * JOB_SHOP_TABU_SHARE, options.seed
        )
    start_from = hint or best_rule
    within = None
    if stages[0] == "makespan" and not fixed:
        # The shortest dispatch plan (shortened by the tabu search, for a job shop) bounds
        # the optimum: its makespan becomes the horizon.
        # (Not when replanning: the model asks a changeover against every kept operation
        # that started after not_before, which a dispatch plan need not meet. A previous
        # plan is no bound either: a breakdown may have made it infeasible.)
        within = best_rule.makespan
    if hint is not None:
        # A previous plan may break the problem now (a breakdown): start from the better,
        # by the first objective, of the dispatch plan and the previous plan's order
        # repaired by dispatching (feasible, and close to it).
        repaired = dispatch(
            problem, options.fallback, fixed=fixed, not_before=not_before, follow=hint
        )
        if violations(problem, hint, kept=[(a.job, a.index) for a in fixed]):
            start_from = min(
                (repaired, best_rule), key=lambda plan: _first_objective(problem, stages[0], plan)
            )
    built = build(
        problem,
        fixed=fixed,
        not_before=not_before,
        keep=keep.assignments if keep else (),
        within=within,
        tolerance=options.move_tolerance,
    )
    if hint is not None or options.warm_start:
        built.hint(start_from.assignments)
    deadline = began + options.time_limit
    reached: dict[str, int] = {}
    best: list[Assignment] | None = None
    bound: int | None = None
    status_name = "UNKNOWN"
    weights = [_weight(number, stage) for number, stage in enumerate(stages)]
    tuning = tuned_parameters(problem, stages[0])
    for number, stage in enumerate(stages):
        left = deadline - time.perf_counter()
        share = weights[number] / sum(weights[number:])
        solver = _solver(options, max(left * share, 0.05), tuning)
        expression = built.objectives[stage]
        scale = 1
        if keep and stage != "moved":
            # Replanning: each objective stage already prefers, among plans as good, the
            # one that moves fewer operations (a weight above any count of moves keeps the
            # objective first), so the whole search steers towards the previous plan and
            # the last stage only polishes.
            scale = len(built.ops) + 1
            built.model.minimize(scale * expression + built.objectives["moved"])
        else:
            built.model.minimize(expression)
        status = solver.solve(built.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if number == 0 and status == cp_model.INFEASIBLE:
                raise PlanInfeasibleError(_infeasible(problem))
            if number == 0 and status == cp_model.MODEL_INVALID:
                # validate() bounds every time and weight so that CP-SAT's sums fit in 64
                # bits for any plan it could solve; should one still not, say so plainly
                raise PlanningInputError(
                    "plan",
                    f"too large for CP-SAT's 64-bit arithmetic ({built.model.validate()}): "
                    "shorten the horizon or lower the priority weights",
                )
            break  # a later stage ran out of time: keep the previous stage's plan
        value = solver.value(expression)
        reached[stage] = value
        if number == 0:  # the status and bound a planner reads are the primary objective's
            # (with moves folded in, bound // scale is the objective's own bound)
            bound = round(solver.best_objective_bound) // scale
            status_name = solver.status_name(status)
        best = built.assignments(solver)
        # The next stage keeps this one's value and starts from its solution.
        built.model.add(expression <= value)
        _hint_all(built, solver)
    wall = time.perf_counter() - began
    if best is None:
        plan = Schedule(
            assignments=fallback.assignments,
            method=fallback.method,
            status=f"fallback: CP-SAT found no schedule in {options.time_limit:g} s",
            wall_seconds=wall,
            notes=fallback.notes,
        )
        # Dispatching places every operation, past the horizon if need be (where no
        # off-shift window is laid out): such a plan was returned with exit 0.
        broken = violations(problem, plan, kept=[(a.job, a.index) for a in fixed])
        if broken:
            raise PlanInfeasibleError(
                f"CP-SAT found no schedule in {options.time_limit:g} s and the "
                f"{fallback.method.value} dispatch plan does not fit: "
                + "; ".join(broken[:3])
                + "; give CP-SAT more time (--time-limit) or a longer horizon"
            )
        return plan
    schedule = Schedule(
        assignments=tuple(sorted(best, key=lambda a: (a.start, a.work_unit, a.job))),
        method=Method.CP_SAT,
        status=status_name,
        objectives=reached,
        bound=bound,
        wall_seconds=wall,
    )
    problems = violations(problem, schedule, kept=[(a.job, a.index) for a in fixed])
    if problems:  # a modelling error, never the user's: say so loudly
        raise AssertionError("CP-SAT plan breaks the problem: " + "; ".join(problems[:5]))
    return schedule


def _first_objective(problem: Problem, stage: str, plan: Schedule) -> int:
    return plan.makespan if stage == "makespan" else weighted_tardiness(problem, plan)


def _weight(number: int, stage: str) -> float:
    if stage == "moved":
        return MOVED_STAGE_WEIGHT
    return FIRST_STAGE_WEIGHT if number == 0 else 1.0


def tuned_parameters(problem: Problem, first_stage: str) -> Mapping[str, Any]:
    """The CP-SAT parameters ``solve`` sets beyond time, workers, seed and log: only for a
    makespan-first pure job shop (the case they were compared on), none otherwise."""
    if first_stage == "makespan" and is_job_shop(problem):
        return JOB_SHOP_MAKESPAN_PARAMETERS
    return _NO_TUNING


def is_job_shop(problem: Problem) -> bool:
    """One eligible work unit per operation, no changeovers and no blocked windows."""
    return (
        not problem.blocked
        and not any(problem.changeovers.values())
        and all(len(op.alternatives) == 1 for _, _, op in problem.operations())
    )


def _solver(options: SolveOptions, seconds: float, tuning: Mapping[str, Any] = _NO_TUNING) -> Any:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.log_search_progress = options.log
    for name, value in tuning.items():
        setattr(solver.parameters, name, value)
    return solver


def _hint_all(built: CpModel, solver: Any) -> None:
    """Every variable's value as the next stage's hint: a complete, feasible start."""
    model = built.model
    model.clear_hints()
    for index in range(len(model.proto.variables)):
        var = model.get_int_var_from_proto_index(index)
        model.add_hint(var, solver.value(var))


def _infeasible(problem: Problem) -> str:
    if problem.horizon is not None:
        too_long = _longer_than_any_gap(problem, problem.horizon)
        if too_long:  # "give a longer horizon" would not help this one
            return too_long
        for job in problem.jobs:
            # an order that cannot fit even alone, on its fastest work units
            work = sum(op.shortest for op in job.operations)
            if job.release + work > problem.horizon:
                return (
                    f"order {job.name}: released at {job.release} s with {work} s of "
                    f"processing, it cannot end within the horizon ({problem.horizon} s "
                    "from the start); give a longer horizon"
                )
        return (
            f"no schedule fits in the horizon ({problem.horizon} s from the start) around "
            "the blocked windows; give a longer horizon"
        )
    return "no schedule satisfies the constraints"


def _longer_than_any_gap(problem: Problem, horizon: int) -> str:
    """An operation that fits between no two blocked windows of any eligible unit (they
    run without a break), named with the longest gap; "" when there is none, or when the
    horizon's end is what cuts the longest gap (a longer horizon may help then)."""
    gaps = {unit: _gaps(problem, unit, horizon) for unit in problem.work_units}
    for job in problem.jobs:
        for index, op in enumerate(job.operations):
            if all(
                gaps[alt.work_unit] is not None and alt.duration > gaps[alt.work_unit]  # type: ignore[operator]
                for alt in op.alternatives
            ):
                best = max(op.alternatives, key=lambda alt: gaps[alt.work_unit] or 0)
                return (
                    f"order {job.name}, operation {index}: needs {best.duration} s without a "
                    f"break on {best.work_unit}, but the longest time between its blocked "
                    f"windows (off shift, maintenance) is {gaps[best.work_unit]} s; split the "
                    "order or lengthen the shifts"
                )
    return ""


def _gaps(problem: Problem, unit: str, horizon: int) -> int | None:
    """The longest time ``unit`` is free between blocked windows, or None when it has none
    or the free time before the horizon's end is longer (the horizon is what cuts it)."""
    windows = sorted((w.start, w.end) for w in problem.blocked if w.work_unit == unit)
    if not windows:
        return None
    longest, cursor = 0, 0
    for start, end in windows:
        longest = max(longest, min(start, horizon) - cursor)
        cursor = max(cursor, end)
    # A window reaching past the horizon, or more free time before it than anywhere: the
    # horizon is what limits. (Off-shift windows are laid out up to the horizon exactly.)
    return None if cursor > horizon or horizon - cursor > longest else longest
