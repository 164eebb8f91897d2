"""A real Prometheus (Debian package `prometheus`) on a loopback port, scraping given targets.

Written for the dashboard test while no shared Prometheus fixture existed in tests/support;
small on purpose (one job, honor_labels as the chart's ServiceMonitor sets it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.controlplane import in_ci
from tests.support.kube import wait_for
from tests.support.operator import free_port


@dataclass(frozen=True)
class Prometheus:
    url: str

    def query(self, promql: str) -> dict[str, Any]:
        """The /api/v1/query answer, also for a 400 (a query Prometheus cannot parse)."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                body: dict[str, Any] = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read())
        return body

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False


@contextmanager
def running_prometheus(
    tmp_path: Path, targets: list[str], metrics_path: str = "/metrics"
) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        if in_ci():
            pytest.fail("prometheus is required in CI (make system-deps installs it)")
        pytest.skip("prometheus not installed")
    port = free_port()
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                # 1 s: rate() over the dashboards' 1m windows has samples within seconds.
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "lineops",
                        "honor_labels": True,
                        "metrics_path": metrics_path,
                        "static_configs": [{"targets": targets}],
                    }
                ],
            }
        )
    )
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    server = Prometheus(f"http://127.0.0.1:{port}")
    try:
        wait_for(server.ready, 30, what="prometheus /-/ready")
        yield server
    finally:
        process.terminate()
        process.wait(10)
