"""The live OEE series of a line follow its ratios: a ratio that has no denominator any more
(no part counted in the recent window) has no sample, rather than its last value left
standing. Real data plane (SQLite), the operator's in-process client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from lineops.backends.data_plane_client import LocalDataPlane
from lineops.backends.mes_metrics import MesMetrics
from lineops.cli.ingest_cmd import load_line
from lineops.dataplane.db.database import embedded_url
from lineops.mes.oee import counts_from_records, events_from_records, oee_from_events, recent_window
from lineops.mes.stored_series import count_records, event_records
from lineops.services.monitoring.line_monitor import LineMonitors
from prometheus_client import CollectorRegistry

from tests.support.dataplane_server import EXAMPLE_LINE, LINE, ServedApp, served_dataplane

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def _post(served: ServedApp, route: str, records: list[dict[str, object]]) -> None:
    answer = requests.post(served.line_url(route), json={"records": records}, timeout=30)
    assert answer.status_code == 200, answer.text


def _at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def test_a_ratio_without_a_denominator_leaves_no_sample(tmp_path: Path) -> None:
    spec = load_line(str(EXAMPLE_LINE)).spec
    registry = CollectorRegistry()
    with served_dataplane(tmp_path, embedded_url(tmp_path)) as served:
        monitors = LineMonitors(LocalDataPlane(served.app), MesMetrics(registry))
        monitor = monitors.for_line(LINE.namespace, LINE.name, 1, spec)
        labels = {"namespace": LINE.namespace, "line": LINE.name, "work_unit": "press-01"}

        def sample(component: str) -> float | None:
            return registry.get_sample_value(
                "lineops_oee_ratio", {**labels, "component": component}
            )

        _post(served, "events", [{"workUnit": "press-01", "timestamp": _at(0), "state": "running"}])
        _post(
            served,
            "counts",
            [{"workUnit": "press-01", "timestamp": _at(1), "total": 60, "good": 30}],
        )
        report = monitor.evaluate()
        assert report.oee["press-01"].quality == 0.5 and sample("quality") == 0.5
        # Ten hours on, the press went down: no part in the recent window, no quality.
        _post(
            served,
            "events",
            [{"workUnit": "press-01", "timestamp": _at(11), "state": "down", "reason": "jam"}],
        )
        # A spec edit (a new generation) makes a new monitor: it still removes what the last
        # one set.
        monitor = monitors.for_line(LINE.namespace, LINE.name, 2, spec)
        report = monitor.evaluate()
        assert report.oee["press-01"].quality is None and report.oee["press-01"].oee is None
        assert sample("quality") is None and sample("oee") is None
        # Still computed for the line: what LineopsOeeMetricsAbsent watches stays.
        newest = registry.get_sample_value(
            "lineops_oee_newest_record_timestamp_seconds",
            {"namespace": LINE.namespace, "line": LINE.name},
        )
        assert newest == (START + timedelta(hours=11)).timestamp()
        assert sample("availability") == report.oee["press-01"].availability is not None


def test_the_monitor_reads_its_last_days_and_judges_as_on_the_whole_log(tmp_path: Path) -> None:
    # A month of history: the unit's state in force at the cut comes with the last days, so
    # the live OEE is what the whole log gives.
    spec = load_line(str(EXAMPLE_LINE)).spec
    with served_dataplane(tmp_path, embedded_url(tmp_path)) as served:
        _post(
            served,
            "events",
            [
                {"workUnit": "press-01", "timestamp": _at(-24 * 30), "state": "running"},
                {"workUnit": "grinder-01", "timestamp": _at(-24 * 20), "state": "running"},
                {"workUnit": "grinder-01", "timestamp": _at(1), "state": "down", "reason": "x"},
                {"workUnit": "grinder-01", "timestamp": _at(3), "state": "running"},
            ],
        )
        _post(
            served,
            "counts",
            [
                {"workUnit": "press-01", "timestamp": _at(h), "total": 100, "good": 99}
                for h in (-24 * 29, 2, 4)
            ],
        )
        reader = LocalDataPlane(served.app)
        monitor = LineMonitors(reader, MesMetrics(CollectorRegistry())).for_line(
            LINE.namespace, LINE.name, 1, spec
        )
        report = monitor.evaluate()
        states = events_from_records(event_records(reader.events(LINE)))
        counts = counts_from_records(count_records(reader.counts(LINE)))
        ideal = {w.name: w.ideal_cycle_seconds for w in spec.work_units}
        whole = oee_from_events(
            states,
            counts,
            window=recent_window(states, counts),
            ideal_cycle_time=ideal,
            through_end=True,
        )
        assert report.oee["press-01"] == whole.work_units["press-01"]
        assert report.oee["grinder-01"] == whole.work_units["grinder-01"]
        assert report.oee["press-01"].total_count == 200  # not the month-old count
        assert len(reader.events(LINE, START)) == 4  # both units' states in force, and two after
