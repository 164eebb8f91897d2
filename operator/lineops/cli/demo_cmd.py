"""`lineops demo`: the main job on the embedded profile, end to end, with progress output.

It starts the project's own control plane (etcd + kube-apiserver + controller manager,
built from Go modules), installs the CRDs, runs the operator as a child process, applies
the example line and model, waits for the operator's conditions, and prints what kubectl
would show. Each step says what it did; the run directory keeps every log.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from lineops.api.base import DNS_LABEL_PATTERN
from lineops.cli.errors import CliError

REPO = Path(__file__).resolve().parents[3]


def register(sub: Any) -> None:
    parser = sub.add_parser("demo", help="run a whole line on the embedded profile")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for logs and reports (default: demo-out)",
    )
    parser.add_argument(
        "--namespace",
        default="plant-a",
        help="namespace of the demo's objects, created if missing (default: plant-a)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the control plane and operator running at the end",
    )
    parser.set_defaults(func=_run)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def _load_cplane() -> ModuleType:
    script = REPO / "tools" / "controlplane" / "cplane.py"
    if not script.exists():
        raise CliError(f"the demo needs a source checkout: {script} not found")
    spec = importlib.util.spec_from_file_location("lineops_cplane", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lineops_cplane"] = module
    spec.loader.exec_module(module)
    return module


# The operator's log, once it runs: every wait that times out points at it.
_LOG: list[Path] = []


def _poll(
    what: str,
    fn: Callable[[], Any],
    timeout: float = 90.0,
    alive: Callable[[], bool] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        if alive is not None and not alive():
            raise CliError(f"the operator exited while waiting for {what}{_log_tail()}")
        time.sleep(0.2)
    raise CliError(f"timed out after {timeout:.0f}s waiting for {what}{_log_tail()}")


def _log_tail(lines: int = 15) -> str:
    if not _LOG or not _LOG[0].is_file():
        return ""
    tail = _LOG[0].read_text(errors="replace").splitlines()[-lines:]
    return f"; the operator's log is {_LOG[0]}, its last lines:\n" + "\n".join(tail)


def _stop_previous(out: Path, cplane: ModuleType) -> None:
    """What a previous demo left running in ``out`` (--keep, or killed before its cleanup):
    its folders are about to be deleted, and with them the records of what to stop."""
    from lineops.backends.process_ids import same_process

    pid_file = out / "operator.pid"
    pid = same_process(pid_file.read_text(), strict=True) if pid_file.is_file() else None
    if pid is not None:
        os.kill(pid, signal.SIGINT)
        print(f"   stopped the previous demo's operator (pid {pid})")
    _stop_workers(out / "data")
    if (out / "controlplane" / "state.json").is_file():
        with contextlib.suppress(cplane.ControlPlaneError, OSError, ValueError):
            names = cplane.down(out / "controlplane")
            print(f"   stopped the previous demo's control plane ({', '.join(names)})")


def _stop_workers(data_dir: Path) -> None:
    """Training workers run detached from the operator (on purpose: they outlive its
    restarts); the demo's own must not outlive the demo."""
    from lineops.backends.process_ids import same_process

    for pid_file in data_dir.glob("runs/*/worker.pid"):
        pid = same_process(pid_file.read_text(), strict=True)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return dict(cond)
    return {}


def _print_table(rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("   " + "   ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _run(args: argparse.Namespace) -> int:
    from kubernetes import client

    from lineops.api.crd import crd_manifests
    from lineops.backends.crds import install_crds, server_table
    from lineops.backends.kube import new_api_client
    from lineops.backends.process_ids import recorded

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    ns = args.namespace
    if len(ns) > 63 or not re.match(DNS_LABEL_PATTERN, ns):
        raise CliError(f"--namespace: {ns!r} is not a namespace name (lower-case DNS label)")
    cplane = _load_cplane()
    _stop_previous(out, cplane)
    # Every demo starts afresh: a previous run's cluster state and stores would make its
    # objects exist already and its records count twice.
    for previous in ("controlplane", "data"):
        shutil.rmtree(out / previous, ignore_errors=True)
    started = time.monotonic()

    step("control plane: building or reusing etcd, kube-apiserver, kube-controller-manager")
    try:
        cp = cplane.up(out / "controlplane")
    except cplane.ControlPlaneError as exc:
        raise CliError(str(exc)) from exc
    operator: subprocess.Popen[bytes] | None = None
    try:
        print(f"   API server {cp.server}; kubeconfig {cp.kubeconfig}")
        api = new_api_client(cp.kubeconfig)
        step("installing the ProductionLine and QualityModel CRDs")
        names = install_crds(api, crd_manifests())
        print(f"   established: {', '.join(names)}")

        try:
            client.CoreV1Api(api).create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=ns))
            )
        except client.ApiException as exc:
            if exc.status != 409:  # default, kube-system: there already
                raise CliError(f"--namespace {ns}: {exc.status} {exc.reason}") from None
        step(f"starting the operator (embedded profile) on namespace {ns}")
        log = open(out / "operator.log", "wb")  # noqa: SIM115 - owned by the child
        env = dict(
            os.environ,
            KUBECONFIG=cp.kubeconfig,
            LINEOPS_PROFILE="embedded",
            LINEOPS_MONITOR_SECONDS="2",
            LINEOPS_TRAINING_POLL_SECONDS="2",
        )
        metrics_port, data_port = _free_port(), _free_port()
        data_dir = out / "data"
        command = [sys.executable, "-m", "lineops.cli.main", "operator", "run"]
        command += ["--namespace", ns, "--metrics-port", str(metrics_port)]
        command += ["--ingest-port", str(data_port), "--data-dir", str(data_dir)]
        operator = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        (out / "operator.pid").write_text(recorded(operator.pid))
        _LOG[:] = [out / "operator.log"]
        print(f"   pid {operator.pid}; log {out / 'operator.log'}")
        data_url = f"http://127.0.0.1:{data_port}"
        running = operator
        _poll(
            "the operator's /healthz",
            lambda: _get(f"http://127.0.0.1:{metrics_port}/healthz"),
            alive=lambda: running.poll() is None,
        )
        print(f"   metrics http://127.0.0.1:{metrics_port}/metrics; data {data_url}")

        custom = client.CustomObjectsApi(api)
        _apply_examples(custom, ns, LINE_EXAMPLES)
        _wait_line(custom, ns, "press-line-1")
        _mes_records(custom, ns, data_url, out, cp.kubeconfig)
        _plan(custom, ns, data_url, out)
        _te_history(custom, ns, data_url)
        _apply_examples(custom, ns, MODEL_EXAMPLES)
        _wait_models(custom, ns, data_dir)
        _replay_te(custom, ns, data_url, data_dir)
        _score_stream(custom, ns, data_dir, out)
        from lineops.cli.demo_serving import served

        served(custom, ns, data_url, cp.kubeconfig)
        from lineops.cli.demo_lots import lots

        lots(ns, data_url)

        step(f"kubectl get pl,qm -n {ns}")
        base = f"/apis/lineops.io/v1alpha1/namespaces/{ns}"
        _print_table(server_table(api, f"{base}/productionlines"))
        print()
        _print_table(server_table(api, f"{base}/qualitymodels"))
        _metrics_excerpt(f"http://127.0.0.1:{metrics_port}/metrics")
        step(f"done in {time.monotonic() - started:.0f}s; logs, data and reports in {out}")
        if args.keep:
            print(
                f"   left running: stop the operator with `kill -INT {operator.pid}` and the "
                f"control plane with `tools/controlplane/down {cp.run_dir}` (the next "
                "`make demo` stops both too)"
            )
            operator = None
            return 0
    finally:
        # Left running only on success with --keep (the operator is None then).
        stop_all = not args.keep or operator is not None
        if operator is not None:
            operator.send_signal(signal.SIGINT)
            try:
                operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                operator.kill()
        if stop_all:
            _stop_workers(out / "data")
            cp.stop()
    return 0


GROUP, VERSION = "lineops.io", "v1alpha1"
LINE_EXAMPLES = ("productionline.yaml", "te-line.yaml")
MODEL_EXAMPLES = ("qualitymodel.yaml", "qualitymodel-anomaly.yaml")
FAULTS_MODEL, ANOMALY_MODEL = "te-line-faults", "te-line-anomaly"
# The examples train on the line's full history with more epochs; the demo keeps it short.
DEMO_TRAINING = {"epochs": "3"}
# TE runs of the demo's history: normal operation and five faults a short training learns.
DEMO_FAULTS = (0, 1, 2, 4, 6, 7)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _checked(code: int, what: str) -> None:
    """A step's command failed: the demo stops there (it went on and ended 'done')."""
    if code != 0:
        raise CliError(f"the demo's `lineops {what}` failed (exit {code}): see its error above")


def _get(url: str) -> str | None:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return str(resp.read().decode())
    except OSError:
        return None


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    import json

    return _post_bytes(url, json.dumps(body).encode(), "application/json")


def _post_bytes(url: str, data: bytes, content_type: str) -> dict[str, Any]:
    """The answer, or a CliError naming the URL and the data plane's problem document (a
    bare "HTTP Error 422" or "Connection refused" said neither what nor where)."""
    import json
    import urllib.error

    try:
        return _post_raw(url, data, content_type)
    except urllib.error.HTTPError as exc:
        try:
            problem = json.loads(exc.read())
            said = f"{problem.get('title')}: {problem.get('detail')}"
            if problem.get("field"):
                said += f" (field {problem['field']})"
        except ValueError:
            said = str(exc.reason)
        raise CliError(f"POST {url}: {exc.code} {said}{_log_tail()}") from None
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        raise CliError(f"POST {url}: {reason}{_log_tail()}") from None


def _post_raw(url: str, data: bytes, content_type: str) -> dict[str, Any]:
    import json
    import urllib.request

    req = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        result: dict[str, Any] = json.loads(resp.read())
        return result


def _post_problem(url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST expecting a 4xx: the RFC 9457 problem document the data plane answers with."""
    import json
    import urllib.error

    try:
        _post_raw(url, json.dumps(body).encode(), "application/json")
    except urllib.error.HTTPError as exc:
        problem: dict[str, Any] = json.loads(exc.read())
        return problem
    raise CliError(f"POST {url}: a malformed batch was accepted (a 4xx was expected)")


def _apply_examples(custom: Any, ns: str, names: tuple[str, ...]) -> None:
    for name in names:
        doc = yaml.safe_load((REPO / "examples" / name).read_text())
        if doc["kind"] == "QualityModel":
            doc["spec"]["training"]["parameters"] = DEMO_TRAINING
        plural = "productionlines" if doc["kind"] == "ProductionLine" else "qualitymodels"
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, plural, doc)
        step(f"applied examples/{name}: {doc['kind']} {doc['metadata']['name']}")
    if any(name in MODEL_EXAMPLES for name in names):
        print(f"   (QualityModels train with parameters {DEMO_TRAINING} to keep the demo short)")


def _obj(custom: Any, ns: str, plural: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = custom.get_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
    return obj


def _wait_line(custom: Any, ns: str, name: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        obj = _obj(custom, ns, "productionlines", name)
        cond = _condition(obj, "Ready")
        return obj if cond.get("status") == "True" else None

    obj: dict[str, Any] = _poll(f"ProductionLine {name} to be Ready", ready, timeout=180)
    for type_ in ("Ready", "FeaturesReady", "IngestionReady", "MonitoringReady"):
        cond = _condition(obj, type_)
        print(f"   {type_}={cond.get('status')} ({cond.get('reason')}): {cond.get('message')}")
    return obj


def _mes_records(custom: Any, ns: str, data_url: str, out: Path, kubeconfig: str) -> None:
    from lineops.cli.demo_data import ring_measurements, shift_counts, shift_events
    from lineops.cli.main import main as lineops

    base = f"{data_url}/v1/namespaces/{ns}/lines/press-line-1"
    records, _ = ring_measurements()
    step(
        f"posting {len(records)} ring-diameter measurements (Montgomery's 25 piston-ring "
        "subgroups, then 10 with a constructed +0.02 mm shift)"
    )
    answer = _post(f"{base}/measurements", {"records": records})
    print(
        f"   received {answer['received']}, accepted {answer['accepted']}, "
        f"quarantined {answer['quarantined']}"
    )
    junk = [
        {
            "characteristic": "ring_diameter",
            "value": "Inp OutRange",
            "timestamp": "2026-11-20T15:00:00Z",
        }
    ]
    answer = _post(f"{base}/measurements", {"records": junk})
    print(f"   a historian junk value is quarantined, not dropped: {answer['rejected'][0]}")
    problem = _post_problem(f"{base}/counts", {"records": 5})
    print(
        f"   a malformed batch is refused whole with a problem document naming the field: "
        f"{problem['status']} {problem['title']}, field {problem['field']!r}"
    )
    db = f"sqlite:///{(out / 'data' / 'lineops.db').resolve()}"
    step(f"lineops quarantine list --db {db} --line {ns}/press-line-1")
    _checked(
        lineops(["quarantine", "list", "--db", db, "--line", f"{ns}/press-line-1"]),
        "quarantine list",
    )
    step("posting one shift of machine states and counts for the four work units")
    _post(f"{base}/events", {"records": shift_events()})
    _post(f"{base}/counts", {"records": shift_counts()})

    def judged() -> dict[str, Any] | None:
        obj = _obj(custom, ns, "productionlines", "press-line-1")
        kpis = (obj.get("status") or {}).get("kpis")
        return obj if kpis and _condition(obj, "InControl").get("status") == "False" else None

    obj: dict[str, Any] = _poll("the line's KPIs and SPC verdict", judged)
    kpis = obj["status"]["kpis"]
    print(
        f"   status.kpis: OEE {kpis['oee']} = availability {kpis['availability']} x "
        f"performance {kpis['performance']} x quality {kpis['quality']}"
    )
    cond = _condition(obj, "InControl")
    print(f"   InControl={cond['status']} ({cond['reason']}): {cond['message']}")

    step(
        "lineops report --line: the line's live records as control charts, capability "
        "and OEE waterfall (PNG + HTML)"
    )
    report = out / "report"
    code = lineops(
        [
            "report",
            "--line",
            f"{ns}/press-line-1",
            "--data-dir",
            str(out / "data"),
            "--kubeconfig",
            kubeconfig,
            "--out",
            str(report),
        ]
    )
    _checked(code, "report --line")
    print(f"   open {report / 'index.html'}")


def _plan(custom: Any, ns: str, data_url: str, out: Path) -> None:
    """A week's order book for the press line, planned by CP-SAT around a planned and a
    predicted maintenance window, stored through the data plane; the line's status says."""
    import json

    orders, line = REPO / "examples" / "orders.yaml", REPO / "examples" / "productionline.yaml"
    step(
        f"lineops plan --orders {orders.relative_to(REPO)} --line-file "
        f"{line.relative_to(REPO)} --time-limit 10 --json --gantt {out / 'plan'}"
    )
    command = [sys.executable, "-m", "lineops.cli.main", "plan", "--orders", str(orders)]
    command += [
        "--line-file",
        str(line),
        "--time-limit",
        "10",
        "--json",
        "--gantt",
        str(out / "plan"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CliError(f"lineops plan failed: {done.stderr.strip()[-2000:]}")
    plan = json.loads(done.stdout)
    print(
        f"   {plan['method']} ({plan['status']}): {len(plan['schedule'])} operations of "
        f"{len(plan['tardiness'])} orders, {len(plan['lateOrders'])} late, ending {plan['end']}"
    )
    for window in plan["blocked"]:
        print(
            f"   blocked: {window['workUnit']} {window['start']} - {window['end']}: "
            f"{window['reason']}"
        )
    stored = _post(f"{data_url}/v1/namespaces/{ns}/lines/press-line-1/plans", plan)

    def shown() -> dict[str, Any] | None:
        status = _obj(custom, ns, "productionlines", "press-line-1").get("status") or {}
        found: dict[str, Any] | None = status.get("plan")
        return found if found and found.get("planId") == stored["id"] else None

    status = _poll("the plan in press-line-1's status", shown)
    window = status.get("nextMaintenance") or {}
    print(
        f"   status.plan: {status['orders']} orders, {status['ordersLate']} late; next "
        f"maintenance {window.get('workUnit')} from {window.get('start')} ({window.get('reason')})"
    )
    print(f"   Gantt chart: {out / 'plan' / 'index.html'}")


def _te_history(custom: Any, ns: str, data_url: str) -> None:
    """The line's history the models train on: TE training runs one after another, each
    fault announced by a machine event (reason = fault number), as an MES would post it."""
    import pandas as pd
    import pyarrow as pa

    from lineops.services.replay import TE_START, te_history

    _wait_line(custom, ns, "te-line")
    # History ends before the live replay starts (TE_START), so the live run is not late.
    start = TE_START - pd.Timedelta(days=8)
    readings, events = te_history("train", DEMO_FAULTS, start)
    first, last = readings["timestamp"].min(), readings["timestamp"].max()
    step(
        f"backfilling te-line's history: TE training runs {DEMO_FAULTS} (bibmon), "
        f"{len(readings):,} readings from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}, "
        f"and {len(events)} machine events marking the faults"
    )
    base = f"{data_url}/v1/namespaces/{ns}/lines/te-line"
    table = pa.Table.from_pandas(readings, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    answer = _post_bytes(
        f"{base}/readings:bulk?backfill=true",
        sink.getvalue().to_pybytes(),
        "application/vnd.apache.arrow.stream",
    )
    print(
        f"   readings: {answer.get('accepted')} accepted, {answer.get('quarantined')} quarantined"
    )
    answer = _post(f"{base}/events", {"records": events})
    print(f"   events: {answer.get('accepted')} accepted, {answer.get('quarantined')} quarantined")


def _replay_te(custom: Any, ns: str, data_url: str, data_dir: Path) -> None:
    from lineops.backends.feast_store import FeastStore
    from lineops.services.replay import LotNames, load_te, replay, te_history

    frame = load_te(fault=1, split="test")
    step(
        f"replaying the Tennessee Eastman process live (bibmon, fault 1 test run: "
        f"{len(frame)} samples x {frame.shape[1]} variables) into te-line"
    )
    # The MES says when the fault began (sample 160), as it did for the history.
    _, events = te_history("test", (1,))
    _post(f"{data_url}/v1/namespaces/{ns}/lines/te-line/events", {"records": events})
    stats = replay(
        frame,
        url=f"{data_url}/v1/namespaces/{ns}/lines/te-line/readings",
        work_unit="te-process",
        speed=0,
        lots=LotNames("te-lot-", rows=96),  # 10 production lots; the data plane opens them
    )
    print(f"   {stats}")
    feast = FeastStore.local(data_dir)

    def online() -> dict[str, list[Any]] | None:
        got = feast.online_features(
            "te-line", ["te-process"], ["xmeas_01__mean", "xmeas_01__count"]
        )
        return got if got["xmeas_01__count"][0] else None

    got = _poll("online features of te-line", online)
    print(
        f"   online features (Feast) for te-process: xmeas_01 mean "
        f"{got['xmeas_01__mean'][0]:.4f} over {got['xmeas_01__count'][0]} readings"
    )


def _wait_models(custom: Any, ns: str, data_dir: Path) -> None:
    step(
        "training the QualityModels on te-line's own data with kfp.local "
        "(pipeline quality-training)"
    )

    def settled(name: str) -> dict[str, Any] | None:
        obj = _obj(custom, ns, "qualitymodels", name)
        trained = _condition(obj, "Trained")
        return obj if trained.get("reason") in ("TrainingSucceeded", "TrainingFailed") else None

    for name in (ANOMALY_MODEL, FAULTS_MODEL):
        obj: dict[str, Any] = _poll(
            f"{name} to finish training", functools.partial(settled, name), timeout=900
        )
        status = obj["status"]
        training = status.get("training", {})
        print(
            f"   {name}: run {training.get('runId')} {training.get('state')}; "
            f"metrics {training.get('metrics')}"
        )
        if training.get("state") == "Failed":
            print(f"   {training.get('message')}")
        champion = status.get("champion") or {}
        blocked = _condition(obj, "PromotionBlocked")
        if champion:
            print(f"   champion {champion.get('version')} (score {champion.get('score')})")
            _print_card(data_dir, str(champion.get("version")))
        if blocked:
            print(
                f"   PromotionBlocked={blocked['status']} ({blocked['reason']}): "
                f"{blocked.get('message')}"
            )
        if not champion:
            # The next steps score and serve the champions: without one they failed minutes
            # later as "timed out waiting for te-line-faults to be served".
            run = training.get("runId")
            worker_log = data_dir / "runs" / str(run) / "worker.log"
            why = training.get("message") or (blocked.get("message") if blocked else "")
            raise CliError(
                f"{name} has no champion after its training run {run} "
                f"({training.get('state')}): {why}; the run's log is {worker_log}"
            )


def _print_card(data_dir: Path, tag: str) -> None:
    """What the model was trained on, from its model card in the BentoML store."""
    name, _, version = tag.partition(":")
    path = data_dir / "bentoml" / "models" / name / version / "model.yaml"
    if not path.is_file():
        return
    card = (yaml.safe_load(path.read_text()).get("metadata") or {}).get("training_set") or {}
    if card.get("timeRange"):
        span = card["timeRange"]
        print(
            f"   trained on line {card.get('line')}: {card.get('rowsUsed', card.get('rows'))} "
            f"rows from {str(span.get('first'))[:19]} to {str(span.get('last'))[:19]} "
            f"(window {card.get('window', {}).get('start', '')[:10]} to "
            f"{card.get('window', {}).get('end', '')[:10]}), "
            f"{len(card.get('features') or [])} features of {card.get('featureService')}, "
            f"labels from {card.get('label')} ({card.get('classCounts') or ''})"
        )


# TE test runs (of the demo's reduced fault set) joined end to end: each fault is followed by
# the next run's 160 normal rows, i.e. it gets repaired, and then the next fault comes.
STREAM_RUNS = (0, 1, 6, 2, 7, 4)


def _score_stream(custom: Any, ns: str, data_dir: Path, out: Path) -> None:
    """Score a stream with repairs through the classifier champion, as `lineops model score`
    does (the rule serving shares): reported label, raw class, normal again after a repair."""
    import json

    import numpy as np

    # lineops_pipelines is not part of the type-checked package; import it by name.
    from lineops.services.replay import TE_COLUMNS

    streams = importlib.import_module("lineops_pipelines.streams")
    te_data = importlib.import_module("lineops_pipelines.te_data")
    champion = (_obj(custom, ns, "qualitymodels", FAULTS_MODEL).get("status") or {}).get(
        "champion"
    ) or {}
    tag = champion.get("version")
    if not tag:
        return
    csv = out / "stream.csv"
    step(
        f"BENTOML_HOME={data_dir / 'bentoml'} lineops model score --model {tag} --csv {csv} "
        f"--json (TE runs {STREAM_RUNS} joined, with repairs)"
    )
    tests = {f: te_data.load_matrix(f, test=True) for f in STREAM_RUNS}
    stream = streams.te_runs_stream(tests, STREAM_RUNS, te_data.TEST_FAULT_ONSET)
    # The line's feature names: the newest reading of each sensor (sensor_last_v1).
    header = ",".join(f"{column}__last" for column in TE_COLUMNS)
    np.savetxt(csv, stream.x, delimiter=",", header=header, comments="")
    env = dict(os.environ, BENTOML_HOME=str(data_dir / "bentoml"))
    command = [sys.executable, "-m", "lineops.cli.main", "model", "score"]
    command += ["--model", tag, "--csv", str(csv), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise CliError(f"lineops model score failed: {done.stderr.strip()[-2000:]}")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    labels = np.array([_fault_number(r["label"]) for r in rows])
    raw = np.array([_fault_number(r["raw_label"]) for r in rows])
    metrics = streams.classifier_stream_metrics(stream.truth, labels)
    after = streams.post_repair_rows(stream.truth)
    print(
        f"   {len(rows)} rows, one series: macro-F1 {metrics['macro_f1']:.3f}; after each "
        f"repair (past a {streams.GRACE}-row grace) {np.mean(labels[after] == 0):.1%} of the "
        f"rows are reported normal; delay per fault {metrics['delay']}"
    )
    differ = int(np.sum(labels != raw))
    print(f"   rows whose raw class differs from the reported label (normal-like): {differ}")


def _fault_number(label: str | None) -> int:
    """The TE fault number of a class the line path learnt ("normal" is fault 0)."""
    if label is None:
        return -1
    return 0 if label == "normal" else int(label)


def _metrics_excerpt(url: str) -> None:
    step("a few of the operator's Prometheus series")
    text = _get(url) or ""
    wanted = (
        "lineops_oee_ratio{",
        "lineops_spc_in_control{",
        "lineops_capability_cpk{",
        "lineops_ingest_readings_total{",
        "lineops_reconcile_total{",
    )
    shown: dict[str, int] = {}
    for line in text.splitlines():
        for prefix in wanted:
            if line.startswith(prefix) and shown.get(prefix, 0) < 2:
                shown[prefix] = shown.get(prefix, 0) + 1
                print(f"   {line}")
