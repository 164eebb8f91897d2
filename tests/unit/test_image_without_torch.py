"""The lineops image leaves torch out (requirements/operator.txt): what it runs must work
without it. Each test runs a real subprocess in the image's view of the venv
(tests/support/image_env.py: only the image's distributions are found, torch is as absent
as in the image), so this proves it without building the image (no Docker engine here).
The operator's start-up and a line reconciled in both profiles under the same view are in
tests/integration/test_footprint.py; the cluster data plane with Redis and the SQL registry
in tests/integration/dataplane/test_feast_cluster.py."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from lineops.backends.feast_store import FeastStore

from tests.support.image_env import image_env
from tests.support.kube import wait_for

REPO = Path(__file__).resolve().parents[2]
HANDLERS = REPO / "operator" / "lineops" / "handlers"
NAMESPACE, LINE = "plant-a", "press-line-1"


def _python(code: str, timeout: float = 300) -> Any:
    """Run ``code`` in the image's view; it prints one JSON document, returned."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=image_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_view_hides_torch_as_an_absent_package_and_keeps_the_image_set() -> None:
    """Also Feast's own answer: 0.67 imports torch at import (feast.torch_wrapper); without
    lineops's lazy wrapper (lineops.backends.feast_torch) it catches the ImportError."""
    seen = _python(
        "import importlib.metadata as md, importlib.util, json\n"
        "import feast.infra.offline_stores.offline_store\n"
        "import feast.torch_wrapper as own\n"
        "try:\n    import torch\n    error = None\n"
        "except ModuleNotFoundError as exc:\n    error = str(exc)\n"
        "def version(name):\n"
        "    try:\n        return md.version(name)\n"
        "    except md.PackageNotFoundError:\n        return None\n"
        "print(json.dumps({'error': error, 'spec': repr(importlib.util.find_spec('torch')),\n"
        "    'feast': [own.TORCH_AVAILABLE, type(own._torch_import_error).__name__],\n"
        "    'versions': {n: version(n) for n in ('torch', 'triton', 'nvidia-cublas',\n"
        "    'feast', 'kopf', 'lineops')}}))\n"
    )
    assert seen["error"] == "No module named 'torch'"
    assert seen["spec"] == "None"
    assert seen["versions"]["torch"] is None and seen["versions"]["triton"] is None
    assert seen["versions"]["nvidia-cublas"] is None
    assert all(seen["versions"][name] for name in ("feast", "kopf", "lineops"))
    assert seen["feast"] == [False, "ModuleNotFoundError"]


def test_every_lineops_module_and_every_handler_imports_without_torch() -> None:
    """What `lineops operator run` imports (lineops.handlers.main and every handler module),
    the data plane, the backends (Feast, KFP, BentoML) and the registry module the
    cluster-profile operator reads finished runs with: all of lineops, module by module.
    With lineops's lazy wrapper installed, Feast asks for torch only on use (and then hears
    that it is missing)."""
    found = _python(
        "import importlib, json, pkgutil, sys, lineops\n"
        "import sitecustomize as image\n"
        "names, failed = [], {}\n"
        "for info in pkgutil.walk_packages(lineops.__path__, 'lineops.'):\n"
        "    if info.name == 'lineops.dataplane.db.migrations.env':\n"
        "        continue  # alembic's env script: runs only inside alembic's context\n"
        "    names.append(info.name)\n"
        "    try:\n        importlib.import_module(info.name)\n"
        "    except Exception as exc:\n        failed[info.name] = repr(exc)\n"
        "importlib.import_module('lineops_pipelines.registry')\n"
        "from feast.torch_wrapper import get_torch\n"
        "try:\n    get_torch()\n    torch_error = None\n"
        "except ImportError as exc:\n    torch_error = str(exc)\n"
        "hidden = sorted(m for m in sys.modules if m.partition('.')[0] in image.HIDDEN)\n"
        "print(json.dumps({'names': names, 'failed': failed, 'hidden': hidden,\n"
        "                  'torch_error': torch_error}))\n"
    )
    assert found["failed"] == {}
    assert found["hidden"] == []
    assert found["torch_error"] == "No module named 'torch'"
    handlers = {f"lineops.handlers.{p.stem}" for p in HANDLERS.glob("*.py") if p.stem[0] != "_"}
    assert handlers and handlers <= set(found["names"])
    assert {"lineops.dataplane.app", "lineops.backends.feast_store"} <= set(found["names"])


@pytest.mark.parametrize("command", [["operator", "run"], ["dataplane", "serve"]])
def test_the_image_commands_answer_help_without_torch(command: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lineops.cli.main", *command, "--help"],
        env=image_env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith(f"usage: lineops {' '.join(command)}"), proc.stdout


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_a_data_plane_starts_and_serves_features_without_torch(tmp_path: Path) -> None:
    """`lineops dataplane serve` (Feast with its files under --data) in the image's view:
    it starts, takes readings, and its window features reach Feast's online store."""
    manifest = yaml.safe_load((REPO / "examples" / "productionline.yaml").read_text())
    manifest["metadata"]["namespace"] = NAMESPACE
    manifest["spec"]["features"] = {"window": "5m", "materializeEvery": "100ms"}
    line_file = tmp_path / "line.yaml"
    line_file.write_text(yaml.safe_dump(manifest))
    command = [sys.executable, "-m", "lineops.cli.main", "dataplane", "serve", "--port", "0"]
    command += ["--line-file", str(line_file), "--data", str(tmp_path / "data")]
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, text=True, env=image_env(), cwd=REPO
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # the server prints its URL once it serves
        assert first, f"dataplane serve exited: {log_path.read_text()[-3000:]}"
        url = json.loads(first)["url"]
        now = pd.Timestamp.now(tz="UTC")
        readings = [
            {
                "work_unit": "press-01",
                "sensor": "vibration_rms",
                "timestamp": (now - pd.Timedelta(seconds=i)).isoformat(),
                "value": float(i % 7),
            }
            for i in range(30)
        ]
        answer = _post(
            f"{url}/v1/namespaces/{NAMESPACE}/lines/{LINE}/readings", {"readings": readings}
        )
        assert answer["accepted"] == 30, answer
        reader = FeastStore.local(tmp_path / "data")

        def count() -> Any:
            feature = "vibration_rms__count"
            return reader.online_features(LINE, ["press-01"], [feature])[feature][0]

        wait_for(lambda: count() == 30, timeout=60, interval=0.2, what="window features")
        assert process.poll() is None
        assert "torch" not in log_path.read_text().lower()
    finally:
        process.terminate()
        process.wait(60)
