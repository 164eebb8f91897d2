"""`lineops dataplane serve` configured as the cluster profile's Deployment configures it:
through the environment alone (services/data_plane_workload.py), not flags. A real process on
loopback: LINEOPS_API_TOKEN_FILE (the mounted Secret) guards the line routes, and with
LINEOPS_LOG_FORMAT=json every line it writes to stderr is one JSON object."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
import yaml

EXAMPLE = Path(__file__).parents[3] / "examples" / "productionline.yaml"


def test_serve_takes_its_token_file_and_log_format_from_the_environment(tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["metadata"]["namespace"] = "plant-a"
    line_file = tmp_path / "line.yaml"
    line_file.write_text(yaml.safe_dump(doc))
    token = tmp_path / "token"
    token.write_text("from-the-secret\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEOPS_")}
    env.update(LINEOPS_API_TOKEN_FILE=str(token), LINEOPS_LOG_FORMAT="json")
    command = [sys.executable, "-m", "lineops.cli.main", "dataplane", "serve", "--no-feast"]
    command += ["--line-file", str(line_file), "--data", str(tmp_path / "data"), "--port", "0"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until the server printed its address
        assert first, proc.communicate(timeout=30)
        url = json.loads(first)["url"] + "/v1/namespaces/plant-a/lines/press-line-1/records"
        body = {"records": []}
        assert requests.post(url, json=body, timeout=30).status_code == 401
        auth = {"Authorization": "Bearer from-the-secret"}
        assert requests.post(url, json=body, headers=auth, timeout=30).status_code != 401
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records), stderr
    messages = [r["message"] for r in records]
    assert any("serving plant-a/press-line-1" in m and "token required" in m for m in messages)
    assert messages[-1] == "data plane stopped"
