"""The embedded backend: run state from its files (live, finished, dead or never-started
workers), idempotent submit, a real detached worker running a tiny kfp.local pipeline, and
cancel (the worker's whole process group stopped, a verdict the worker cannot overwrite)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from lineops.backends.training import local, local_worker
from lineops.backends.training import local_files as files
from lineops.backends.training.local import LocalTrainingBackend
from lineops.backends.training.runs import RunRequest, RunState

from tests.support.processes import group_members

TOY_PIPELINE = """
from kfp import compiler, dsl

@dsl.component(base_image="python:3.11", packages_to_install=[], install_kfp_package=False)
def validate(epochs: int) -> int:
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    return epochs

@dsl.component(base_image="python:3.11", packages_to_install=[], install_kfp_package=False)
def train(epochs: int, metrics: dsl.Output[dsl.Metrics]) -> str:
    metrics.log_metric("macro_f1", 0.5 + epochs / 100)
    return "toy:v" + str(epochs)

@dsl.pipeline(name="toy")
def toy(task: str, epochs: int = 1) -> str:
    checked = validate(epochs=epochs).set_display_name("validate")
    return train(epochs=checked.output).outputs["Output"]

compiler.Compiler().compile(toy, "toy.yaml")

@dsl.component(base_image="python:3.11", packages_to_install=[], install_kfp_package=False)
def nap(seconds: int) -> int:
    import time
    time.sleep(seconds)
    return seconds

@dsl.pipeline(name="slow")
def slow(task: str, epochs: int = 1) -> int:
    return nap(seconds=epochs).set_display_name("nap").output

compiler.Compiler().compile(slow, "slow.yaml")
"""


@pytest.fixture(scope="module")
def pipelines(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pipelines")
    (out / "toy_pipeline.py").write_text(TOY_PIPELINE)  # kfp reads component source files
    subprocess.run([sys.executable, "toy_pipeline.py"], cwd=out, check=True, timeout=120)
    return out


def _backend(tmp_path: Path, pipelines: Path | None = None) -> LocalTrainingBackend:
    return LocalTrainingBackend(tmp_path / "data", pipelines or tmp_path)


def _request(run_id: str, epochs: str = "3", pipeline: str = "toy") -> RunRequest:
    return RunRequest(run_id, pipeline, "anomaly-detection", "te", {"epochs": epochs})


def _wait(backend: LocalTrainingBackend, run_id: str, timeout: float = 90) -> RunState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = asyncio.run(backend.status(run_id))
        assert state is not None
        if not state.in_flight:
            return state
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still in flight after {timeout}s")


def _seed(backend: LocalTrainingBackend, run_id: str, state: RunState, pid: int | None) -> Path:
    directory = files.run_dir(backend.data_dir, run_id)
    directory.mkdir(parents=True)
    files.write_state(directory, state)
    (directory / files.LOG).write_text("loading\nMemoryError: out of memory\n")
    if pid is not None:
        (directory / files.PID).write_text(str(pid))
    return directory


def test_unknown_run_is_none(tmp_path: Path) -> None:
    assert asyncio.run(_backend(tmp_path).status("nope")) is None


def test_running_run_with_a_live_worker_stays_running(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    _seed(backend, "r1", RunState("r1", "Running", started_at="2025-01-01T00:00:00Z"), os.getpid())
    state = asyncio.run(backend.status("r1"))
    assert state is not None and state.state == "Running"


def test_finished_state_is_reported_as_written(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    done = RunState("r1", "Succeeded", metrics={"auc": 0.9}, model_tag="m:1")
    _seed(backend, "r1", done, 999_999_999)
    assert asyncio.run(backend.status("r1")) == done


def test_a_dead_worker_without_a_verdict_is_failed_with_the_log_tail(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    directory = _seed(
        backend, "r1", RunState("r1", "Running", started_at="2025-01-01T00:00:00Z"), gone.pid
    )
    state = asyncio.run(backend.status("r1"))
    assert state is not None and state.state == "Failed"
    assert "worker exited unexpectedly" in state.message and "MemoryError" in state.message
    assert state.started_at == "2025-01-01T00:00:00Z" and state.finished_at
    assert files.read_state(directory) == state  # the verdict is sticky


def test_a_worker_pid_reused_by_another_process_is_not_taken_for_the_worker(
    tmp_path: Path,
) -> None:
    """After a restart the recorded pid may belong to another process: with the start time
    in the pid file, the run is seen as a dead worker's, not Running for ever."""
    backend = _backend(tmp_path)
    running = RunState("r1", "Running", started_at="2025-01-01T00:00:00Z")
    directory = _seed(backend, "r1", running, None)
    # This test's own process under the worker's pid, with another start time.
    (directory / files.PID).write_text(f"{os.getpid()} 1\n")
    state = asyncio.run(backend.status("r1"))
    assert state is not None and state.state == "Failed"
    assert "worker exited unexpectedly" in state.message


def test_a_run_whose_worker_never_started_fails_after_a_grace_period(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    directory = _seed(backend, "r1", RunState("r1", "Pending"), None)
    assert asyncio.run(backend.status("r1")).state == "Pending"  # type: ignore[union-attr]
    old = time.time() - 3600
    os.utime(directory, (old, old))
    state = asyncio.run(backend.status("r1"))
    assert state is not None and state.state == "Failed" and "never started" in state.message


def test_missing_pipeline_fails_at_once(tmp_path: Path) -> None:
    state = asyncio.run(_backend(tmp_path).submit("r1", _request("r1", pipeline="nope")))
    assert state.state == "Failed" and "pipeline 'nope' not found" in state.message


def test_worker_runs_the_pipeline_once_and_records_metrics_and_tag(
    tmp_path: Path, pipelines: Path
) -> None:
    backend = _backend(tmp_path, pipelines)
    first = asyncio.run(backend.submit("ok", _request("ok")))
    again = asyncio.run(backend.submit("ok", _request("ok", epochs="9")))
    assert first.state == "Pending" and again.run_id == "ok"
    state = _wait(backend, "ok")
    assert state.state == "Succeeded", state
    assert state.model_tag == "toy:v3" and state.metrics == {"macro_f1": pytest.approx(0.53)}
    directory = files.run_dir(backend.data_dir, "ok")
    assert sorted(p.name for p in directory.iterdir()) == [
        "outputs",
        "request.json",
        "state.json",
        "state.lock",
        "worker.log",
        "worker.pid",
    ]
    assert '"epochs": "3"' in (directory / files.REQUEST).read_text()  # the first request won


def test_failing_step_and_its_error_are_recorded(tmp_path: Path, pipelines: Path) -> None:
    backend = _backend(tmp_path, pipelines)
    asyncio.run(backend.submit("bad", _request("bad", epochs="0")))
    asyncio.run(backend.submit("worse", _request("worse", epochs="many")))
    state = _wait(backend, "bad")
    assert (state.state, state.failing_step) == ("Failed", "validate")
    assert state.message == "ValueError: epochs must be at least 1, got 0"
    worse = _wait(backend, "worse")
    assert worse.failing_step == "parameters" and "'many'" in worse.message


def test_a_killed_worker_is_reported_failed(tmp_path: Path, pipelines: Path) -> None:
    backend = _backend(tmp_path, pipelines)
    asyncio.run(backend.submit("k", _request("k")))
    pid = files.read_pid(files.run_dir(backend.data_dir, "k"))
    assert pid is not None
    os.killpg(pid, 9)  # the worker leads its own session (start_new_session)
    state = _wait(backend, "k")
    assert state.state in ("Failed", "Succeeded")  # it may have finished first
    if state.state == "Failed":
        assert "worker exited unexpectedly" in state.message


def _step_running(pgid: int) -> bool:
    """kfp.local's SubprocessRunner runs the step as ``python -m kfp.dsl.executor_main``."""
    for pid in group_members(pgid):
        try:
            if b"kfp.dsl.executor_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout}s")
        time.sleep(0.1)


def test_cancel_stops_a_real_worker_and_its_step_processes(tmp_path: Path, pipelines: Path) -> None:
    backend = _backend(tmp_path, pipelines)
    asyncio.run(backend.submit("c", _request("c", epochs="300", pipeline="slow")))
    directory = files.run_dir(backend.data_dir, "c")
    pid = files.read_pid(directory)
    assert pid is not None
    # The worker and kfp.local's step subprocess (the 300 s nap), in the worker's group.
    _until(lambda: _step_running(pid), "the nap step to start")
    running = asyncio.run(backend.status("c"))
    assert running is not None and running.state == "Running"

    state = asyncio.run(backend.cancel("c", "superseded by spec hash abc"))
    assert state is not None
    assert (state.state, state.failing_step) == ("Failed", None)
    assert state.message == "canceled: superseded by spec hash abc"
    assert state.started_at == running.started_at and state.finished_at
    assert group_members(pid) == []  # the whole process group is gone
    assert files.read_state(directory) == state  # state.json says so too
    assert asyncio.run(backend.status("c")) == state
    assert asyncio.run(backend.cancel("c", "another reason")) == state  # idempotent
    assert asyncio.run(backend.cancel("never", "x")) is None


def test_cancel_escalates_to_sigkill_for_a_group_that_ignores_sigterm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in worker (same pid file layout) whose child ignores SIGTERM."""
    monkeypatch.setattr(local, "TERM_GRACE_SECONDS", 0.5)
    stubborn = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)'])\n"
        "time.sleep(600)\n"
    )
    worker = subprocess.Popen([sys.executable, "-c", stubborn], start_new_session=True)
    try:
        backend = _backend(tmp_path)
        running = RunState("d", "Running", started_at="2025-01-01T00:00:00Z")
        directory = _seed(backend, "d", running, worker.pid)
        _until(lambda: len(group_members(worker.pid)) == 2, "the stand-in's child to start")
        state = asyncio.run(backend.cancel("d", "test"))
        assert state is not None and state.state == "Failed" and state.message == "canceled: test"
        assert state.started_at == "2025-01-01T00:00:00Z"
        assert group_members(worker.pid) == []
        assert worker.wait(timeout=5) == -signal.SIGKILL
        assert files.read_state(directory) == state
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def test_cancel_leaves_a_finished_run_as_it_is(tmp_path: Path) -> None:
    backend = _backend(tmp_path)
    done = RunState("r1", "Succeeded", metrics={"auc": 0.9}, model_tag="m:1")
    directory = _seed(backend, "r1", done, 999_999_999)
    assert asyncio.run(backend.cancel("r1", "too late")) == done
    assert not (directory / files.CANCELED).exists()


def test_a_canceled_worker_never_records_its_own_verdict(tmp_path: Path) -> None:
    """The worker's writes check the marker under the verdict lock: neither a late final
    state nor the first Running (a worker started after the cancel) replaces it."""
    directory = tmp_path / "run"
    directory.mkdir()
    canceled = RunState("w", "Failed", message="canceled: test")
    files.write_canceled(directory, canceled)
    files.write_state(directory, canceled)
    succeeded = RunState("w", "Succeeded", metrics={"auc": 1.0}, model_tag="m:1")
    assert local_worker._record(directory, succeeded) is False
    request = directory / files.REQUEST
    request.write_text(_request("w").to_json())
    args = ["--request", str(request), "--run-dir", str(directory)]
    assert local_worker.main([*args, "--pipeline-file", str(tmp_path / "none.yaml")]) == 1
    assert files.read_state(directory) == canceled
