"""Process ids that stay true across an operator restart: a pid recorded with its start time
(the kernel's clock ticks since boot, ``/proc/<pid>/stat`` field 22) is the recorded process
only while that start time still matches; a pid the kernel gave to another process since is
never taken for it (nor signalled)."""

from __future__ import annotations

from pathlib import Path


def stat_fields(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the parenthesised command name (state, ppid, pgrp,
    ...; the name may hold spaces and parentheses); None when the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:  # gone, or exited between listing /proc and reading it
        return None


def start_time(pid: int) -> str | None:
    """The start time of process ``pid``, or None when no such process runs."""
    fields = stat_fields(pid)
    return None if fields is None else fields[19]


def recorded(pid: int) -> str:
    """``pid`` with its start time, as written to a pid file."""
    return f"{pid} {start_time(pid) or ''}".strip()


def same_process(text: str, *, strict: bool = False) -> int | None:
    """The pid of a pid file's ``text`` while that process still runs, else None. A file
    with no start time (written before they were recorded) is trusted as it is, unless
    ``strict``. Never 1 or less (init; a group of 0 is the caller's own)."""
    parts = text.split()
    try:
        pid = int(parts[0])
    except (IndexError, ValueError):
        return None
    if pid <= 1:
        return None
    if len(parts) < 2:
        return None if strict else pid
    return pid if start_time(pid) == parts[1] else None
