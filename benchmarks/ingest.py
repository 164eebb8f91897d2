"""Ingestion benchmark: HTTP ingestion throughput (JSON, Arrow) and online retrieval latency.

    .venv/bin/python benchmarks/ingest.py [--repeat 3] [--readings 1000000] [--batch 50000]
                                          [--arrow-readings 4000000] [--arrow-batch 250000]

1. readings/s through the real aiohttp endpoint on loopback, client and server in one
   process, into the offline store (Parquet, fsync'd) and, via window aggregates, the Feast
   SQLite online store; the clock stops after the final materialisation:
   * JSON batches ``POST .../readings`` (``application/json``, 50,000 readings a batch);
   * Arrow IPC streams ``POST .../readings:bulk`` (``application/vnd.apache.arrow.stream``,
     250,000 readings a stream).
   Each is measured against a *bare* baseline in the same run, interleaved with it: the same
   bodies, client, server framework and concurrency, with a handler that does only what any
   ingester must (msgspec-decode the JSON into typed structs / read the Arrow stream, write
   one Parquet file with the same options, fsync it, rename it): no validation, duplicate or
   late checks, quarantine, feature windows or online store. ``ratio`` = lineops / bare.
   Readings per CPU-second (all threads of the process, client included) are printed too:
   on a machine shared with other jobs they move much less than readings per second.
   Targets: JSON >= 500,000 readings/s, Arrow >= 1,000,000 readings/s, every reading
   accounted for (``received = accepted + quarantined`` on each answer).
2. online retrieval latency p50/p99 for one entity: ``FeastStore.online_features`` (what
   lineops serves) against a bare ``FeatureStore.get_online_features`` on the same store,
   interleaved in the same run. Target: p99 within 1.5x of bare Feast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from aiohttp import web
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import FeastStore
from lineops.dataplane.ingestion import IngestionServer, IngestionService
from prometheus_client import CollectorRegistry

LINE = "bench-line"
NAMESPACE = "default"
UNITS = [f"unit-{i:02d}" for i in range(10)]
SENSORS = [f"s{i:02d}" for i in range(20)]
PAIRS = [(u, s) for u in UNITS for s in SENSORS]
JSON_TYPE = "application/json"
ARROW_TYPE = "application/vnd.apache.arrow.stream"


def spec() -> ProductionLineSpec:
    return ProductionLineSpec.model_validate(
        {
            "site": "bench",
            "area": "bench",
            "workUnits": [
                {
                    "name": unit,
                    "idealCycleTime": "1s",
                    "sensors": [
                        {"name": s, "unit": "u", "validRange": ["-1000", "1000"]} for s in SENSORS
                    ],
                }
                for unit in UNITS
            ],
            "features": {"window": "5m", "materializeEvery": "1s"},
        }
    )


def _columns(first: int, size: int, start_ns: int, rng: np.random.Generator) -> dict[str, Any]:
    """Readings first..first+size: every (unit, sensor) pair in turn, one microsecond apart
    per round, values N(0, 1) rounded to 4 digits."""
    n = np.arange(first, first + size)
    pair = n % len(PAIRS)
    return {
        "work_unit": np.array([u for u, _ in PAIRS], dtype=object)[pair],
        "sensor": np.array([s for _, s in PAIRS], dtype=object)[pair],
        "timestamp_ns": start_ns + (n // len(PAIRS)) * 1000,
        "value": rng.normal(size=size).round(4),
    }


def _start_ns() -> int:
    start = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=4)
    return int(start.value)


def json_batches(total: int, size: int) -> list[bytes]:
    """Pre-encoded JSON batches (encoding is the client's cost, not the server's)."""
    rng = np.random.default_rng(0)
    start = _start_ns()
    out = []
    for first in range(0, total - total % size, size):
        c = _columns(first, size, start, rng)
        stamps = np.datetime_as_string(
            c["timestamp_ns"].astype("datetime64[ns]").astype("datetime64[us]"), timezone="UTC"
        )
        readings = [
            {"work_unit": u, "sensor": s, "timestamp": t, "value": v}
            for u, s, t, v in zip(
                c["work_unit"].tolist(),
                c["sensor"].tolist(),
                stamps.tolist(),
                c["value"].tolist(),
                strict=True,
            )
        ]
        out.append(json.dumps({"readings": readings}).encode())
    return out


def arrow_streams(total: int, size: int) -> list[bytes]:
    """Pre-encoded Arrow IPC streams (plain string columns, timestamp[ns, UTC], float64)."""
    rng = np.random.default_rng(1)
    start = _start_ns()
    out = []
    for first in range(0, total - total % size, size):
        c = _columns(first, size, start, rng)
        table = pa.table(
            {
                "work_unit": pa.array(c["work_unit"], pa.string()),
                "sensor": pa.array(c["sensor"], pa.string()),
                "timestamp": pa.array(c["timestamp_ns"], pa.int64()).cast(
                    pa.timestamp("ns", "UTC")
                ),
                "value": pa.array(c["value"], pa.float64()),
            }
        )
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=65_536)
        out.append(sink.getvalue().to_pybytes())
    return out


def pct(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples), q)) * 1000


# ----------------------------------------------------------------------------- bare baseline


class _Reading(msgspec.Struct, gc=False):
    work_unit: str
    sensor: str
    timestamp: str
    value: float


class _Document(msgspec.Struct, gc=False):
    readings: list[_Reading]


_DECODE = msgspec.json.Decoder(_Document).decode
_STAMP = pa.timestamp("ns", "UTC")


def _write_durably(table: pa.Table, directory: Path) -> int:
    """What OfflineStore.append does to a batch: temp file, fsync, rename, fsync the dir."""
    part = f"part-{time.time_ns()}-{uuid.uuid4().hex[:8]}"
    tmp, final = directory / f".{part}.parquet.tmp", directory / f"{part}.parquet"
    pq.write_table(table, tmp, compression="snappy", use_dictionary=["work_unit", "sensor"])
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    rows: int = table.num_rows
    return rows


def _bare_json(body: bytes, directory: Path) -> int:
    readings = _DECODE(body).readings
    table = pa.table(
        {
            "work_unit": [r.work_unit for r in readings],
            "sensor": [r.sensor for r in readings],
            "timestamp": pa.array([r.timestamp for r in readings]).cast(_STAMP),
            "value": pa.array([r.value for r in readings], pa.float64()),
        }
    )
    return _write_durably(table, directory)


def _bare_arrow(body: bytes, directory: Path) -> int:
    with pa.ipc.open_stream(pa.py_buffer(body)) as reader:
        return _write_durably(reader.read_all(), directory)


class BareServer:
    """The baseline endpoint: same framework and worker threads, minimal work."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.app = web.Application(client_max_size=256 * 1024 * 1024)
        self.app.router.add_post("/json", self._json)
        self.app.router.add_post("/arrow", self._arrow)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request, work: Callable[[bytes, Path], int]) -> Any:
        body = await request.read()
        rows = await asyncio.to_thread(work, body, self.directory)
        return web.json_response({"received": rows, "accepted": rows, "quarantined": 0})

    async def _json(self, request: web.Request) -> web.Response:
        response: web.Response = await self._handle(request, _bare_json)
        return response

    async def _arrow(self, request: web.Request) -> web.Response:
        response: web.Response = await self._handle(request, _bare_arrow)
        return response


# ----------------------------------------------------------------------------- runs


async def post_all(url: str, bodies: list[bytes], content_type: str, concurrency: int) -> int:
    """POST every body with ``concurrency`` clients; returns readings accepted (and checks
    that each answer accounts for every reading it received)."""
    queue = list(bodies)
    accepted = 0
    headers = {"Content-Type": content_type}
    async with aiohttp.ClientSession() as http:

        async def worker() -> None:
            nonlocal accepted
            while queue:
                body = queue.pop()
                async with http.post(url, data=body, headers=headers) as response:
                    answer = await response.json()
                    assert response.status == 200, answer
                    assert answer["received"] == answer["accepted"] + answer["quarantined"]
                    accepted += answer["accepted"]

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return accepted


def readings_url(server: IngestionServer, bulk: bool) -> str:
    """The readings route of whatever URL scheme the server has."""
    suffix = "/readings:bulk" if bulk else "/readings"
    for resource in server.app.router.resources():
        path = resource.canonical
        if path.endswith(suffix):
            for name, value in (("{namespace}", NAMESPACE), ("{ns}", NAMESPACE)):
                path = path.replace(name, value)
            return server.url + path.replace("{line}", LINE)
    raise LookupError(f"no route ending in {suffix}")


async def bare_run(bodies: list[bytes], kind: str, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = BareServer(Path(tmp))
        await server.start()
        started, cpu = time.perf_counter(), time.process_time()
        path = "/json" if kind == JSON_TYPE else "/arrow"
        accepted = await post_all(server.url + path, bodies, kind, concurrency)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        await server.stop()
    return {"readings_per_s": accepted / elapsed, "readings_per_cpu_s": accepted / cpu}


async def lineops_run(
    bodies: list[bytes], kind: str, concurrency: int, expected: int, latency: bool
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        registry = CollectorRegistry()
        feast = FeastStore.local(data)
        service = IngestionService(data, registry, feast=feast)
        service.configure_line(LINE, spec())
        server = IngestionServer(service, registry)
        await server.start()
        url = readings_url(server, bulk=kind != JSON_TYPE)
        started, cpu = time.perf_counter(), time.process_time()
        accepted = await post_all(url, bodies, kind, concurrency)
        pushed = await asyncio.to_thread(service.materialize, LINE)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert accepted == expected, (accepted, expected)
        assert pushed == len(UNITS)
        result = {"readings_per_s": accepted / elapsed, "readings_per_cpu_s": accepted / cpu}
        if latency:
            result |= online_latency(feast)
        await server.stop()
        await service.stop()
    return result


def online_latency(feast: FeastStore) -> dict[str, float]:
    """Same entity, same features, lineops and bare Feast interleaved."""
    refs = feast.feature_refs(LINE)
    rows = [{"work_unit": UNITS[0]}]
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(50):  # warm-up
        feast.online_features(LINE, [UNITS[0]])
        feast.store.get_online_features(features=refs, entity_rows=rows).to_dict()
    for _ in range(1000):
        t0 = time.perf_counter()
        feast.online_features(LINE, [UNITS[0]])
        t1 = time.perf_counter()
        feast.store.get_online_features(features=refs, entity_rows=rows).to_dict()
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        bare.append(t2 - t1)
    return {
        "features_per_entity": float(len(refs)),
        "lineops_p50_ms": pct(ours, 50),
        "lineops_p99_ms": pct(ours, 99),
        "bare_feast_p50_ms": pct(bare, 50),
        "bare_feast_p99_ms": pct(bare, 99),
        "p99_ratio": pct(ours, 99) / pct(bare, 99),
        "mean_ratio": statistics.fmean(ours) / statistics.fmean(bare),
    }


async def run(args: argparse.Namespace) -> None:
    formats = []
    if "json" in args.formats:
        formats.append(("json", JSON_TYPE, json_batches(args.readings, args.batch)))
    if "arrow" in args.formats:
        streams = arrow_streams(args.arrow_readings, args.arrow_batch)
        formats.append(("arrow", ARROW_TYPE, streams))
    rows: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {
        name: [] for name, _, _ in formats
    }
    latency: dict[str, float] = {}
    for repetition in range(args.repeat):
        for name, kind, bodies in formats:
            expected = sum(args.batch if kind == JSON_TYPE else args.arrow_batch for _ in bodies)
            bare = await bare_run(bodies, kind, args.concurrency)
            want_latency = repetition == args.repeat - 1 and name == formats[0][0]
            ours = await lineops_run(bodies, kind, args.concurrency, expected, want_latency)
            if want_latency:
                latency = {k: v for k, v in ours.items() if not k.startswith("readings_per")}
            rows[name].append((ours, bare))
            print(
                f"{name:>5} run {repetition + 1}: lineops {ours['readings_per_s']:>10,.0f}/s"
                f" ({ours['readings_per_cpu_s']:>10,.0f}/cpu-s)"
                f"   bare {bare['readings_per_s']:>10,.0f}/s"
                f" ({bare['readings_per_cpu_s']:>10,.0f}/cpu-s)"
                f"   ratio {ours['readings_per_s'] / bare['readings_per_s']:.2f}"
                f" (cpu {ours['readings_per_cpu_s'] / bare['readings_per_cpu_s']:.2f})",
                flush=True,
            )
    print()
    targets = {"json": 500_000, "arrow": 1_000_000}
    for name, samples in rows.items():
        ours_all = [o["readings_per_s"] for o, _ in samples]
        ratios = [o["readings_per_s"] / b["readings_per_s"] for o, b in samples]
        cpu = [o["readings_per_cpu_s"] for o, _ in samples]
        print(
            f"{name:>5}: lineops median {statistics.median(ours_all):,.0f}/s "
            f"(min {min(ours_all):,.0f}, max {max(ours_all):,.0f}; "
            f"{statistics.median(cpu):,.0f} per CPU-second), "
            f"bare median {statistics.median([b['readings_per_s'] for _, b in samples]):,.0f}/s, "
            f"ratio median {statistics.median(ratios):.2f}; target {targets[name]:,}/s"
        )
    for key, value in latency.items():
        print(f"{key:>22}: {value:,.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000, help="JSON readings")
    parser.add_argument("--batch", type=int, default=50_000, help="readings per JSON batch")
    parser.add_argument("--arrow-readings", type=int, default=4_000_000)
    parser.add_argument("--arrow-batch", type=int, default=250_000, help="rows per stream")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default="json,arrow", help="comma-separated: json,arrow")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
