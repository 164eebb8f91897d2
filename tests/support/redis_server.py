"""A real, throwaway Redis server on a free loopback port (Debian package `redis-server`).

The cluster profile's Feast online store. Loopback only, no persistence (no RDB snapshots,
no append-only file), its working directory a private temp dir removed on exit: a test
server, never a real one. Redis runs as root without complaint, so no account switch.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.controlplane import in_ci
from tests.support.kube import wait_for
from tests.support.operator import free_port

# The Debian package that ships the server (Makefile system dependency).
REDIS_PACKAGE = "redis-server"
START_TIMEOUT = 30.0


class RedisUnavailable(RuntimeError):
    """The redis-server binary is missing."""


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int
    directory: Path

    @property
    def connection_string(self) -> str:
        """Feast's form (``host:port,db=0``), as LINEOPS_FEAST_REDIS takes it."""
        return f"{self.host}:{self.port},db=0"

    def client(self) -> object:
        """A redis-py client (for assertions on what Feast stored)."""
        import redis

        return redis.Redis(host=self.host, port=self.port, socket_timeout=5)


def find_binary() -> str:
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        raise RedisUnavailable(
            f"redis-server not found; install the Debian package {REDIS_PACKAGE!r}"
        )
    return binary


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """redis-server in a fresh temp dir; terminated and removed on exit. Raises
    RedisUnavailable when the binary is missing."""
    import redis

    binary = find_binary()
    base = Path(tempfile.mkdtemp(prefix="lineops-redis-"))
    port = free_port()
    log = base / "redis.log"
    args = [
        binary,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(base),
        "--save", "",  # no RDB snapshots
        "--appendonly", "no",
        "--protected-mode", "yes",
        "--daemonize", "no",
        "--logfile", str(log),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = RedisServer("127.0.0.1", port, base)

    def answers() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server exited with {process.returncode}:\n"
                f"{log.read_text(errors='replace') if log.exists() else ''}"
            )
        try:
            return bool(redis.Redis(host=server.host, port=port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    try:
        wait_for(answers, START_TIMEOUT, interval=0.05, what=f"redis-server on 127.0.0.1:{port}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A Redis for the whole session (started on first use). Missing binary: skip locally,
    fail in CI."""
    try:
        with running_redis() as server:
            yield server
    except RedisUnavailable as exc:
        if in_ci():
            pytest.fail(f"Redis is required in CI (make system-deps installs it): {exc}")
        pytest.skip(str(exc))
