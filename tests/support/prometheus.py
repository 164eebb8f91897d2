"""A real Prometheus and a real Alertmanager on free loopback ports (Debian packages
`prometheus` and `prometheus-alertmanager`), a webhook receiver, and Prometheus' HTTP API.

Each server gets a private temp dir (config, storage) removed on exit; Alertmanager runs
without clustering (its gossip port would otherwise listen on every interface).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.controlplane import in_ci
from tests.support.kube import wait_for
from tests.support.operator import free_port

START_TIMEOUT = 60.0
# binary -> Debian package (Makefile SYSTEM_DEPS)
PACKAGES = {"prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}


def binary(name: str) -> str:
    """The server binary; missing fails the test in CI and skips it elsewhere."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not found; install the Debian package {PACKAGES[name]!r}"
        if in_ci():
            pytest.fail(f"{message} (required in CI)")
        pytest.skip(message)
    return path


def _ready(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def _serve(name: str, args: list[str], base: Path, port: int) -> Iterator[str]:
    log = base / f"{name}.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen([binary(name), *args], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _ready(url, process, log), START_TIMEOUT, interval=0.05, what=f"{name}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def running_prometheus(config: dict[str, Any], rule_files: dict[str, Any]) -> Iterator[str]:
    """Prometheus with ``config`` (``rule_files`` added: file name -> rule file content);
    yields its base URL."""
    base = Path(tempfile.mkdtemp(prefix="lineops-prom-"))
    try:
        for name, content in rule_files.items():
            (base / name).write_text(yaml.safe_dump(content, sort_keys=False))
        config = {**config, "rule_files": [str(base / name) for name in rule_files]}
        (base / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        args = [
            f"--config.file={base / 'prometheus.yml'}",
            f"--storage.tsdb.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        with _serve("prometheus", args, base, port) as url:
            yield url
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def running_alertmanager(config: dict[str, Any]) -> Iterator[str]:
    base = Path(tempfile.mkdtemp(prefix="lineops-am-"))
    try:
        (base / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        port = free_port()
        args = [
            f"--config.file={base / 'alertmanager.yml'}",
            f"--storage.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip: a single test instance
        ]
        with _serve("prometheus-alertmanager", args, base, port) as url:
            yield url
    finally:
        shutil.rmtree(base, ignore_errors=True)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    """Instant query through the HTTP API: the result vector."""
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def api(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())["data"]


@dataclass
class WebhookReceiver:
    """Alertmanager's webhook notifications, as received (JSON bodies, in order)."""

    url: str
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def alerts(self) -> list[dict[str, Any]]:
        return [alert for n in list(self.notifications) for alert in n["alerts"]]


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A tiny HTTP server on loopback that records every POSTed JSON body."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server calls do_<METHOD>
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:  # keep pytest's output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}/alerts", received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
