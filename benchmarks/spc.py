"""Throughput of X-bar/R (n = 5) with all 8 Nelson rules, batch and streaming.

A "point" is one measurement; 5 measurements make one subgroup, which plots one x-bar and
one R point, and all 8 Nelson rules run on both charts. The numpy baseline is the mean and
standard deviation of the same array, timed in the same process, so the ratio says how far
the analytics are from the cheapest pass over the data on this machine.

    .venv/bin/python benchmarks/spc.py                 # 1,000,000 points (quick)
    .venv/bin/python benchmarks/spc.py --points 10000000
    .venv/bin/python benchmarks/spc.py --points 10000000 --scalar-sample 2000000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from lineops.mes.charts import ChartKind, apply
from lineops.mes.data import ChartData
from lineops.mes.phases import monitor, phase_one
from lineops.mes.rules import NELSON, applies, evaluate
from lineops.mes.streaming import SpcStream

N = 5


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="subgroups per streaming chunk")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--per-point-sample",
        type=int,
        default=200_000,
        help="points for the one-subgroup-per-update() path (it is slow; sampled)",
    )
    parser.add_argument(
        "--scalar-sample",
        type=int,
        default=0,
        help="points for the update_one() fast path (default: all of --points)",
    )
    args = parser.parse_args()
    points = args.points - args.points % N
    rng = np.random.default_rng(2024)
    values = rng.normal(74.0, 0.01, points)
    rows = values.reshape(-1, N)
    params = phase_one(ChartKind.XBAR_R, ChartData.subgroups(rows[:1000])).params

    baseline = best_of(args.repeat, lambda: (values.mean(), values.std()))

    def batch_rules() -> None:
        # The rules each plotted statistic is evaluated with (rules.applies): all 8 on X-bar,
        # the 3-sigma rule on R, as monitor() and SpcStream do.
        for s in apply(params, ChartData.subgroups(rows)):
            evaluate(s.points, s.z(), [r for r in NELSON if applies(False, s.name, r)])

    batch = best_of(args.repeat, batch_rules)
    batch_full = best_of(1, lambda: monitor(params, ChartData.subgroups(rows), NELSON))

    def stream_chunks() -> int:
        stream = SpcStream(params, NELSON)
        found = 0
        for start in range(0, rows.shape[0], args.chunk):
            found += len(stream.update(ChartData(values=rows[start : start + args.chunk])))
        return found

    streaming = best_of(args.repeat, stream_chunks)

    sample = rows[: max(1, args.per_point_sample // N)]

    def stream_one_by_one() -> None:
        stream = SpcStream(params, NELSON)
        for i in range(sample.shape[0]):
            stream.update(ChartData(values=sample[i : i + 1]))

    one_by_one = best_of(1, stream_one_by_one)

    # The live-feed fast path: plain Python lists in, no numpy per call.
    scalar_rows = rows[: max(1, (args.scalar_sample or points) // N)].tolist()

    def stream_update_one() -> None:
        update_one = SpcStream(params, NELSON).update_one
        for subgroup in scalar_rows:
            update_one(subgroup)

    fast_one = best_of(args.repeat, stream_update_one)

    def row(name: str, secs: float, count: int) -> str:
        rate = count / secs
        ratio = secs / baseline * points / count  # time per point relative to numpy's
        return f"{name:<44} {secs:>9.3f} {rate / 1e6:>10.2f} {ratio:>9.1f}x"

    shape = f"{points:,} points = {rows.shape[0]:,} subgroups of {N}"
    print(f"{shape}; 8 Nelson rules on x-bar, nelson-1 on R")
    print(f"{'path':<44} {'seconds':>9} {'Mpoints/s':>10} {'vs numpy':>10}")
    print(row("numpy baseline: mean + std", baseline, points))
    print(row("batch: limits + rule masks", batch, points))
    print(row("batch: monitor() incl. Violation objects", batch_full, points))
    print(row(f"streaming: chunks of {args.chunk:,} subgroups", streaming, points))
    print(row("streaming: one subgroup per update()", one_by_one, sample.size))
    print(row("streaming: one subgroup per update_one()", fast_one, len(scalar_rows) * N))


if __name__ == "__main__":
    main()
