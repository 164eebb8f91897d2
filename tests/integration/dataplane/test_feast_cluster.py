"""The cluster profile's Feast stores for real: `lineops dataplane serve` with
LINEOPS_FEAST_REDIS (a real redis-server) and LINEOPS_FEAST_REGISTRY_URL (a database on the
real PostgreSQL), readings in over HTTP, window features out of Redis, read back by another
process's FeastStore that shares nothing with the server but the two stores (as a second
data-plane Pod or a training job would). Also in the image's view of the venv
(tests/support/image_env.py): the data plane as the image runs it, without torch.

Loopback only; every wait polls with a deadline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from lineops.backends.feast_store import FeastStore, window_view_name
from sqlalchemy import create_engine, text

from tests.support.image_env import image_env
from tests.support.kube import wait_for
from tests.support.postgres import PostgresServer
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
NAMESPACE, LINE = "plant-a", "press-line-1"


@pytest.fixture
def feast_env(
    redis_server: RedisServer, postgres_server: PostgresServer
) -> Iterator[dict[str, str]]:
    """The two variables of the cluster stores: the session's Redis (emptied: Feast keys are
    per project and entity, so tests would see each other's values) and a fresh registry
    database."""
    redis_server.client().flushall()  # type: ignore[attr-defined]
    registry = postgres_server.create_database("feast")
    try:
        yield {
            "LINEOPS_FEAST_REDIS": redis_server.connection_string,
            "LINEOPS_FEAST_REGISTRY_URL": postgres_server.url(registry),
        }
    finally:
        postgres_server.drop_database(registry)


def _line_file(tmp_path: Path) -> Path:
    manifest = yaml.safe_load((ROOT / "examples" / "productionline.yaml").read_text())
    manifest["metadata"]["namespace"] = NAMESPACE
    # Materialise window aggregates every 100 ms rather than every minute.
    manifest["spec"]["features"] = {"window": "5m", "materializeEvery": "100ms"}
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


def _serve(
    tmp_path: Path, env: dict[str, str], db_url: str, image: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lineops.cli.main",
            "dataplane",
            "serve",
            "--line-file",
            str(_line_file(tmp_path)),
            "--data",
            str(tmp_path / "data"),
            "--db",
            db_url,
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        # A file, not a pipe: nobody reads stderr while the server runs, and a full pipe
        # would block its logging.
        stderr=(tmp_path / "serve.log").open("w"),
        text=True,
        env={**(image_env() if image else os.environ), "LINEOPS_PROFILE": "cluster", **env},
    )


def _log(tmp_path: Path) -> str:
    return (tmp_path / "serve.log").read_text(errors="replace")[-3000:]


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


@pytest.mark.parametrize("view", ["venv", "image"])
def test_readings_in_features_out_through_redis_and_the_sql_registry(
    view: str,
    tmp_path: Path,
    feast_env: dict[str, str],
    postgres_server: PostgresServer,
    redis_server: RedisServer,
) -> None:
    records_db = postgres_server.create_database("records")
    process = _serve(tmp_path, feast_env, postgres_server.url(records_db), view == "image")
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # blocks until the server printed its URL
        assert first, f"dataplane serve exited: {_log(tmp_path)}"
        url = json.loads(first)["url"]
        now = pd.Timestamp.now(tz="UTC")
        readings = [
            {
                "work_unit": "press-01",
                "sensor": "vibration_rms",
                "timestamp": (now - pd.Timedelta(seconds=i)).isoformat(),
                "value": float(i % 7),
            }
            for i in range(60)
        ]
        answer = _post(
            f"{url}/v1/namespaces/{NAMESPACE}/lines/{LINE}/readings", {"readings": readings}
        )
        assert answer["accepted"] == 60, answer

        # Another process's view of the same stores: nothing local is shared with the server.
        reader = FeastStore.cluster(
            tmp_path / "reader",
            feast_env["LINEOPS_FEAST_REDIS"],
            feast_env["LINEOPS_FEAST_REGISTRY_URL"],
        )

        def online(feature: str) -> Any:
            return reader.online_features(LINE, ["press-01"], [feature])[feature][0]

        wait_for(
            lambda: online("vibration_rms__count") == 60,
            timeout=60,
            interval=0.1,
            what="press-01's window features in Redis",
        )
        assert online("vibration_rms__mean") == pytest.approx(sum(i % 7 for i in range(60)) / 60)
        assert online("vibration_rms__max") == 6.0
        # A late reading changes the window but not its end (the newest reading): Redis
        # skipped a write not newer than the stored one, and the window stayed at 60.
        late = {
            "work_unit": "press-01",
            "sensor": "vibration_rms",
            "timestamp": (now - pd.Timedelta(seconds=30.5)).isoformat(),
            "value": 50.0,
        }
        answer = _post(
            f"{url}/v1/namespaces/{NAMESPACE}/lines/{LINE}/readings", {"readings": [late]}
        )
        assert answer["accepted"] == 1, answer
        wait_for(
            lambda: online("vibration_rms__count") == 61,
            timeout=60,
            interval=0.1,
            what="the late reading in Redis's window",
        )
        assert online("vibration_rms__max") == 50.0
        # The line's objects live in the registry database, its values in Redis ...
        engine = create_engine(feast_env["LINEOPS_FEAST_REGISTRY_URL"])
        try:
            with engine.connect() as conn:
                views = conn.execute(text("SELECT feature_view_name FROM feature_views")).scalars()
                assert window_view_name(LINE) in set(views)
        finally:
            engine.dispose()
        assert redis_server.client().dbsize() > 0  # type: ignore[attr-defined]
        # ... and neither in the embedded profile's files under --data.
        feast_dir = tmp_path / "data" / "feast"
        assert not (feast_dir / "registry.db").exists()
        assert not (feast_dir / "online_store.db").exists()
    finally:
        process.terminate()
        process.wait(60)
        postgres_server.drop_database(records_db)


def test_one_store_without_the_other_is_refused_naming_the_variable(
    tmp_path: Path, feast_env: dict[str, str]
) -> None:
    process = _serve(
        tmp_path,
        {"LINEOPS_FEAST_REDIS": feast_env["LINEOPS_FEAST_REDIS"]},
        "sqlite:///" + str(tmp_path / "lineops.db"),
    )
    process.wait(120)
    assert process.returncode != 0
    stderr = _log(tmp_path)
    assert "LINEOPS_FEAST_REGISTRY_URL: must be set when LINEOPS_FEAST_REDIS is" in stderr, stderr
