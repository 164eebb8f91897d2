"""The duplicate memory keeps each work unit's keys within the horizon behind that unit's own
watermark: a unit that stops sending (maintenance) no longer holds every other unit's keys."""

from __future__ import annotations

import numpy as np
from lineops.dataplane.ingestion.state import LineState, reading_keys

S = 10**9


def _accept(state: LineState, unit: str, seconds: list[int]) -> np.ndarray:
    stamps = np.array(seconds, dtype=np.int64) * S
    units = np.array([unit] * len(seconds), dtype=object)
    keys = reading_keys(units, np.array(["v"] * len(seconds), dtype=object), stamps)
    state.accept(units, stamps, keys)
    return keys


def test_a_quiet_unit_does_not_pin_the_other_units_keys() -> None:
    state = LineState(horizon_ns=60 * S)
    quiet = _accept(state, "press-01", [0, 1, 2])  # then down for maintenance
    for start in range(0, 3600, 60):  # the grinder sends for an hour
        _accept(state, "grinder-01", list(range(start, start + 60)))

    # The grinder's keys within 60 s of its watermark (3599), and the press's last ones.
    assert len(state) == 61 + 3
    assert state.seen(quiet).all()
    recent = reading_keys(
        np.array(["grinder-01"], dtype=object),
        np.array(["v"], dtype=object),
        np.array([3599 * S]),
    )
    assert state.seen(recent).all()
