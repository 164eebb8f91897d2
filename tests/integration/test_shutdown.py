"""Graceful stop (issue 24, item 3): a real `lineops operator run` process with many lines on
the real control plane (embedded profile, training off) stops on SIGTERM within the Pod's
grace period: its timers exit (none is left orphaned), its servers and stores close, its
data-plane and Feast databases are consistent afterwards, and it leaves no process behind."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity
from tests.support.operator_process import operator_process, small_line
from tests.support.processes import session_members

pytestmark = pytest.mark.integration

LINES = 60
GRACE_SECONDS = 10.0  # the chart's terminationGracePeriodSeconds; kubelet SIGKILLs after it


def _integrity(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _registry_views(path: Path) -> list[str]:
    """Feature views in Feast's registry file, parsed in a child process: importing Feast
    sets PROMETHEUS_MULTIPROC_DIR, which this test process must not pass to later tests."""
    script = (
        "import json, sys\n"
        "from feast.protos.feast.core.Registry_pb2 import Registry\n"
        "r = Registry()\n"
        "r.ParseFromString(open(sys.argv[1], 'rb').read())\n"
        "print(json.dumps([v.spec.name for v in r.feature_views]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_sigterm_with_many_lines_stops_within_the_grace_period(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    # Short timers, so that at SIGTERM many are in the middle of a run (the case that left
    # 496 timers orphaned at 300 lines).
    env = {"LINEOPS_MONITOR_SECONDS": "1", "LINEOPS_RESYNC_SECONDS": "2"}
    with operator_process(operator_identity, namespace, tmp_path, **env) as op:
        names = [f"line-{i:03d}" for i in range(LINES)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: res.create(api_client, namespace, small_line(n)), names))

        def not_ready() -> list[str]:
            items = client.CustomObjectsApi(api_client).list_namespaced_custom_object(
                res.GROUP, res.VERSION, namespace, "productionlines"
            )["items"]
            ready = {i["metadata"]["name"] for i in items if res.has_condition(i, "Ready", "True")}
            return sorted(set(names) - ready)

        wait_for(lambda: not not_ready(), timeout=600, interval=1, what=f"{LINES} lines Ready")
        assert op.popen.poll() is None
        # The start-up handler ran what `lineops operator run` asked of it once done
        # (kopf's memo: after_startup, lineops/cli/heap.py), once.
        assert op.log().count("start-up heap frozen:") == 1, op.log()[-4000:]

        took = op.terminate(signal.SIGTERM, timeout=120)
        print(f"SIGTERM to exit with {LINES} lines: {took:.2f} s")  # the figure (pytest -s)
        log = op.log()
        assert took < GRACE_SECONDS, f"SIGTERM to exit took {took:.1f} s\n{log[-4000:]}"
        assert op.popen.returncode == 0, log[-4000:]
        assert "did not exit in time" not in log, log[-4000:]
        assert "Unprocessed streams" not in log, log[-4000:]
        assert "Traceback" not in log, log[-4000:]
        assert "operator stopped" in log, log[-4000:]
        # Nothing the operator started outlives it (bentoml serve, training workers, Feast).
        assert session_members(op.pid) == []

        # Stores closed cleanly: both SQLite databases pass integrity_check, and Feast's
        # registry (rewritten whole on every apply) still parses and holds every line.
        assert _integrity(op.data_dir / "lineops.db") == "ok"
        assert _integrity(op.data_dir / "feast" / "online_store.db") == "ok"
        views = set(_registry_views(op.data_dir / "feast" / "registry.db"))
        missing = [n for n in names if f"{n.replace('-', '_')}__sensor_window" not in views]
        assert not missing, missing
