"""A loopback HTTP server in a thread that answers GET requests from a function: the base of
the stand-ins for a scraped exporter or for Prometheus's HTTP API where no real one can serve
(the test's docstring says which and why)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# The request path (with its query) -> the answer's content type and body.
Answer = Callable[[str], tuple[str, bytes]]


@contextmanager
def serving_get(answer: Answer, name: str) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1 (a free port) until the block ends; yields host:port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server calls do_<METHOD>
            content_type, body = answer(self.path)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
