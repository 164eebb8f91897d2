"""HttpDataPlane asks a line's data plane for its state once per monitor evaluation: the OEE
version and the readings count come from one ``GET …/state`` (issue 24: API calls per
reconcile). A real HTTP server on loopback counts the requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from lineops.backends.data_plane_client import HttpDataPlane
from lineops.dataplane.lines import LineRef

LINE = LineRef("plant-a", "press-line-1")


@pytest.fixture
def state_server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps({"oeeVersion": [3, 4], "readings": 300 + len(seen)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_oee_version_and_readings_count_share_one_state_request(
    state_server: tuple[str, list[str]],
) -> None:
    url, seen = state_server
    client = HttpDataPlane(lambda _line: url)
    assert client.oee_version(LINE) == (3, 4)
    assert client.readings_count(LINE) == 301  # the same answer: one request so far
    assert seen == ["/v1/namespaces/plant-a/lines/press-line-1/state"]


def test_an_older_state_is_asked_again(state_server: tuple[str, list[str]]) -> None:
    url, seen = state_server
    client = HttpDataPlane(lambda _line: url)
    client.STATE_REUSE_SECONDS = 0.0  # every call is "later" than the reuse window
    assert client.readings_count(LINE) == 301
    assert client.readings_count(LINE) == 302
    assert len(seen) == 2
