"""Operator scale (issue 24): N ProductionLines + N QualityModels applied at once to the
real control plane (etcd + kube-apiserver), reconciled by a real `lineops operator run`
process (embedded profile, LINEOPS_TRAINING=off), against a no-op kopf operator
(benchmarks/noop_kopf_operator.py) on the same objects in the same run.

Per N it measures: time until every object is reconciled (lines Ready=True, models at
Ready=False/NotTrained, the state training-off models settle in; each with the condition's
observedGeneration equal to the object's generation), API requests per reconcile (the
apiserver's ``apiserver_request_total`` delta minus this script's own requests, over the
operator's ``lineops_reconcile_total`` delta), reconcile p50/p99 (the operator's
``lineops_reconcile_duration_seconds`` histogram), operator RSS idle and at N (VmRSS from
/proc), under churn (``--churn-percent`` of the specs changed per minute, spread over the
minute) the reconcile p99 and the change-to-reconciled latency, and SIGTERM-to-exit.

    .venv/bin/python benchmarks/operator_scale.py                     # N = 10,100,300,1000
    .venv/bin/python benchmarks/operator_scale.py --n 100 --churn-minutes 1 --json out.json

The control plane runs without kube-controller-manager (nothing here needs it), so the
apiserver's request counts hold only this script's and the operator's requests (and the
apiserver's own few loopback calls)."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubernetes import client, watch  # noqa: E402

from tests.support.controlplane import load_cplane  # noqa: E402
from tests.support.kube import admin_client, install_crds  # noqa: E402
from tests.support.operator import _healthy, create_operator_identity, free_port  # noqa: E402
from tests.support.scale import (  # noqa: E402
    PLURALS,
    create_all,
    line_body,
    names,
    settled,
)

GROUP, VERSION = "lineops.io", "v1alpha1"
NOOP = ROOT / "benchmarks" / "noop_kopf_operator.py"
# Log lines the issue counted: Feast registry refreshes, orphaned timers, metrics removal.
LOG_MARKERS = {
    "feast_registry_refresh": "Registry cache expired",
    "timer_orphaned": "did not exit in time",
    "prometheus_multiprocess_removal": "Removal of labels has not been implemented",
    "tracebacks": "Traceback",
}


# ----------------------------------------------------------------------------- objects


class Tracker:
    """Watches both kinds in a namespace; records when each (object, generation) settles."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self._api, self._ns = api, namespace
        self._lock = threading.Lock()
        self.settled: dict[tuple[str, str], tuple[int, float]] = {}  # -> (generation, at)
        self.first_settled: dict[tuple[str, str, int], float] = {}
        self._stop = threading.Event()
        self._watches: list[watch.Watch] = []
        self._threads = [
            threading.Thread(target=self._run, args=(kind,), daemon=True) for kind in PLURALS
        ]
        self.requests = 0  # this script's own API requests (list + watch per (re)start)

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for w in self._watches:
            w.stop()

    def _run(self, kind: str) -> None:
        api = client.CustomObjectsApi(self._api)
        rv = None
        while not self._stop.is_set():
            w = watch.Watch()
            self._watches.append(w)
            try:
                self.requests += 1
                kwargs: dict[str, Any] = {"timeout_seconds": 60}
                if rv:
                    kwargs["resource_version"] = rv
                for event in w.stream(
                    api.list_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    self._ns,
                    PLURALS[kind],
                    **kwargs,
                ):
                    obj = event["object"]
                    rv = obj["metadata"].get("resourceVersion")
                    gen = settled(obj)
                    if gen is not None:
                        now = time.monotonic()
                        key = (kind, obj["metadata"]["name"])
                        with self._lock:
                            self.settled[key] = (gen, now)
                            self.first_settled.setdefault((*key, gen), now)
                    if self._stop.is_set():
                        return
            except client.ApiException as exc:
                if exc.status == 410:
                    rv = None  # too old: relist
                    continue
                raise
            except Exception:
                if self._stop.is_set():
                    return
                time.sleep(0.5)

    def count(self, want: dict[tuple[str, str], int]) -> int:
        with self._lock:
            return sum(1 for key, gen in want.items() if self.settled.get(key, (0, 0.0))[0] >= gen)

    def settled_at(self, kind: str, name: str, gen: int) -> float | None:
        with self._lock:
            return self.first_settled.get((kind, name, gen))


# ----------------------------------------------------------------------------- metrics


def _scrape(url: str, token: str | None = None, ca: str | None = None) -> str:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    ctx = ssl.create_default_context(cafile=ca) if ca else None
    with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
        return str(resp.read().decode())


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eEInfNa]+)")


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m or m.group(1) != name:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out.append((labels, float(m.group(3))))
    return out


def apiserver_requests(cp: Any) -> dict[str, float]:
    """``apiserver_request_total`` summed by "VERB resource[/subresource]"."""
    text = _scrape(f"{cp.server}/metrics", cp.token, cp.ca_file)
    out: dict[str, float] = {}
    for labels, v in samples(text, "apiserver_request_total"):
        key = f"{labels.get('verb')} {labels.get('resource')}"
        if labels.get("subresource"):
            key += f"/{labels['subresource']}"
        out[key] = out.get(key, 0.0) + v
    return out


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    got = {k: v - before.get(k, 0.0) for k, v in after.items()}
    return {k: v for k, v in sorted(got.items(), key=lambda kv: -kv[1]) if v > 0}


@dataclass
class Histogram:
    buckets: dict[float, float] = field(default_factory=dict)  # le -> cumulative count
    count: float = 0.0

    @classmethod
    def scrape(cls, text: str, kind: str | None = None) -> Histogram:
        h = cls()
        for labels, v in samples(text, "lineops_reconcile_duration_seconds_bucket"):
            if kind is None or labels.get("kind") == kind:
                le = float(labels["le"])
                h.buckets[le] = h.buckets.get(le, 0.0) + v
        for labels, v in samples(text, "lineops_reconcile_duration_seconds_count"):
            if kind is None or labels.get("kind") == kind:
                h.count += v
        return h

    def minus(self, other: Histogram) -> Histogram:
        return Histogram(
            {le: c - other.buckets.get(le, 0.0) for le, c in self.buckets.items()},
            self.count - other.count,
        )

    def quantile(self, q: float) -> float | None:
        """Prometheus' histogram_quantile: linear within the bucket."""
        if self.count <= 0:
            return None
        rank, prev_le, prev_c = q * self.count, 0.0, 0.0
        for le in sorted(self.buckets):
            c = self.buckets[le]
            if c >= rank:
                if math.isinf(le):
                    return prev_le
                return prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-9)
            prev_le, prev_c = le, c
        return prev_le


def reconciles(text: str) -> float:
    return sum(v for _, v in samples(text, "lineops_reconcile_total"))


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith(key)).split()[1]) / 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


# ----------------------------------------------------------------------------- processes


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    log: Path
    metrics_url: str | None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def metrics(self) -> str:
        assert self.metrics_url
        return _scrape(self.metrics_url)

    def sigterm(self, limit: float = 60.0) -> float | None:
        """Seconds from SIGTERM to exit; None (and SIGKILL) if it outlived ``limit``."""
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return None
        return time.monotonic() - started

    def markers(self) -> dict[str, int]:
        text = self.log.read_text(errors="replace")
        return {key: text.count(marker) for key, marker in LOG_MARKERS.items()}


def wait_until(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def start_lineops(
    kubeconfig: str, namespace: str, work: Path, profile: Path | None, env_extra: dict[str, str]
) -> Proc:
    metrics, data = free_port(), free_port()
    env = dict(
        os.environ,
        KUBECONFIG=kubeconfig,
        LINEOPS_PROFILE="embedded",
        LINEOPS_TRAINING="off",
        **env_extra,
    )
    cmd = [sys.executable, "-m", "lineops.cli.main", "operator", "run", "--namespace", namespace]
    cmd += ["--metrics-port", str(metrics), "--ingest-port", str(data)]
    cmd += ["--data-dir", str(work / "data")]
    if profile is not None:
        # py-spy samples the whole run (apply, churn) at 50 Hz, every thread, idle included;
        # --nonblocking: it reads the process without pausing it (less overhead).
        spy = Path(sys.executable).parent / "py-spy"
        cmd = [str(spy), "record", "--idle", "--threads", "--nonblocking", "-r", "50"]
        cmd += ["--format", "raw"]
        cmd += ["-o", str(profile), "--", sys.executable, "-m", "lineops.cli.main"]
        cmd += ["operator", "run", "--namespace", namespace, "--metrics-port", str(metrics)]
        cmd += ["--ingest-port", str(data), "--data-dir", str(work / "data")]
    log = work / "operator.log"
    popen = subprocess.Popen(
        cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=str(ROOT)
    )
    proc = Proc(popen, log, f"http://127.0.0.1:{metrics}/metrics")
    wait_until(
        lambda: popen.poll() is not None or _healthy(f"http://127.0.0.1:{metrics}/healthz"),
        120,
        "the operator's /healthz",
    )
    if popen.poll() is not None:
        raise RuntimeError(f"operator exited: {log.read_text()[-3000:]}")
    return proc


def operator_pid(proc: Proc) -> int:
    """The Python process itself (under py-spy, its child)."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    if children.exists():
        kids = children.read_text().split()
        if kids and "py-spy" in Path(f"/proc/{proc.pid}/cmdline").read_text():
            return int(kids[0])
    return proc.pid


def start_noop(kubeconfig: str, namespace: str, work: Path) -> Proc:
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    log = work / "noop.log"
    cmd = [sys.executable, str(NOOP), "--namespace", namespace]
    popen = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    # kopf logs nothing when its watches are up; the idle wait (--idle-seconds) covers that.
    time.sleep(2)
    if popen.poll() is not None:
        raise RuntimeError(f"no-op operator exited: {log.read_text()[-3000:]}")
    return Proc(popen, log, None)


# ----------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    operator: str
    n: int
    ready_seconds: float | None = None
    ready_per_object_ms: float | None = None
    lines_ready_seconds: float | None = None
    api_requests: float | None = None
    api_by_request: dict[str, float] = field(default_factory=dict)  # incl. the script's own
    reconciles: float | None = None
    api_requests_per_reconcile: float | None = None
    reconcile_p50: float | None = None
    reconcile_p99: float | None = None
    rss_idle_mb: float | None = None
    rss_at_n_mb: float | None = None
    rss_peak_mb: float | None = None
    # At rest after the apply (timers, resyncs and monitoring only): the cost of N objects
    # that need nothing, over --steady-seconds.
    steady_cpu_percent: float | None = None
    steady_api_per_minute: float | None = None
    steady_api_by_request: dict[str, float] = field(default_factory=dict)
    churn_changes: int = 0
    churn_reconcile_p99: float | None = None
    churn_latency_p50: float | None = None
    churn_latency_p99: float | None = None
    churn_unsettled: int = 0
    rss_after_churn_mb: float | None = None
    sigterm_seconds: float | None = None
    log_markers: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def churn(
    api: client.ApiClient,
    namespace: str,
    n: int,
    tracker: Tracker,
    minutes: float,
    percent: float,
    settle: float,
) -> tuple[list[float], int, int]:
    """``percent`` of the lines' and models' specs changed per minute, evenly spaced.
    Returns the change-to-settled latencies, the changes made, and those never settled."""
    custom = client.CustomObjectsApi(api)
    per_minute = max(1, round(2 * n * percent / 100))
    total = max(1, round(per_minute * minutes))
    gap = 60.0 / per_minute
    pairs = names(n)
    changes: list[tuple[str, str, int, float]] = []
    start = time.monotonic()
    for k in range(total):
        time.sleep(max(0.0, start + k * gap - time.monotonic()))
        line, model = pairs[(k // 2) % n]
        visit = (k // 2) // n  # a line's target moves on each visit: a new generation
        if k % 2 == 0:
            target = f"{10.001 + 0.001 * (visit % 40):.3f}"
            body = line_body(line, target)["spec"]["qualityCharacteristics"]
            kind, name, patch = "ProductionLine", line, {"spec": {"qualityCharacteristics": body}}
        else:
            patch = {"spec": {"training": {"parameters": {"epochs": str(20 + k)}}}}
            kind, name = "QualityModel", model
        obj = custom.patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURALS[kind], name, patch
        )
        changes.append((kind, name, obj["metadata"]["generation"], time.monotonic()))
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline:
        if all(tracker.settled_at(kind, name, gen) for kind, name, gen, _ in changes):
            break
        time.sleep(0.5)
    latencies, unsettled = [], 0
    for kind, name, gen, at in changes:
        done = tracker.settled_at(kind, name, gen)
        if done is None:
            unsettled += 1
        else:
            latencies.append(done - at)
    return latencies, len(changes), unsettled


@contextmanager
def namespace_for(api: client.ApiClient, prefix: str) -> Iterator[str]:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
    )
    yield name  # left behind: the control plane is thrown away at the end


def run_one(
    cp: Any,
    api: client.ApiClient,
    kubeconfig: str,
    kind: str,
    n: int,
    args: argparse.Namespace,
    work: Path,
) -> RunResult:
    result = RunResult(kind, n)
    with namespace_for(api, f"{kind}-{n}") as ns:
        run_dir = work / ns
        run_dir.mkdir()
        profile = None
        if kind == "lineops" and n in args.profile:
            profile = Path(args.profile_dir) / f"operator-n{n}.txt"
            profile.parent.mkdir(parents=True, exist_ok=True)
        proc = (
            start_lineops(kubeconfig, ns, run_dir, profile, dict(args.operator_env))
            if kind == "lineops"
            else start_noop(kubeconfig, ns, run_dir)
        )
        pid = operator_pid(proc)
        tracker = Tracker(api, ns)
        try:
            time.sleep(args.idle_seconds)  # idle: start-up done, nothing to reconcile
            result.rss_idle_mb = rss_mb(pid)
            tracker.start()
            before_api = apiserver_requests(cp)
            before_metrics = proc.metrics() if proc.metrics_url and kind == "lineops" else ""
            t0 = time.monotonic()
            own = create_all(api, ns, n)
            want = {("ProductionLine", line): 1 for line, _ in names(n)}
            want.update({("QualityModel", model): 1 for _, model in names(n)})
            lines_want = {k: v for k, v in want.items() if k[0] == "ProductionLine"}
            lines_done: list[float] = []

            def all_settled() -> bool:
                if not lines_done and tracker.count(lines_want) == len(lines_want):
                    lines_done.append(time.monotonic() - t0)
                return tracker.count(want) == len(want)

            try:
                wait_until(all_settled, args.ready_timeout, f"{2 * n} objects", 0.25)
                result.ready_seconds = time.monotonic() - t0
                result.ready_per_object_ms = 1000 * result.ready_seconds / (2 * n)
            except TimeoutError as exc:
                result.error = f"{exc} ({tracker.count(want)}/{len(want)} settled)"
            result.lines_ready_seconds = lines_done[0] if lines_done else None
            # Let kopf finish the patches that follow the last status (its diff-base etc.).
            time.sleep(2)
            result.api_by_request = delta(apiserver_requests(cp), before_api)
            own_requests = own + tracker.requests
            result.api_requests = sum(result.api_by_request.values()) - own_requests
            result.rss_at_n_mb = rss_mb(pid)
            if kind == "lineops":
                after = proc.metrics()
                hist = Histogram.scrape(after).minus(Histogram.scrape(before_metrics))
                result.reconciles = reconciles(after) - reconciles(before_metrics)
                result.reconcile_p50 = hist.quantile(0.50)
                result.reconcile_p99 = hist.quantile(0.99)
                if result.reconciles:
                    result.api_requests_per_reconcile = result.api_requests / result.reconciles
            if args.steady_seconds > 0 and result.error is None:
                api_before, cpu_before = apiserver_requests(cp), cpu_seconds(pid)
                started = time.monotonic()
                time.sleep(args.steady_seconds)  # the measurement window itself
                elapsed = time.monotonic() - started
                result.steady_cpu_percent = 100 * (cpu_seconds(pid) - cpu_before) / elapsed
                result.steady_api_by_request = delta(apiserver_requests(cp), api_before)
                steady = sum(result.steady_api_by_request.values())
                result.steady_api_per_minute = 60 * steady / elapsed
            if n in args.churn_n and args.churn_minutes > 0 and result.error is None:
                before_churn = proc.metrics() if kind == "lineops" else ""
                latencies, made, unsettled = churn(
                    api, ns, n, tracker, args.churn_minutes, args.churn_percent, 120
                )
                result.churn_changes, result.churn_unsettled = made, unsettled
                result.churn_latency_p50 = pct(latencies, 0.50)
                result.churn_latency_p99 = pct(latencies, 0.99)
                if kind == "lineops":
                    hist = Histogram.scrape(proc.metrics()).minus(Histogram.scrape(before_churn))
                    result.churn_reconcile_p99 = hist.quantile(0.99)
                result.rss_after_churn_mb = rss_mb(pid)
            result.rss_peak_mb = rss_mb(pid, "VmHWM")
        finally:
            tracker.stop()
            if proc.popen.poll() is None:
                if pid != proc.pid:  # under py-spy: stop the operator, py-spy writes then
                    started = time.monotonic()
                    os.kill(pid, signal.SIGTERM)
                    try:
                        wait_until(
                            lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid),
                            60,
                            "the operator to exit",
                        )
                        result.sigterm_seconds = time.monotonic() - started
                    except TimeoutError:
                        os.kill(pid, signal.SIGKILL)
                    proc.popen.wait(timeout=120)
                else:
                    result.sigterm_seconds = proc.sigterm()
            result.log_markers = proc.markers()
    return result


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


# ----------------------------------------------------------------------------- report


def fmt(v: float | None, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def table(results: list[RunResult]) -> str:
    head = (
        "| operator | N | all reconciled s | ms/object | lines Ready s | API req/reconcile "
        "| reconcile p50 s | p99 s | RSS idle MB | RSS at N MB | peak MB | churn p99 s "
        "| churn latency p50/p99 s | SIGTERM s | at rest: CPU % | API req/min |"
    )
    rows = [head, "|" + "---|" * 16]
    for r in results:
        rows.append(
            f"| {r.operator} | {r.n} | {fmt(r.ready_seconds)} | {fmt(r.ready_per_object_ms)} "
            f"| {fmt(r.lines_ready_seconds)} | {fmt(r.api_requests_per_reconcile)} "
            f"| {fmt(r.reconcile_p50, '.3f')} | {fmt(r.reconcile_p99, '.3f')} "
            f"| {fmt(r.rss_idle_mb, '.0f')} | {fmt(r.rss_at_n_mb, '.0f')} "
            f"| {fmt(r.rss_peak_mb, '.0f')} | {fmt(r.churn_reconcile_p99, '.3f')} "
            f"| {fmt(r.churn_latency_p50)}/{fmt(r.churn_latency_p99)} "
            f"| {fmt(r.sigterm_seconds)} | {fmt(r.steady_cpu_percent)} "
            f"| {fmt(r.steady_api_per_minute, '.0f')} |"
        )
    ratios = []
    by = {(r.operator, r.n): r for r in results}
    for r in results:
        base = by.get(("noop-kopf", r.n))
        if r.operator == "lineops" and base and base.ready_seconds and r.ready_seconds:
            time_x = r.ready_seconds / base.ready_seconds
            api_x = (r.api_requests or 0) / max(base.api_requests or 1, 1)
            ratios.append(
                f"N={r.n}: lineops/no-op time to reconciled {time_x:.1f}x, "
                f"API requests {api_x:.1f}x"
            )
    return "\n".join([*rows, "", *ratios])


def parse_ns(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=parse_ns, default=[10, 100, 300, 1000], help="N list")
    parser.add_argument("--churn-minutes", type=float, default=3.0)
    parser.add_argument("--churn-percent", type=float, default=10.0)
    parser.add_argument(
        "--churn-n", type=parse_ns, default=None, help="N values with churn (default: largest)"
    )
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument(
        "--steady-seconds",
        type=float,
        default=60.0,
        help="after the apply, measure CPU and API requests at rest this long (0: skip)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the no-op operator")
    parser.add_argument(
        "--profile", type=parse_ns, default=[], help="N values to run under py-spy record"
    )
    parser.add_argument("--profile-dir", default=str(ROOT / ".cache" / "profiles"))
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument(
        "--operator-env",
        type=lambda kv: tuple(kv.split("=", 1)),
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra LINEOPS_* setting for the lineops operator (repeatable), e.g. "
        "LINEOPS_MONITOR_SECONDS=300 to measure without the per-line monitor ticks",
    )
    args = parser.parse_args(argv)
    if args.churn_n is None:
        args.churn_n = [max(args.n)]

    cplane = load_cplane()
    work = Path(tempfile.mkdtemp(prefix="opscale-"))
    cp = cplane.up(work / "cp", with_controller_manager=False)
    results: list[RunResult] = []
    try:
        api = admin_client(cp.kubeconfig)
        install_crds(api)
        identity = create_operator_identity(api, cp.server, cp.ca_file, work)
        for n in args.n:
            kinds = ["lineops"] if args.no_baseline else ["noop-kopf", "lineops"]
            for kind in kinds:
                print(f"==> {kind} N={n}", file=sys.stderr, flush=True)
                r = run_one(cp, api, identity.kubeconfig, kind, n, args, work)
                print(json.dumps(asdict(r)), file=sys.stderr, flush=True)
                results.append(r)
    finally:
        cp.stop()
    print(table(results))
    meta = {
        "cpus": os.cpu_count(),
        "load_avg_at_end": os.getloadavg(),
        "python": sys.version.split()[0],
        "args": {k: v for k, v in vars(args).items()},
    }
    if args.json:
        Path(args.json).write_text(
            json.dumps({"meta": meta, "results": [asdict(r) for r in results]}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
