"""Operator configuration: from `lineops operator run` flags via kopf's memo, else the
environment (how the Helm chart and the tests' KopfRunner configure it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

Profile = Literal["embedded", "cluster"]
PROFILES: tuple[Profile, ...] = ("embedded", "cluster")


@dataclass(frozen=True)
class OperatorConfig:
    profile: Profile = "embedded"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 8080  # 0 = any free port (tests)
    ingest_port: int = 8081  # readings and MES records (embedded profile); 0 = any free port
    kubeconfig: str | None = None
    worker_limit: int = 20
    data_dir: str = ".lineops"  # embedded profile: SQLite stores, Parquet, run folders

    @classmethod
    def from_env(cls) -> OperatorConfig:
        profile = os.environ.get("LINEOPS_PROFILE", "embedded")
        if profile not in PROFILES:
            raise ValueError(f"LINEOPS_PROFILE must be one of {PROFILES}, got {profile!r}")
        return cls(
            profile=profile,  # checked just above
            metrics_host=os.environ.get(
                "LINEOPS_METRICS_HOST", "0.0.0.0" if profile == "cluster" else "127.0.0.1"
            ),
            metrics_port=int(os.environ.get("LINEOPS_METRICS_PORT", "8080")),
            ingest_port=int(os.environ.get("LINEOPS_INGEST_PORT", "8081")),
            kubeconfig=os.environ.get("KUBECONFIG") or None,
            worker_limit=int(os.environ.get("LINEOPS_WORKER_LIMIT", "20")),
            data_dir=os.environ.get("LINEOPS_DATA_DIR", ".lineops"),
        )


# kopf needs timer intervals when handlers are registered (at import), before any memo
# exists, so the resync period is read from the environment once, here.
RESYNC_SECONDS = float(os.environ.get("LINEOPS_RESYNC_SECONDS", "60"))
# How often each line's charts, capability and OEE are re-evaluated from new records.
MONITOR_SECONDS = float(os.environ.get("LINEOPS_MONITOR_SECONDS", "10"))
