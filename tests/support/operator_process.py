"""The real operator as its own OS process (`lineops operator run`), for tests that signal it,
read its log, or look at the processes it leaves behind. It runs in its own session, so
everything it starts (unless it starts a session of its own) shares its process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, _healthy, free_port
from tests.support.processes import session_members

# A small line (one work unit, two sensors, one characteristic): what issue 24 scaled.
SMALL_LINE_SPEC: dict[str, Any] = {
    "site": "plant-a",
    "area": "stamping",
    "workUnits": [
        {
            "name": "press-01",
            "idealCycleTime": "1.2s",
            "sensors": [
                {"name": "vibration_rms", "unit": "mm/s", "validRange": ["0", "50"]},
                {"name": "ram_force", "unit": "kN", "validRange": ["0", "2500"]},
            ],
        }
    ],
    "qualityCharacteristics": [
        {
            "name": "ring_diameter",
            "unit": "mm",
            "target": "74.000",
            "lsl": "73.950",
            "usl": "74.050",
            "subgroupSize": 5,
            "chart": "xbar-r",
            "rules": ["nelson-1"],
        }
    ],
    "monitoring": {"oee": True, "spc": True, "prometheusRule": False},
}


def small_line(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "ProductionLine",
        "metadata": {"name": name},
        "spec": SMALL_LINE_SPEC,
    }


@dataclass
class OperatorProcess:
    popen: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    metrics_url: str
    data_url: str  # the in-process data plane (readings, MES records)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=5) as resp:
            return str(resp.read().decode())

    def terminate(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 60) -> float:
        """Send ``sig``; wait for the exit; returns the seconds it took."""
        started = time.monotonic()
        self.popen.send_signal(sig)
        self.popen.wait(timeout=timeout)
        return time.monotonic() - started


# How the operator is started: the CLI module; benchmarks/operator_memory.py passes its own
# wrapper (the same CLI under tracemalloc).
CLI: Final = (sys.executable, "-m", "lineops.cli.main")


@contextmanager
def operator_process(
    identity: OperatorIdentity,
    namespace: str,
    tmp_path: Path,
    launcher: Sequence[str] = CLI,
    healthy_within: float = 90,
    **env: str,
) -> Iterator[OperatorProcess]:
    """`lineops operator run` (embedded profile, training off unless ``env`` says otherwise)
    watching ``namespace``; killed (with its session) if the test leaves it running."""
    metrics, data = free_port(), free_port()
    data_dir = tmp_path / "data"
    full_env = dict(
        os.environ,
        KUBECONFIG=identity.kubeconfig,
        LINEOPS_PROFILE="embedded",
        LINEOPS_TRAINING="off",
        **env,
    )
    command = [*launcher, "operator", "run"]
    command += ["--namespace", namespace, "--metrics-port", str(metrics)]
    command += ["--ingest-port", str(data), "--data-dir", str(data_dir)]
    log_path = tmp_path / "operator.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full_env,
            start_new_session=True,
        )
    running = OperatorProcess(
        popen,
        log_path,
        data_dir,
        f"http://127.0.0.1:{metrics}/metrics",
        f"http://127.0.0.1:{data}",
    )
    try:
        wait_for(
            lambda: popen.poll() is not None or _healthy(f"http://127.0.0.1:{metrics}/healthz"),
            timeout=healthy_within,
            interval=0.2,
            what="the operator's /healthz",
        )
        assert popen.poll() is None, running.log()[-3000:]
        yield running
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=30)
        for pid in session_members(popen.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
