"""The embedded rollout end to end, on the real kube-apiserver with real kfp.local training
runs and real ``bentoml serve`` processes: a model trained from its line's own data is served
automatically on a stable loopback endpoint; a new champion replaces it while a client sends
requests continuously, without one failed request; deleting the model stops its processes.
Every wait polls with a deadline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import yaml
from kubernetes import client

from tests.integration.test_training_line import _line, _line_ready, _model, history, send
from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 300.0
SERVE_TIMEOUT = 180.0


def serving_processes(data_dir: Path) -> dict[int, int]:
    """Live processes working in the operator's serving folder (bentoml serve and its
    workers), pid -> process group."""
    root = str((data_dir / "serving").resolve())
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:  # gone meanwhile
            continue
        if cwd.startswith(root) and fields[0] not in ("Z", "X"):
            found[int(entry)] = int(fields[2])
    return found


def features_of(data_dir: Path, tag: str) -> list[str]:
    name, version = tag.split(":")
    card = data_dir / "bentoml" / "models" / name / version / "model.yaml"
    return list(yaml.safe_load(card.read_text())["metadata"]["features"])


class Client(threading.Thread):
    """Sends predict_batch to the endpoint one request after another until stopped, over one
    keep-alive connection, recording every answer's model tag or failure."""

    def __init__(self, url: str, body: dict[str, Any]) -> None:
        super().__init__(name="serving-client", daemon=True)
        self.url, self.body = url, body
        self.stop = threading.Event()
        self.tags: list[str] = []
        self.failures: list[str] = []

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.is_set():
                try:
                    answer = session.post(self.url, json=self.body, timeout=30)
                except requests.RequestException as exc:
                    self.failures.append(repr(exc))
                    continue
                if answer.status_code != 200:
                    self.failures.append(f"{answer.status_code}: {answer.text[:300]}")
                else:
                    self.tags.append(answer.json()["model_tag"])


def _wait(api: client.ApiClient, ns: str, name: str, check: Any, what: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = res.get(api, ns, "QualityModel", name)
        return obj if obj is not None and check(obj) else None

    return wait_for(probe, timeout=RUN_TIMEOUT, interval=0.5, what=what)


def _served(tag: str | None = None) -> Any:
    def check(obj: dict[str, Any]) -> bool:
        status = obj.get("status") or {}
        champion = (status.get("champion") or {}).get("version")
        serving = status.get("serving") or {}
        return bool(
            champion
            and (tag is None or champion != tag)
            and serving.get("champion") == champion
            and serving.get("state") == "Serving"
            and res.has_condition(obj, "Serving", "True", "Deployed")
        )

    return check


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"LINEOPS_DATA_DIR": str(tmp_path), "LINEOPS_TRAINING_RETRY_SECONDS": "600"}


def test_a_new_champion_replaces_the_served_one_without_a_failed_request(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
    control_plane: Any,
) -> None:
    kubeconfig = str(control_plane.kubeconfig)
    data_dir = Path(env["LINEOPS_DATA_DIR"])
    sensors = ["temp", "pressure"]
    res.create(api_client, namespace, _line("cell-line", sensors))
    start = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(hours=12)).floor("min")
    readings, events = history(start, 1800, sensors)
    with run_operator(operator_identity, namespace, extra_env=env) as operator:
        _line_ready(api_client, namespace, "cell-line")
        send(operator.data_url, namespace, "cell-line", readings, events)
        res.create(api_client, namespace, _model("cells", "cell-line"))

        # 1. The promoted model is served on its own, on a stable loopback endpoint.
        first = _wait(api_client, namespace, "cells", _served(), "the champion to be served")
        tag = first["status"]["champion"]["version"]
        endpoint = first["status"]["serving"]["endpoint"]
        assert endpoint.startswith("http://127.0.0.1:") and first["status"]["endpoint"] == endpoint
        features = features_of(data_dir, tag)
        body = {"columns": features, "rows": [[0.0] * len(features)] * 3}
        answer = requests.post(f"{endpoint}/predict_batch", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["model_tag"] == tag and answer.json()["rows"] == 3
        assert len(serving_processes(data_dir)) >= 1
        _predict_from_the_cli(operator.data_url, namespace, tag, kubeconfig)

        # 2. A new run (same data, a wider window: a tie, which promotes the newer model)
        # replaces the champion while a client keeps asking.
        talker = Client(f"{endpoint}/predict_batch", body)
        talker.start()
        try:
            wait_for(lambda: len(talker.tags) >= 5, timeout=30, what="answers before the switch")
            res.patch(
                api_client,
                namespace,
                "QualityModel",
                "cells",
                {"spec": {"training": {"window": "3d"}}},
            )
            second = _wait(
                api_client, namespace, "cells", _served(tag), "the new champion to be served"
            )
            new_tag = second["status"]["champion"]["version"]
            seen = len(talker.tags)
            wait_for(
                lambda: talker.tags[seen:].count(new_tag) >= 20,
                timeout=60,
                what="answers from the new champion",
            )
        finally:
            talker.stop.set()
            talker.join(60)
        assert talker.failures == [], talker.failures[:5]
        switch = talker.tags.index(new_tag)
        # Answers switch once, for good: the old tag before, the new one after.
        assert set(talker.tags[:switch]) == {tag} and set(talker.tags[switch:]) == {new_tag}
        assert second["status"]["serving"]["endpoint"] == endpoint  # stable across champions

        # The replaced process is stopped once drained: one process group left.
        wait_for(
            lambda: len(set(serving_processes(data_dir).values())) == 1,
            timeout=60,
            interval=0.2,
            what="the old champion's process to stop",
        )

        # 3. Deleting the model stops its process; nothing is left.
        res.delete(api_client, namespace, "QualityModel", "cells")
        wait_for(
            lambda: res.get(api_client, namespace, "QualityModel", "cells") is None,
            timeout=60,
            interval=0.2,
            what="the model to be deleted",
        )
        assert serving_processes(data_dir) == {}
        with pytest.raises(requests.ConnectionError):
            requests.post(f"{endpoint}/predict_batch", json=body, timeout=5)


def _lineops(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "lineops.cli.main", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _predict_from_the_cli(data_url: str, ns: str, tag: str, kubeconfig: str) -> None:
    """`lineops predict` finds the endpoint in the model's status: the 12-hour-old history is
    refused as stale (409, said by the CLI); fresh readings of a lot are judged, and the
    prediction is logged with the lot in the data plane."""
    ask = ["predict", "--line", f"{ns}/cell-line", "--model", "cells", "--work-unit", "cell-01"]
    ask += ["--kubeconfig", kubeconfig]
    stale = _lineops(*ask)
    assert stale.returncode == 2, stale.stdout
    assert "refused (409)" in stale.stderr and "stale" in stale.stderr, stale.stderr

    now = pd.Timestamp.now(tz="UTC").floor("s")
    times = [now - pd.Timedelta(seconds=10 * k) for k in range(5, -1, -1)]
    fresh = pd.DataFrame(
        [
            {"work_unit": "cell-01", "sensor": s, "timestamp": t, "value": 0.1, "lot": "L-7"}
            for t in times
            for s in ("temp", "pressure")
        ]
    )
    send(data_url, ns, "cell-line", fresh, [])

    def judged() -> subprocess.CompletedProcess[str] | None:
        # The readings reach the online store when the data plane materialises them, which
        # may be just after `send` returns: until then the answer is the stale refusal.
        done = _lineops(*ask, "--lot", "L-7", "--json")
        return done if done.returncode == 0 or "stale" not in done.stderr else None

    answered = wait_for(judged, timeout=30, interval=0.5, what="an answer from fresh features")
    assert answered.returncode == 0, answered.stderr
    prediction = json.loads(answered.stdout)
    assert (prediction["model_tag"], prediction["lot"]) == (tag, "L-7")
    assert pd.Timestamp(prediction["feature_timestamp"]) == now
    human = _lineops(*ask, "--lot", "L-7")
    assert human.returncode == 0 and f"tag {tag}" in human.stdout, human.stderr

    def logged() -> list[dict[str, Any]]:
        url = f"{data_url}/v1/namespaces/{ns}/lines/cell-line/predictions"
        records: list[dict[str, Any]] = requests.get(url, params={"lot": "L-7"}, timeout=30).json()[
            "records"
        ]
        return records

    records = wait_for(logged, timeout=30, interval=0.2, what="the prediction of lot L-7 logged")
    assert records[0]["modelTag"] == tag and records[0]["workUnit"] == "cell-01"

    wrong_line = _lineops(*ask[:2], f"{ns}/other-line", *ask[3:])
    assert wrong_line.returncode == 2 and "belongs to line 'cell-line'" in wrong_line.stderr
