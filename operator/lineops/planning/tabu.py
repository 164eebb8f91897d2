"""Tabu search for the makespan of a pure job shop: a warm start for CP-SAT.

The neighbourhood is Nowicki and Smutnicki's N5 (Management Science 42(6), 1996): on one
critical path, swap the first two and the last two operations of each block (the run of
operations on one work unit), except at the path's two ends, where a swap cannot shorten
it. A move is chosen by Taillard's estimate of the makespan after it (ORSA J. Computing
6(2), 1994), which needs only the heads and tails around the two operations; the reverse
of a move is tabu for a few iterations unless it would beat the best plan. After many
iterations without a better plan the search goes back to the best one.

Why in front of CP-SAT: on generated 20x15 instances CP-SAT reached shorter makespans in
the same total time when it started from this search's plan, whose makespan also bounds
the model's horizon, than from the best dispatch plan (benchmarks/planning_variants.py,
docs/planning.md). Pure Python: about 3,000-5,000 iterations a second at 300 operations.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from lineops.planning.problem import Problem
from lineops.planning.schedule import Assignment, Schedule

# Iterations a swap stays tabu: drawn in this range each time (a fixed tenure cycles).
TENURE = (8, 14)
# Iterations without a better plan before the search restarts from the best one.
STAGNATION = 3000
# Restarts in a row that found nothing better end the search early (a small shop settles
# in well under a second, and CP-SAT gets the time left).
FRUITLESS_RESTARTS = 3


def applies(problem: Problem) -> bool:
    """The model this search knows: one work unit per operation, no changeovers, blocked
    windows, releases, order dependencies or horizon."""
    return (
        problem.horizon is None
        and not problem.blocked
        and not any(problem.changeovers.values())
        and all(job.release == 0 and not job.after for job in problem.jobs)
        and all(len(op.alternatives) == 1 for _, _, op in problem.operations())
    )


@dataclass
class _Shop:
    """The operations numbered job by job: duration, work unit, job neighbours."""

    duration: list[int]
    unit: list[int]
    job_prev: list[int]  # -1: the job's first operation
    job_next: list[int]  # -1: the job's last
    key: list[tuple[str, int]]  # (job, index) of each number

    @property
    def size(self) -> int:
        return len(self.duration)


def _shop(problem: Problem) -> tuple[_Shop, list[str]]:
    units = list(problem.work_units)
    number = {name: i for i, name in enumerate(units)}
    shop = _Shop([], [], [], [], [])
    for job in problem.jobs:
        prev = -1
        for index, op in enumerate(job.operations):
            this = shop.size
            alt = op.alternatives[0]
            shop.duration.append(alt.duration)
            shop.unit.append(number[alt.work_unit])
            shop.job_prev.append(prev)
            shop.job_next.append(-1)
            shop.key.append((job.name, index))
            if prev >= 0:
                shop.job_next[prev] = this
            prev = this
    return shop, units


class _CycleError(Exception):
    """The work units' sequences and the jobs' routings form a cycle: no plan."""


class _State:
    """Heads, tails and makespan of the plan the work units' sequences give."""

    def __init__(self, shop: _Shop, sequences: list[list[int]]) -> None:
        n = shop.size
        p = shop.duration
        self.unit_prev = unit_prev = [-1] * n
        self.unit_next = unit_next = [-1] * n
        for sequence in sequences:
            for a, b in pairwise(sequence):
                unit_prev[b] = a
                unit_next[a] = b
        job_prev, job_next = shop.job_prev, shop.job_next
        waiting = [(job_prev[o] >= 0) + (unit_prev[o] >= 0) for o in range(n)]
        ready = [o for o in range(n) if waiting[o] == 0]
        order: list[int] = []
        while ready:
            o = ready.pop()
            order.append(o)
            for s in (job_next[o], unit_next[o]):
                if s >= 0:
                    waiting[s] -= 1
                    if waiting[s] == 0:
                        ready.append(s)
        if len(order) != n:
            # A swap on a critical path makes no cycle when durations are positive; with
            # zero-length operations at one instant it can, and the swap is undone.
            raise _CycleError
        # head: earliest start; tail: longest path from the operation's end to the last end
        self.head = head = [0] * n
        for o in order:
            a, b = job_prev[o], unit_prev[o]
            head[o] = max(head[a] + p[a] if a >= 0 else 0, head[b] + p[b] if b >= 0 else 0)
        self.tail = tail = [0] * n
        for o in reversed(order):
            a, b = job_next[o], unit_next[o]
            tail[o] = max(tail[a] + p[a] if a >= 0 else 0, tail[b] + p[b] if b >= 0 else 0)
        self.makespan = max(head[o] + p[o] + tail[o] for o in range(n))

    def blocks(self, shop: _Shop) -> list[list[int]]:
        """One critical path cut into blocks (consecutive operations on one work unit)."""
        p, head, tail, cmax = shop.duration, self.head, self.tail, self.makespan
        o = next(o for o in range(shop.size) if head[o] == 0 and p[o] + tail[o] == cmax)
        path = [o]
        while True:
            follow = -1
            # both arcs may be critical: the work unit's keeps blocks long (more moves)
            for s in (shop.job_next[o], self.unit_next[o]):
                if s >= 0 and head[s] == head[o] + p[o] and head[s] + p[s] + tail[s] == cmax:
                    follow = s
            if follow < 0:
                break
            path.append(follow)
            o = follow
        blocks = [[path[0]]]
        for o in path[1:]:
            if self.unit_prev[o] == blocks[-1][-1]:
                blocks[-1].append(o)
            else:
                blocks.append([o])
        return blocks

    def estimate(self, shop: _Shop, u: int, v: int) -> int:
        """Taillard's makespan estimate after swapping u and its unit successor v."""
        p, head, tail = shop.duration, self.head, self.tail
        a, b = shop.job_prev[v], self.unit_prev[u]
        head_v = max(head[a] + p[a] if a >= 0 else 0, head[b] + p[b] if b >= 0 else 0)
        a = shop.job_prev[u]
        head_u = max(head[a] + p[a] if a >= 0 else 0, head_v + p[v])
        a, b = shop.job_next[u], self.unit_next[v]
        tail_u = max(tail[a] + p[a] if a >= 0 else 0, tail[b] + p[b] if b >= 0 else 0)
        a = shop.job_next[v]
        tail_v = max(tail[a] + p[a] if a >= 0 else 0, tail_u + p[u])
        return max(head_v + p[v] + tail_v, head_u + p[u] + tail_u)


def _lower_bound(shop: _Shop, units: int) -> int:
    load = [0] * units
    work: list[int] = []
    for o in range(shop.size):
        load[shop.unit[o]] += shop.duration[o]
        work.append(shop.duration[o] + (work[shop.job_prev[o]] if shop.job_prev[o] >= 0 else 0))
    return max(load + work, default=0)


def _moves(blocks: Sequence[list[int]], shop: _Shop) -> list[tuple[int, int]]:
    last = len(blocks) - 1
    moves = []
    for i, block in enumerate(blocks):
        if len(block) < 2:
            continue
        if i > 0:
            moves.append((block[0], block[1]))
        if i < last and (i == 0 or len(block) > 2):
            moves.append((block[-2], block[-1]))
    # A job that visits a work unit twice in a row: those two keep their routing's order.
    return [(u, v) for u, v in moves if shop.job_next[u] != v]


def improve(problem: Problem, start: Schedule, seconds: float, seed: int = 0) -> Schedule:
    """A plan at least as short as ``start`` (a feasible plan of a problem ``applies``
    accepts), searched for ``seconds``; the same seed and iterations give the same plan."""
    shop, units = _shop(problem)
    if shop.size == 0:
        return start
    number = {key: i for i, key in enumerate(shop.key)}
    sequences: list[list[int]] = [[] for _ in units]
    for a in sorted(start.assignments, key=lambda a: (a.start, a.end, a.job, a.index)):
        o = number[(a.job, a.index)]
        sequences[shop.unit[o]].append(o)
    rng = random.Random(seed)
    try:
        state = _State(shop, sequences)
    except _CycleError:  # zero-length operations in an order the routings contradict
        return start
    best, best_sequences = state, [list(s) for s in sequences]
    tabu: dict[tuple[int, int], int] = {}
    failed: set[tuple[int, int]] = set()  # swaps of this plan that made a cycle
    iteration = since_best = fruitless = 0
    # No plan is shorter than a job's work or a work unit's load: reaching it ends the search.
    floor = _lower_bound(shop, len(units))
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and best.makespan > floor:
        iteration += 1
        moves = [m for m in _moves(state.blocks(shop), shop) if m not in failed]
        if not moves:
            # No block of two: the critical path is one job's routing (optimal); or every
            # swap left made a cycle through zero-length operations.
            break
        chosen, chosen_estimate = None, 0
        for u, v in moves:
            estimate = state.estimate(shop, u, v)
            if tabu.get((v, u), 0) > iteration and estimate >= best.makespan:
                continue  # undoes a recent move, and would not beat the best plan
            if (
                chosen is None
                or estimate < chosen_estimate
                or (estimate == chosen_estimate and rng.random() < 0.5)
            ):
                chosen, chosen_estimate = (u, v), estimate
        u, v = chosen or rng.choice(moves)
        sequence = sequences[shop.unit[u]]
        at = sequence.index(u)
        sequence[at], sequence[at + 1] = v, u
        try:
            state = _State(shop, sequences)
        except _CycleError:
            # Undone, and not offered again until the plan changes (else the same state
            # would repeat it until the deadline).
            sequence[at], sequence[at + 1] = u, v
            failed.add((u, v))
            continue
        failed.clear()
        tabu[(u, v)] = iteration + rng.randint(*TENURE)
        since_best += 1
        if state.makespan < best.makespan:
            best, best_sequences, since_best = state, [list(s) for s in sequences], 0
            fruitless = 0
        elif since_best > STAGNATION:
            fruitless += 1
            if fruitless > FRUITLESS_RESTARTS:
                break
            sequences = [list(s) for s in best_sequences]
            state, since_best = best, 0
            tabu.clear()
    if best.makespan >= start.makespan:
        return start
    assignments = tuple(
        Assignment(job, index, units[shop.unit[o]], best.head[o], best.head[o] + shop.duration[o])
        for o, (job, index) in enumerate(shop.key)
    )
    return Schedule(
        assignments=tuple(sorted(assignments, key=lambda a: (a.start, a.work_unit, a.job))),
        method=start.method,
        status=start.status,
        notes=start.notes,
    )
