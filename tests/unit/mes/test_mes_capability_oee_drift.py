"""Capability indices, the OEE time model and drift measures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import numpy as np
import pytest
from lineops.mes.capability import capability
from lineops.mes.drift import feature_drift, psi, psi_band
from lineops.mes.errors import MesInputError
from lineops.mes.oee import (
    CountRecord,
    MachineState,
    StateEvent,
    combine_oee,
    counts_from_records,
    events_from_records,
    oee_from_events,
    oee_from_totals,
    recent_window,
    shift_window,
)

from .conftest import MORTGAGE_COSTS, piston_ring_array

# ------------------------------------------------------------------------------ capability


def test_capability_one_sided_specs() -> None:
    upper = capability(piston_ring_array(), usl=74.05)
    lower = capability(piston_ring_array(), lsl=73.95)
    assert upper.cp is None and upper.pp is None and upper.cpl is None
    assert upper.cpk == pytest.approx((74.05 - upper.mean) / (3 * upper.sigma_within))
    assert lower.cpk == pytest.approx((lower.mean - 73.95) / (3 * lower.sigma_within))
    assert lower.ppk == pytest.approx((lower.mean - 73.95) / (3 * lower.sigma_overall))


def test_capability_within_sigma_methods() -> None:
    rings = piston_ring_array()
    by_s = capability(rings, 73.95, 74.05, within="s")
    assert by_s.within_method == "sbar/c4"
    assert by_s.sigma_within == pytest.approx(0.0094 / 0.94, abs=1e-4)
    individuals = capability(MORTGAGE_COSTS, usl=330.0)
    assert individuals.within_method == "mrbar/d2"
    assert individuals.sigma_within == pytest.approx(7.789 / 1.128, abs=1e-2)
    assert individuals.sigma_overall == pytest.approx(float(np.std(MORTGAGE_COSTS, ddof=1)))


def test_cpk_is_cp_when_centred() -> None:
    rows = np.array([[9.0, 10.0, 11.0], [10.0, 11.0, 9.0], [11.0, 9.0, 10.0]])
    cap = capability(rows, 7.0, 13.0)
    assert cap.cp == pytest.approx(cap.cpk)
    assert cap.pp == pytest.approx(cap.ppk)


@pytest.mark.parametrize(
    ("lsl", "usl", "message"),
    [
        (74.05, 73.95, r"lsl \(74.05\) must be below usl \(73.95\)"),
        (74.0, 74.0, r"lsl \(74\) must be below usl \(74\)"),
        (None, None, "at least one specification limit"),
    ],
)
def test_capability_bad_specs(lsl: float | None, usl: float | None, message: str) -> None:
    with pytest.raises(MesInputError, match=message):
        capability(piston_ring_array(), lsl, usl)


def test_capability_constant_data_is_rejected() -> None:
    with pytest.raises(MesInputError, match="sigma is 0"):
        capability([[0.1, 0.1], [0.1, 0.1]], 0.0, 1.0)
    # Subgroups that differ from each other but hold equal values: only within sigma is 0.
    with pytest.raises(MesInputError, match=r"do not vary within subgroups \(within sigma is 0"):
        capability([[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]], 0.0, 1.0)


# ------------------------------------------------------------------------------------- OEE

T0 = datetime(2024, 3, 1, 22, 0)


def _at(minutes: float) -> datetime:
    return datetime.fromtimestamp(T0.timestamp() + 60 * minutes)


def _night_shift_log() -> tuple[list[StateEvent], list[CountRecord]]:
    # A night shift 22:00-06:00 (480 min): 30 min planned break, 20 + 10 min breakdowns,
    # 15 min changeover, 5 min idle; the press made 900 parts at 20 s, 870 good.
    ev = [
        StateEvent(_at(-60), "press-01", MachineState.RUNNING),  # before the shift
        StateEvent(_at(60), "press-01", MachineState.DOWN, "hydraulics"),
        StateEvent(_at(80), "press-01", MachineState.RUNNING),
        StateEvent(_at(200), "press-01", MachineState.PLANNED_STOP, "break"),
        StateEvent(_at(230), "press-01", MachineState.CHANGEOVER),
        StateEvent(_at(245), "press-01", MachineState.IDLE),
        StateEvent(_at(250), "press-01", MachineState.DOWN, "jam"),
        StateEvent(_at(260), "press-01", MachineState.RUNNING),
    ]
    counts = [
        CountRecord(_at(-30), "press-01", 500, 400),  # outside the window
        CountRecord(_at(120), "press-01", 400, 390),
        CountRecord(_at(470), "press-01", 500, 480),
    ]
    return ev, counts


def test_oee_time_model_over_a_shift_crossing_midnight() -> None:
    start, end = shift_window(date(2024, 3, 1), time(22, 0), time(6, 0))
    assert (start, end) == (T0, datetime(2024, 3, 2, 6, 0))
    ev, counts = _night_shift_log()
    report = oee_from_events(ev, counts, window=(start, end), ideal_cycle_time=20.0)
    o = report.work_units["press-01"]
    assert o.planned_stop_time == 30 * 60
    assert o.planned_production_time == 450 * 60
    assert o.down_time == 30 * 60
    assert o.changeover_time == 15 * 60 and o.idle_time == 5 * 60
    assert o.run_time == 400 * 60
    assert o.downtime_by_reason == {"hydraulics": 1200.0, "jam": 600.0}
    assert o.availability == pytest.approx(400 / 450)
    assert o.performance == pytest.approx(900 * 20 / (400 * 60))
    assert o.quality == pytest.approx(870 / 900)
    assert o.oee == pytest.approx(o.availability * o.performance * o.quality)  # type: ignore[operator]
    assert o.failures == 2
    assert o.mtbf == pytest.approx(400 * 60 / 2)
    assert o.mttr == pytest.approx(30 * 60 / 2)
    assert report.lines["line"].oee == pytest.approx(o.oee)


def test_line_oee_adds_up_work_units() -> None:
    ev = [
        StateEvent(_at(0), "a", MachineState.RUNNING, line="L1"),
        StateEvent(_at(0), "b", MachineState.DOWN, "tooling", line="L1"),
        StateEvent(_at(30), "b", MachineState.RUNNING, line="L1"),
        StateEvent(_at(60), "a", MachineState.RUNNING, line="L1"),
    ]
    counts = [CountRecord(_at(10), "a", 60, 60), CountRecord(_at(40), "b", 30, 27)]
    report = oee_from_events(ev, counts, ideal_cycle_time={"a": 60.0, "b": 30.0})
    assert report.window == (_at(0), _at(60))
    line = report.lines["L1"]
    assert line.planned_production_time == 7200
    assert line.run_time == 5400
    assert line.availability == pytest.approx(0.75)
    assert line.performance == pytest.approx((60 * 60 + 30 * 30) / 5400)
    assert line.quality == pytest.approx(87 / 90)
    assert report.work_units["b"].mttr == 1800


def test_oee_without_failures_has_no_mtbf() -> None:
    ev = [StateEvent(_at(0), "a", MachineState.RUNNING), StateEvent(_at(10), "a", "idle")]  # type: ignore[arg-type]
    o = oee_from_events(ev, [], ideal_cycle_time=1.0).work_units["a"]
    assert o.mtbf is None and o.mttr is None and o.quality is None


def test_event_and_count_records_name_row_and_column() -> None:
    with pytest.raises(MesInputError, match=r"row 1, column 'state': unknown state 'broken'"):
        events_from_records(
            [
                {"timestamp": "2024-03-01T06:00", "work_unit": "p", "state": "running"},
                {"timestamp": "2024-03-01T07:00", "work_unit": "p", "state": "broken"},
            ]
        )
    with pytest.raises(MesInputError, match=r"row 0, column 'good': good count 12 exceeds total"):
        counts_from_records(
            [{"timestamp": "2024-03-01", "work_unit": "p", "total": "10", "good": "12"}]
        )
    with pytest.raises(MesInputError, match=r"row 0, column 'total': total count -1 is negative"):
        counts_from_records(
            [{"timestamp": "2024-03-01", "work_unit": "p", "total": "-1", "good": "0"}]
        )
    with pytest.raises(MesInputError, match=r"row 0, column 'timestamp'"):
        events_from_records([{"timestamp": "yesterday", "work_unit": "p", "state": "idle"}])


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"total": "1_000"}, r"column 'total': '1_000' is not a whole number"),
        ({"total": str(10**16), "good": "0"}, r"column 'total': total count 10+ is beyond 1e\+15"),
        ({"ideal_cycle_time": "1_0"}, r"column 'ideal_cycle_time': '1_0' is not a number"),
        ({"ideal_cycle_time": "inf"}, r"column 'ideal_cycle_time': ideal cycle time inf is beyond"),
        ({"ideal_cycle_time": "nan"}, r"column 'ideal_cycle_time': ideal cycle time nan must be"),
    ],
)
def test_count_cells_a_csv_writer_would_not_produce_are_refused(
    cells: dict[str, str], message: str
) -> None:
    row = {"timestamp": "2024-03-01", "work_unit": "p", "total": "10", "good": "9", **cells}
    with pytest.raises(MesInputError, match=rf"row 0, {message}"):
        counts_from_records([row])


def test_oee_totals_validation() -> None:
    with pytest.raises(MesInputError, match="good count 12 exceeds total count 10"):
        oee_from_totals(100, 0, 1, 10, 12)
    with pytest.raises(MesInputError, match="downtime"):
        oee_from_totals(100, 200, 1, 10, 5)
    for ideal in (0.0, -1.0):
        with pytest.raises(MesInputError, match=rf"ideal cycle time \({ideal:g} s\) must be"):
            oee_from_totals(100, 0, ideal, 10, 5)


def test_oee_from_events_refuses_a_zero_ideal_cycle_time_and_counts_rows_outside() -> None:
    start = _at(0)
    ev = [StateEvent(start, "a", MachineState.RUNNING), StateEvent(_at(60), "a", MachineState.IDLE)]
    with pytest.raises(MesInputError, match=r"ideal cycle time of work unit 'a' \(0 s\)"):
        oee_from_events(ev, [], ideal_cycle_time={"a": 0.0})
    with pytest.raises(MesInputError, match=r"column 'ideal_cycle_time'"):
        oee_from_events(ev, [], ideal_cycle_time=0.0)
    counts = [CountRecord(_at(m), "a", 10, 10) for m in (-5, 0, 30, 60, 90)]
    report = oee_from_events(ev, counts, ideal_cycle_time=1.0)
    assert report.counts_outside == 3  # before the start, and at or after the end
    assert report.work_units["a"].total_count == 20


# ----------------------------------------------------------------------------------- drift


def test_psi_bands() -> None:
    assert psi_band(0.05) == "stable"
    assert psi_band(0.10) == "moderate"
    assert psi_band(0.25) == "significant"


def test_psi_is_zero_for_same_sample_and_grows_with_shift() -> None:
    rng = np.random.default_rng(7)
    ref = rng.normal(size=5000)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    small = psi(ref, rng.normal(0.1, 1, 5000))
    large = psi(ref, rng.normal(1.0, 1, 5000))
    assert small < 0.10 < 0.25 < large


def test_psi_known_value() -> None:
    # Two bins split at the reference median: 50/50 expected, 80/20 actual.
    # PSI = (0.8 - 0.5) ln(0.8/0.5) + (0.2 - 0.5) ln(0.2/0.5) = 0.4159
    ref = np.arange(100.0)
    cur = np.r_[np.zeros(80), np.full(20, 99.0)]
    assert psi(ref, cur, bins=2) == pytest.approx(0.3 * np.log(1.6) - 0.3 * np.log(0.4))


def test_feature_drift_per_feature() -> None:
    rng = np.random.default_rng(1)
    ref = {"a": rng.normal(size=2000), "b": rng.normal(size=2000)}
    cur = {"a": rng.normal(size=2000), "b": rng.normal(2.0, 1.0, 2000)}
    out = {d.feature: d for d in feature_drift(ref, cur)}
    assert out["a"].band == "stable" and out["a"].ks_pvalue > 0.001
    assert out["b"].band == "significant" and out["b"].ks_pvalue < 1e-6
    with pytest.raises(MesInputError, match="column 'c'"):
        feature_drift({"c": [1.0]}, {})


def test_combined_oee_weights_by_time_not_by_unit() -> None:
    a = oee_from_totals(1000, 100, 1, 800, 800)  # availability 0.9
    b = oee_from_totals(3000, 1500, 1, 1000, 900)  # availability 0.5
    both = combine_oee([a, b])
    assert both.planned_production_time == 4000 and both.run_time == 2400
    assert both.availability == pytest.approx(0.6)  # not the mean of 0.9 and 0.5
    assert both.total_count == 1800 and both.good_count == 1700
    assert combine_oee([a]) == a


def test_oee_from_events_counts_real_hours_when_window_and_events_share_a_zone() -> None:
    # Berlin's clocks go back on 2026-10-25: 22:00 to 06:00 is nine hours. Datetimes that
    # share a ZoneInfo subtract by wall clock (eight), so the figures are taken in UTC.
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 24, 22, tzinfo=berlin)
    end = datetime(2026, 10, 25, 6, tzinfo=berlin)
    events = [
        StateEvent(datetime(2026, 10, 24, 21, tzinfo=berlin), "press", MachineState.RUNNING),
        StateEvent(datetime(2026, 10, 25, 5, tzinfo=berlin), "press", MachineState.DOWN),
    ]
    report = oee_from_events(events, [], window=(start, end), ideal_cycle_time=1.0)
    unit = report.work_units["press"]
    assert unit.planned_production_time == 9 * 3600
    assert (unit.run_time, unit.down_time) == (8 * 3600, 3600)
    assert report.window == (start, end)  # shown as given


def test_the_recent_window_runs_to_the_newest_record_and_keeps_its_count() -> None:
    t = lambda hour: datetime(2026, 11, 20, hour, tzinfo=UTC)  # noqa: E731
    events = [
        StateEvent(t(6), "press-01", MachineState.RUNNING),
        StateEvent(t(8), "press-01", MachineState.DOWN),
    ]
    counts = [CountRecord(t(7), "press-01", 100, 90), CountRecord(t(9), "press-01", 1000, 10)]

    window = recent_window(events, counts)
    report = oee_from_events(events, counts, window=window, ideal_cycle_time=1.0, through_end=True)

    assert window == (t(6), t(9))
    assert report.work_units["press-01"].quality == pytest.approx(100 / 1100)
    # A period's window leaves a count at its end to the next period.
    period = oee_from_events(events, counts, window=window, ideal_cycle_time=1.0)
    assert period.work_units["press-01"].quality == pytest.approx(0.9)
    # Older records fall out after 8 h; one event alone is no window.
    assert recent_window(events, [CountRecord(t(20), "press-01", 1, 1)]) == (t(12), t(20))
    assert recent_window(events[:1], []) is None
