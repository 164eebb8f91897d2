"""The operator's footprint (issue 24): a real `lineops operator run` process, embedded
profile. Started, it maps no torch, scipy or matplotlib: heavy libraries load in the
processes that use them (training workers, reports) or on first use. Reconciling a line
through its in-process data plane and Feast still maps no torch (Feast would import it
eagerly; lineops.backends.feast_torch makes that lazy)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, _healthy, free_port

pytestmark = pytest.mark.integration

HEAVY = ("torch", "scipy", "matplotlib")


def _mapped(pid: int) -> set[str]:
    """Heavy packages whose files (shared libraries) the process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in HEAVY if f"/site-packages/{name}/" in maps}


def test_the_operator_starts_and_reconciles_without_heavy_libraries(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    metrics, data = free_port(), free_port()
    env = dict(
        os.environ,
        KUBECONFIG=operator_identity.kubeconfig,
        LINEOPS_PROFILE="embedded",
        LINEOPS_TRAINING="off",
    )
    command = [sys.executable, "-m", "lineops.cli.main", "operator", "run"]
    command += ["--namespace", namespace, "--metrics-port", str(metrics)]
    command += ["--ingest-port", str(data), "--data-dir", str(tmp_path / "data")]
    log = (tmp_path / "operator.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(
            lambda: _healthy(f"http://127.0.0.1:{metrics}/healthz"),
            timeout=60,
            interval=0.2,
            what="the operator's /healthz",
        )
        assert _mapped(proc.pid) == set()
        res.create(api_client, namespace, res.example("productionline.yaml"))

        def ready() -> bool:
            line = res.get(api_client, namespace, "ProductionLine", "press-line-1")
            return line is not None and res.has_condition(line, "Ready", "True")

        wait_for(ready, timeout=120, interval=0.5, what="press-line-1 Ready (Feast applied)")
        assert proc.poll() is None
        # Feast's apply reaches dask.array, which imports scipy.sparse: on first use, as asked.
        assert "torch" not in _mapped(proc.pid), (tmp_path / "operator.log").read_text()[-3000:]
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss_kb = int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
        # Was 921 MB with torch mapped; the bound leaves room, the mapping check is the test.
        assert rss_kb < 600_000, f"operator RSS {rss_kb / 1024:.0f} MB"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
