"""CP-SAT configurations for the job shop compared on GENERATED 20x15 instances (never the
published ones that benchmarks/planning.py reports), so a choice is not made on the test set.

The instances follow Taillard's recipe (each job visits the 15 machines in a random order,
durations uniform in 1..99) from seeds 1000 + SEED; they have no known optimum, so the
variants are compared with one another by makespan, each run right after the others on the
same instance (the machine is shared: back to back is the fairest comparison). Each variant
is `lineops.planning.solve` for makespan, as `lineops plan jssp` runs it, with the worker
count and the CP-SAT parameters below set on top of it, and for some a model change made
here only or a chain of shorter solves (see Variant). One line per solve:

    .venv/bin/python benchmarks/planning_variants.py --seeds 0,1,2,3 cpsat-defaults defaults
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from lineops.planning import Objective, Schedule, SolveOptions, solve, solver, violations
from lineops.planning.cpsat import CpModel
from lineops.planning.jssp import parse_jssp
from ortools.sat.python import cp_model


@dataclass(frozen=True)
class Variant:
    """How one configuration differs from ``solve`` as the library runs it."""

    workers: int = 2
    # CP-SAT parameters set on top of lineops' own
    parameters: dict[str, Any] = field(default_factory=dict)
    # model changes made in this script only (see ``with_model``):
    # the makespan variable hinted too (the library's hint leaves it out)
    hint_makespan: bool = False
    # makespan == max(job ends) instead of makespan >= each job's end
    max_equality: bool = False
    # a "makespan interval" [makespan, horizon + 1) added to every work unit's no-overlap:
    # it must come after each unit's last operation, so the no-overlap propagators reason
    # on the makespan directly (OR-Tools' examples/cpp/jobshop_sat.cc,
    # --use_interval_makespan)
    interval_makespan: bool = False
    # a search strategy on the operations' starts (earliest start first, at its minimum:
    # the "set times" branching of scheduling); CP-SAT's full-search worker follows it
    # only as a hint unless the subsolver is "fixed"
    decision_strategy: bool = False
    # ``chain`` solves of time-limit / chain seconds each, each warm-started from the
    # previous one's plan (its hint) with another seed, instead of one solve
    chain: int = 1
    # the share of the time the tabu search gets before CP-SAT (solver.JOB_SHOP_TABU_SHARE;
    # None: the library's)
    tabu_share: float | None = None


VARIANTS: dict[str, Variant] = {
    # what solve runs: for a makespan-first job shop (these instances), CP-SAT's defaults
    # plus solver.JOB_SHOP_MAKESPAN_PARAMETERS (strong no-overlap propagation) since #23
    "defaults": Variant(),
    # CP-SAT's own defaults: what solve ran for a job shop before that
    "cpsat-defaults": Variant(2, {"use_strong_propagation_in_disjunctive": False}),
    # CP-SAT's 8-worker portfolio (6 full-search subsolvers) time-sliced on the 2 cores
    "workers-8": Variant(8),
    # 8 workers, only 2 of them full search: the other 6 threads for LNS
    "workers-8-full-2": Variant(8, {"num_full_subsolvers": 2}),
    # the shared worker keeps only the LNS neighbourhoods (graph, random, scheduling)
    "lns-only-neighbourhoods": Variant(
        2, {"ignore_subsolvers": ["feasibility_pump", "ls", "rins/rens", "fj"]}
    ),
    # no LP relaxation in the full-search worker
    "linearization-0": Variant(2, {"linearization_level": 0}),
    # disjunctive (no-overlap) propagation; strong-disjunctive is what defaults runs now
    "strong-disjunctive": Variant(2, {"use_strong_propagation_in_disjunctive": True}),
    "dynamic-precedence": Variant(2, {"use_dynamic_precedence_in_disjunctive": True}),
    "strong-dynamic": Variant(
        2,
        {
            "use_strong_propagation_in_disjunctive": True,
            "use_dynamic_precedence_in_disjunctive": True,
        },
    ),
    "no-precedences-in-disjunctive": Variant(
        2, {"use_precedences_in_disjunctive_constraint": False}
    ),
    "no-precedence-literals": Variant(
        2, {"max_size_to_create_precedence_literals_in_disjunctive": 0}
    ),
    # more workers than cores, time-sliced
    "workers-3": Variant(3),
    "workers-4": Variant(4),
    "workers-3-full-1": Variant(3, {"num_full_subsolvers": 1}),
    "workers-4-full-1": Variant(4, {"num_full_subsolvers": 1}),
    # subsolvers interleaved in deterministic batches instead of one thread each
    "interleave": Variant(2, {"interleave_search": True}),
    # objective search strategies
    "objective-shaving": Variant(2, {"use_objective_shaving_search": True}),
    "objective-lb": Variant(2, {"use_objective_lb_search": True}),
    # the hint
    "hint-makespan": Variant(hint_makespan=True),
    "repair-hint": Variant(2, {"repair_hint": True}, hint_makespan=True),
    # model formulation
    "max-equality": Variant(max_equality=True),
    "interval-makespan": Variant(interval_makespan=True),
    # which full-search subsolver takes the one full worker (CP-SAT's own: default_lp)
    "full-no-lp": Variant(2, {"subsolvers": ["no_lp"]}),
    "full-quick-restart": Variant(2, {"subsolvers": ["quick_restart"]}),
    "full-quick-restart-no-lp": Variant(2, {"subsolvers": ["quick_restart_no_lp"]}),
    # LNS and search options
    "push-toward-start": Variant(2, {"push_all_tasks_toward_start": True}),
    "diversify-lns": Variant(2, {"diversify_lns_params": True}),
    "exploit-all-precedences": Variant(2, {"exploit_all_precedences": True}),
    # the shared worker keeps only the scheduling LNS neighbourhoods (intervals,
    # precedences, resource and time windows) and the local search
    "scheduling-lns-only": Variant(
        2,
        {
            "ignore_subsolvers": [
                "feasibility_pump",
                "rins/rens",
                "graph_arc_lns",
                "graph_cst_lns",
                "graph_dec_lns",
                "graph_var_lns",
                "rnd_cst_lns",
                "rnd_var_lns",
            ]
        },
    ),
    # every worker an LNS worker (no full search: no lower bound beyond presolve's)
    "lns-only": Variant(2, {"use_lns_only": True}),
    # LNS starts from one of the 10 best solutions instead of the 3 best (more diversity)
    "pool-10": Variant(2, {"solution_pool_size": 10}),
    # one propagator for all the no-overlap constraints (CP-SAT's experimental option):
    # OR-Tools 9.15.6755 crashes with it (a segmentation fault in libortools at the start of
    # the solve, on generated instances 88 and 0, 2026-11-30), so it is kept only to say so
    "combined-no-overlap": Variant(2, {"use_combined_no_overlap": True}),
    # workers share the bounds they learn on differences of two variables (precedences)
    "share-linear2": Variant(2, {"share_linear2_bounds": True}),
    # set-times branching on the starts: as a strategy for the default worker, or as the
    # full-search worker itself (CP-SAT's "fixed" subsolver)
    "decision-strategy": Variant(decision_strategy=True),
    "fixed-search": Variant(2, {"subsolvers": ["fixed"]}, decision_strategy=True),
    # the full search branches towards the best solution's values first (solution-guided
    # search, which Beck found strong on job shops)
    "exploit-best-solution": Variant(2, {"exploit_best_solution": True}),
    # a stronger LP relaxation in the full-search worker (more cuts, slower nodes)
    "linearization-2": Variant(2, {"linearization_level": 2}),
    # no symmetry detection in presolve (a job shop has little to find)
    "symmetry-0": Variant(2, {"symmetry_level": 0}),
    # no feasibility-jump local search in the shared worker: a job shop's hint is already
    # feasible, so its time can go to the LNS neighbourhoods
    "no-feasibility-jump": Variant(2, {"use_feasibility_jump": False}),
    # the tabu search's share of the time before CP-SAT (the library's is 1/6: "defaults")
    "no-tabu": Variant(tabu_share=0.0),
    "tabu-1-12": Variant(tabu_share=1 / 12),
    "tabu-1-3": Variant(tabu_share=1 / 3),
    # chained solves
    "chain-2": Variant(chain=2),
    "chain-4": Variant(chain=4),
}


def generated(seed: int, jobs: int = 20, machines: int = 15) -> str:
    """A Taillard-style instance in the standard text format."""
    rng = random.Random(1000 + seed)
    rows = [f"{jobs} {machines}"]
    for _ in range(jobs):
        order = rng.sample(range(machines), machines)
        rows.append(" ".join(f"{m} {rng.randint(1, 99)}" for m in order))
    return "\n".join(rows) + "\n"


def with_parameters(extra: dict[str, Any]) -> Any:
    """solver._solver with ``extra`` set on the CP-SAT parameters (a benchmark-only wrap:
    the library sets no parameters beyond time, workers, seed and log)."""
    make = solver._solver

    def configured(options: SolveOptions, seconds: float, *tuning: Any) -> Any:
        cp = make(options, seconds, *tuning)
        for name, value in extra.items():
            if isinstance(value, list):
                getattr(cp.parameters, name).extend(value)
            else:
                setattr(cp.parameters, name, value)
        return cp

    return configured


def with_model(variant: Variant) -> Any:
    """solver.build with the variant's model changes (a benchmark-only wrap)."""
    make = getattr(solver, "build")  # noqa: B009 (solver's import of cpsat.build, not re-exported)

    def configured(*args: Any, **kwargs: Any) -> CpModel:
        built: CpModel = make(*args, **kwargs)
        makespan = built.objectives["makespan"]
        last_ends = {}
        for (job, index), op in built.ops.items():
            if index == len(op.job.operations) - 1:
                last_ends[job] = op.end
        if variant.max_equality:
            built.model.add_max_equality(makespan, list(last_ends.values()))
        if variant.interval_makespan:
            model, horizon = built.model, built.horizon
            tail = model.new_int_var(1, horizon + 1, "makespan_tail")
            last = model.new_interval_var(makespan, tail, horizon + 1, "makespan_interval")
            for constraint in model.proto.constraints:
                if constraint.has_no_overlap():
                    constraint.no_overlap.intervals.append(last.index)
        if variant.decision_strategy:
            built.model.add_decision_strategy(
                [op.start for op in built.ops.values()],
                cp_model.CHOOSE_LOWEST_MIN,
                cp_model.SELECT_MIN_VALUE,
            )
        if variant.hint_makespan:
            original_hint = built.hint

            def hint(assignments: Any) -> None:
                original_hint(assignments)
                built.model.add_hint(makespan, max(a.end for a in assignments))

            setattr(built, "hint", hint)  # noqa: B010 (replaces the method on this one model)
        return built

    return configured


@contextmanager
def configured(variant: Variant) -> Iterator[None]:
    # solve() calls these two through its module's globals: patched there for the run
    original_solver, original_build = solver._solver, getattr(solver, "build")  # noqa: B009
    original_share = solver.JOB_SHOP_TABU_SHARE
    solver._solver = with_parameters(variant.parameters)
    setattr(solver, "build", with_model(variant))  # noqa: B010
    if variant.tabu_share is not None:
        solver.JOB_SHOP_TABU_SHARE = variant.tabu_share
    try:
        yield
    finally:
        solver._solver = original_solver
        setattr(solver, "build", original_build)  # noqa: B010
        solver.JOB_SHOP_TABU_SHARE = original_share


def run(problem: Any, variant: Variant, time_limit: float) -> Schedule:
    options = SolveOptions(
        objective=Objective.MAKESPAN, time_limit=time_limit / variant.chain, workers=variant.workers
    )
    with configured(variant):
        schedule = solve(problem, options)
        for link in range(1, variant.chain):
            schedule = solve(problem, replace(options, seed=link), hint=schedule)
    return schedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", metavar="VARIANT", help=", ".join(VARIANTS))
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    makespans: dict[str, list[int]] = {v: [] for v in args.variants}
    print("| seed | variant | makespan | lower bound | CPU seconds | 1-min load after |")
    print("|---:|---|---:|---:|---:|---:|")
    for seed in (int(s) for s in args.seeds.split(",")):
        problem = parse_jssp(generated(seed), f"generated-{seed}")
        for name in args.variants:
            cpu = time.process_time()
            schedule = run(problem, VARIANTS[name], args.time_limit)
            cpu = time.process_time() - cpu
            assert violations(problem, schedule) == [], (seed, name)
            makespans[name].append(schedule.makespan)
            with open("/proc/loadavg") as loadavg:
                load = loadavg.read().split()[0]
            print(
                f"| {seed} | {name} | {schedule.makespan} | {schedule.bound} | {cpu:.1f} | "
                f"{load} |",
                flush=True,
            )
    print()
    base = makespans[args.variants[0]]
    for name, values in makespans.items():
        ratio = statistics.mean(v / b for v, b in zip(values, base, strict=True)) - 1
        wins = sum(v < b for v, b in zip(values, base, strict=True))
        print(
            f"{name}: mean makespan {statistics.mean(values):.1f}, against "
            f"{args.variants[0]} {ratio:+.2%} on average, shorter on {wins}/{len(values)}"
        )


if __name__ == "__main__":
    main()
