"""MES record writes: records/s through the data plane's write path, on SQLite and on a real
PostgreSQL 15, against a bare driver baseline measured in the same run.

    .venv/bin/python benchmarks/mes_records.py [--records 200000] [--batch 1000]

Paths, per database (each a fresh database, durable settings: SQLite WAL + synchronous=FULL,
PostgreSQL with fsync and synchronous_commit on):

* baseline: the bare DB-API driver (sqlite3 / psycopg) inserting the same rows with
  ``executemany``, one transaction per batch; the floor for any store;
* repository: ``MesRepository.add_measurements`` (SQLAlchemy Core, one transaction per batch);
* endpoint path: ``parse_records`` (validation against the line spec) + ``MesApi.persist``
  (records and quarantine in one transaction), what a POST costs minus HTTP.

The ratio column is time per record relative to the baseline of the same database.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineops.api.productionline import ProductionLine  # noqa: E402
from lineops.dataplane.db.database import open_database, sqlite_url  # noqa: E402
from lineops.dataplane.lines import LineRef  # noqa: E402
from lineops.dataplane.mes_api import MesApi  # noqa: E402
from lineops.dataplane.records import parse_records  # noqa: E402
from lineops.dataplane.repositories.mes import Measurement  # noqa: E402

from tests.support.postgres import running_postgres  # noqa: E402

LINE = LineRef("plant-a", "press-line-1")
INSERT = (
    "INSERT INTO measurements (namespace, line, characteristic, timestamp, value, sample_size,"
    " lot) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
)


def _records(n: int) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        {
            "characteristic": "ring_diameter",
            "timestamp": (start + timedelta(seconds=i)).isoformat(),
            "value": 74.0 + (i % 7) / 1000,
            "lot": f"L-{i // 500}",
        }
        for i in range(n)
    ]


def _timed(batches: list[Any], write: Callable[[Any], None]) -> float:
    t0 = time.perf_counter()
    for batch in batches:
        write(batch)
    return time.perf_counter() - t0


def _baseline(url: str, rows: list[list[tuple[Any, ...]]]) -> float:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn: Any = sqlite3.connect(parsed.database, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        sql = INSERT.format(p="?")

        def write(batch: list[tuple[Any, ...]]) -> None:
            conn.execute("BEGIN")
            conn.executemany(sql, batch)
            conn.execute("COMMIT")

    else:
        conn = psycopg.connect(
            host=parsed.host, port=parsed.port, user=parsed.username, dbname=parsed.database
        )
        sql = INSERT.format(p="%s")

        def write(batch: list[tuple[Any, ...]]) -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(sql, batch)

    try:
        return _timed(rows, write)
    finally:
        conn.close()


def measure(url_for: Callable[[str], str], records: int, batch: int) -> list[tuple[str, float]]:
    line = ProductionLine.model_validate(
        yaml.safe_load((ROOT / "examples" / "productionline.yaml").read_text())
    )
    raw = _records(records)
    chunks = [raw[i : i + batch] for i in range(0, records, batch)]
    parsed_rows = [
        [
            Measurement(r["characteristic"], r["timestamp"], r["value"], None, r["lot"])
            for r in chunk
        ]
        for chunk in chunks
    ]
    tuples = [
        [
            (LINE.namespace, LINE.name, m.characteristic, m.timestamp, m.value, None, m.lot)
            for m in chunk
        ]
        for chunk in parsed_rows
    ]
    results = []
    baseline = url_for("baseline")
    open_database(baseline).close()  # the same schema, made by the migrations
    results.append(("baseline: driver executemany", _baseline(baseline, tuples)))
    db = open_database(url_for("repository"))
    try:
        results.append(
            (
                "repository: MesRepository.add_measurements",
                _timed(parsed_rows, lambda rows: db.mes.add_measurements(LINE, rows)),
            )
        )
    finally:
        db.close()
    db = open_database(url_for("endpoint"))
    api = MesApi(db, lambda ns, name: line.spec, CollectorRegistry())
    try:

        def endpoint(chunk: list[dict[str, Any]]) -> None:
            api.persist(
                LINE,
                "measurements",
                parse_records("measurements", line.spec, {"records": chunk}),
                "http",
            )

        results.append(("endpoint path: parse_records + MesApi.persist", _timed(chunks, endpoint)))
        stored = len(db.mes.measurements(LINE, "ring_diameter"))
        assert stored == records, f"stored {stored} of {records}"
    finally:
        db.close()
    return results


def report(name: str, results: list[tuple[str, float]], records: int) -> None:
    base = results[0][1]
    print(f"\n{name}: {records:,} records")
    print("| path | seconds | records/s | vs baseline |")
    print("|---|---:|---:|---:|")
    for label, seconds in results:
        print(f"| {label} | {seconds:.2f} | {records / seconds:,.0f} | {seconds / base:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report(
            f"SQLite (WAL, synchronous=FULL), batches of {args.batch}",
            measure(lambda name: sqlite_url(Path(tmp) / f"{name}.db"), args.records, args.batch),
            args.records,
        )
    with running_postgres(durable=True) as server:

        def url_for(name: str) -> str:
            return server.url(server.create_database(prefix=name[:4]))

        report(
            f"PostgreSQL 15 (fsync on, loopback TCP), batches of {args.batch}",
            measure(url_for, args.records, args.batch),
            args.records,
        )


if __name__ == "__main__":
    main()
