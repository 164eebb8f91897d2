"""Out-of-control stretches from a line's SPC charts: the rows anomaly detectors skip."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from lineops.api.productionline import ProductionLine
from lineops.cli.demo_data import ring_measurements
from lineops.dataplane.control import FOREVER, in_control, out_of_control
from lineops.dataplane.repositories.mes import Measurement

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "productionline.yaml"
SPEC = ProductionLine.model_validate(yaml.safe_load(EXAMPLE.read_text())).spec


def _stored(shifted: int) -> list[tuple[int, Measurement]]:
    records, _ = ring_measurements(shifted_subgroups=shifted)
    return [
        (i + 1, Measurement(r["characteristic"], r["timestamp"], r["value"]))
        for i, r in enumerate(records)
    ]


def test_a_shift_after_phase_one_is_out_of_control_until_the_next_subgroup() -> None:
    rows = _stored(10)
    intervals = out_of_control(SPEC, lambda name: rows if name == "ring_diameter" else [])
    assert intervals, "the +0.02 mm shift breaks nelson-1 on the x-bar chart"
    first = min(start for start, _ in intervals)
    # Not before the shifted subgroups (the 26th subgroup ends at measurement 130).
    assert first >= pd.Timestamp(rows[129][1].timestamp).value
    starts = sorted(start for start, _ in intervals)
    assert max(stop for _, stop in intervals) == FOREVER  # the newest subgroup still signals
    times = pd.Series(pd.to_datetime([rows[0][1].timestamp, rows[-1][1].timestamp], utc=True))
    assert in_control(times, intervals).tolist() == [True, False]
    assert starts == sorted(set(starts))


def test_an_in_control_history_has_no_stretches() -> None:
    rows = _stored(0)
    assert out_of_control(SPEC, lambda name: rows if name == "ring_diameter" else []) == []
