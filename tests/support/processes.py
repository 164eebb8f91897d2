"""Process-group and session inspection through /proc (Linux), for tests that kill worker
processes or check what a stopped process left behind."""

from __future__ import annotations

import os
from pathlib import Path

# Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, ...
_PGRP, _SESSION = 2, 3


def _live_with(index: int, value: int) -> list[int]:
    """Live (not zombie) processes whose stat field ``index`` is ``value``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if fields[index] == str(value) and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return found


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    return _live_with(_PGRP, pgid)


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``: what a session leader started and left."""
    return _live_with(_SESSION, sid)
