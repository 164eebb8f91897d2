"""A loopback HTTP server in a thread that answers requests from a function: the base of
the stand-ins for a scraped exporter, for Prometheus's HTTP API, or for a proxy answering in
a data plane's place, where no real one can serve (the test's docstring says which and why)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The request path (with its query) -> the answer's content type and body.
Answer = Callable[[str], tuple[str, bytes]]
# The request path and body -> the answer's content type and body.
PostAnswer = Callable[[str, bytes], tuple[str, bytes]]


@contextmanager
def serving_get(answer: Answer, name: str) -> Iterator[str]:
    """Serve ``answer`` to GETs on 127.0.0.1 (a free port) until the block ends; yields
    host:port."""
    with _serving(lambda method, path, _: answer(path) if method == "GET" else None, name) as at:
        yield at


@contextmanager
def serving_post(answer: PostAnswer, name: str) -> Iterator[str]:
    """Serve ``answer`` to POSTs, as ``serving_get`` does to GETs."""
    with _serving(
        lambda method, path, body: answer(path, body) if method == "POST" else None, name
    ) as at:
        yield at


@contextmanager
def _serving(
    answer: Callable[[str, str, bytes], tuple[str, bytes] | None], name: str
) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            found = answer(method, self.path, self.rfile.read(length) if length else b"")
            if found is None:
                self.send_error(405)
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # http.server calls do_<METHOD>
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
