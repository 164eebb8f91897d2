"""What one OEE recompute of a line's monitor costs once the line has a long history: the
whole event and count log read back (what the monitor did up to 2026-12-01) against only the
last days it looks at (``since``, with each unit's state in force then), measured in the same
run on the same SQLite store. Both give the same figures; the script checks that.

    .venv/bin/python benchmarks/monitor_history.py [--days 90] [--runs 5]

The history: the example line's four work units, each with a production count every minute
and a state change every two hours (running, then ten minutes down), for ``--days`` days.
A recompute is what the monitor runs whenever a record arrives: read the records, parse
them, compute the live OEE over its eight-hour window. The monitor reads nine days back
(``RECORDS_SPAN``: seven days of shift history, a shift overlapping their start); the shift
history itself is left out of both paths (it is the same work on the same nine days).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineops.api.productionline import ProductionLine  # noqa: E402
from lineops.dataplane.db.database import open_database, sqlite_url  # noqa: E402
from lineops.dataplane.lines import LineRef  # noqa: E402
from lineops.dataplane.repositories.mes import (  # noqa: E402
    MachineEvent,
    MesRepository,
    ProductionCount,
)
from lineops.dataplane.repositories.shifts import utc_text  # noqa: E402
from lineops.mes.oee import (  # noqa: E402
    OeeReport,
    counts_from_records,
    events_from_records,
    oee_from_events,
    recent_window,
)
from lineops.mes.stored_series import count_records, event_records  # noqa: E402
from lineops.services.monitoring.line_monitor import RECORDS_SPAN  # noqa: E402

LINE = LineRef("plant-a", "press-line-1")
END = datetime(2026, 11, 30, tzinfo=UTC)


def _fill(repo: MesRepository, units: list[str], days: int) -> tuple[int, int]:
    start = END - timedelta(days=days)
    events: list[MachineEvent] = []
    counts: list[ProductionCount] = []
    for unit in units:
        at = start
        while at < END:
            events.append(MachineEvent(unit, utc_text(at), "running"))
            down = at + timedelta(minutes=110)
            events.append(MachineEvent(unit, utc_text(down), "down", "jam"))
            at += timedelta(hours=2)
        minutes = days * 24 * 60
        counts += [
            ProductionCount(unit, utc_text(start + timedelta(minutes=m + 1)), 40, 39)
            for m in range(minutes)
        ]
    for i in range(0, len(events), 50_000):
        repo.add_events(LINE, events[i : i + 50_000])
    for i in range(0, len(counts), 50_000):
        repo.add_counts(LINE, counts[i : i + 50_000])
    return len(events), len(counts)


def _recompute(
    events: list[MachineEvent], counts: list[ProductionCount], ideal: dict[str, float]
) -> OeeReport:
    states = events_from_records(event_records(events))
    parsed = counts_from_records(count_records(counts))
    window = recent_window(states, parsed)
    assert window is not None
    return oee_from_events(states, parsed, window=window, ideal_cycle_time=ideal, through_end=True)


def _median(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    spec = ProductionLine.model_validate(
        yaml.safe_load((ROOT / "examples" / "productionline.yaml").read_text())
    ).spec
    units = [w.name for w in spec.work_units]
    ideal = {w.name: w.ideal_cycle_seconds for w in spec.work_units}
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(sqlite_url(Path(tmp) / "lineops.db"))
        try:
            repo = db.mes
            n_events, n_counts = _fill(repo, units, args.days)

            def whole() -> OeeReport:
                return _recompute(repo.events(LINE), repo.counts(LINE), ideal)

            def recent() -> OeeReport:
                newest = repo.newest(LINE)
                assert newest is not None
                since = utc_text(datetime.fromisoformat(newest) - RECORDS_SPAN)
                return _recompute(repo.events(LINE, since), repo.counts(LINE, since), ideal)

            t_whole, r_whole = _median(args.runs, whole)
            t_recent, r_recent = _median(args.runs, recent)
        finally:
            db.close()
    assert r_whole.work_units == r_recent.work_units, "the two paths disagree"
    print(
        f"{args.days} days, {len(units)} work units: {n_events:,} events, {n_counts:,} counts "
        f"(SQLite, median of {args.runs})"
    )
    print(f"{'path':<44} {'s per recompute':>16} {'ratio':>7}")
    print(f"{'whole log (baseline, before 2026-12-01)':<44} {t_whole:>16.3f} {1.0:>7.2f}")
    print(
        f"{'since newest - RECORDS_SPAN (9 days)':<44} {t_recent:>16.3f} {t_recent / t_whole:>7.3f}"
    )
    print(f"same OEE per unit from both paths: {r_whole.work_units == r_recent.work_units}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
