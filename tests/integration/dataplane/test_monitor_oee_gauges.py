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
        monitor = LineMonitors(LocalDataPlane(served.app), MesMetrics(registry)).for_line(
            LINE.namespace, LINE.name, 1, spec
        )
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
        report = monitor.evaluate()
        assert report.oee["press-01"].quality is None and report.oee["press-01"].oee is None
        assert sample("quality") is None and sample("oee") is None
        assert sample("availability") == report.oee["press-01"].availability is not None
