"""The serving's prediction log when something other than the data plane answers.

A stand-in HTTP server plays what is being tested: a proxy in front of the data plane that
answers 200 with a page of its own (no real data plane answers that way). Before, the
poster thread died on it: nothing more was logged, and once the queue was full every predict
blocked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.kube import wait_for
from tests.support.loopback_http import serving_post

ROOT = Path(__file__).resolve().parents[3]
GOOD = {"received": 1, "accepted": 1, "quarantined": 0, "rejected": []}


@pytest.fixture
def answers() -> Iterator[tuple[str, list[bytes], list[dict[str, Any]]]]:
    """A loopback server answering POSTs with the queued bodies in turn (all 200)."""
    queued: list[bytes] = []
    received: list[dict[str, Any]] = []

    def answer(_: str, body: bytes) -> tuple[str, bytes]:
        received.append(json.loads(body))
        return "text/html", queued.pop(0) if queued else json.dumps(GOOD).encode()

    with serving_post(answer, "stand-in") as at:
        yield f"http://{at}", queued, received


@pytest.mark.parametrize(
    "page", [b"<html>502 bad gateway</html>", b"[]", b'{"quarantined": 1}', b'{"accepted": "1"}']
)
def test_a_foreign_200_is_counted_as_not_logged_and_logging_goes_on(
    monkeypatch: pytest.MonkeyPatch,
    answers: tuple[str, list[bytes], list[dict[str, Any]]],
    page: bytes,
) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "bentos"))
    from quality_inspector.prediction_log import PredictionLog

    url, queued, received = answers
    queued.append(page)
    failed: list[int] = []
    plog = PredictionLog(url, "plant", "line-a", None, failed.append)
    try:
        plog.add({"modelTag": "m:1", "workUnit": "press-01", "result": {"score": 0.1}})
        wait_for(lambda: failed == [1], timeout=30, what="the foreign answer counted")
        plog.add({"modelTag": "m:1", "workUnit": "press-01", "result": {"score": 0.2}})
        wait_for(lambda: len(received) == 2, timeout=30, what="the next batch posted")
    finally:
        plog.close()
    # Not sent again: whether the proxy stored it is unknown, and a retry could log it twice.
    assert [r["records"][0]["result"]["score"] for r in received] == [0.1, 0.2]
    assert failed == [1] and plog.queued == 0


def test_full_says_when_adding_would_wait_for_the_poster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service judges on the event loop only while ``full`` is False: adding to a full
    log waits (back-pressure), which on the loop froze every request of the worker."""
    import threading

    monkeypatch.syspath_prepend(str(ROOT / "bentos"))
    import quality_inspector.prediction_log as module

    monkeypatch.setattr(module, "CAPACITY", 2)
    monkeypatch.setattr(module, "LINGER_S", 0.0)
    release, posting = threading.Event(), threading.Event()

    def held(_: str, body: bytes) -> tuple[str, bytes]:
        posting.set()
        release.wait(30)  # the data plane hangs until the test lets it answer
        n = len(json.loads(body)["records"])
        return "application/json", json.dumps({**GOOD, "received": n, "accepted": n}).encode()

    with serving_post(held, "stand-in") as at:
        plog = module.PredictionLog(f"http://{at}", "plant", "line-a", None, lambda n: None)
        try:
            record = {"modelTag": "m:1", "workUnit": "press-01", "result": {"score": 0.1}}
            plog.add(record)
            wait_for(posting.is_set, timeout=30, what="the first POST in flight")
            plog.add(record)
            assert not plog.full  # one queued behind the POST in flight, room for one more
            plog.add(record)
            assert plog.full
            release.set()
            wait_for(lambda: not plog.full, timeout=30, what="room again once it answers")
        finally:
            release.set()
            plog.close()


def test_a_401_while_the_token_is_rotated_is_retried_with_the_new_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The token file is read at every attempt; a 401 ended the attempts and the batch was
    lost while a rotated Secret reached the two sides at different moments."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    monkeypatch.syspath_prepend(str(ROOT / "bentos"))
    import quality_inspector.prediction_log as module

    monkeypatch.setattr(module, "LINGER_S", 0.0)
    token = tmp_path / "token"
    token.write_text("old\n")
    seen: list[str] = []

    class Plane(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent = self.headers.get("Authorization", "")
            seen.append(sent)
            if sent != "Bearer new":
                token.write_text("new\n")  # the Secret's new value reaches the serving Pod
                status, body = 401, b'{"title": "unauthorized"}'
            else:
                status, body = 200, json.dumps(GOOD).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Plane)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed: list[int] = []
    plog = module.PredictionLog(
        f"http://127.0.0.1:{server.server_address[1]}", "plant", "line-a", token, failed.append
    )
    try:
        plog.add({"modelTag": "m:1", "workUnit": "press-01", "result": {"score": 0.1}})
        wait_for(lambda: "Bearer new" in seen, timeout=30, what="the retry with the new token")
    finally:
        plog.close()
        server.shutdown()
        server.server_close()
    assert seen == ["Bearer old", "Bearer new"] and failed == []
