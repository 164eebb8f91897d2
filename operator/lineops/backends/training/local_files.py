"""The on-disk layout of a local (embedded-profile) run, shared by the backend and the worker.

``<root>/runs/<run id>/`` holds ``request.json``, ``pipeline.yaml`` (an engineer's IR, when the
model references one), ``state.json`` (replaced atomically at each
transition, so a reader never sees half a file), ``worker.log``, ``worker.pid`` and the
pipeline's ``outputs/``. ``<root>/bentoml`` is the BentoML home (the local model store).
The directory itself is the run's idempotency token: ``mkdir`` succeeds exactly once.

Cancel: ``canceled.json`` holds the canceled run's final state. Whether a run ended on its own
or was canceled is decided once, under an exclusive ``flock`` on ``state.lock``: the worker
takes it to write its final state only while no marker exists, the backend takes it to write
the marker only while ``state.json`` is not final. So exactly one of the two verdicts is ever
recorded, and the status reader prefers the marker (a worker that outlived its SIGKILL, or a
late ``Running`` write, cannot hide a cancel). The lock lives in its own file because
``state.json`` is replaced by rename, and a lock on a replaced inode would lock nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from lineops.backends import process_ids
from lineops.backends.training.runs import RunState

REQUEST: Final = "request.json"
STATE: Final = "state.json"
LOG: Final = "worker.log"
PID: Final = "worker.pid"
OUTPUTS: Final = "outputs"
PIPELINE: Final = "pipeline.yaml"  # the IR of an engineer's pipeline (spec.training.pipelineRef)
CANCELED: Final = "canceled.json"
LOCK: Final = "state.lock"
_ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_dir(root: Path, run_id: str) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{0,252}", run_id):
        # Run ids come from object names; anything else would escape the runs directory.
        raise ValueError(f"run id {run_id!r} is not a DNS subdomain")
    return root / "runs" / run_id


def bentoml_home(root: Path) -> Path:
    return root / "bentoml"


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_state(directory: Path, state: RunState) -> None:
    write_atomic(directory / STATE, state.to_json())


def read_state(directory: Path) -> RunState | None:
    try:
        return RunState.from_dict(json.loads((directory / STATE).read_text()))
    except FileNotFoundError:
        return None


@contextmanager
def verdict_lock(directory: Path) -> Iterator[None]:
    """Exclusive across processes; released by the kernel if its holder is killed."""
    with (directory / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_canceled(directory: Path, state: RunState) -> None:
    write_atomic(directory / CANCELED, state.to_json())


def read_canceled(directory: Path) -> RunState | None:
    try:
        return RunState.from_dict(json.loads((directory / CANCELED).read_text()))
    except FileNotFoundError:
        return None


def read_pid(directory: Path) -> int | None:
    """The worker's pid as recorded (None: no pid file yet)."""
    try:
        return int((directory / PID).read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def is_worker(directory: Path) -> bool:
    """Whether the recorded worker process still runs under its pid: after a restart the
    pid may belong to another process (taken for a live worker: Running for ever, and its
    group signalled on cancel)."""
    try:
        return process_ids.same_process((directory / PID).read_text()) is not None
    except FileNotFoundError:
        return False


def log_tail(directory: Path, lines: int = 20, max_chars: int = 4000) -> str:
    """The end of the worker's log, colour codes removed (it goes into status messages)."""
    try:
        with (directory / LOG).open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    tail = "\n".join(_ANSI.sub("", text).rstrip().splitlines()[-lines:])
    return tail[-max_chars:]


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)
