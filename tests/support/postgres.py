"""A real, throwaway PostgreSQL server on a free loopback port (Debian package `postgresql`).

Debian installs the server binaries (initdb, postgres, pg_ctl, pg_isready) under
/usr/lib/postgresql/<major>/bin, outside PATH. PostgreSQL refuses to run as root, so when the
tests run as root (CI does) the server runs as the unprivileged `postgres` account the Debian
package creates (or `nobody`); its directory lives in a private temp dir outside pytest's
root-only tmp tree. Loopback only, trust auth, fsync off: a test server, never a real one.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.kube import wait_for
from tests.support.operator import free_port

# The Debian package that ships the server (Makefile system dependency).
POSTGRES_PACKAGE = "postgresql"
# The major version production runs (Debian 12's PostgreSQL); preferred when several exist.
PREFERRED_MAJOR = 15
# Accounts tried, in order, when running as root.
SERVER_ACCOUNTS = ("postgres", "nobody")
SUPERUSER = "lineops"
DATABASE = "lineops"
START_TIMEOUT = 60.0


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or an account to run them as) are missing."""


def find_bin_dir() -> Path:
    """The directory holding initdb/postgres/pg_ctl/pg_isready.

    /usr/lib/postgresql/<major>/bin (PREFERRED_MAJOR first, else the newest), or else the
    directory of an ``initdb`` found on PATH."""
    candidates: dict[int, Path] = {}
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        major = bin_dir.parent.name
        if re.fullmatch(r"\d+", major) and _complete(bin_dir):
            candidates[int(major)] = bin_dir
    if candidates:
        return candidates.get(PREFERRED_MAJOR) or candidates[max(candidates)]
    on_path = shutil.which("initdb")
    if on_path is not None:
        bin_dir = Path(on_path).resolve().parent
        if _complete(bin_dir):
            return bin_dir
    raise PostgresUnavailable(
        f"no PostgreSQL server binaries (initdb, postgres, pg_ctl, pg_isready) in "
        f"/usr/lib/postgresql/*/bin or on PATH; install the Debian package {POSTGRES_PACKAGE!r}"
    )


def _complete(bin_dir: Path) -> bool:
    return all(
        os.access(bin_dir / name, os.X_OK)
        for name in ("initdb", "postgres", "pg_ctl", "pg_isready")
    )


def server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as; None when not root (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_ACCOUNTS:
        try:
            account = pwd.getpwnam(name)
        except KeyError:
            continue
        if account.pw_uid != 0:
            return account
    raise PostgresUnavailable(
        f"running as root and none of the accounts {SERVER_ACCOUNTS} exists to run PostgreSQL"
    )


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str
    directory: Path

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``database`` (default: the session database)."""
        name = database or self.database
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{name}"

    def connect_admin(self) -> Any:
        """An autocommit psycopg connection to the maintenance database ``postgres``."""
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, prefix: str = "t") -> str:
        """Create a uniquely named, empty database and return its name."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.connect_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whatever still holds a connection to it."""
        with self.connect_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def running_postgres(*, durable: bool = False) -> Iterator[PostgresServer]:
    """initdb + postgres in a fresh temp dir; stopped (``pg_ctl stop -m fast``) and removed
    on exit. Raises PostgresUnavailable when the binaries are missing. ``durable`` keeps
    PostgreSQL's own defaults (fsync, synchronous commit): benchmarks measure that."""
    bin_dir = find_bin_dir()
    account = server_account()
    base = Path(tempfile.mkdtemp(prefix="lineops-pg-"))  # 0700, under /tmp
    process: subprocess.Popen[bytes] | None = None
    try:
        if account is not None:
            os.chown(base, account.pw_uid, account.pw_gid)
        data = base / "data"
        log = base / "postgres.log"

        def run_as_server(*args: str | Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(a) for a in args],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=base,
                **_as_account(account),
            )

        init = run_as_server(
            bin_dir / "initdb",
            "--pgdata",
            data,
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}{init.stderr}")
        # Trust, but only over the private socket dir and IPv4 loopback (no ::1, no network);
        # the file initdb wrote keeps its owner.
        (data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n", encoding="utf-8"
        )

        port = free_port()
        with log.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={base}",
                    *(
                        ()
                        if durable
                        else (
                            "-c",
                            "fsync=off",
                            "-c",
                            "synchronous_commit=off",
                            "-c",
                            "full_page_writes=off",
                        )
                    ),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=base,
                **_as_account(account),
            )

        def ready() -> bool:
            if process is not None and process.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {process.returncode}:\n{log.read_text(errors='replace')}"
                )
            probe = subprocess.run(
                [
                    str(bin_dir / "pg_isready"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-U",
                    SUPERUSER,
                    "-d",
                    "postgres",
                    "-t",
                    "2",
                ],
                capture_output=True,
                timeout=10,
                check=False,
            )
            return probe.returncode == 0

        wait_for(ready, START_TIMEOUT, interval=0.05, what=f"postgres on 127.0.0.1:{port}")
        server = PostgresServer("127.0.0.1", port, SUPERUSER, DATABASE, base)
        with server.connect_admin() as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        yield server
    finally:
        if process is not None:
            stop = subprocess.run(
                [str(bin_dir / "pg_ctl"), "stop", "-D", str(base / "data"), "-m", "fast", "-w"],
                capture_output=True,
                timeout=60,
                check=False,
                cwd=base,
                **_as_account(account),
            )
            if stop.returncode != 0 and process.poll() is None:
                process.kill()
            process.wait(30)
        shutil.rmtree(base, ignore_errors=True)


def _as_account(account: pwd.struct_passwd | None) -> dict[str, Any]:
    """subprocess arguments that drop root to ``account`` (setuid/setgid, no extra groups)."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
