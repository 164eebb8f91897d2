"""A model's stable loopback endpoint: a small HTTP reverse proxy in the operator's event loop.

Each served model gets one port that does not change across champions; behind it, the proxy
forwards every request to the current upstream (a ``bentoml serve`` process). A new champion
is switched in by :meth:`StableEndpoint.switch` only once it answers ``/readyz``: requests that
arrive after the switch go to the new process, requests already forwarded finish on the old
one, and :meth:`StableEndpoint.drain` waits for those before the old process is stopped. So a
client sees no failed request during the switch, whether or not it keeps its connection alive
(the proxy chooses the upstream per request, not per connection).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import aiohttp
from aiohttp import web

# Hop-by-hop headers (RFC 9110 7.6.1) and those the proxy recomputes.
_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
REQUEST_TIMEOUT_SECONDS: Final = 300.0


@dataclass(eq=False)
class Upstream:
    """One process behind the endpoint and the requests forwarded to it that are in flight."""

    url: str
    tag: str
    in_flight: int = 0
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.idle.set()


def _headers(source: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in source.items() if k.lower() not in _HOP_BY_HOP}


class StableEndpoint:
    """``http://<host>:<port>`` for one model, forwarding to whichever upstream is current."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, name: str = "") -> None:
        self._host = host
        self._want_port = port
        self._name = name
        self._upstream: Upstream | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def upstream(self) -> Upstream | None:
        return self._upstream

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._want_port))
        except OSError:
            if self._want_port == 0:
                sock.close()
                raise
            sock.bind((self._host, 0))  # the previous port is taken: any free one
        self.port = int(sock.getsockname()[1])
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
            auto_decompress=False,
            connector=aiohttp.TCPConnector(limit=0),
        )
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def switch(self, upstream: Upstream | None) -> Upstream | None:
        """Send new requests to ``upstream`` (None: answer 503); returns the previous one."""
        previous, self._upstream = self._upstream, upstream
        return previous

    @staticmethod
    async def drain(upstream: Upstream, timeout: float) -> bool:
        """Wait until no request forwarded to ``upstream`` is in flight (False: timed out)."""
        try:
            await asyncio.wait_for(upstream.idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        upstream = self._upstream  # chosen and counted without an await in between
        if upstream is None or self._session is None:
            return web.json_response(
                [{"error": f"model {self._name}: no champion process is ready to answer"}],
                status=503,
                headers={"Retry-After": "1"},
            )
        upstream.in_flight += 1
        upstream.idle.clear()
        try:
            body = await request.read()
            async with self._session.request(
                request.method,
                upstream.url + request.rel_url.path_qs,
                headers=_headers(request.headers),
                data=body if body else None,
                allow_redirects=False,
            ) as answer:
                payload = await answer.read()
                return web.Response(
                    status=answer.status, body=payload, headers=_headers(answer.headers)
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response(
                [{"error": f"model {self._name}: upstream {upstream.tag} failed: {exc}"}],
                status=502,
            )
        finally:
            upstream.in_flight -= 1
            if upstream.in_flight == 0:
                upstream.idle.set()
