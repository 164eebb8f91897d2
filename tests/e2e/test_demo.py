"""`make demo`'s main job, end to end, as a user runs it: a separate control plane, the
operator as a child process, real records, real replay, real kfp.local training."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_a_whole_line(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "lineops.cli.main", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-5000:]
    # The line judged the shifted ring diameters and computed its KPIs.
    assert "InControl=False (RuleViolation): ring_diameter: nelson-1 on xbar" in text
    assert "status.kpis: OEE 0.887" in text
    # Junk was quarantined, the TE replay arrived whole, features came back from Feast.
    assert "'reason': 'non_numeric'" in text
    assert "received=49920, accepted=49920, quarantined=0" in text
    assert "online features (Feast) for te-process" in text
    # Both models trained and were promoted; kubectl's table shows the champions.
    assert text.count("PromotionBlocked=False (Promoted)") == 2
    table = text[text.index("kubectl get pl,qm") :]
    assert "press-line-1   True    Reconciled   0.887" in table
    assert "press-line-1-faults    True    Reconciled   press-line-1-faults:" in table
    # The report is on disk, and the operator left no traceback in its log.
    assert (out / "report" / "ring_diameter-control-chart.png").stat().st_size > 10_000
    assert "Traceback" not in (out / "operator.log").read_text()
