"""Where the operator's memory per line goes (issue 24): a real `lineops operator run` process
(embedded profile, LINEOPS_TRAINING=off) under tracemalloc, against the real control plane,
with N ProductionLines and N QualityModels (the objects of benchmarks/operator_scale.py).

Snapshots are taken idle, once the first third of the objects is reconciled and once all
are (each ``--after-seconds`` later, so the monitors have evaluated): the first step holds the
one-off costs (what the first line loads), the second the cost per further line. Growth is
attributed to the part of
the operator whose code allocated it: the innermost lineops frame of each allocation's stack
(``lineops.dataplane.ingestion`` ..., grouped into the parts below), else the outermost
third-party package (kopf, feast, prometheus_client, ...). RSS is read from /proc; what
tracemalloc does not see (SQLite's page cache, the C heap of libraries, fragmentation) is
RSS growth minus traced growth.

    .venv/bin/python benchmarks/operator_memory.py --n 300
    .venv/bin/python benchmarks/operator_memory.py --n 300 --rss-only   # no tracemalloc
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Parts, by module prefix (the first that matches the innermost lineops frame wins).
PARTS: list[tuple[str, str]] = [
    ("lineops/dataplane/ingestion", "data plane: ingestion (ingestors, pane windows)"),
    ("lineops/ingestion", "data plane: ingestion (ingestors, pane windows)"),
    ("lineops/backends/feast", "Feast store (registry, index, online store)"),
    ("lineops/dataplane/features", "Feast store (registry, index, online store)"),
    ("lineops/dataplane", "data plane: other (app, stores, repositories)"),
    ("lineops/services/monitoring", "line monitors (charts, drift, OEE)"),
    ("lineops/monitoring", "line monitors (charts, drift, OEE)"),
    ("lineops/backends/metrics", "metrics series"),
    ("lineops/backends/kube", "Kubernetes client and ConfigMap record"),
    ("lineops/handlers", "lineops handlers (kopf indexes' values, glue)"),
    ("lineops/services", "lineops services (reconcilers, other)"),
    ("lineops/", "lineops: other"),
]


def part_of(frames: list[str]) -> str:
    """``frames``: file names, outermost first (tracemalloc's order). The innermost lineops
    frame outside the CLI names the part; without one, the outermost third-party package
    (kopf for what kopf's watch decodes through aiohttp and json)."""
    ours = [f for f in frames if "/lineops/" in f and "/site-packages/" not in f]
    ours = [f for f in ours if "/lineops/cli/" not in f and "/benchmarks/" not in f]
    if ours:
        rel = "lineops/" + ours[-1].split("/lineops/", 1)[1]
        for prefix, part in PARTS:
            if rel.startswith(prefix):
                return part
    for name in frames:
        if "/site-packages/" in name:
            package = name.split("/site-packages/", 1)[1].split("/")[0].removesuffix(".py")
            if frames[-1].endswith("sslproto.py"):
                return f"TLS buffers of API connections ({package})"
            if package == "kopf" and frames[-1].endswith("json/decoder.py"):
                return "kopf: object bodies it keeps (decoded watch events)"
            return package
    return "other (interpreter, stdlib, imports)"


def child(argv: list[str]) -> int:
    """The operator itself, traced; SIGUSR1 writes a snapshot to $SNAPSHOT_PATH.<k>."""
    depth = int(os.environ.get("TRACE_DEPTH", "16"))
    if depth:
        tracemalloc.start(depth)
    taken = [0]

    def dump(signum: int, frame: Any) -> None:
        snap = tracemalloc.take_snapshot()
        path = f"{os.environ['SNAPSHOT_PATH']}.{taken[0]}"
        snap.dump(path + ".tmp")
        os.replace(path + ".tmp", path)
        taken[0] += 1

    signal.signal(signal.SIGUSR1, dump)
    from lineops.cli.main import main

    return main(argv)


def snapshot(pid: int, base: Path, k: int, timeout: float = 600) -> tracemalloc.Snapshot:
    os.kill(pid, signal.SIGUSR1)
    path = Path(f"{base}.{k}")
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no snapshot {path}")
        time.sleep(0.5)
    return tracemalloc.Snapshot.load(str(path))


def by_part(snap: tracemalloc.Snapshot) -> dict[str, tuple[int, int]]:
    """part -> (bytes, blocks)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for stat in snap.statistics("traceback"):
        frames = [f.filename for f in stat.traceback]  # outermost first
        part = part_of(frames)
        out[part][0] += stat.size
        out[part][1] += stat.count
    return {k: (v[0], v[1]) for k, v in out.items()}


def top_lines(
    after: tracemalloc.Snapshot, before: tracemalloc.Snapshot, n: int = 25
) -> list[tuple[str, int]]:
    diff = after.compare_to(before, "lineno")
    return [(str(s.traceback[0]), s.size_diff) for s in diff[:n]]


def create_range(api: Any, namespace: str, lo: int, hi: int) -> None:
    """Lines and models lo..hi-1 (named as benchmarks/operator_scale.py names them)."""
    from kubernetes import client

    from tests.support.scale import GROUP, VERSION, line_body, model_body, names

    custom = client.CustomObjectsApi(api)
    for line, model in names(hi)[lo:]:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "productionlines", line_body(line)
        )
        custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "qualitymodels", model_body(model, line)
        )


def settled_count(custom: Any, namespace: str) -> int:
    from tests.support.scale import GROUP, PLURALS, VERSION, settled

    count = 0
    for plural in PLURALS.values():
        items = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)["items"]
        count += sum(1 for o in items if settled(o) is not None)
    return count


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--settle-timeout", type=float, default=900)
    parser.add_argument("--after-seconds", type=float, default=15.0, help="monitor ticks after")
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--rss-only", action="store_true", help="no tracemalloc: the real RSS at each point"
    )
    args = parser.parse_args()

    from kubernetes import client

    from tests.support.controlplane import load_cplane
    from tests.support.kube import admin_client, install_crds
    from tests.support.operator import create_operator_identity
    from tests.support.operator_process import operator_process

    cplane = load_cplane()
    work = Path(tempfile.mkdtemp(prefix="opmem-"))
    cp = cplane.up(work / "cp", with_controller_manager=False)
    try:
        api = admin_client(cp.kubeconfig)
        install_crds(api)
        identity = create_operator_identity(api, cp.server, cp.ca_file, work)
        ns = "mem"
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=ns))
        )
        base = work / "snapshot"
        # The tests' launcher (embedded profile, training off), with this file's child as
        # the interpreter's entry: the same CLI under tracemalloc.
        with operator_process(
            identity,
            ns,
            work,
            launcher=(sys.executable, __file__, "--child"),
            healthy_within=900,  # start-up under tracemalloc takes minutes
            SNAPSHOT_PATH=str(base),
            TRACE_DEPTH="0" if args.rss_only else "16",
        ) as op:
            proc = op.popen
            time.sleep(5)
            custom = client.CustomObjectsApi(api)
            take = (lambda k: None) if args.rss_only else (lambda k: snapshot(proc.pid, base, k))
            points = [(0, rss_mb(proc.pid), take(0), 0.0)]
            first = max(args.n // 3, 1)
            for k, (lo, hi) in enumerate([(0, first), (first, args.n)], start=1):
                started = time.monotonic()
                create_range(api, ns, lo, hi)
                while settled_count(custom, ns) < 2 * hi:
                    if time.monotonic() - started > args.settle_timeout:
                        raise TimeoutError(f"{settled_count(custom, ns)}/{2 * hi} reconciled")
                    time.sleep(2)
                settle_s = time.monotonic() - started
                time.sleep(args.after_seconds)
                points.append((hi, rss_mb(proc.pid), take(k), settle_s))
    finally:
        cp.stop()

    if args.rss_only:
        (_, rss0, _, _), (n1, rss1, _, s1), (n2, rss2, _, s2) = points
        print(
            f"RSS idle {rss0:.0f} MB; {n1} lines + models {rss1:.0f} MB (reconciled in "
            f"{s1:.0f} s); {n2} {rss2:.0f} MB ({s2:.0f} s); per further line "
            f"{(rss2 - rss1) * 1024 / (n2 - n1):.0f} KB"
        )
        if args.json:
            Path(args.json).write_text(json.dumps({"points": [p[:2] + p[3:] for p in points]}))
        return 0
    (_, idle_rss, idle, _), (n1, rss1, snap1, s1), (n2, rss2, snap2, s2) = points
    assert idle is not None and snap1 is not None and snap2 is not None
    parts = [by_part(idle), by_part(snap1), by_part(snap2)]
    names = sorted(set().union(*parts), key=lambda p: -(parts[2].get(p, (0, 0))[0]))
    rows: list[tuple[str, int, int, float]] = []
    for part in names:
        b0, b1, b2 = (p.get(part, (0, 0))[0] for p in parts)
        # First lines: what the first n1 lines and models brought (one-off costs included);
        # marginal: per line (and its model) from n1 to n2.
        rows.append((part, b0, b1 - b0, (b2 - b1) / (n2 - n1)))
    rows.sort(key=lambda r: -(r[2] + r[3] * args.n))
    print(
        f"reconciled: {n1} lines + models in {s1:.0f} s, {n2 - n1} more in {s2:.0f} s "
        "(under tracemalloc)"
    )
    print(
        f"RSS (under tracemalloc): idle {idle_rss:.0f} MB, {n1} lines {rss1:.0f} MB, "
        f"{n2} lines {rss2:.0f} MB"
    )
    print("| part | idle MB | first " + str(n1) + " lines MB | per further line KB |")
    print("|---|---:|---:|---:|")
    for part, b0, first_growth, marginal in rows:
        if abs(first_growth) < 2**16 and abs(marginal) < 100:
            continue
        print(f"| {part} | {b0 / 2**20:.1f} | {first_growth / 2**20:.1f} | {marginal / 1024:.1f} |")
    total = [sum(r[1] for r in rows), sum(r[2] for r in rows), sum(r[3] for r in rows)]
    print(
        f"| traced, all | {total[0] / 2**20:.1f} | {total[1] / 2**20:.1f} | {total[2] / 1024:.1f} |"
    )
    print("\ntop allocation sites by growth after the first lines:")
    top = top_lines(snap2, snap1)
    for where, size in top:
        print(f"  {size / 2**20:8.2f} MB  {where}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "points": [(n, rss, settle) for n, rss, _, settle in points],
                    "parts": [
                        dict(zip(("part", "idle", "first", "per_line"), r, strict=True))
                        for r in rows
                    ],
                    "top": top,
                    "load_avg": os.getloadavg(),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2:]))
    sys.exit(main())
