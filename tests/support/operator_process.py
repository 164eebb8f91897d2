"""The real operator as its own OS process (`lineops operator run`), for tests that signal it,
read its log, or look at the processes it leaves behind. It runs in its own session, so
everything it starts (unless it starts a session of its own) shares its process group."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
