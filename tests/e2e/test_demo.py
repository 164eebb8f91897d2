"""`make demo`'s main job, end to end, as a user runs it: a separate control plane, the
operator as a child process, real records, real replay, real kfp.local training."""

from __future__ import annotations

import re
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
    # The TE line's history went in through the data plane, faults marked by machine events.
    assert "backfilling te-line's history" in text
    # Both models trained on te-line's own data and were promoted; each card says on what.
    assert text.count("PromotionBlocked=False (Promoted)") == 2
    cards = re.findall(
        r"trained on line te-line: (\d+) rows from (\S+) to (\S+) \(window [^)]*\), 52 features",
        text,
    )
    assert len(cards) == 2, text[-5000:]
    assert all(int(rows) > 2500 for rows, _, _ in cards)
    # The champion classifier, scored by `lineops model score` on runs joined with repairs,
    # says "normal" again after each repair (the previous filter never left a fault).
    after = re.search(r"after each repair \(past a 20-row grace\) ([\d.]+)% of the rows", text)
    assert after is not None, text[-3000:]
    assert float(after.group(1)) >= 90.0
    table = text[text.index("kubectl get pl,qm") :]
    assert "press-line-1   True    Reconciled   0.887" in table
    assert "te-line-faults    True    Reconciled   te-line-faults:" in table
    # The week's plan for the press line: stored, in the line's status, drawn as a Gantt chart.
    assert re.search(r"status\.plan: 8 orders, \d+ late; next maintenance press-01", text)
    assert (out / "plan" / "plan-gantt.png").stat().st_size > 10_000
    # The operator serves the champion: replayed lots judged through predict_batch, a live
    # lot through `lineops predict` (endpoint from the model's status).
    served = re.search(r"lot te-lot-0002: 55 TE rows \(fault 6 from row 160\) judged (.*)", text)
    assert served is not None and "6: " in served.group(1), text[-3000:]
    assert "plant-a/te-line te-process lot te-lot-0011: " in text, text[-3000:]
    # Lots (#22): the replay's readings opened and closed the lots; a backward trace reaches
    # the supplier lots, the lot names the model tag that judged it, a recall finds it.
    made = re.search(r"te-line's readings opened and closed (\d+) production lots", text)
    assert made is not None and int(made.group(1)) >= 10, text[-3000:]
    trace = text[text.index("lineops lots trace --backward te-lot-0002") :]
    assert "mat-A-117" in trace and "mat-C-88" in trace, trace[:3000]
    assert re.search(r"te-lot-0002 was judged by te-line-faults:\S+: 55 predictions", text)
    recall = text[text.index("lineops lots recall --supplier-lot ACM-2026-117") :]
    assert "te-lot-0002" in recall, recall[:3000]
    # The report is on disk, and the operator left no traceback in its log.
    assert (out / "report" / "ring_diameter-control-chart.png").stat().st_size > 10_000
    assert "Traceback" not in (out / "operator.log").read_text()
