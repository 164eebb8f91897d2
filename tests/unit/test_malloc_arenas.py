"""The operator and the data plane cap glibc's malloc arenas from inside the process."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest
from lineops.cli import malloc_arenas
from lineops.cli.malloc_arenas import limit_malloc_arenas


def test_the_cap_is_set_on_glibc() -> None:
    # In a process of its own: the cap is process-wide and this one runs the test suite.
    code = "from lineops.cli.malloc_arenas import limit_malloc_arenas; print(limit_malloc_arenas())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "True"


def test_an_explicit_environment_value_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(malloc_arenas.ctypes, "CDLL", lambda _: _Libc(calls))
    assert limit_malloc_arenas() is False
    assert calls == []


def test_no_mallopt_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)

    def no_libc(_: object) -> ctypes.CDLL:
        raise OSError("no C library here")

    monkeypatch.setattr(malloc_arenas.ctypes, "CDLL", no_libc)
    assert limit_malloc_arenas() is False


def test_the_cap_asked_for_is_two_arenas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(malloc_arenas.ctypes, "CDLL", lambda _: _Libc(calls))
    assert limit_malloc_arenas() is True
    assert calls == [(malloc_arenas.M_ARENA_MAX, 2)]


class _Libc:
    """Records mallopt calls (the real one changes the test process for good)."""

    def __init__(self, calls: list[tuple[int, int]]) -> None:
        self.calls = calls

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1
