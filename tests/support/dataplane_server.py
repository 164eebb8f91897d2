"""A real :class:`DataPlaneApp` served on a loopback port from a thread of its own, so
synchronous test code (schemathesis, ``requests``) can call it and read its stores between
requests. No Feast (fast start); one example line configured."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from lineops.cli.ingest_cmd import load_line
from lineops.dataplane.app import DataPlaneApp
from lineops.dataplane.lines import LineRef
from prometheus_client import CollectorRegistry

REPO: Final = Path(__file__).resolve().parents[2]
EXAMPLE_LINE: Final = REPO / "examples" / "productionline.yaml"
LINE: Final = LineRef("plant-a", "press-line-1")

T = TypeVar("T")


class ServedApp:
    """The app and the event loop it runs on; ``run`` calls a coroutine on that loop."""

    def __init__(self, app: DataPlaneApp, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop

    @property
    def url(self) -> str:
        return self.app.url

    def line_url(self, route: str, line: LineRef = LINE) -> str:
        return f"{self.url}/v1/namespaces/{line.namespace}/lines/{line.name}/{route}"

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def served_dataplane(
    data_dir: Path, db_url: str, *, token: str | None = None, line: LineRef = LINE
) -> Iterator[ServedApp]:
    """Build the app (database opened and checked), configure the example line, serve it."""
    spec = load_line(str(EXAMPLE_LINE)).spec
    app = DataPlaneApp(data_dir, db_url, CollectorRegistry(), feast=None, token=token)
    app.configure_line(line, spec)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="dataplane", daemon=True)
    thread.start()
    served = ServedApp(app, loop)
    try:
        served.run(app.start())
        yield served
    finally:
        try:
            served.run(app.stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()
