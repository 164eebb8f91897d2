"""Training sets: lots get only readings up to their end (or decision time), never later."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lineops.dataplane.matching import LotsError, training_set

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def test_no_future_data_leaks_into_a_lot() -> None:
    rows = []
    lots = []
    for i in range(20):
        start = T0 + pd.Timedelta(minutes=10 * i)
        end = start + pd.Timedelta(minutes=8)
        for s in range(0, 8 * 60 + 1, 30):  # readings through the lot, end included
            rows.append(("press-01", "vibration_rms", start + pd.Timedelta(seconds=s), 1.0 + i))
        # A huge spike one nanosecond and one second after the end: must never show up.
        rows.append(("press-01", "vibration_rms", end + pd.Timedelta(1, "ns"), 1e9))
        rows.append(("press-01", "vibration_rms", end + pd.Timedelta(seconds=1), 1e9))
        lots.append(
            {
                "lot": f"L{i}",
                "work_unit": "press-01",
                "start": start.isoformat(),
                "end": end.isoformat(),
                "product": "ring",
                "label": i % 2,
            }
        )
    readings = pd.DataFrame(rows, columns=["work_unit", "sensor", "timestamp", "value"])
    out = training_set(readings, pd.DataFrame(lots), ["vibration_rms"])
    assert len(out) == 20
    assert (out["vibration_rms__max"] < 1e6).all()
    assert (out["vibration_rms__count"] == 17).all()
    assert np.allclose(out["vibration_rms__mean"], 1.0 + np.arange(20))
    assert out["label"].tolist() == [i % 2 for i in range(20)]


def test_decision_time_cuts_earlier_than_the_end() -> None:
    readings = pd.DataFrame(
        {
            "work_unit": ["press-01"] * 3,
            "sensor": ["ram_force"] * 3,
            "timestamp": [T0, T0 + pd.Timedelta(minutes=1), T0 + pd.Timedelta(minutes=2)],
            "value": [1.0, 2.0, 100.0],
        }
    )
    lots = pd.DataFrame(
        [
            {
                "lot": "A",
                "work_unit": "press-01",
                "start": T0,
                "end": T0 + pd.Timedelta(minutes=3),
                "decision_time": T0 + pd.Timedelta(minutes=1),
            }
        ]
    )
    out = training_set(readings, lots, ["ram_force"])
    assert out.loc[0, "ram_force__max"] == 2.0
    assert out.loc[0, "as_of"] == T0 + pd.Timedelta(minutes=1)


def test_lot_without_readings_has_empty_features() -> None:
    readings = pd.DataFrame(columns=["work_unit", "sensor", "timestamp", "value"])
    lots = pd.DataFrame([{"lot": "A", "work_unit": "w", "start": T0, "end": T0}])
    out = training_set(readings, lots, ["s"])
    assert out.loc[0, "s__count"] == 0


def test_bad_lots_are_reported() -> None:
    with pytest.raises(LotsError, match="missing column 'end'"):
        training_set(pd.DataFrame(), pd.DataFrame([{"lot": 1, "work_unit": "w", "start": T0}]), [])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        # The same lot and unit twice: each row got both windows, data from after its end.
        (
            [("L1", "w", 0, 20), ("L2", "w", 20, 30), ("L1", "w", 20, 40)],
            "lots row 2: lot 'L1' on 'w' is already in row 0 (one row per lot and work unit)",
        ),
        ([("L1", "w", 0, 20), (None, "w", 20, 40)], "lots row 1: lot is missing"),
        ([("L1", " ", 0, 20)], "lots row 0: work_unit is missing"),
        ([("L1", "w", 0, None)], "lots row 0: end is missing"),
    ],
)
def test_lots_a_training_set_cannot_use_are_named(
    rows: list[tuple[str | None, str, int, int | None]], message: str
) -> None:
    lots = pd.DataFrame(
        [
            {
                "lot": lot,
                "work_unit": unit,
                "start": T0 + pd.Timedelta(minutes=start),
                "end": None if end is None else T0 + pd.Timedelta(minutes=end),
            }
            for lot, unit, start, end in rows
        ]
    )
    readings = pd.DataFrame(columns=["work_unit", "sensor", "timestamp", "value"])
    with pytest.raises(LotsError) as caught:
        training_set(readings, lots, ["s"])
    assert str(caught.value) == message


def test_one_lot_on_two_work_units_is_two_rows() -> None:
    lots = pd.DataFrame(
        [{"lot": "L1", "work_unit": u, "start": T0, "end": T0} for u in ("press", "grinder")]
    )
    readings = pd.DataFrame(columns=["work_unit", "sensor", "timestamp", "value"])
    assert len(training_set(readings, lots, ["s"])) == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # It was overwritten by the computed cut-off without a word.
        ({"as_of": T0}, "lots: column 'as_of' is lineops's own"),
        # pandas kept both, as s__count_x and s__count_y (or, with no readings, the lot's own
        # column passed for the feature).
        ({"s__count": 7}, "lots: column 's__count' is also a feature's name; rename it"),
    ],
)
def test_a_lot_column_lineops_computes_itself_is_refused(
    extra: dict[str, object], message: str
) -> None:
    lots = pd.DataFrame([{"lot": "A", "work_unit": "w", "start": T0, "end": T0, **extra}])
    for readings in (
        pd.DataFrame(columns=["work_unit", "sensor", "timestamp", "value"]),
        pd.DataFrame([{"work_unit": "w", "sensor": "s", "timestamp": T0, "value": 1.0}]),
    ):
        with pytest.raises(LotsError, match=message):
            training_set(readings, lots, ["s"])
