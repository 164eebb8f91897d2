"""CP-SAT configurations for the job shop compared on GENERATED 20x15 instances (never the
published ones that benchmarks/planning.py reports), so a choice is not made on the test set.

The instances follow Taillard's recipe (each job visits the 15 machines in a random order,
durations uniform in 1..99) from seeds 1000 + SEED; they have no known optimum, so the
variants are compared with one another by makespan, each run right after the others on the
same instance (the machine is shared: back to back is the fairest comparison). Each variant
is `lineops.planning.solve` for makespan, as `lineops plan jssp` runs it, with the worker
count and the CP-SAT parameters below set on top of it. One line per solve:

    .venv/bin/python benchmarks/planning_variants.py --seeds 0,1,2,3 defaults workers-8
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from lineops.planning import Objective, SolveOptions, solve, solver, violations
from lineops.planning.jssp import parse_jssp

# name -> (workers, CP-SAT parameters set on top of lineops' own)
VARIANTS: dict[str, tuple[int, dict[str, Any]]] = {
    "defaults": (2, {}),
    # CP-SAT's 8-worker portfolio (6 full-search subsolvers) time-sliced on the 2 cores
    "workers-8": (8, {}),
    # 8 workers, only 2 of them full search: the other 6 threads for LNS
    "workers-8-full-2": (8, {"num_full_subsolvers": 2}),
    # the shared worker keeps only the LNS neighbourhoods (graph, random, scheduling)
    "lns-only-neighbourhoods": (
        2,
        {"ignore_subsolvers": ["feasibility_pump", "ls", "rins/rens", "fj"]},
    ),
    # no LP relaxation in the full-search worker
    "linearization-0": (2, {"linearization_level": 0}),
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

    def configured(options: SolveOptions, seconds: float) -> Any:
        cp = make(options, seconds)
        for name, value in extra.items():
            if isinstance(value, list):
                getattr(cp.parameters, name).extend(value)
            else:
                setattr(cp.parameters, name, value)
        return cp

    return configured


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
    original = solver._solver
    for seed in (int(s) for s in args.seeds.split(",")):
        problem = parse_jssp(generated(seed), f"generated-{seed}")
        for name in args.variants:
            workers, extra = VARIANTS[name]
            solver._solver = with_parameters(extra)  # type: ignore[assignment]
            try:
                cpu = time.process_time()
                schedule = solve(
                    problem,
                    SolveOptions(
                        objective=Objective.MAKESPAN, time_limit=args.time_limit, workers=workers
                    ),
                )
                cpu = time.process_time() - cpu
            finally:
                solver._solver = original  # type: ignore[assignment]
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
