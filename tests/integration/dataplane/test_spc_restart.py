"""An operator restart does not count (and alert on) the SPC violations it counted before:
the monitor keeps what it counted in the line's status.spc.counted and a new process starts
from there. Real data plane (SQLite), the operator's in-process data-plane client."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lineops.backends.data_plane_client import LocalDataPlane
from lineops.backends.mes_metrics import MesMetrics
from lineops.cli.ingest_cmd import load_line
from lineops.dataplane.db.database import embedded_url
from lineops.services.monitoring.line_monitor import LineMonitors
from prometheus_client import CollectorRegistry

from tests.support.dataplane_server import EXAMPLE_LINE, LINE, ServedApp, served_dataplane

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def _post(served: ServedApp, values: list[float], first: int) -> None:
    import requests

    records = [
        {
            "characteristic": "ring_diameter",
            "timestamp": (START + timedelta(seconds=first + i)).isoformat(),
            "value": v,
        }
        for i, v in enumerate(values)
    ]
    answer = requests.post(served.line_url("measurements"), json={"records": records}, timeout=30)
    assert answer.status_code == 200 and answer.json()["accepted"] == len(values), answer.text


def _violations(registry: CollectorRegistry) -> float:
    total = 0.0
    for metric in registry.collect():
        if metric.name == "lineops_spc_violations":
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


def test_a_restarted_monitor_counts_only_new_violations(tmp_path: Path) -> None:
    spec = load_line(str(EXAMPLE_LINE)).spec
    rng = random.Random(3)
    with served_dataplane(tmp_path, embedded_url(tmp_path)) as served:
        reader = LocalDataPlane(served.app)
        # 25 in-control subgroups (Phase I), then 5 far off target: violations.
        _post(served, [74.0 + rng.gauss(0, 0.005) for _ in range(125)], 0)
        _post(served, [74.2 + rng.gauss(0, 0.005) for _ in range(25)], 125)
        before = CollectorRegistry()
        report = (
            LineMonitors(reader, MesMetrics(before))
            .for_line(LINE.namespace, LINE.name, 1, spec)
            .evaluate()
        )
        counted = _violations(before)
        assert counted > 0 and report.counted.get("ring_diameter") == 30

        # A new process: its counters start at 0; what status.spc.counted says was counted
        # is not counted again (it would fire increase() > 0 alerts for old violations).
        after = CollectorRegistry()
        monitors = LineMonitors(reader, MesMetrics(after))
        monitor = monitors.for_line(LINE.namespace, LINE.name, 1, spec, report.counted)
        monitor.evaluate()
        assert _violations(after) == 0
        # New violations after the restart are counted.
        _post(served, [74.2 + rng.gauss(0, 0.005) for _ in range(10)], 150)
        monitor.evaluate()
        assert _violations(after) > 0

        # Without the status (a line never monitored before): everything stored counts.
        fresh = CollectorRegistry()
        LineMonitors(reader, MesMetrics(fresh)).for_line(
            LINE.namespace, LINE.name, 1, spec
        ).evaluate()
        assert _violations(fresh) > counted


def test_a_reconcile_and_the_loop_evaluating_a_line_at_once_chart_each_row_once(
    tmp_path: Path,
) -> None:
    """Both read the rows after the same last id in their threads: the charts took them
    twice (twice the subgroups, false violations). Many threads, one monitor."""
    import threading

    spec = load_line(str(EXAMPLE_LINE)).spec
    rng = random.Random(5)
    with served_dataplane(tmp_path, embedded_url(tmp_path)) as served:
        _post(served, [74.0 + rng.gauss(0, 0.005) for _ in range(200)], 0)
        monitor = LineMonitors(
            LocalDataPlane(served.app), MesMetrics(CollectorRegistry())
        ).for_line(LINE.namespace, LINE.name, 1, spec)
        start = threading.Barrier(4)
        reports = []

        def evaluate() -> None:
            start.wait()
            reports.append(monitor.evaluate())

        threads = [threading.Thread(target=evaluate) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        charted = [
            c.subgroups for r in reports for c in r.charts if c.characteristic == "ring_diameter"
        ]
        assert len(charted) == 4 and max(charted) == 40  # 200 measurements, 5 a subgroup
