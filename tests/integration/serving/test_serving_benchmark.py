"""``benchmarks/serving.py`` in a reduced mode (one second per phase, one repetition, small
batches): it starts its data plane, the bare endpoint and the quality inspector (with and
without its answer cache) as real ``bentoml serve`` processes, loads them from its own
load-generator processes and reports numbers. Asserted: the numbers are sane (every answer
a 200, counts and percentiles consistent, the prediction log took everything), not the
issue's speed targets, which are measured and reported in docs/benchmarks.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[3]
PHASES: Final = {
    f"{target}/{phase}"
    for target in ("bare", "inspector", "per_request")
    for phase in ("saturation", "one_connection", "half_rate")
} | {"inspector/predict_batch"}

pytestmark = pytest.mark.integration


def test_the_benchmark_runs_and_reports_sane_numbers(tmp_path: Path) -> None:
    out = tmp_path / "serving.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "serving.py"), "--seconds", "1"]
    command += ["--repeat", "1", "--connections", "4", "--batch-rows", "200"]
    command += ["--out", str(out), "--workdir", str(tmp_path / "work")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(out.read_text())
    assert results["model_tag"].startswith("press-fault:")
    (phases,) = results["repetitions"]
    assert set(phases) == PHASES
    for name, phase in phases.items():
        assert phase["requests"] > 0, name
        assert set(phase["statuses"]) == {"200"}, (name, phase["statuses"])
        assert 0 < phase["p50_ms"] <= phase["p99_ms"] <= phase["max_ms"], (name, phase)
    assert phases["inspector/predict_batch"]["rows_per_s"] == pytest.approx(
        200 * phases["inspector/predict_batch"]["per_s"], rel=0.01
    )
    half = phases["bare/saturation"]["per_s"] / 2
    assert phases["inspector/half_rate"]["rate"] == pytest.approx(half, rel=0.01)
    summary = results["summary"]
    assert summary["throughput_ratio"]["median"] == pytest.approx(
        phases["inspector/saturation"]["per_s"] / phases["bare/saturation"]["per_s"], abs=0.001
    )
    assert {"target", "met"} <= set(summary["batch_rows_per_s"])
    assert summary["per_request_throughput_ratio"]["median"] == pytest.approx(
        phases["per_request/saturation"]["per_s"] / phases["bare/saturation"]["per_s"], abs=0.001
    )
    assert results["prediction_log_failures"] == 0
    assert "repetition 1" in done.stderr  # the table
