"""Worker process of one local training run: ``python -m lineops.backends.training.local_worker
--request FILE --run-dir DIR --pipeline-file FILE``.

Started detached by ``LocalTrainingBackend``; its stdout/stderr are ``worker.log``. It records
each transition in ``state.json``: Running, then Succeeded (metrics, model tag) or Failed
(failing step, message). If it dies without a verdict, the backend reports that itself.
A run canceled by the backend (``canceled.json``, see ``local_files``) is never overwritten:
both writes check the marker under the run's verdict lock, and a canceled worker writes nothing.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from lineops.backends.training import local_files as files
from lineops.backends.training.local_pipeline import run
from lineops.backends.training.pipeline_args import StepFailed
from lineops.backends.training.runs import RunRequest, RunState


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lineops-training-worker")
    parser.add_argument("--request", required=True, type=Path)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--pipeline-file", required=True, type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    request = RunRequest.from_json(args.request.read_text())
    directory: Path = args.run_dir
    before = files.read_state(directory)
    running = RunState(
        request.run_id,
        "Running",
        started_at=(before.started_at if before else None) or files.now_rfc3339(),
        message=f"running pipeline {request.pipeline}",
    )
    if not _record(directory, running):
        logging.info("run %s: canceled before it started", request.run_id)
        return 1
    logging.info("run %s: pipeline %s", request.run_id, args.pipeline_file)
    try:
        result = run(request, args.pipeline_file, directory / files.OUTPUTS, directory / files.LOG)
    except StepFailed as exc:
        final = replace(
            running,
            state="Failed",
            finished_at=files.now_rfc3339(),
            failing_step=exc.step,
            message=exc.message,
        )
    except Exception as exc:  # the verdict must be recorded, whatever went wrong
        traceback.print_exc()
        final = replace(
            running,
            state="Failed",
            finished_at=files.now_rfc3339(),
            message=f"{type(exc).__name__}: {files.strip_ansi(str(exc))}",
        )
    else:
        final = replace(
            running,
            state="Succeeded",
            finished_at=files.now_rfc3339(),
            metrics=result.metrics,
            model_tag=result.model_tag,
            message=f"model {result.model_tag}" if result.model_tag else "no model registered",
        )
    sys.stdout.flush()
    if not _record(directory, final):
        logging.info("run %s: canceled; its %s result is not recorded", request.run_id, final.state)
        return 1
    logging.info("run %s: %s %s", request.run_id, final.state, final.message)
    return 0 if final.state == "Succeeded" else 1


def _record(directory: Path, state: RunState) -> bool:
    """Write ``state`` unless the backend canceled the run; False when it did."""
    with files.verdict_lock(directory):
        if files.read_canceled(directory) is not None:
            return False
        files.write_state(directory, state)
    return True


if __name__ == "__main__":
    sys.exit(main())
