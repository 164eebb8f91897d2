"""The CP-SAT model of a problem: interval variables, no-overlap per work unit, routing
precedence, optional intervals for alternative work units, changeovers as circuits.

OR-Tools is imported here and only here, and only when a model is built, so importing
``lineops.planning`` (as the operator may) stays cheap.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lineops.planning.problem import Job, Problem
from lineops.planning.schedule import Assignment


@dataclass
class _Op:
    job: Job
    index: int
    start: Any  # IntVar
    end: Any  # IntVar
    # work unit -> presence literal (True for an operation with a single eligible unit)
    presence: dict[str, Any]


@dataclass
class CpModel:
    """The built model and the handles needed to set objectives, hints and read answers."""

    model: Any  # ortools.sat.python.cp_model.CpModel
    horizon: int
    ops: dict[tuple[str, int], _Op]
    fixed: dict[tuple[str, int], Assignment]
    not_before: int = 0
    objectives: dict[str, Any] = field(default_factory=dict)
    # work unit -> [(operation key, arc literal matrix index)] for hinting circuits
    circuits: dict[str, tuple[list[tuple[str, int]], dict[tuple[int, int], Any]]] = field(
        default_factory=dict
    )

    def hint(self, assignments: Sequence[Assignment]) -> None:
        """Warm start: the previous plan's starts, ends, work units and sequences."""
        self.model.clear_hints()
        placed = {(a.job, a.index): a for a in assignments}
        for key, op in self.ops.items():
            a = placed.get(key)
            if a is None or a.work_unit not in op.presence:
                continue
            self.model.add_hint(op.start, a.start)
            self.model.add_hint(op.end, a.end)
            if len(op.presence) > 1:
                for unit, literal in op.presence.items():
                    self.model.add_hint(literal, unit == a.work_unit)
        for unit, (nodes, arcs) in self.circuits.items():
            order = sorted(
                (placed[key].start, i + 1)
                for i, key in enumerate(nodes)
                if key in placed and placed[key].work_unit == unit
            )
            chain = [0] + [node for _, node in order] + [0]
            used = set(itertools.pairwise(chain)) if order else {(0, 0)}
            for (tail, head), literal in arcs.items():
                if tail == head != 0:
                    continue  # a self-loop is "absent here": hinted with the presence above
                self.model.add_hint(literal, (tail, head) in used)

    def assignments(self, solver: Any) -> list[Assignment]:
        result = list(self.fixed.values())
        for (job, index), op in self.ops.items():
            unit = next(u for u, lit in op.presence.items() if solver.boolean_value(lit))
            result.append(
                Assignment(job, index, unit, solver.value(op.start), solver.value(op.end))
            )
        return result


def build(
    problem: Problem,
    *,
    fixed: Sequence[Assignment] = (),
    not_before: int = 0,
    keep: Sequence[Assignment] = (),
    within: int | None = None,
    tolerance: int = 0,
) -> CpModel:
    """The model with its constraints and the objective expressions ("tardiness",
    "makespan", and "moved" when ``keep`` gives a plan whose operations should stay; an
    operation stays when it keeps its work unit and starts within ``tolerance`` of it).

    ``within``: a makespan some known plan reaches (the best dispatch plan's). When the
    makespan is the first objective no better plan ends later, so it becomes the horizon:
    a far tighter one than the safe bound, which narrows every start's domain.
    """
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    kept = {(a.job, a.index): a for a in fixed}
    horizon = problem.horizon
    if horizon is None:
        busy = sum(a.end - a.start for a in fixed)
        horizon = problem.upper_bound() + max([not_before, *(a.end for a in fixed)]) + busy
    if within is not None:
        horizon = min(horizon, within)
    built = CpModel(model=model, horizon=horizon, ops={}, fixed=kept, not_before=not_before)
    intervals: dict[str, list[Any]] = {unit: [] for unit in problem.work_units}
    job_end: dict[str, Any] = {}
    job_start: dict[str, Any] = {}
    heads: dict[str, int] = {}  # job -> earliest end of its operations so far
    loads: dict[str, list[int]] = {}  # unit -> [earliest start, work only it can do]
    for job in problem.jobs:
        previous_end: Any = None
        for index, op in enumerate(job.operations):
            key = (job.name, index)
            if key in kept:
                previous_end = kept[key].end
                heads[job.name] = max(heads.get(job.name, 0), kept[key].end)
                job_start.setdefault(job.name, kept[key].start)
                continue
            earliest = max(job.release, not_before)
            if isinstance(previous_end, int):
                earliest = max(earliest, previous_end)
            # Head and tail: the shortest work before and after it in the routing bound
            # where it can be (every operation ends within the horizon).
            earliest = max(earliest, heads.get(job.name, 0))
            tail = sum(later.shortest for later in job.operations[index + 1 :])
            latest_end = max(horizon - tail, earliest + op.shortest)
            start = model.new_int_var(earliest, latest_end, f"s_{job.name}_{index}")
            end = model.new_int_var(earliest, latest_end, f"e_{job.name}_{index}")
            heads[job.name] = earliest + op.shortest
            if len(op.alternatives) == 1:
                unit_load = loads.setdefault(op.alternatives[0].work_unit, [horizon, 0])
                unit_load[0] = min(unit_load[0], earliest)
                unit_load[1] += op.alternatives[0].duration
            if previous_end is not None and not isinstance(previous_end, int):
                model.add(start >= previous_end)
            presence: dict[str, Any] = {}
            if len(op.alternatives) == 1:
                alt = op.alternatives[0]
                intervals[alt.work_unit].append(
                    model.new_interval_var(start, alt.duration, end, f"i_{job.name}_{index}")
                )
                presence[alt.work_unit] = model.new_constant(1)
            else:
                for alt in op.alternatives:
                    literal = model.new_bool_var(f"p_{job.name}_{index}_{alt.work_unit}")
                    intervals[alt.work_unit].append(
                        model.new_optional_interval_var(
                            start,
                            alt.duration,
                            end,
                            literal,
                            f"i_{job.name}_{index}_{alt.work_unit}",
                        )
                    )
                    presence[alt.work_unit] = literal
                model.add_exactly_one(presence.values())
            built.ops[key] = _Op(job, index, start, end, presence)
            previous_end = end
            job_start.setdefault(job.name, start)
        job_end[job.name] = previous_end
    for job in problem.jobs:
        for other in job.after:
            if isinstance(job_start[job.name], int) and isinstance(job_end[other], int):
                continue  # both already started and kept: nothing left to decide
            model.add(job_start[job.name] >= job_end[other])
    for unit in problem.work_units:
        blocked = [
            model.new_fixed_size_interval_var(span_start, span_end - span_start, f"b_{unit}")
            for span_start, span_end in _fixed_spans(problem, unit, fixed, horizon)
        ]
        model.add_no_overlap(intervals[unit] + blocked)
        _changeovers(problem, built, unit, blocked)
    floor = max([*heads.values(), *(start + work for start, work in loads.values())], default=0)
    _objectives(problem, built, job_end, keep, min(floor, horizon), tolerance)
    return built


def _fixed_spans(
    problem: Problem, unit: str, fixed: Sequence[Assignment], horizon: int
) -> list[tuple[int, int]]:
    """Blocked windows and kept operations on the unit, merged: a kept operation may run
    into a window that became known after it started, and no-overlap between two fixed
    intervals would make the model infeasible."""
    spans = sorted(
        [(w.start, w.end) for w in problem.windows_on(unit)]
        + [(a.start, a.end) for a in fixed if a.work_unit == unit]
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        start, end = max(start, 0), min(end, horizon)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _changeovers(problem: Problem, built: CpModel, unit: str, blocked: list[Any]) -> None:
    """Sequence-dependent changeovers on the unit: a circuit through the operations that
    may run there (arc i -> j: j follows i directly, so j starts after i ends plus the
    changeover from i's product to j's).

    A changeover is work on the unit, so it may not fall in a blocked window (or on a kept
    operation) either: it is placed right before the operation it prepares, as an interval
    [start - setup, start) that joins the ``blocked`` spans in a no-overlap of its own.

    Kept (started) operations are constants outside the circuit. When they all started
    by ``not_before`` (a replan: everything else starts later) every other operation comes
    after them, so the first one on the unit is prepared from the last kept one's product;
    otherwise see ``_changeovers_around_kept``."""
    nodes = [key for key, op in built.ops.items() if unit in op.presence]
    kept_here = sorted(
        (a for a in built.fixed.values() if a.work_unit == unit), key=lambda a: (a.start, a.end)
    )
    products = {built.ops[key].job.product for key in nodes} | {
        problem.job(a.job).product for a in kept_here
    }
    if not nodes or not any(problem.changeover(unit, a, b) for a in products for b in products):
        return
    exact = all(a.start <= built.not_before for a in kept_here)
    last = problem.job(kept_here[-1].job).product if kept_here and exact else None
    model = built.model
    arcs: dict[tuple[int, int], Any] = {}
    all_optional = True
    longest = max(problem.changeover(unit, a, b) for a in products for b in products)
    # operation key -> its setup time on this unit (only needed where something is blocked)
    setups: dict[tuple[str, int], Any] = {}
    if blocked:
        setups = {
            key: model.new_int_var(0, longest, f"setup_{unit}_{key[0]}_{key[1]}") for key in nodes
        }
        for key, setup in setups.items():
            op = built.ops[key]
            before = model.new_int_var(-longest, built.horizon, f"prep_{unit}_{key[0]}_{key[1]}")
            model.add(before + setup == op.start)
            name = f"changeover_{unit}_{key[0]}_{key[1]}"
            present = op.presence[unit]
            if len(op.presence) > 1:
                blocked.append(
                    model.new_optional_interval_var(before, setup, op.start, present, name)
                )
            else:
                blocked.append(model.new_interval_var(before, setup, op.start, name))
        model.add_no_overlap(blocked)

    def prepare(key: tuple[str, int], gap: int, literal: Any) -> None:
        """The setup of ``key`` when ``literal`` (its predecessor) holds: exactly the
        changeover, so the setup interval lies between the two operations."""
        if setups and exact:
            model.add(setups[key] == gap).only_enforce_if(literal)
        elif setups and gap:
            model.add(setups[key] >= gap).only_enforce_if(literal)

    for i, key in enumerate(nodes, start=1):
        op = built.ops[key]
        present = op.presence[unit]
        arcs[(0, i)] = model.new_bool_var(f"first_{unit}_{i}")
        arcs[(i, 0)] = model.new_bool_var(f"last_{unit}_{i}")
        first_gap = 0 if last is None else problem.changeover(unit, last, op.job.product)
        if first_gap:
            model.add(op.start >= kept_here[-1].end + first_gap).only_enforce_if(arcs[(0, i)])
        prepare(key, first_gap, arcs[(0, i)])
        if len(op.presence) > 1:
            arcs[(i, i)] = present.Not()
        else:
            all_optional = False
        for j, other_key in enumerate(nodes, start=1):
            if i == j:
                continue
            other = built.ops[other_key]
            literal = model.new_bool_var(f"arc_{unit}_{i}_{j}")
            arcs[(i, j)] = literal
            gap = problem.changeover(unit, op.job.product, other.job.product)
            model.add(other.start >= op.end + gap).only_enforce_if(literal)
            prepare(other_key, gap, literal)
    if all_optional:
        arcs[(0, 0)] = model.new_bool_var(f"empty_{unit}")
    model.add_circuit([(tail, head, literal) for (tail, head), literal in arcs.items()])
    built.circuits[unit] = (nodes, arcs)
    if not exact:
        _changeovers_around_kept(problem, built, kept_here, nodes, unit, setups)


def _changeovers_around_kept(
    problem: Problem,
    built: CpModel,
    kept_here: list[Assignment],
    nodes: list[tuple[str, int]],
    unit: str,
    setups: dict[tuple[str, int], Any],
) -> None:
    """Kept operations when some started after ``not_before`` (other operations may go
    before them): each operation that runs on the unit goes wholly before or after each of
    them, changeover included (the changeover out of it kept out of blocked windows through
    ``setups``). This asks for the changeover against every kept operation, not only the
    adjacent one, which can only make the plan a little longer, never invalid."""
    model = built.model
    products = {job.name: job.product for job in problem.jobs}
    for kept in kept_here:
        for key in nodes:
            op = built.ops[key]
            present = op.presence[unit]
            after = model.new_bool_var(f"after_{kept.job}_{kept.index}_{key[0]}_{key[1]}")
            into = problem.changeover(unit, op.job.product, products[kept.job])
            out_of = problem.changeover(unit, products[kept.job], op.job.product)
            model.add(op.start >= kept.end + out_of).only_enforce_if(after, present)
            if out_of and setups:
                model.add(setups[key] >= out_of).only_enforce_if(after, present)
            model.add(op.end + into <= kept.start).only_enforce_if(after.Not(), present)


def _objectives(
    problem: Problem,
    built: CpModel,
    job_end: dict[str, Any],
    keep: Sequence[Assignment],
    floor: int,
    tolerance: int,
) -> None:
    """``floor``: a lower bound of the makespan (the longest job from its earliest start,
    the most loaded unit's work that can go nowhere else), so the search proves optimality
    sooner."""
    model, horizon = built.model, built.horizon
    makespan = model.new_int_var(floor, horizon, "makespan")
    for end in job_end.values():
        model.add(makespan >= end)
    built.objectives["makespan"] = makespan
    terms = []
    for job in problem.jobs:
        if job.due is None:
            continue
        late = model.new_int_var(0, horizon, f"late_{job.name}")
        model.add(late >= job_end[job.name] - job.due)
        terms.append(job.weight * late)
    built.objectives["tardiness"] = sum(terms) if terms else model.new_constant(0)
    if keep:
        stays = []
        for a in keep:
            op = built.ops.get((a.job, a.index))
            if op is None or a.work_unit not in op.presence:
                continue
            stay = model.new_bool_var(f"stay_{a.job}_{a.index}")
            if tolerance:
                model.add(op.start >= a.start - tolerance).only_enforce_if(stay)
                model.add(op.start <= a.start + tolerance).only_enforce_if(stay)
            else:
                model.add(op.start == a.start).only_enforce_if(stay)
            model.add_implication(stay, op.presence[a.work_unit])
            stays.append(stay)
        # Operations of orders the previous plan did not have (a rush order) count as moved
        # whatever happens: a constant, so they do not change which plan is best.
        built.objectives["moved"] = len(built.ops) - sum(stays)
