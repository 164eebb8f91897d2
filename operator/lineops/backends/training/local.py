"""Embedded-profile training: each run is a detached worker process running kfp.local.

The worker (``python -m lineops.backends.training.local_worker``) is started in its own
session, so it outlives an operator restart; the operator only ever reads the files the worker
writes (``local_files``). Every file and process call runs in a thread, never on kopf's loop.

Cancel stops the worker's whole process group (the worker leads its session; kfp.local's step
subprocesses inherit the group): SIGTERM, a bounded wait, then SIGKILL. The verdict itself is
recorded first, in ``canceled.json`` under the run's verdict lock (see ``local_files``), so a
worker that finishes while it is being stopped cannot turn a canceled run into a succeeded one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from lineops.backends import process_ids
from lineops.backends.training import local_files as files
from lineops.backends.training.runs import RunRequest, RunState, TrainingBackendError

# A run directory without a pid after this long was left by an operator stopped mid-submit.
START_GRACE_SECONDS: Final = 60.0
WORKER_MODULE: Final = "lineops.backends.training.local_worker"
# Cancel: how long the worker's process group gets to exit after SIGTERM, then after SIGKILL.
TERM_GRACE_SECONDS: Final = 10.0
KILL_WAIT_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.05
log = logging.getLogger(__name__)


def default_pipelines_dir(configured: Path | None = None) -> Path:
    """``configured`` (``LINEOPS_PIPELINES_DIR``), else ``pipelines/compiled`` beside the
    lineops_pipelines package (found without importing it: it pulls in torch)."""
    if configured is not None:
        return configured.resolve()
    import importlib.util

    spec = importlib.util.find_spec("lineops_pipelines")
    if spec is None or spec.origin is None:
        return Path("pipelines/compiled").resolve()
    return Path(spec.origin).resolve().parents[1] / "compiled"


_EXITED: Final = ("Z", "X")  # zombie (exited, not reaped) or dead


def _alive(pid: int) -> bool:
    """True while ``pid`` is a live (not zombie) process."""
    if not Path("/proc/self/stat").exists():  # no procfs: fall back to signal 0
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    fields = process_ids.stat_fields(pid)
    return fields is not None and fields[0] not in _EXITED


def _group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process is in process group ``pgid``."""
    if not Path("/proc/self/stat").exists():  # no procfs (zombies count as alive there)
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in os.listdir("/proc"):
        fields = process_ids.stat_fields(entry) if entry.isdigit() else None
        if fields and len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in _EXITED:
            return True
    return False


class LocalTrainingBackend:
    def __init__(
        self,
        data_dir: Path,
        pipelines_dir: Path,
        python: str = sys.executable,
    ) -> None:
        self.data_dir = data_dir
        self.pipelines_dir = pipelines_dir
        self._python = python
        # Workers we started: polled so they are reaped (a zombie would look alive).
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = asyncio.Lock()

    async def submit(self, run_id: str, request: RunRequest) -> RunState:
        async with self._lock:  # one submit at a time: mkdir decides, but keep it simple
            try:
                return await asyncio.to_thread(self._submit, run_id, request)
            except OSError as exc:
                raise TrainingBackendError(f"local run {run_id}: {exc}") from exc

    async def status(self, run_id: str) -> RunState | None:
        try:
            return await asyncio.to_thread(self._status, run_id)
        except OSError as exc:
            raise TrainingBackendError(f"local run {run_id}: {exc}") from exc

    async def cancel(self, run_id: str, reason: str) -> RunState | None:
        # No self._lock: run ids are per model and the reconciler serialises each model, and a
        # worker that starts after the cancel finds the marker and exits at once.
        try:
            return await asyncio.to_thread(self._cancel, run_id, reason)
        except OSError as exc:
            raise TrainingBackendError(f"local run {run_id}: {exc}") from exc

    async def close(self) -> None:
        # Workers are detached on purpose: they finish (and record) their runs without us.
        self._children.clear()

    # --- blocking parts, run in a thread --------------------------------------------------

    def _submit(self, run_id: str, request: RunRequest) -> RunState:
        directory = files.run_dir(self.data_dir, run_id)
        directory.parent.mkdir(parents=True, exist_ok=True)
        try:
            directory.mkdir()
        except FileExistsError:
            return self._status(run_id) or RunState(run_id, "Pending", message="starting")
        files.write_atomic(directory / files.REQUEST, request.to_json())
        pipeline = self.pipelines_dir / f"{request.pipeline}.yaml"
        started = files.now_rfc3339()
        if request.pipeline_ir:
            # An engineer's pipeline from a ConfigMap: the run keeps the very IR it ran.
            pipeline = directory / files.PIPELINE
            files.write_atomic(pipeline, request.pipeline_ir)
        missing = None if pipeline.is_file() else f"no {pipeline}"
        if request.kfp_pipeline:
            missing = (
                f"uploaded to KFP ({request.kfp_pipeline} {request.kfp_version}); the embedded "
                "profile runs shipped pipelines and ConfigMap IR only"
            )
        if missing is not None:
            failed = RunState(
                run_id,
                "Failed",
                started_at=started,
                finished_at=started,
                message=f"pipeline {request.pipeline!r} not found: {missing}",
            )
            files.write_state(directory, failed)
            return failed
        pending = RunState(run_id, "Pending", started_at=started, message="worker starting")
        files.write_state(directory, pending)
        env = dict(os.environ, BENTOML_HOME=str(files.bentoml_home(self.data_dir)))
        env.setdefault("BENTOML_DO_NOT_TRACK", "True")
        with (directory / files.LOG).open("ab") as log:
            child = subprocess.Popen(
                [
                    self._python,
                    "-m",
                    WORKER_MODULE,
                    "--request",
                    str(directory / files.REQUEST),
                    "--run-dir",
                    str(directory),
                    "--pipeline-file",
                    str(pipeline),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=directory,
                env=env,
                start_new_session=True,  # not in the operator's process group: survives it
            )
        files.write_atomic(directory / files.PID, process_ids.recorded(child.pid) + "\n")
        self._children[run_id] = child
        return pending

    def _status(self, run_id: str) -> RunState | None:
        directory = files.run_dir(self.data_dir, run_id)
        if not directory.is_dir():
            return None
        child = self._children.get(run_id)
        if child is not None and child.poll() is not None:
            del self._children[run_id]
        canceled = files.read_canceled(directory)
        if canceled is not None:
            return canceled  # the marker wins over anything the worker wrote
        state = files.read_state(directory)
        if state is not None and not state.in_flight:
            return state
        pid = files.read_pid(directory)
        if pid is None:
            if time.time() - directory.stat().st_mtime < START_GRACE_SECONDS:
                return state or RunState(run_id, "Pending", message="worker starting")
            return self._dead(directory, run_id, state, "worker was never started")
        if _alive(pid) and files.is_worker(directory):
            return state
        # The worker may have written its final state just before exiting.
        final = files.read_state(directory)
        if final is not None and not final.in_flight:
            return final
        return self._dead(directory, run_id, final, "worker exited unexpectedly")

    def _cancel(self, run_id: str, reason: str) -> RunState | None:
        directory = files.run_dir(self.data_dir, run_id)
        if not directory.is_dir():
            return None
        with files.verdict_lock(directory):  # the worker cannot record a verdict meanwhile
            canceled = files.read_canceled(directory)
            if canceled is None:
                state = self._status(run_id)
                if state is None or not state.in_flight:
                    return state  # it ended first: its own verdict stands
                canceled = RunState(
                    run_id,
                    "Failed",
                    started_at=state.started_at,
                    finished_at=files.now_rfc3339(),
                    message=f"canceled: {reason}",
                )
                files.write_canceled(directory, canceled)
        # Also on a repeated cancel: an earlier one may have given up waiting.
        pid = files.read_pid(directory)
        # Not when another process has the worker's pid since (its group is not ours). A
        # dead worker's group may still hold its children, and no process gets the group's
        # id while a member lives: that group is ours.
        if pid is not None and (files.is_worker(directory) or not _alive(pid)):
            self._stop(run_id, pid)
        files.write_state(directory, canceled)  # state.json says so too, for people and tools
        return canceled

    def _stop(self, run_id: str, pgid: int) -> None:
        """SIGTERM the worker's process group, SIGKILL it if it has not exited in time."""
        child = self._children.pop(run_id, None)
        for sig, wait in (
            (signal.SIGTERM, TERM_GRACE_SECONDS),
            (signal.SIGKILL, KILL_WAIT_SECONDS),
        ):
            if not _group_alive(pgid):
                break
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            except PermissionError:  # the pid was reused by someone else's process group
                log.warning("training run %s: process group %d is not ours", run_id, pgid)
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if child is not None:
                    child.poll()  # reap our own worker: a zombie is not a live process
                if not _group_alive(pgid):
                    break
                time.sleep(_POLL_SECONDS)
        if child is not None:
            child.poll()
        if _group_alive(pgid):
            log.warning("training run %s: process group %d survived SIGKILL", run_id, pgid)

    @staticmethod
    def _dead(directory: Path, run_id: str, state: RunState | None, why: str) -> RunState:
        tail = files.log_tail(directory)
        failed = RunState(
            run_id,
            "Failed",
            started_at=state.started_at if state else None,
            finished_at=files.now_rfc3339(),
            message=f"{why}" + (f"; log tail:\n{tail}" if tail else ""),
        )
        files.write_state(directory, failed)  # sticky: the verdict never changes again
        return failed
