"""The live chart tracker equals the batch analysis on the same data, however it arrives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.repositories.mes import Measurement
from lineops.mes.chart_tracker import ChartTracker
from lineops.mes.data import ChartData
from lineops.mes.phases import analyze

from tests.unit.mes.conftest import ORANGE_JUICE, piston_ring_array

SPEC = ProductionLineSpec.model_validate(
    yaml.safe_load(
        (Path(__file__).resolve().parents[3] / "examples/productionline.yaml").read_text()
    )["spec"]
)


def _rows(
    values: list[float], characteristic: str, size: int | None = None, start: int = 1
) -> list[tuple[int, Measurement]]:
    return [
        (start + i, Measurement(characteristic, "2026-11-20T06:00:00+00:00", v, size))
        for i, v in enumerate(values)
    ]


@pytest.mark.parametrize("chunk", [1, 3, 7, 40, 1000])
def test_streamed_xbar_r_matches_batch(chunk: int) -> None:
    rings = piston_ring_array()
    data = np.vstack([rings, rings[:10] + 0.02])
    flat = [float(v) for v in data.reshape(-1)]
    tracker = ChartTracker(SPEC.quality_characteristic("ring_diameter"))  # type: ignore[arg-type]
    found = []
    rows = _rows(flat, "ring_diameter")
    for i in range(0, len(rows), chunk):
        found += tracker.add(rows[i : i + chunk]).new_violations
    _, batch = analyze(
        "xbar-r", ChartData.subgroups(data), ["nelson-1", "nelson-2", "nelson-5"], phase1=25
    )
    assert sorted(found) == sorted(batch.violations)
    assert any(v.rule == "nelson-1" and v.chart == "xbar" for v in found)
    assert tracker.snapshot().in_control is False


def test_not_established_before_phase_one_and_tail_waits_for_a_full_subgroup() -> None:
    tracker = ChartTracker(SPEC.quality_characteristic("ring_diameter"))  # type: ignore[arg-type]
    snap = tracker.add(_rows([74.0] * 24 * 5 + [74.0, 74.0], "ring_diameter"))
    assert (snap.subgroups, snap.established, snap.in_control) == (24, False, None)


def test_p_chart_uses_sample_size_and_reports_capability_none() -> None:
    tracker = ChartTracker(SPEC.quality_characteristic("reject_fraction"))  # type: ignore[arg-type]
    snap = tracker.add(_rows([float(c) for c in ORANGE_JUICE], "reject_fraction", size=50))
    assert snap.established and snap.capability is None
    _, batch = analyze(
        "p", ChartData.attributes(ORANGE_JUICE, 50, defectives=True), ["nelson-1"], phase1=25
    )
    assert sorted(snap.new_violations) == sorted(batch.violations)


def test_capability_of_the_piston_rings() -> None:
    tracker = ChartTracker(SPEC.quality_characteristic("ring_diameter"))  # type: ignore[arg-type]
    snap = tracker.add(_rows([float(v) for v in piston_ring_array().reshape(-1)], "ring_diameter"))
    assert snap.capability is not None
    # Montgomery prints Cp = 1.68 from sigma rounded to 0.0099; unrounded R-bar/d2 gives 1.668.
    assert snap.capability.cp == pytest.approx(1.668, abs=0.001)
