"""LocalServingBackend with real child processes: a small stand-in for ``bentoml serve`` (same
command line, /readyz and an answer naming the tag it serves) so restarts, backoff, failure
reporting and stopping are checked in seconds. The real ``bentoml serve`` is exercised by
tests/integration/test_serving_rollout.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

from lineops.backends.serving.local import LocalServingBackend, LocalServingConfig
from lineops.backends.serving.protocol import ServeRequest, ServingState

FAKE = """#!{python}
import http.server, os, sys
args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
tag = os.environ["LINEOPS_SERVING_MODEL_TAG"]
if tag.startswith("broken:"):
    print("cannot load model " + tag, flush=True)
    sys.exit(3)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self._send(b"ok")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(('{{"model_tag": "%s"}}' % tag).encode())
    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _backend(tmp_path: Path) -> LocalServingBackend:
    fake = tmp_path / "fake-bentoml"
    fake.write_text(FAKE.format(python=sys.executable))
    fake.chmod(0o755)
    config = LocalServingConfig(
        tmp_path / "data",
        "http://127.0.0.1:9",
        bentos_dir=tmp_path,
        start_timeout=20,
        backoff_base=0.2,
        backoff_max=0.4,
        fail_after=2,
        term_grace=2,
        bentoml=str(fake),
    )
    return LocalServingBackend(config)


async def _until(
    check: Callable[[], Awaitable[bool] | bool], what: str, timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _ask(url: str) -> str:
    request = urllib.request.Request(url + "/predict", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as answer:
        return str(json.loads(answer.read())["model_tag"])


def test_a_dead_process_is_restarted_and_a_failing_one_reported(tmp_path: Path) -> None:
    async def scenario() -> None:
        backend = _backend(tmp_path)
        changes: list[str] = []
        backend.subscribe(lambda ns, name: changes.append(f"{ns}/{name}"))
        state = await backend.ensure(ServeRequest("ns", "m", "m:v1"))
        assert state.phase == "Starting" and state.pending == "m:v1"
        endpoint = state.endpoint
        assert endpoint is not None

        def current() -> ServingState:
            found = backend.state("ns", "m")
            assert found is not None
            return found

        await _until(lambda: current().phase == "Serving", "m:v1 to serve")
        assert current().serving == "m:v1" and "ns/m" in changes
        assert await asyncio.to_thread(_ask, endpoint) == "m:v1"
        first_pid = int(
            next(p for p in os.listdir("/proc") if p.isdigit() and _is_fake(p, tmp_path))
        )

        # Killed from outside: noticed, reported, restarted after the backoff, same endpoint.
        os.killpg(first_pid, signal.SIGKILL)
        await _until(lambda: current().phase == "Restarting", "the death to be noticed")
        assert "killed by SIGKILL" in (current().last_exit or ""), current()
        await _until(lambda: current().phase == "Serving", "the restart")
        assert current().endpoint == endpoint
        assert await asyncio.to_thread(_ask, endpoint) == "m:v1"

        # A champion that cannot start: Restarting, then Failed; the old one keeps answering.
        await backend.ensure(ServeRequest("ns", "m", "broken:v2"))
        await _until(lambda: current().phase == "Failed", "the broken champion to fail")
        failed = current()
        assert failed.serving == "m:v1" and failed.pending == "broken:v2", failed
        assert "exited with code 3" in (failed.last_exit or "") and failed.failures >= 2
        assert "cannot load model broken:v2" in (failed.last_exit or "")
        assert await asyncio.to_thread(_ask, endpoint) == "m:v1"

        # A good champion replaces it; stop leaves no process and no endpoint.
        await backend.ensure(ServeRequest("ns", "m", "m:v3"))
        await _until(lambda: current().serving == "m:v3", "m:v3 to serve")
        assert await asyncio.to_thread(_ask, endpoint) == "m:v3"
        await backend.stop("ns", "m")
        assert backend.state("ns", "m") is None
        assert not [p for p in os.listdir("/proc") if p.isdigit() and _is_fake(p, tmp_path)]
        await backend.close()

    asyncio.run(scenario())


def _is_fake(pid: str, tmp_path: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return str(tmp_path / "fake-bentoml") in cmdline and state not in ("Z", "X")
