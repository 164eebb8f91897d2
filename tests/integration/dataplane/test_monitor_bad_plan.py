"""A plan stored before the data plane checked its blocked windows (an older version, or a
row written by hand) does not stop the line's monitor: its other analytics go on and the
problem is named. Real data plane (SQLite), the operator's in-process client."""

from __future__ import annotations

import json
from pathlib import Path

from lineops.backends.data_plane_client import LocalDataPlane
from lineops.backends.mes_metrics import MesMetrics
from lineops.cli.ingest_cmd import load_line
from lineops.dataplane.db.database import embedded_url
from lineops.dataplane.repositories.plans import PlanRepository, StoredPlan
from lineops.services.monitoring.line_monitor import LineMonitors
from prometheus_client import CollectorRegistry

from tests.support.dataplane_server import EXAMPLE_LINE, LINE, served_dataplane


def test_a_plan_the_summary_cannot_read_is_named_not_fatal(tmp_path: Path) -> None:
    spec = load_line(str(EXAMPLE_LINE)).spec
    with served_dataplane(tmp_path, embedded_url(tmp_path)) as served:
        document = {"schedule": [], "tardiness": {}, "blocked": [{"start": "naive"}]}
        PlanRepository(served.app.db.engine).add(
            LINE,
            StoredPlan(
                created_at="2026-12-01T00:00:00+00:00",
                method="cp-sat",
                status="OPTIMAL",
                start="2026-12-01T06:00:00+00:00",
                end="2026-12-02T06:00:00+00:00",
                weighted_tardiness=0,
                late_orders=0,
                document=json.dumps(document),
            ),
        )
        monitor = LineMonitors(
            LocalDataPlane(served.app), MesMetrics(CollectorRegistry())
        ).for_line(LINE.namespace, LINE.name, 1, spec)
        report = monitor.evaluate()  # raised KeyError: 'workUnit' on every tick
        assert report.plan is None
        assert report.plan_error is not None
        assert "the current plan cannot be summarised" in report.plan_error
        assert report.charts and report.oee is not None  # the rest was evaluated
