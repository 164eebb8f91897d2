"""Ingestion benchmark: HTTP batch ingestion throughput and online retrieval latency.

    .venv/bin/python benchmarks/ingest.py [--readings 2000000] [--batch 50000]

1. readings/s through ``POST /v1/lines/{line}/readings`` (JSON batches, real aiohttp server
   on loopback) into the offline store (Parquet, fsync'd) and, via window aggregates, the
   Feast SQLite online store; the clock stops after the final materialisation.
2. online retrieval latency p50/p99 for one entity: ``FeastStore.online_features`` (what
   lineops serves) against a bare ``FeatureStore.get_online_features`` on the same store,
   interleaved in the same run. Targets: >= 200k readings/s; p99 within 1.5x of bare Feast.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
import pandas as pd
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import FeastStore
from lineops.dataplane.ingestion import IngestionServer, IngestionService
from prometheus_client import CollectorRegistry

LINE = "bench-line"
UNITS = [f"unit-{i:02d}" for i in range(10)]
SENSORS = [f"s{i:02d}" for i in range(20)]


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


def batches(total: int, size: int) -> list[bytes]:
    """Pre-encoded JSON batches (encoding is the client's cost, not the server's)."""
    rng = np.random.default_rng(0)
    start = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(minutes=4)
    out = []
    pairs = [(u, s) for u in UNITS for s in SENSORS]
    for b in range(total // size):
        readings = []
        values = rng.normal(size=size).round(4)
        for i in range(size):
            n = b * size + i
            unit, sensor = pairs[n % len(pairs)]
            stamp = start + pd.Timedelta(microseconds=n // len(pairs))
            readings.append(
                {
                    "work_unit": unit,
                    "sensor": sensor,
                    "timestamp": stamp.isoformat(),
                    "value": float(values[i]),
                }
            )
        out.append(json.dumps({"readings": readings}).encode())
    return out


def pct(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples), q)) * 1000


async def run(total: int, size: int, concurrency: int) -> dict[str, float]:
    payloads = batches(total, size)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        registry = CollectorRegistry()
        feast = FeastStore.local(data)
        service = IngestionService(data, registry, feast=feast)
        service.configure_line(LINE, spec())
        server = IngestionServer(service, registry)
        await server.start()
        url = f"{server.url}/v1/lines/{LINE}/readings"
        headers = {"Content-Type": "application/json"}
        queue = list(payloads)
        accepted = 0
        async with aiohttp.ClientSession() as http:

            async def worker() -> None:
                nonlocal accepted
                while queue:
                    body = queue.pop()
                    async with http.post(url, data=body, headers=headers) as response:
                        answer = await response.json()
                        assert response.status == 200, answer
                        accepted += answer["accepted"]

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            pushed = await asyncio.to_thread(service.materialize, LINE)
            elapsed = time.perf_counter() - started
        assert accepted == len(payloads) * size, accepted
        assert pushed == len(UNITS)

        # Online retrieval: same entity, same features, interleaved.
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
        await server.stop()
        await service.stop()
    return {
        "readings": float(accepted),
        "seconds": elapsed,
        "readings_per_s": accepted / elapsed,
        "features_per_entity": float(len(refs)),
        "lineops_p50_ms": pct(ours, 50),
        "lineops_p99_ms": pct(ours, 99),
        "bare_feast_p50_ms": pct(bare, 50),
        "bare_feast_p99_ms": pct(bare, 99),
        "p99_ratio": pct(ours, 99) / pct(bare, 99),
        "mean_ratio": statistics.fmean(ours) / statistics.fmean(bare),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    result = asyncio.run(run(args.readings, args.batch, args.concurrency))
    for key, value in result.items():
        print(f"{key:>22}: {value:,.3f}")


if __name__ == "__main__":
    main()
