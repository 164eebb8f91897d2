"""Fixtures for the serving tests: a small fault classifier registered in a private BentoML
store, a real data plane with a real local Feast store (the embedded profile's layout)
holding online features of the example line, and the quality inspector as a real ``bentoml
serve`` process (one per test module) logging to that data plane."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

import pandas as pd
import pytest
import requests
import yaml
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import FeastStore
from lineops.dataplane.app import DataPlaneApp
from lineops.dataplane.db.database import embedded_url
from lineops.dataplane.lines import LineRef
from prometheus_client import CollectorRegistry

from tests.support.dataplane_server import EXAMPLE_LINE, ServedApp
from tests.support.serving_model import train_fault_classifier

LINE: Final = LineRef("plant-a", "press-line-1")


@pytest.fixture(scope="module")
def model_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(BENTOML_HOME, tag) of the small fault classifier over ``FEATURES``
    (tests/support/serving_model.py): class ``1`` is a high ram force."""
    home = tmp_path_factory.mktemp("bentoml")
    patch = pytest.MonkeyPatch()
    patch.setenv("BENTOML_HOME", str(home))
    patch.setenv("BENTOML_DO_NOT_TRACK", "True")
    tag = train_fault_classifier(home, LINE.namespace, LINE.name)
    yield home, tag
    patch.undo()


def line_spec() -> ProductionLineSpec:
    document = yaml.safe_load(EXAMPLE_LINE.read_text())["spec"]
    document["features"] = {"window": "5m", "materializeEvery": "1h"}  # pushed by the test
    return ProductionLineSpec.model_validate(document)


class Plant:
    """The data plane (served on loopback, with Feast) and a way to put features online."""

    def __init__(self, served: ServedApp, data_dir: Path) -> None:
        self.served = served
        self.data_dir = data_dir

    def send(self, unit: str, values: dict[str, float], when: pd.Timestamp) -> None:
        """Readings of a unit at ``when`` (ten, a second apart), then the window aggregates
        pushed to the online store, as the materialiser does every ``materializeEvery``."""
        rows = [
            f"{unit},{sensor},{(when - pd.Timedelta(seconds=i)).isoformat()},{value}\n"
            for sensor, value in values.items()
            for i in range(10)
        ]
        body = ("work_unit,sensor,timestamp,value\n" + "".join(rows)).encode()
        ingestion = self.served.app.ingestion
        result = ingestion.ingest_bulk(LINE.name, body, "text/csv", backfill=True)
        assert result.accepted == len(rows), result
        assert ingestion.materialize(LINE.name) >= 1


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    data_dir = tmp_path_factory.mktemp("plant")
    app = DataPlaneApp(
        data_dir,
        embedded_url(data_dir),
        CollectorRegistry(),
        feast=FeastStore.local(data_dir),
        compact_every=None,
    )
    app.configure_line(LINE, line_spec())
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dataplane", daemon=True)
    thread.start()
    served = ServedApp(app, loop)
    try:
        served.run(app.start())
        yield Plant(served, data_dir)
    finally:
        try:
            served.run(app.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()


ROOT: Final = Path(__file__).resolve().parents[3]
MAX_BATCH: Final = 500
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.process, self.log = url, process, log

    def post(self, endpoint: str, body: Any) -> requests.Response:
        return requests.post(f"{self.url}/{endpoint}", json=body, timeout=60)


@contextmanager
def serving(env: dict[str, str], log: Path, until: str = "/readyz") -> Iterator[Served]:
    """A real ``bentoml serve`` of the quality inspector with ``env`` added to ours, once
    ``until`` answers 200."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "bentoml"),
        "serve",
        "quality_inspector.service:QualityInspector",
        "--working-dir",
        str(ROOT / "bentos"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    environment = {**os.environ, "BENTOML_DO_NOT_TRACK": "True", **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:

        def up() -> bool:
            assert process.poll() is None, f"bentoml serve exited:\n{log.read_text()[-3000:]}"
            try:
                return requests.get(f"{served.url}{until}", timeout=2).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # still starting
                return False

        wait_for(up, 120, f"{until} of bentoml serve")
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="module")
def inspector(
    plant: Plant, model_store: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    home, tag = model_store
    env = {
        "BENTOML_HOME": str(home),
        "LINEOPS_SERVING_MODEL_TAG": tag,
        "LINEOPS_SERVING_MODEL_NAME": "press-fault",
        "LINEOPS_SERVING_DATA_DIR": str(plant.data_dir),
        "LINEOPS_SERVING_DATAPLANE_URL": plant.served.url,
        "LINEOPS_SERVING_MAX_FEATURE_AGE": "10m",
        "LINEOPS_SERVING_MAX_BATCH_ROWS": str(MAX_BATCH),
    }
    with serving(env, tmp_path_factory.mktemp("serve") / "bentoml.log") as served:
        yield served
