"""The quality inspector under load against a bare BentoML endpoint, in the same run.

    .venv/bin/python benchmarks/serving.py [--seconds 10] [--connections 16] [--repeat 2]
        [--batch-rows 10000] [--out FILE] [--workdir DIR] [--bentos DIR] [--bare-gc]

Issue 20's benchmark. Started here, each its own process on loopback:

* a data plane (``DataPlaneApp`` with a local Feast store, the embedded profile's layout),
  with readings of the example line's press work units ingested and their window aggregates
  pushed online, as in production; it takes the inspector's prediction log;
* **bare**: a minimal BentoML 1.4 service (no model, no features, no logging), the same
  worker count as the inspector (one), whose ``predict`` takes the same body and answers a
  small JSON object; written to the work directory and started with ``bentoml serve``
  (``--bare-gc``: with the inspector's garbage-collector tuning, ``gc.freeze`` at start);
* **inspector**: ``bentoml serve quality_inspector.service:QualityInspector`` with a real
  champion (tests/support/serving_model.py's fault classifier, trained here in seconds, as
  tests/integration/serving does: 20 extremely randomised trees + the torch MLP, a window
  of 2 rows) registered in a private BentoML store, reading the online features of the work
  unit and logging every prediction to the data plane;
* **per_request**: the same inspector with ``LINEOPS_SERVING_ANSWER_CACHE=off``: the model
  runs on every request instead of once per new online row of the unit (the ``predict``
  phases below run against it too, with its own ratios: ``per_request_*``);
* the load generator: this script again (``_load``), a closed- or open-loop HTTP/1.1 client
  on raw asyncio streams with kept-alive connections (less CPU per request than aiohttp or
  httpx, which matters on two shared cores).

Phases, bare, inspector and per_request interleaved, repeated ``--repeat`` times:

1. saturation: closed loop, ``--connections`` connections, each sending the next request
   when the answer arrives; requests/s and p50/p99;
2. one connection: closed loop, latency without queueing;
3. half rate: open loop at half of bare's saturation rate of the same repetition, constant
   arrival rate; latency counted from the scheduled send time (no coordinated omission);
4. ``predict_batch``: two connections posting ``--batch-rows`` rows each; rows/s.

Each phase warms up for a second before its measured ``--seconds``. Prints a table and
the ratios against bare; ``--out`` writes the JSON too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.serving_model import FEATURES, train_fault_classifier  # noqa: E402

LINE: Final = ("plant-a", "press-line-1")
UNITS: Final = ["press-01"]  # the example line's press; its sensors feed the model
WARMUP_S: Final = 1.0

BARE_SERVICE: Final = '''\
"""A bare BentoML endpoint: the same body as the quality inspector's predict, no work."""

import gc
import os
from typing import Annotated

import bentoml
from pydantic import Field


@bentoml.service(name="bare", workers=1, traffic={"timeout": 60})
class Bare:
    def __init__(self) -> None:
        if os.environ.get("BENCH_BARE_GC_FREEZE"):  # the inspector's GC tuning (--bare-gc)
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, *gc.get_threshold()[1:])

    @bentoml.api
    async def predict(
        self,
        work_unit: Annotated[str, Field(min_length=1, max_length=253)],
        lot: Annotated[str | None, Field(None, min_length=1, max_length=253)] = None,
    ) -> dict[str, str | None]:
        return {"work_unit": work_unit, "lot": lot}
'''


# ---------------------------------------------------------------------------- load generator


def _request(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _roundtrip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        raise RuntimeError(f"an answer without a length: {head[:200]!r}")
    return status


class Recorder:
    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}

    def add(self, sent: float, done: float, status: int) -> None:
        if self.start <= done <= self.end:  # completions in the window: throughput
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.latencies.append(done - sent)


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return reader, writer


async def closed_loop(
    port: int, requests: list[bytes], connections: int, seconds: float
) -> Recorder:
    links = [await _connect(port) for _ in range(connections)]
    begin = time.perf_counter()
    recorder = Recorder(begin + WARMUP_S, begin + WARMUP_S + seconds)

    async def client(k: int) -> None:
        reader, writer = links[k]
        i = k
        while True:
            sent = time.perf_counter()
            if sent >= recorder.end:
                return
            status = await _roundtrip(reader, writer, requests[i % len(requests)])
            recorder.add(sent, time.perf_counter(), status)
            i += connections

    await asyncio.gather(*(client(k) for k in range(connections)))
    for _, writer in links:
        writer.close()
    return recorder


async def open_loop(port: int, requests: list[bytes], rate: float, seconds: float) -> Recorder:
    """Requests at ``rate`` per second on schedule, each on a free kept-alive connection
    (a new one when all are busy); latency from the scheduled time."""
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = [
        await _connect(port) for _ in range(8)
    ]
    begin = time.perf_counter()
    recorder = Recorder(begin + WARMUP_S, begin + WARMUP_S + seconds)
    pending: set[asyncio.Task[None]] = set()

    async def one(due: float, request: bytes) -> None:
        link = idle.pop() if idle else await _connect(port)
        status = await _roundtrip(*link, request)
        recorder.add(due, time.perf_counter(), status)
        idle.append(link)

    i = 0
    while True:
        due = begin + i / rate
        if due >= recorder.end:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(due, requests[i % len(requests)]))
        pending.add(task)
        task.add_done_callback(pending.discard)
        i += 1
    if pending:
        await asyncio.wait(pending, timeout=60)
    for _, writer in idle:
        writer.close()
    return recorder


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(recorder: Recorder, seconds: float, rows_per_request: int = 1) -> dict[str, Any]:
    ok = len(recorder.latencies)
    return {
        "requests": ok,
        "per_s": round(ok / seconds, 1),
        "rows_per_s": round(ok * rows_per_request / seconds, 1),
        "p50_ms": round(1000 * _percentile(recorder.latencies, 0.50), 3) if ok else None,
        "p99_ms": round(1000 * _percentile(recorder.latencies, 0.99), 3) if ok else None,
        "max_ms": round(1000 * max(recorder.latencies), 3) if ok else None,
        "statuses": {str(k): v for k, v in sorted(recorder.statuses.items())},
    }


def load_main(args: argparse.Namespace) -> int:
    spec = json.loads(Path(args.spec).read_text())
    requests = [_request(args.port, spec["path"], b.encode()) for b in spec["bodies"]]
    if args.rate:
        recorder = asyncio.run(open_loop(args.port, requests, args.rate, args.seconds))
    else:
        recorder = asyncio.run(closed_loop(args.port, requests, args.connections, args.seconds))
    print(json.dumps(summary(recorder, args.seconds, spec.get("rows", 1))))
    return 0


def run_load(
    port: int,
    path: str,
    bodies: list[str],
    seconds: float,
    *,
    connections: int = 1,
    rate: float = 0.0,
    rows: int = 1,
) -> dict[str, Any]:
    """The load generator in a process of its own; its JSON summary."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="load-") as file:
        json.dump({"path": path, "bodies": bodies, "rows": rows}, file)
        file.flush()
        command = [sys.executable, __file__, "_load", "--port", str(port), "--spec", file.name]
        command += ["--seconds", str(seconds), "--connections", str(connections)]
        command += ["--rate", str(rate)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 180)
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# ---------------------------------------------------------------------------- the plant


def dataplane_main(args: argparse.Namespace) -> int:
    """The data plane with Feast, features online for ``UNITS``; prints its URL, serves until
    stdin closes (the benchmark ended or died)."""
    import pandas as pd
    import yaml
    from lineops.api.productionline import ProductionLineSpec
    from lineops.backends.feast_store import FeastStore
    from lineops.cli.heap import freeze_startup_heap
    from lineops.dataplane.app import DataPlaneApp
    from lineops.dataplane.db.database import embedded_url
    from lineops.dataplane.lines import LineRef
    from prometheus_client import CollectorRegistry

    data_dir = Path(args.data_dir)
    line = LineRef(*LINE)
    document = yaml.safe_load((ROOT / "examples" / "productionline.yaml").read_text())["spec"]
    document["features"] = {"window": "5m", "materializeEvery": "1h"}  # pushed below
    app = DataPlaneApp(
        data_dir,
        embedded_url(data_dir),
        CollectorRegistry(),
        feast=FeastStore.local(data_dir),
        compact_every=None,
    )
    app.configure_line(line, ProductionLineSpec.model_validate(document))
    now = pd.Timestamp.now(tz="UTC").floor("s")
    values = {"ram_force": 1000.0, "vibration_rms": 3.0}
    for when in (now - pd.Timedelta(seconds=30), now):  # two windows: the model's 2 rows
        rows = [
            f"{unit},{sensor},{(when - pd.Timedelta(seconds=i)).isoformat()},{value + i}\n"
            for unit in UNITS
            for sensor, value in values.items()
            for i in range(10)
        ]
        body = ("work_unit,sensor,timestamp,value\n" + "".join(rows)).encode()
        result = app.ingestion.ingest_bulk(line.name, body, "text/csv", backfill=True)
        assert result.accepted == len(rows), result
        assert app.ingestion.materialize(line.name) >= len(UNITS)

    async def serve() -> None:
        await app.start()
        freeze_startup_heap()  # as `lineops dataplane serve` does after its start-up
        print(json.dumps({"url": app.url}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await app.stop()

    asyncio.run(serve())
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def _post(url: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@contextmanager
def bentoml_serve(
    target: str, working_dir: Path, env: dict[str, str], log: Path
) -> Iterator[tuple[str, int]]:
    """``bentoml serve`` on a free loopback port until ``/readyz`` answers 200."""
    port = _free_port()
    command = [str(Path(sys.executable).parent / "bentoml"), "serve", target]
    command += ["--working-dir", str(working_dir), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited:\n{log.read_text()[-3000:]}")
            try:
                if _get(f"{url}/readyz", 2)[0] == 200:
                    break
            except OSError:
                pass  # still starting
            if time.monotonic() > deadline:
                raise RuntimeError(f"{target}: not ready after 180 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, port
    finally:
        _stop(process)


@contextmanager
def dataplane(data_dir: Path, log: Path) -> Iterator[str]:
    command = [sys.executable, __file__, "_dataplane", "--data-dir", str(data_dir)]
    with log.open("wb") as err:
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err
        )
    assert process.stdout is not None and process.stdin is not None
    try:
        line = process.stdout.readline()
        if not line:
            process.wait(30)
            raise RuntimeError(f"data plane exited:\n{log.read_text()[-3000:]}")
        yield str(json.loads(line)["url"])
    finally:
        process.stdin.close()  # the data plane stops when its stdin closes
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# ---------------------------------------------------------------------------- the run


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    home = workdir / "bentoml"
    env = {
        **os.environ,
        "BENTOML_HOME": str(home),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    os.environ.update({"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"})
    started = time.perf_counter()
    tag = train_fault_classifier(home, *LINE)
    print(f"model {tag} trained in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    bare_dir = workdir / "bare"
    bare_dir.mkdir()
    (bare_dir / "bare_service.py").write_text(BARE_SERVICE)
    bodies = [
        json.dumps({"work_unit": unit, "lot": f"L-{i:04d}"}) for i in range(50) for unit in UNITS
    ]
    rows = [[1000.0 + i % 7, 1050.0 + i % 5, 3.0] for i in range(args.batch_rows)]
    batch_body = json.dumps({"columns": FEATURES, "rows": rows})
    results: dict[str, Any] = {"model_tag": tag, "bare_gc": args.bare_gc, "repetitions": []}
    with ExitStack() as stack:
        plane = stack.enter_context(dataplane(workdir / "plant", workdir / "dataplane.log"))
        inspector_env = {
            **env,
            "LINEOPS_SERVING_MODEL_TAG": tag,
            "LINEOPS_SERVING_MODEL_NAME": "press-fault",
            "LINEOPS_SERVING_DATA_DIR": str(workdir / "plant"),
            "LINEOPS_SERVING_DATAPLANE_URL": plane,
            "LINEOPS_SERVING_MAX_FEATURE_AGE": "1h",
            "LINEOPS_SERVING_MAX_BATCH_ROWS": str(max(args.batch_rows, 100_000)),
        }
        bare_url, bare_port = stack.enter_context(
            bentoml_serve(
                "bare_service:Bare",
                bare_dir,
                {**env, **({"BENCH_BARE_GC_FREEZE": "1"} if args.bare_gc else {})},
                workdir / "bare.log",
            )
        )
        real_url, real_port = stack.enter_context(
            bentoml_serve(
                "quality_inspector.service:QualityInspector",
                args.bentos,
                inspector_env,
                workdir / "inspector.log",
            )
        )
        # The same inspector with the answer cache off: the model runs on every request
        # (a unit whose online row changed before each request would pay this).
        fresh_url, fresh_port = stack.enter_context(
            bentoml_serve(
                "quality_inspector.service:QualityInspector",
                args.bentos,
                {**inspector_env, "LINEOPS_SERVING_ANSWER_CACHE": "off"},
                workdir / "inspector-per-request.log",
            )
        )
        for url in (bare_url, real_url, fresh_url):  # the first answers: 200, or say why not
            status, text = _post(f"{url}/predict", json.loads(bodies[0]))
            if status != 200:
                raise RuntimeError(f"{url}/predict: {status} {text[:500]}")
        status, text = _post(f"{real_url}/predict_batch", json.loads(batch_body))
        if status != 200:
            raise RuntimeError(f"predict_batch: {status} {text[:500]}")
        targets = {"bare": bare_port, "inspector": real_port, "per_request": fresh_port}
        seconds = args.seconds
        for rep in range(args.repeat):
            phases: dict[str, dict[str, Any]] = {}
            for name, port in targets.items():
                phases[f"{name}/saturation"] = run_load(
                    port, "/predict", bodies, seconds, connections=args.connections
                )
            for name, port in targets.items():
                phases[f"{name}/one_connection"] = run_load(port, "/predict", bodies, seconds)
            half = phases["bare/saturation"]["per_s"] / 2
            for name, port in targets.items():
                phases[f"{name}/half_rate"] = run_load(port, "/predict", bodies, seconds, rate=half)
                phases[f"{name}/half_rate"]["rate"] = half
            phases["inspector/predict_batch"] = run_load(
                real_port,
                "/predict_batch",
                [batch_body],
                seconds,
                connections=2,
                rows=args.batch_rows,
            )
            results["repetitions"].append(phases)
            print(format_table(phases, rep), file=sys.stderr)
        _, metrics = _get(f"{real_url}/metrics", 30)
        results["prediction_log_failures"] = _metric(
            metrics, "lineops_serving_prediction_log_failures_total"
        )
    results["summary"] = summarise(results["repetitions"])
    return results


def ratios(phases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    bare_sat, real_sat = phases["bare/saturation"], phases["inspector/saturation"]
    bare_half, real_half = phases["bare/half_rate"], phases["inspector/half_rate"]
    return {
        "throughput_ratio": round(real_sat["per_s"] / bare_sat["per_s"], 3),
        "p50_delta_ms": round(real_half["p50_ms"] - bare_half["p50_ms"], 3),
        "p50_delta_one_connection_ms": round(
            phases["inspector/one_connection"]["p50_ms"] - phases["bare/one_connection"]["p50_ms"],
            3,
        ),
        "p99_ratio_half_rate": round(real_half["p99_ms"] / bare_half["p99_ms"], 3),
        "batch_rows_per_s": phases["inspector/predict_batch"]["rows_per_s"],
        # the model on every request (answer cache off), against the same bare phases
        "per_request_throughput_ratio": round(
            phases["per_request/saturation"]["per_s"] / bare_sat["per_s"], 3
        ),
        "per_request_p50_delta_ms": round(
            phases["per_request/half_rate"]["p50_ms"] - bare_half["p50_ms"], 3
        ),
        "per_request_p99_ratio_half_rate": round(
            phases["per_request/half_rate"]["p99_ms"] / bare_half["p99_ms"], 3
        ),
    }


TARGETS: Final = {
    "throughput_ratio": (">=", 0.8),
    "p50_delta_ms": ("<=", 2.0),
    "p99_ratio_half_rate": ("<=", 2.0),
    "batch_rows_per_s": (">=", 100_000),
    "per_request_throughput_ratio": (">=", 0.8),
    "per_request_p50_delta_ms": ("<=", 2.0),
    "per_request_p99_ratio_half_rate": ("<=", 2.0),
}


def summarise(repetitions: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    each = [ratios(p) for p in repetitions]
    out: dict[str, Any] = {}
    for key in each[0]:
        values = [r[key] for r in each]
        entry: dict[str, Any] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
        }
        if key in TARGETS:
            op, limit = TARGETS[key]
            median = entry["median"]
            entry["target"] = f"{op} {limit}"
            entry["met"] = median >= limit if op == ">=" else median <= limit
        out[key] = entry
    return out


def format_table(phases: dict[str, dict[str, Any]], rep: int) -> str:
    lines = [
        f"repetition {rep + 1}",
        f"{'phase':34} {'req/s':>9} {'rows/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  "
        "statuses",
    ]
    for name, p in phases.items():
        lines.append(
            f"{name:34} {p['per_s']:>9.1f} {p['rows_per_s']:>10.0f} {p['p50_ms'] or 0:>8.2f} "
            f"{p['p99_ms'] or 0:>8.2f} {p['max_ms'] or 0:>8.2f}  {p['statuses']}"
        )
    for key, value in ratios(phases).items():
        lines.append(f"  {key}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    load = sub.add_parser("_load", help="(internal) the load generator")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--spec", required=True, help="a JSON file: path, bodies, rows")
    load.add_argument("--seconds", type=float, required=True)
    load.add_argument("--connections", type=int, default=1)
    load.add_argument("--rate", type=float, default=0.0)
    plane = sub.add_parser("_dataplane", help="(internal) the data plane")
    plane.add_argument("--data-dir", required=True)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per phase")
    parser.add_argument("--connections", type=int, default=16, help="closed loop at saturation")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-rows", type=int, default=10_000, help="rows per predict_batch")
    parser.add_argument("--out", type=Path, help="write the JSON results here too")
    parser.add_argument("--workdir", type=Path, help="default: a temporary directory")
    parser.add_argument(
        "--bare-gc",
        action="store_true",
        help="bare tunes its garbage collector as the inspector does (gc.freeze at start)",
    )
    parser.add_argument(
        "--bentos",
        type=Path,
        default=ROOT / "bentos",
        help="the services' directory to serve (another checkout's, to compare versions)",
    )
    args = parser.parse_args(argv)
    if args.command == "_load":
        return load_main(args)
    if args.command == "_dataplane":
        return dataplane_main(args)
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = run(args, workdir)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
