"""Genealogy on a real PostgreSQL 15: bulk load rate, then trace and recall latency.

    .venv/bin/python benchmarks/genealogy.py                 # 1,000,000 lots (the target)
    .venv/bin/python benchmarks/genealogy.py --lots 200000 --samples 300
    .venv/bin/python benchmarks/genealogy.py --smoke         # 20,000 lots, seconds

1. A throwaway PostgreSQL (tests/support/postgres.py, durable settings: fsync and
   synchronous_commit on), the data plane's schema by its Alembic migrations (indexes of
   0004 in place during the load, as in production).
2. A generated plant history (tests/support/plant_history.py: eight levels, splits, merges,
   shared inputs skipping a level, supplier lots split over two receipts) streamed with
   COPY into ``lots`` and ``consumptions`` (two connections, one COPY each); rows/s counts
   lots + edges, generation included.
3. ANALYZE, then per random start lot (the same starts for every path):
   * backward trace depth 5 and full depth, and forward recall from a supplier lot, through
     ``GenealogyRepository`` (the route's code: a trace is one statement, the recursive CTE
     with the reached lots' rows joined; a recall two);
   * baseline, same run and same starts (alternating which path goes first on a start, so
     both get as many cold reads): the same walk as one round trip per level
     (``WHERE output_lot IN (frontier)`` with the reached lots' rows joined, as the CTE
     path returns them; the frontier de-duplicated in Python), what an application does
     without recursive SQL; the ratio is CTE time / baseline time at the same percentile.

Targets (issue #22): depth-5 trace p99 < 50 ms; forward recall p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from lineops.dataplane.db.database import open_database  # noqa: E402
from lineops.dataplane.db.tables import consumptions, lots  # noqa: E402
from lineops.dataplane.lines import LineRef  # noqa: E402
from lineops.dataplane.repositories.genealogy import LOT_COLUMNS as LOT_ROW  # noqa: E402
from lineops.dataplane.repositories.genealogy import GenealogyRepository  # noqa: E402
from sqlalchemy import Engine, select  # noqa: E402

from tests.support.plant_history import EDGE_COLUMNS, LEVELS, LOT_COLUMNS, generate  # noqa: E402
from tests.support.postgres import running_postgres  # noqa: E402

LINE = LineRef("plant", "line-1")


def load(conninfo: dict[str, Any], n_lots: int) -> tuple[int, int, float]:
    """COPY the generated history; returns (lots, edges, seconds)."""
    lots_sql = f"COPY lots ({', '.join(LOT_COLUMNS)}) FROM STDIN"
    edges_sql = f"COPY consumptions ({', '.join(EDGE_COLUMNS)}) FROM STDIN"
    n = e = 0
    began = time.perf_counter()
    with (
        psycopg.connect(**conninfo) as a,
        psycopg.connect(**conninfo) as b,
        a.cursor().copy(lots_sql) as lot_copy,
        b.cursor().copy(edges_sql) as edge_copy,
    ):
        for kind, row in generate(n_lots, namespace=LINE.namespace, line=LINE.name):
            if kind == "lot":
                lot_copy.write_row(row)
                n += 1
            else:
                edge_copy.write_row(row)
                e += 1
    return n, e, time.perf_counter() - began


def per_level(engine: Engine, start: str, direction: str, max_depth: int | None) -> int:
    """Baseline: the same walk with one query per level; returns the edges reached."""
    c = consumptions.c
    near, far = (
        (c.output_lot, c.input_lot) if direction == "backward" else (c.input_lot, c.output_lot)
    )
    seen_edges: set[int] = set()
    seen = {start}
    frontier = [start]
    depth = 0
    with engine.connect() as conn:
        while frontier and (max_depth is None or depth < max_depth):
            depth += 1
            rows = conn.execute(
                select(c.id, far, c.quantity_micros, *LOT_ROW)
                .select_from(consumptions)
                .outerjoin(
                    lots,
                    (lots.c.namespace == c.namespace)
                    & (lots.c.line == c.line)
                    & (lots.c.lot == far),
                )
                .where(c.namespace == LINE.namespace, c.line == LINE.name, near.in_(frontier))
            ).all()
            frontier = []
            for edge, target, *_ in rows:
                seen_edges.add(edge)
                if target is not None and target not in seen:
                    seen.add(target)
                    frontier.append(target)
    return len(seen_edges)


def timed(
    first: Sequence[Callable[[], int]], second: Sequence[Callable[[], int]]
) -> tuple[list[float], list[float], list[int], list[int]]:
    """Both paths per start, in alternating order: whichever runs first on a start reads its
    pages cold (from the OS cache or disk), the other warm, so neither path gets all the
    warm reads."""
    times: tuple[list[float], list[float]] = ([], [])
    sizes: tuple[list[int], list[int]] = ([], [])
    for i, pair in enumerate(zip(first, second, strict=True)):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for k in order:
            began = time.perf_counter()
            sizes[k].append(pair[k]())
            times[k].append((time.perf_counter() - began) * 1000)
    return times[0], times[1], sizes[0], sizes[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=500, help="start lots per path")
    parser.add_argument("--smoke", action="store_true", help="20,000 lots, 50 samples")
    args = parser.parse_args()
    if args.smoke:
        args.lots, args.samples = 20_000, 50
    with running_postgres(durable=True) as server:
        url = server.url()
        database = open_database(url)  # the schema by the migrations
        conninfo: dict[str, Any] = {
            "host": server.host,
            "port": server.port,
            "user": server.user,
            "dbname": server.database,
        }
        n, e, seconds = load(conninfo, args.lots)
        print(
            f"loaded {n:,} lots + {e:,} consumption edges in {seconds:.1f} s: "
            f"{(n + e) / seconds:,.0f} rows/s ({n / seconds:,.0f} lots/s)"
        )
        with psycopg.connect(**conninfo, autocommit=True) as conn:
            began = time.perf_counter()
            conn.execute("ANALYZE lots")
            conn.execute("ANALYZE consumptions")
            print(f"ANALYZE {time.perf_counter() - began:.1f} s")
            rows = conn.execute("SELECT lot, supplier_lot FROM lots").fetchall()
        rng = random.Random(42)
        top_level = f"L{LEVELS - 1}-"  # finished goods: the longest genealogies
        tops = [r[0] for r in rows if r[0].startswith(top_level)]
        supplier_lots = sorted({r[1] for r in rows if r[1] is not None})
        starts = rng.sample(tops, min(args.samples, len(tops)))
        recalls = rng.sample(supplier_lots, min(args.samples, len(supplier_lots)))
        repo = GenealogyRepository(database.engine)
        engine = database.engine
        # Warm the pool and the caches once (the first query also plans the statement).
        repo.trace(LINE, starts[0], "backward", 5)
        per_level(engine, starts[0], "backward", 5)
        paths = {
            "backward trace, depth 5": (
                [lambda s=s: len(repo.trace(LINE, s, "backward", 5).edges) for s in starts],
                [lambda s=s: per_level(engine, s, "backward", 5) for s in starts],
            ),
            "backward trace, full depth": (
                [lambda s=s: len(repo.trace(LINE, s, "backward").edges) for s in starts],
                [lambda s=s: per_level(engine, s, "backward", None) for s in starts],
            ),
            "forward recall from a supplier lot": (
                [lambda x=x: len(repo.recall(LINE, x).edges) for x in recalls],
                [lambda x=x: _recall_per_level(engine, x) for x in recalls],
            ),
        }
        print(f"load average before the latency runs: {os.getloadavg()[0]:.1f} (2 vCPUs)")
        print(
            f"\n{len(starts)} start lots per path; ms; ratio = CTE / per-level baseline "
            "at the same percentile\n"
        )
        print(
            "| path | edges (median) | CTE p50 | CTE p99 | per-level p50 | per-level p99 "
            "| ratio p50 | ratio p99 |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, (cte_calls, base_calls) in paths.items():
            cte, base, sizes, base_sizes = timed(cte_calls, base_calls)
            assert sizes == base_sizes, f"{name}: the two walks disagree"
            print(
                f"| {name} | {statistics.median(sizes):.0f} | {pct(cte, 50):.1f} | "
                f"{pct(cte, 99):.1f} | {pct(base, 50):.1f} | {pct(base, 99):.1f} | "
                f"{pct(cte, 50) / pct(base, 50):.2f} | {pct(cte, 99) / pct(base, 99):.2f} |"
            )
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
        database.close()
    return 0


def _recall_per_level(engine: Engine, supplier_lot: str) -> int:
    with engine.connect() as conn:
        received = [
            r[0]
            for r in conn.execute(
                select(lots.c.lot).where(
                    lots.c.namespace == LINE.namespace,
                    lots.c.line == LINE.name,
                    lots.c.supplier_lot == supplier_lot,
                )
            )
        ]
    edges: set[int] = set()
    c = consumptions.c
    seen = set(received)
    frontier = list(received)
    with engine.connect() as conn:
        while frontier:
            rows = conn.execute(
                select(c.id, c.output_lot, c.quantity_micros, *LOT_ROW)
                .select_from(consumptions)
                .outerjoin(
                    lots,
                    (lots.c.namespace == c.namespace)
                    & (lots.c.line == c.line)
                    & (lots.c.lot == c.output_lot),
                )
                .where(
                    c.namespace == LINE.namespace, c.line == LINE.name, c.input_lot.in_(frontier)
                )
            ).all()
            frontier = []
            for edge, target, *_ in rows:
                edges.add(edge)
                if target is not None and target not in seen:
                    seen.add(target)
                    frontier.append(target)
    return len(edges)


if __name__ == "__main__":
    sys.exit(main())
