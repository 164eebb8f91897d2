"""An in-memory TrainingBackend for the service's decisions (the real ones are tested in
test_local_backend.py, test_kfp_client.py and tests/integration/test_training.py)."""

from __future__ import annotations

from dataclasses import replace

from lineops.backends.training.runs import RunRequest, RunState, TrainingBackendError


class FakeBackend:
    def __init__(self) -> None:
        self.runs: dict[str, RunState] = {}
        self.requests: dict[str, RunRequest] = {}
        self.submits: list[str] = []
        self.cancels: list[tuple[str, str]] = []
        self.down = False

    async def submit(self, run_id: str, request: RunRequest) -> RunState:
        if self.down:
            raise TrainingBackendError("backend down")
        self.submits.append(run_id)
        if run_id not in self.runs:
            self.requests[run_id] = request
            self.runs[run_id] = RunState(run_id, "Running", started_at="2025-03-10T10:00:00Z")
        return self.runs[run_id]

    async def status(self, run_id: str) -> RunState | None:
        if self.down:
            raise TrainingBackendError("backend down")
        return self.runs.get(run_id)

    async def cancel(self, run_id: str, reason: str) -> RunState | None:
        if self.down:
            raise TrainingBackendError("backend down")
        self.cancels.append((run_id, reason))
        state = self.runs.get(run_id)
        if state is None or not state.in_flight:
            return state  # unknown, or it ended first: unchanged
        self.runs[run_id] = replace(
            state, state="Failed", finished_at="2025-03-10T10:02:00Z", message=f"canceled: {reason}"
        )
        return self.runs[run_id]

    async def close(self) -> None:
        pass

    def finish(self, run_id: str, **metrics: float) -> None:
        self.runs[run_id] = replace(
            self.runs[run_id],
            state="Succeeded",
            finished_at="2025-03-10T10:05:00Z",
            metrics=metrics,
            model_tag=f"model:{run_id}",
        )

    def fail(self, run_id: str, step: str, message: str, finished: str) -> None:
        self.runs[run_id] = replace(
            self.runs[run_id],
            state="Failed",
            finished_at=finished,
            failing_step=step,
            message=message,
        )
