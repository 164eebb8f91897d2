"""Embedded-profile serving: one ``bentoml serve`` process per model's champion, behind the
model's stable loopback endpoint (``proxy.StableEndpoint``).

Per model, one supervisor task on the operator's event loop (never blocking it: spawning runs
in a thread, readiness is an async HTTP poll, exits are noticed with ``Popen.poll``):

* starts ``bentoml serve quality_inspector.service:QualityInspector --working-dir <bentos>``
  on a free loopback port, in its own session (so its workers share one process group), with
  the ``LINEOPS_SERVING_*`` environment of docs/serving.md, logging to
  ``$LINEOPS_DATA_DIR/serving/<namespace>/<model>/<version>.log``;
* polls ``/readyz`` until it answers 200 (or the process exits, or the start deadline
  passes), then switches the endpoint to it; a previous champion's process keeps answering
  until then, then gets the requests it already has (drain, bounded), then is stopped;
* restarts a process that died, or a start that failed, with bounded exponential backoff
  (``backoff_base`` doubling up to ``backoff_max``; the count resets once a process stayed
  ready for ``stable_after`` seconds), reporting ``Restarting`` and, from ``fail_after``
  failures in a row, ``Failed`` (still retried at the longest backoff);
* stops processes as a group: SIGTERM, ``term_grace`` seconds, then SIGKILL.

The endpoint's port is kept in ``.../<model>/port`` and bound again after an operator restart
when it is free, so ``status.serving.endpoint`` usually survives a restart too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import aiohttp

from lineops.backends import process_ids
from lineops.backends.serving.protocol import (
    ChangeListener,
    Phase,
    ServeRequest,
    ServingBackendError,
    ServingState,
)
from lineops.backends.serving.proxy import StableEndpoint, Upstream
from lineops.backends.training.local import _group_alive

SERVICE: Final = "quality_inspector.service:QualityInspector"
_POLL_SECONDS: Final = 0.25
_LOG_TAIL: Final = 600
# prometheus_client's multi-process switches: a serving process gets none from the operator
# (bentoml serve sets its own directory for its workers; see _home).
_MULTIPROC_VARIABLES: Final = frozenset({"PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROCESS_DIR"})
log = logging.getLogger(__name__)


def default_bentos_dir() -> Path:
    """``bentos/`` of the source tree the ``lineops`` package lives in."""
    import lineops

    return Path(lineops.__file__).resolve().parents[2] / "bentos"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LocalServingConfig:
    data_dir: Path
    dataplane_url: str
    bentos_dir: Path = field(default_factory=default_bentos_dir)
    token_file: str | None = None
    host: str = "127.0.0.1"
    start_timeout: float = 180.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    stable_after: float = 60.0
    fail_after: int = 3
    drain_timeout: float = 30.0
    term_grace: float = 10.0
    # Operator shutdown: the grace after SIGTERM is shorter (the Pod's own grace is ~10 s).
    close_grace: float = 2.0
    bentoml: str = field(
        default_factory=lambda: (
            str(Path(sys.executable).parent / "bentoml")
            if (Path(sys.executable).parent / "bentoml").exists()
            else "bentoml"
        )
    )


@dataclass(eq=False)
class _Process:
    tag: str
    url: str
    popen: subprocess.Popen[bytes]
    log: Path
    ready_at: float | None = None

    def exit_message(self) -> str:
        code = self.popen.returncode
        if code is None:
            what = "still running"
        elif code < 0:
            what = f"killed by {signal.Signals(-code).name}"
        else:
            what = f"exited with code {code}"
        tail = ""
        with contextlib.suppress(OSError), self.log.open("rb") as log:
            # Only the end: the log takes a line per request and was read whole, on the
            # event loop, to keep its last 600 bytes.
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - _LOG_TAIL))
            data = log.read().decode(errors="replace").strip()
            tail = f"; log {self.log}: …{data.splitlines()[-1][-300:]}" if data else ""
        return f"{self.tag} {what}{tail}"


class _Slot:
    def __init__(self, namespace: str, model: str, endpoint: StableEndpoint) -> None:
        self.namespace, self.model = namespace, model
        self.endpoint = endpoint
        self.want: ServeRequest | None = None
        self.active: _Process | None = None
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.drains: set[asyncio.Task[None]] = set()
        self.failures = 0
        self.state = ServingState("Starting", endpoint=endpoint.url, since=_now())


class LocalServingBackend:
    def __init__(self, config: LocalServingConfig) -> None:
        self.config = config
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._listeners: list[ChangeListener] = []
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()
        # Every process started and not yet reaped: what shutdown must not leave behind.
        self._live: set[_Process] = set()
        self._grace = config.term_grace

    # --- the protocol ---------------------------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    async def ensure(self, request: ServeRequest) -> ServingState:
        key = (request.namespace, request.model)
        async with self._lock:
            slot = self._slots.get(key)
            if slot is None:
                slot = await self._open(request.namespace, request.model)
                self._slots[key] = slot
        if slot.want != request:
            slot.want = request
            if slot.active is None or slot.active.tag != request.tag:
                # A new tag starts afresh (Restarting/Failed described the previous one).
                slot.failures = 0
                slot.state = replace(
                    slot.state,
                    since=slot.state.since if slot.state.phase == "Starting" else _now(),
                    phase="Starting",
                    pending=request.tag,
                    failures=0,
                    next_attempt=None,
                    message=f"{request.tag} starting",
                )
            slot.changed.set()
        if slot.task is None or slot.task.done():
            slot.task = asyncio.create_task(
                self._supervise(slot), name=f"serving {request.namespace}/{request.model}"
            )
        return slot.state

    def state(self, namespace: str, model: str) -> ServingState | None:
        slot = self._slots.get((namespace, model))
        return None if slot is None else slot.state

    async def stop(self, namespace: str, model: str) -> None:
        async with self._lock:
            slot = self._slots.pop((namespace, model), None)
        if slot is not None:
            await self._close_slot(slot)

    async def suspend(self, namespace: str, model: str) -> None:
        # No canary record here: the champion's processes simply go.
        await self.stop(namespace, model)

    async def close(self) -> None:
        """Operator shutdown: every model's processes get SIGTERM, ``close_grace`` seconds,
        then SIGKILL. Cancelled (shutdown's deadline passed), it SIGKILLs whatever still
        runs before it returns, so no ``bentoml serve`` outlives the operator."""
        self._grace = self.config.close_grace
        async with self._lock:
            slots, self._slots = list(self._slots.values()), {}
        try:
            await asyncio.gather(*(self._close_slot(s) for s in slots), return_exceptions=True)
        finally:
            for process in list(self._live):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.popen.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.popen.wait(timeout=1.0)  # reaped: it was killed, this is quick
                self._reaped(process)
            # Endpoints a cancelled close did not reach (stop is idempotent), briefly.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    asyncio.gather(*(s.endpoint.stop() for s in slots), return_exceptions=True),
                    1.0,
                )
            if self._session is not None:
                await self._session.close()
                self._session = None

    # --- per model ------------------------------------------------------------------------

    def _dir(self, namespace: str, model: str) -> Path:
        return self.config.data_dir / "serving" / namespace / model

    async def _open(self, namespace: str, model: str) -> _Slot:
        directory = self._dir(namespace, model)
        port_file = directory / "port"

        def previous_port() -> int:
            directory.mkdir(parents=True, exist_ok=True)
            try:
                return int(port_file.read_text().strip())
            except (OSError, ValueError):
                return 0

        # A crashed operator (SIGKILL, out of memory) left its processes running, with
        # their ports and models loaded: they would pile up beside the new ones.
        await asyncio.to_thread(_kill_leftovers, directory)
        try:
            endpoint = StableEndpoint(
                self.config.host, await asyncio.to_thread(previous_port), f"{namespace}/{model}"
            )
            await endpoint.start()
            await asyncio.to_thread(port_file.write_text, f"{endpoint.port}\n")
        except OSError as exc:
            raise ServingBackendError(f"serving {namespace}/{model}: {exc}") from exc
        log.info("model %s/%s: stable endpoint %s", namespace, model, endpoint.url)
        return _Slot(namespace, model, endpoint)

    async def _close_slot(self, slot: _Slot) -> None:
        slot.want = None
        slot.changed.set()
        if slot.task is not None:
            slot.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await slot.task
        for drain in list(slot.drains):
            drain.cancel()
        await asyncio.gather(*slot.drains, return_exceptions=True)
        slot.endpoint.switch(None)
        if slot.active is not None:
            await self._terminate(slot.active)
            slot.active = None
        await slot.endpoint.stop()
        slot.state = replace(slot.state, phase="Stopped", serving=None, pending=None, since=_now())
        log.info("model %s/%s: serving stopped", slot.namespace, slot.model)

    def _set(self, slot: _Slot, **changes: object) -> None:
        before = slot.state
        after = replace(before, **changes)  # type: ignore[arg-type]
        if (after.phase, after.serving) != (before.phase, before.serving):
            after = replace(after, since=_now())
        slot.state = after
        if after != before:
            for listener in self._listeners:
                try:
                    listener(slot.namespace, slot.model)
                except Exception:  # a listener's bug must not stop the supervisor
                    log.exception("serving change listener failed")

    def _backoff(self, failures: int) -> float:
        return float(
            min(self.config.backoff_base * 2 ** max(failures - 1, 0), self.config.backoff_max)
        )

    async def _wait_change(self, slot: _Slot, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(slot.changed.wait(), timeout)
        slot.changed.clear()

    async def _supervise(self, slot: _Slot) -> None:
        while True:
            want = slot.want
            if want is None:
                return
            if slot.active is None or slot.active.tag != want.tag:
                slot.changed.clear()
                started = await self._start(slot, want)
                if started is None or started:
                    continue  # the wanted tag changed meanwhile, or it serves now
                await self._failed(slot, want)
                continue
            active = slot.active
            if active.popen.poll() is not None:
                slot.endpoint.switch(None)
                slot.active = None
                slot.state = replace(slot.state, last_exit=active.exit_message())
                log.warning("model %s/%s: %s", slot.namespace, slot.model, slot.state.last_exit)
                self._set(slot, serving=None)
                await self._failed(slot, want)
                continue
            if (
                slot.failures
                and active.ready_at is not None
                and time.monotonic() - active.ready_at > self.config.stable_after
            ):
                slot.failures = 0
                self._set(slot, failures=0, last_exit=None, next_attempt=None)
            await self._wait_change(slot, 0.5)

    async def _failed(self, slot: _Slot, want: ServeRequest) -> None:
        """Count a failure, report it, wait the backoff (or a change of what is wanted)."""
        slot.failures += 1
        delay = self._backoff(slot.failures)
        at = (datetime.now(UTC) + timedelta(seconds=delay)).strftime("%Y-%m-%dT%H:%M:%SZ")
        phase: Phase = "Failed" if slot.failures >= self.config.fail_after else "Restarting"
        self._set(
            slot,
            phase=phase,
            pending=want.tag,
            failures=slot.failures,
            next_attempt=at,
            message=f"{want.tag}: {slot.failures} failure(s) in a row; next attempt at {at}",
        )
        await self._wait_change(slot, delay)

    async def _start(self, slot: _Slot, want: ServeRequest) -> bool | None:
        """Start ``want.tag`` and switch the endpoint to it once ready. True: serving; False:
        it died or never became ready (``last_exit`` says why); None: ``slot.want`` changed."""
        port = _free_port(self.config.host)
        try:
            process = await asyncio.to_thread(self._spawn, slot, want, port)
        except OSError as exc:
            slot.state = replace(slot.state, last_exit=f"{want.tag}: cannot start: {exc}")
            return False
        if slot.state.phase not in ("Restarting", "Failed"):
            self._set(slot, phase="Starting", pending=want.tag, message=f"{want.tag} starting")
        log.info(
            "model %s/%s: starting %s on %s (log %s)",
            slot.namespace,
            slot.model,
            want.tag,
            process.url,
            process.log,
        )
        deadline = time.monotonic() + self.config.start_timeout
        try:
            while True:
                if slot.want != want:
                    await self._terminate(process)
                    return None
                if process.popen.poll() is not None:
                    slot.state = replace(slot.state, last_exit=process.exit_message())
                    log.warning("model %s/%s: %s", slot.namespace, slot.model, slot.state.last_exit)
                    return False
                if await self._ready(process.url):
                    break
                if time.monotonic() > deadline:
                    await self._terminate(process)
                    slot.state = replace(
                        slot.state,
                        last_exit=f"{want.tag} not ready after {self.config.start_timeout:g} s "
                        f"(log {process.log})",
                    )
                    return False
                await self._wait_change(slot, _POLL_SECONDS)
        except asyncio.CancelledError:
            await self._terminate(process)
            raise
        process.ready_at = time.monotonic()
        old = slot.active
        slot.active = process
        previous = slot.endpoint.switch(Upstream(process.url, want.tag))
        self._set(
            slot,
            phase="Serving",
            serving=want.tag,
            pending=None,
            next_attempt=None,
            message=f"{want.tag} answers on {slot.endpoint.url}",
        )
        log.info(
            "model %s/%s: %s serves on %s", slot.namespace, slot.model, want.tag, slot.endpoint.url
        )
        if old is not None:
            drain = asyncio.create_task(self._retire(old, previous))
            slot.drains.add(drain)
            drain.add_done_callback(slot.drains.discard)
        return True

    async def _retire(self, old: _Process, upstream: Upstream | None) -> None:
        """The replaced champion: let its in-flight requests finish, then stop it."""
        try:
            if upstream is not None:
                await StableEndpoint.drain(upstream, self.config.drain_timeout)
        finally:
            await self._terminate(old)

    async def _ready(self, url: str) -> bool:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2))
        try:
            async with self._session.get(f"{url}/readyz") as answer:
                return answer.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def _home(self, directory: Path, version: str) -> Path:
        """A ``BENTOML_HOME`` per process, sharing the model store (``models`` links to
        ``$LINEOPS_DATA_DIR/bentoml/models``). ``bentoml serve`` empties
        ``$BENTOML_HOME/prometheus_multiproc_dir`` when it starts and its ``/metrics`` reads
        every file there: in one shared home, each start would wipe the running processes'
        series and every process would export the others' (a rollout runs two at once)."""
        home = directory / f"bentoml-home-{version}"
        home.mkdir(parents=True, exist_ok=True)
        store = self.config.data_dir / "bentoml" / "models"
        store.mkdir(parents=True, exist_ok=True)
        link = home / "models"
        if not link.is_symlink():
            link.symlink_to(store, target_is_directory=True)
        return home

    def _spawn(self, slot: _Slot, want: ServeRequest, port: int) -> _Process:
        cfg = self.config
        directory = self._dir(slot.namespace, slot.model)
        directory.mkdir(parents=True, exist_ok=True)
        version = want.tag.partition(":")[2] or want.tag
        logfile = directory / f"{version}.log"
        env = {k: v for k, v in os.environ.items() if k.upper() not in _MULTIPROC_VARIABLES}
        env.update(
            BENTOML_HOME=str(self._home(directory, version)),
            BENTOML_DO_NOT_TRACK="True",
            LINEOPS_SERVING_MODEL_TAG=want.tag,
            LINEOPS_SERVING_MODEL_NAME=want.model,
            LINEOPS_SERVING_DATA_DIR=str(cfg.data_dir),
            LINEOPS_SERVING_DATAPLANE_URL=cfg.dataplane_url,
        )
        if cfg.token_file:
            env["LINEOPS_SERVING_DATAPLANE_TOKEN_FILE"] = cfg.token_file
        command = [
            cfg.bentoml,
            "serve",
            SERVICE,
            "--working-dir",
            str(cfg.bentos_dir),
            "--host",
            cfg.host,
            "--port",
            str(port),
        ]
        with logfile.open("ab") as out:
            popen = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=directory,
                env=env,
                start_new_session=True,  # its own group: stopped as one, with its workers
            )
        process = _Process(want.tag, f"http://{cfg.host}:{port}", popen, logfile)
        self._live.add(process)
        _record_pid(directory, popen.pid)
        return process

    def _reaped(self, process: _Process) -> None:
        self._live.discard(process)
        _forget_pid(process.log.parent, process.popen.pid)

    async def _terminate(self, process: _Process) -> None:
        """SIGTERM to the process group, ``term_grace`` seconds (``close_grace`` once the
        backend is closing), then SIGKILL; reaped."""
        try:
            await self._signal_group(process)
        finally:
            if process.popen.returncode is not None:
                self._reaped(process)

    async def _signal_group(self, process: _Process) -> None:
        pgid = process.popen.pid
        for sig, wait in ((signal.SIGTERM, self._grace), (signal.SIGKILL, 5.0)):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                process.popen.poll()
                if process.popen.returncode is not None and not await asyncio.to_thread(
                    _group_alive, pgid
                ):
                    return
                await asyncio.sleep(0.1)
        process.popen.poll()
        log.warning("serving process group %d of %s still alive after SIGKILL", pgid, process.tag)


# --- processes left by an earlier operator ------------------------------------------------
# Each started process has a file <model dir>/pids/<pid> holding its pid and start time
# (lineops.backends.process_ids): a pid reused by another process is never signalled.


def _record_pid(directory: Path, pid: int) -> None:
    with contextlib.suppress(OSError):
        (directory / "pids").mkdir(exist_ok=True)
        (directory / "pids" / str(pid)).write_text(process_ids.recorded(pid))


def _forget_pid(directory: Path, pid: int) -> None:
    with contextlib.suppress(OSError):
        (directory / "pids" / str(pid)).unlink(missing_ok=True)


def _kill_leftovers(directory: Path) -> int:
    """SIGKILL the process groups an earlier operator started for this model and left
    running; returns how many."""
    killed = 0
    try:
        entries = list((directory / "pids").iterdir())
    except OSError:
        return 0
    for entry in entries:
        try:
            pid = process_ids.same_process(entry.read_text(), strict=True)
        except OSError:
            continue
        if pid is not None:
            log.warning("stopping serving process %d left running by an earlier operator", pid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
                killed += 1
        with contextlib.suppress(OSError):
            entry.unlink()
    return killed
