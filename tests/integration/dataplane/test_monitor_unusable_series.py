"""A stored series a chart cannot use (an np chart's measurements of another sample size,
stored before the data plane refused them) stops that chart only: the line's other charts,
its OEE and its status are still evaluated, and MonitoringReady says which chart is off and
why. It used to stop the whole monitor pass, every tick."""

from __future__ import annotations

from pathlib import Path

from lineops.api import reasons as R
from lineops.api.productionline import ProductionLineStatus
from lineops.backends.data_plane_client import LocalDataPlane
from lineops.backends.mes_metrics import MesMetrics
from lineops.dataplane.repositories.mes import MachineEvent, Measurement, ProductionCount
from lineops.services.conditions import ConditionSet
from lineops.services.monitoring.line_monitor import LineMonitor
from lineops.services.monitoring.summary import apply_report
from prometheus_client import CollectorRegistry

from tests.support.dataplane_server import LINE, served_dataplane


def _at(second: int) -> str:
    return f"2026-11-30T06:{second // 60:02d}:{second % 60:02d}+00:00"


def test_an_unusable_series_stops_its_chart_only(tmp_path: Path) -> None:
    with served_dataplane(tmp_path / "data", f"sqlite:///{tmp_path / 'mes.db'}") as served:
        spec = served.app.spec_of(LINE.namespace, LINE.name)
        assert spec is not None
        doc = spec.model_dump(mode="json", by_alias=True)
        for qc in doc["qualityCharacteristics"]:
            if qc["name"] == "reject_fraction":
                qc["chart"] = "np"  # one n for every sample
        np_spec = type(spec).model_validate(doc)
        mes = served.app.db.mes
        # Written straight to the store, as before the write-time check existed.
        mes.add_measurements(
            LINE,
            [Measurement("reject_fraction", _at(m), 1.0, 25 if m % 2 else 50) for m in range(30)],
        )
        mes.add_measurements(
            LINE, [Measurement("ring_diameter", _at(m), 74.0 + (m % 7) / 1000) for m in range(300)]
        )
        mes.add_events(LINE, [MachineEvent("press-01", _at(0), "running", "")])
        mes.add_counts(LINE, [ProductionCount("press-01", _at(600), 100, 99)])
        mes.add_events(LINE, [MachineEvent("press-01", _at(1200), "idle", "")])
        monitor = LineMonitor(
            LINE.namespace,
            LINE.name,
            1,
            np_spec,
            LocalDataPlane(served.app),
            MesMetrics(CollectorRegistry()),
        )
        report = monitor.evaluate()
        assert "reject_fraction" in report.chart_errors
        assert "sample size" in report.chart_errors["reject_fraction"]
        assert [c.characteristic for c in report.charts if c.established] == ["ring_diameter"]
        assert report.oee  # evaluated too
        again = monitor.evaluate()  # still said, every pass, until the spec changes
        assert again.chart_errors == report.chart_errors
        conds = ConditionSet(None, 1)
        apply_report(report, np_spec, conds, ProductionLineStatus())
        ready = conds.get(R.MONITORING_READY)
        assert ready is not None and ready.status == "True"
        assert "reject_fraction not charted: " in ready.message
