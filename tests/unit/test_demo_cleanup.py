"""What `lineops demo` does when things go wrong: its training workers (detached from the
operator on purpose) do not outlive it, a bad --namespace is refused before anything starts,
and a data plane that does not answer is named with its URL, not a bare urllib error."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from lineops.backends.process_ids import recorded, start_time
from lineops.cli.demo_cmd import _post_bytes, _stop_workers
from lineops.cli.errors import CliError
from lineops.cli.main import main

from tests.support.operator import free_port


def test_the_demos_training_workers_are_stopped(tmp_path: Path) -> None:
    # A stand-in worker: a process group of its own, as the local training backend starts it.
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    try:
        run = tmp_path / "data" / "runs" / "run-1"
        run.mkdir(parents=True)
        (run / "worker.pid").write_text(recorded(worker.pid))
        # A stale pid file (another process has the number now, or none) is left alone.
        stale = tmp_path / "data" / "runs" / "run-0"
        stale.mkdir()
        (stale / "worker.pid").write_text(f"{worker.pid} 1")
        _stop_workers(tmp_path / "data")
        deadline = time.monotonic() + 30
        while worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.poll() is not None and start_time(worker.pid) is None
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_namespace_that_cannot_be_one_is_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path), "--namespace", "Plant_A"]) == 2
    assert "--namespace: 'Plant_A' is not a namespace name" in capsys.readouterr().err
    assert not (tmp_path / "controlplane").exists()


def test_a_data_plane_that_does_not_answer_is_named() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/namespaces/plant-a/lines/x/events"
    with pytest.raises(CliError, match=f"POST {url}: .*[Rr]efused"):
        _post_bytes(url, b"{}", "application/json")
