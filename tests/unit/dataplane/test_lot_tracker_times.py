"""The lot tracker's reading times as stored text: cut to whole microseconds, never rounded
up past the reading they come from."""

from __future__ import annotations

from lineops.dataplane.lot_tracker import _iso, _ns


def test_a_reading_a_nanosecond_before_a_second_starts_its_lot_in_that_second() -> None:
    ns = 1_764_547_200 * 10**9 + 999_999_999  # 2025-12-01T00:00:00.999999999Z
    assert _iso(ns) == "2025-12-01T00:00:00.999999+00:00"
    assert _ns(_iso(ns)) <= ns  # a lot's start is never after its first reading


def test_stored_times_read_back_to_the_same_microsecond() -> None:
    for stamp in ("2026-11-20T06:00:00+00:00", "2026-11-20T06:00:00.250000+00:00"):
        assert _iso(_ns(stamp)) == stamp
    assert _ns("2026-11-20T06:00:00") == _ns("2026-11-20T06:00:00+00:00")  # naive is UTC
