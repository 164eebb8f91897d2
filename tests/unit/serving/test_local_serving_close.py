"""LocalServingBackend.close at operator shutdown, with real child processes: a stand-in for
``bentoml serve`` that ignores SIGTERM (and starts a worker in its group, as bentoml does), so
the short shutdown grace, the SIGKILL after it, and the kill on cancellation are all needed.
The real ``bentoml serve`` is exercised by tests/integration/test_serving_rollout.py."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from lineops.backends.serving.local import LocalServingBackend, LocalServingConfig
from lineops.backends.serving.protocol import ServeRequest

from tests.support.processes import group_members

STUBBORN = """#!{python}
import http.server, os, signal, subprocess, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
# A worker in the same process group, ignoring SIGTERM too (inherited).
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _backend(tmp_path: Path) -> LocalServingBackend:
    fake = tmp_path / "stubborn-bentoml"
    fake.write_text(STUBBORN.format(python=sys.executable))
    fake.chmod(0o755)
    config = LocalServingConfig(
        tmp_path / "data",
        "http://127.0.0.1:9",
        bentos_dir=tmp_path,
        start_timeout=20,
        term_grace=30,  # a rollout's grace: shutdown must not wait for it
        close_grace=0.5,
        bentoml=str(fake),
    )
    return LocalServingBackend(config)


async def _serving(backend: LocalServingBackend, models: list[str]) -> list[int]:
    for model in models:
        await backend.ensure(ServeRequest("ns", model, f"{model}:v1"))
    deadline = time.monotonic() + 30
    while not all((s := backend.state("ns", m)) and s.phase == "Serving" for m in models):
        assert time.monotonic() < deadline, "stand-ins did not become ready"
        await asyncio.sleep(0.05)
    groups = [p.popen.pid for p in backend._live]
    # Each group holds the server and its worker.
    deadline = time.monotonic() + 10
    while not all(len(group_members(g)) == 2 for g in groups):
        assert time.monotonic() < deadline, [group_members(g) for g in groups]
        await asyncio.sleep(0.05)
    return groups


def test_close_kills_what_ignores_sigterm_within_the_shutdown_grace(tmp_path: Path) -> None:
    async def scenario() -> tuple[float, list[int]]:
        backend = _backend(tmp_path)
        groups = await _serving(backend, ["a", "b"])
        started = time.monotonic()
        await backend.close()
        return time.monotonic() - started, groups

    took, groups = asyncio.run(scenario())
    assert took < 0.5 + 5.0, took  # close_grace, then SIGKILL (not the 30 s term_grace)
    assert [g for g in groups if group_members(g)] == []


def test_close_cancelled_by_the_shutdown_deadline_still_leaves_no_process(
    tmp_path: Path,
) -> None:
    async def scenario() -> list[int]:
        backend = _backend(tmp_path)
        backend.config = LocalServingConfig(**{**backend.config.__dict__, "close_grace": 30.0})
        groups = await _serving(backend, ["a"])
        try:
            async with asyncio.timeout(0.3):
                await backend.close()
        except TimeoutError:
            pass
        else:
            raise AssertionError("close should have overrun a 0.3 s deadline")
        return groups

    groups = asyncio.run(scenario())
    assert [g for g in groups if group_members(g)] == []


def test_the_exit_message_reads_only_the_end_of_a_large_log(tmp_path: Path) -> None:
    """The log takes a line per request; it was read whole (on the event loop) to keep its
    last 600 bytes."""
    import subprocess

    from lineops.backends.serving.local import _Process

    log = tmp_path / "m-v1.log"
    with log.open("wb") as out:
        out.write(b"GET /predict 200\n" * 200_000)  # 3.4 MB of access lines
        out.write(b"RuntimeError: model m:v1 not found in the store\n")
    popen = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    popen.wait()
    process = _Process("m:v1", "http://127.0.0.1:1", popen, log)

    message = process.exit_message()

    assert message.startswith("m:v1 exited with code 3; log ")
    assert message.endswith("RuntimeError: model m:v1 not found in the store")
    assert process.exit_message() == message
    missing = _Process("m:v1", "http://127.0.0.1:1", popen, tmp_path / "gone.log")
    assert missing.exit_message() == "m:v1 exited with code 3"


def test_processes_left_by_a_crashed_operator_are_stopped_and_others_spared(
    tmp_path: Path,
) -> None:
    """Each started process leaves <model dir>/pids/<pid> with its start time: a restarted
    operator stops those still running, never a process that got the pid since."""
    import subprocess

    from lineops.backends.serving.local import _kill_leftovers, _record_pid

    left = subprocess.Popen(["sleep", "60"], start_new_session=True)
    reused = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        _record_pid(tmp_path, left.pid)
        # The same pid, another process's start time; and a file without a start time.
        (tmp_path / "pids" / str(reused.pid)).write_text(f"{reused.pid} 1")
        (tmp_path / "pids" / "legacy").write_text(f"{reused.pid}")

        assert _kill_leftovers(tmp_path) == 1

        assert left.wait(timeout=10) == -9
        assert reused.poll() is None  # spared
        assert list((tmp_path / "pids").iterdir()) == []
    finally:
        for process in (left, reused):
            process.kill()
            process.wait()
