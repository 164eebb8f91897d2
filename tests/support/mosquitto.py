"""A real Mosquitto broker on a free loopback port (Debian package `mosquitto`)."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.controlplane import in_ci
from tests.support.kube import wait_for
from tests.support.operator import free_port


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[int]:
    with broker(tmp_path) as port:
        yield port


@contextmanager
def broker(directory: Path, extra_config: str = "") -> Iterator[int]:
    """A broker configured with ``extra_config`` lines (e.g. an ``acl_file``) besides the
    loopback listener; yields its port."""
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None
    )
    if binary is None:
        if in_ci():
            pytest.fail("mosquitto is required in CI (make system-deps installs it)")
        pytest.skip("mosquitto not installed")
    port = free_port()
    config = directory / "mosquitto.conf"
    # Started as root, mosquitto switches to the user `mosquitto`, which cannot read files
    # under pytest's private tmp_path (an acl_file): it stays the user running the tests.
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"user {getpass.getuser()}\n{extra_config}"
    )
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for(listening, 10, what="mosquitto to listen")
        yield port
    finally:
        process.terminate()
        process.wait(10)
