"""Operator scale regression (issue 24), the reduced form of benchmarks/operator_scale.py: a
real `lineops operator run` process (embedded profile, training off) against the real
control plane reconciles 100 ProductionLines and 100 QualityModels applied at once.

The limits are generous on purpose (the test machine is shared; the benchmark holds the
real targets and the comparison with a no-op operator): every object reconciled within
180 s, the process under 500 MB, a resync that writes no Feast registry, and SIGTERM to
exit within 10 s (the Pod's grace period)."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity
from tests.support.operator_process import OperatorProcess, operator_process
from tests.support.scale import PLURALS, create_all, settled

pytestmark = pytest.mark.integration

N = 100


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1]) / 1024


def _settled_count(api: client.ApiClient, namespace: str) -> int:
    custom = client.CustomObjectsApi(api)
    count = 0
    for plural in PLURALS.values():
        items = custom.list_namespaced_custom_object("lineops.io", "v1alpha1", namespace, plural)
        count += sum(1 for obj in items["items"] if settled(obj) is not None)
    return count


def _line_reconciles(running: OperatorProcess) -> float:
    """The operator's own count of ProductionLine reconciles (every result)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in running.metrics().splitlines()
        if line.startswith("lineops_reconcile_total{") and 'kind="ProductionLine"' in line
    )


def test_a_hundred_lines_and_models_reconcile_and_the_operator_stops_in_time(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    with operator_process(
        operator_identity,
        namespace,
        tmp_path,
        # One resync inside the test: it must find nothing to rewrite in Feast.
        LINEOPS_RESYNC_SECONDS="20",
        # Monitoring passes count as line reconciles too: out of the way here.
        LINEOPS_MONITOR_SECONDS="3600",
    ) as running:
        create_all(api_client, namespace, N)
        wait_for(
            lambda: _settled_count(api_client, namespace) == 2 * N,
            timeout=180,
            interval=2,
            what=f"{N} lines Ready and {N} models reconciled",
        )
        assert running.popen.poll() is None
        rss = _rss_mb(running.pid)
        assert rss < 500, f"operator RSS {rss:.0f} MB with {N} lines"
        # Every line's resync timer fires (20 s after its creation): a line whose plan is
        # unchanged writes no Feast registry (it used to re-read and rewrite it per line).
        registry = running.data_dir / "feast" / "registry.db"
        written = registry.stat().st_mtime
        before = _line_reconciles(running)
        wait_for(
            lambda: _line_reconciles(running) >= before + N,
            timeout=90,
            interval=1,
            what="a resync of every line",
        )
        assert registry.stat().st_mtime == written, "a resync rewrote the Feast registry"
        assert "Traceback" not in running.log()
        took = running.terminate(timeout=30)
        assert took < 10, f"SIGTERM to exit took {took:.1f}s"


def test_an_operator_started_over_more_objects_than_its_worker_limit_reconciles_them(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    """An operator (re)started where more lines and models exist than LINEOPS_WORKER_LIMIT
    reconciles them all. With kopf's own worker limit it hung for good: the workers that
    index the listed objects wait for every object to be indexed, and the objects beyond the
    limit never get a worker (kopf issue #1243)."""
    n = 12
    create_all(api_client, namespace, n)
    with operator_process(
        operator_identity,
        namespace,
        tmp_path,
        LINEOPS_WORKER_LIMIT="3",
        LINEOPS_MONITOR_SECONDS="3600",
    ) as running:
        wait_for(
            lambda: _settled_count(api_client, namespace) == 2 * n,
            timeout=120,
            interval=1,
            what=f"{n} lines Ready and {n} models reconciled by an operator with 3 workers",
        )
        assert "Traceback" not in running.log()
