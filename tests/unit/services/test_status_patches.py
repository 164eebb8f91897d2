"""Status is written from the api models: every patch a reconciler produces names only fields
of the status model (extra fields forbidden) and of the CRD schema generated from it, and the
merge-patch semantics (what is set is written, a top-level None removes) hold.

Every other reconcile test checks its patches too (tests/unit/conftest.py); these tests drive
the paths no other unit test reaches and prove that the check can fail."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from lineops.api.productionline import DriftStatus, Kpis, ProductionLineStatus, SpcStatus
from lineops.api.qualitymodel import (
    ChallengerStatus,
    ChampionStatus,
    QualityModelStatus,
    TrainingStatus,
)
from lineops.backends.kube import KubeBackend
from lineops.mes.chart_tracker import ChartSnapshot
from lineops.mes.drift import FeatureDrift
from lineops.mes.oee import Oee
from lineops.mes.rules import Violation
from lineops.mes.shifts import ShiftOccurrence, ShiftOee
from lineops.services.line import LineReconciler
from lineops.services.monitoring.drift_tracker import DriftSnapshot
from lineops.services.monitoring.line_monitor import LineMonitors, MonitorReport
from lineops.services.monitoring.shift_tracker import ShiftSnapshot
from lineops.services.status import merge_patch, read_status
from pydantic import ValidationError

from tests.support.status_patch import check_status_patch, pruned
from tests.unit.services.fake_kube import FakeKube

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _body(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    doc["metadata"].update(namespace="ns", uid="uid-1", generation=3)
    return doc


# --- the check itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "patch"),
    [
        (QualityModelStatus, {"training": {"runID": "r-1"}}),  # renamed in code, not in the model
        (QualityModelStatus, {"training": {"run_id": "r-1"}}),  # snake_case: pruned on the wire
        (QualityModelStatus, {"observed_generation": 1}),
        (QualityModelStatus, {"champion": {"version": "v1", "servedAt": "2025-01-01T00:00:00Z"}}),
        (ProductionLineStatus, {"kpis": {"oee": "0.7", "oeeTarget": "0.8"}}),
        (ProductionLineStatus, {"spc": {"inControl": True, "openViolations": 2}}),
        (ProductionLineStatus, {"drift": {"maxPSI": "0.3"}}),
        (ProductionLineStatus, {"conditions": None}),  # a null would delete every condition
    ],
)
def test_a_key_the_model_does_not_have_fails_the_check(
    model: type[ProductionLineStatus] | type[QualityModelStatus], patch: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        check_status_patch(model, patch)


def test_pruned_names_what_the_crd_schema_would_drop() -> None:
    schema = {
        "type": "object",
        "properties": {
            "training": {
                "type": "object",
                "properties": {
                    "runId": {"type": "string"},
                    "metrics": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        },
    }
    patch = {"training": {"runId": "r", "runID": "r", "metrics": {"any_name": "0.9"}}, "x": 1}
    assert pruned(patch, schema) == ["status.training.runID", "status.x"]


def test_status_models_refuse_unknown_fields_when_built_but_not_when_read() -> None:
    with pytest.raises(ValidationError, match="run_idd"):
        TrainingStatus(**cast(Any, {"run_idd": "r-1"}))
    read = read_status(QualityModelStatus, {"training": {"runId": "r-1", "fromANewerOperator": 1}})
    assert read.training == TrainingStatus(run_id="r-1")


# --- merge-patch semantics -----------------------------------------------------------------


def test_only_what_was_set_is_written() -> None:
    status = QualityModelStatus()
    assert merge_patch(status) == {}
    status.training = TrainingStatus(run_id="r-1", state="Running", started_at=None)
    # None inside a part: not known, the stored value stays; defaults (metrics) not written.
    assert merge_patch(status) == {"training": {"runId": "r-1", "state": "Running"}}


def test_a_top_level_none_removes_the_field() -> None:
    status = QualityModelStatus(observed_generation=2)
    status.challenger = None
    assert merge_patch(status) == {"observedGeneration": 2, "challenger": None}


def test_champion_and_challenger_are_written_whole() -> None:
    status = QualityModelStatus()
    status.challenger = ChallengerStatus(version="v2", metrics={"macro_f1": "0.8"}, score=None)
    status.champion = ChampionStatus(version="v1", metrics={}, score="0.9")
    assert merge_patch(status) == {
        # score null: no score of an earlier challenger stays behind
        "challenger": {
            "version": "v2",
            "metrics": {"macro_f1": "0.8"},
            "score": None,
            "specHash": None,
        },
        "champion": {"version": "v1", "metrics": {}, "score": "0.9", "servedSince": None},
    }


def test_a_status_read_back_is_written_as_it_was_read() -> None:
    raw = {
        "observedGeneration": 4,
        "training": {"runId": "r-1", "state": "Succeeded", "metrics": {"macro_f1": "0.9"}},
        "champion": {"version": "v1", "metrics": {"macro_f1": "0.9"}, "score": "0.9"},
    }
    status = read_status(QualityModelStatus, raw)
    assert merge_patch(status)["training"] == raw["training"]


def test_a_part_written_by_another_version_that_does_not_validate_is_dropped() -> None:
    status = read_status(
        ProductionLineStatus, {"observedGeneration": 1, "kpis": {"oee": "not a number"}}
    )
    assert status.observed_generation == 1 and status.kpis is None


# --- the line's monitoring status (kpis, spc, drift) ---------------------------------------


class _Monitor:
    def __init__(self, report: MonitorReport) -> None:
        self.report = report

    def evaluate(self) -> MonitorReport:
        return self.report


class _Monitors:
    def __init__(self, report: MonitorReport) -> None:
        self.report = report

    def for_line(
        self, namespace: str, name: str, generation: int, spec: Any, counted: Any = None
    ) -> _Monitor:
        self.counted = counted  # what the line's status said was counted
        return _Monitor(self.report)


def _report(in_control: bool) -> MonitorReport:
    chart = ChartSnapshot("ring_diameter", "xbar-r", 30, 25, established=True)
    counted = {"ring_diameter": 30}  # what the monitor counted, kept across restarts
    if not in_control:
        chart.open_violations = [Violation(27, "xbar", "nelson-1")]
    oee = Oee(
        planned_production_time=100.0,
        run_time=80.0,
        down_time=20.0,
        idle_time=0.0,
        changeover_time=0.0,
        planned_stop_time=0.0,
        ideal_production_time=60.0,
        total_count=10,
        good_count=9,
        failures=1,
    )
    drift = DriftSnapshot((FeatureDrift("press-01/vibration_rms", 0.31, "significant", 0.4, 0.01),))
    return MonitorReport(charts=[chart], drift=drift, oee={"": oee}, counted=counted)


def _shift(name: str, start: datetime, busy: float, run: float) -> ShiftOee:
    occurrence = ShiftOccurrence(name, start.date(), start, start + timedelta(hours=8))
    return ShiftOee(occurrence, busy, run, 28_800.0 - busy, 0.0, run / 2, 100, 99)


def test_the_shift_status_is_the_api_models_and_names_a_shift_error() -> None:
    report = _report(True)
    early = datetime(2026, 10, 25, 5, tzinfo=UTC)
    report.shifts = ShiftSnapshot(
        current=_shift("late", early + timedelta(hours=8), 3_600.0, 3_000.0),
        previous=_shift("early", early, 0.0, 0.0),  # all planned maintenance: no ratios
    )
    monitors = cast(LineMonitors, _Monitors(report))
    full = asyncio.run(
        LineReconciler(cast(KubeBackend, FakeKube()), monitors).reconcile(
            _body("productionline.yaml")
        )
    )
    patch = full.status  # checked against the model and the CRD schema
    assert patch["shifts"]["current"] == {
        "name": "late",
        "start": "2026-10-25T13:00:00+00:00",
        "end": "2026-10-25T21:00:00+00:00",
        "availability": "0.833",  # 3,000 / 3,600
        "performance": "0.500",  # 1,500 / 3,000
        "quality": "0.990",
        "oee": "0.413",  # 5/6 x 0.5 x 0.99 = 0.4125
    }
    previous = patch["shifts"]["previous"]
    assert previous["name"] == "early" and previous.get("availability") is None
    assert previous.get("oee") is None and previous["quality"] == "0.990"

    report.shifts, report.shifts_error = (
        None,
        "counts[3].timestamp: 2026-10-25T06:00 has no UTC offset",
    )
    again = asyncio.run(
        LineReconciler(cast(KubeBackend, FakeKube()), monitors).reconcile(
            _body("productionline.yaml")
        )
    )
    assert "shifts" not in again.status  # left as last computed
    ready = next(c for c in again.status["conditions"] if c["type"] == "MonitoringReady")
    assert "per-shift OEE not computed: counts[3].timestamp" in ready["message"]


@pytest.mark.parametrize("in_control", [True, False])
def test_the_monitoring_status_is_the_api_models(in_control: bool) -> None:
    monitors = cast(LineMonitors, _Monitors(_report(in_control)))
    reconciler = LineReconciler(cast(KubeBackend, FakeKube()), monitors)
    body = _body("productionline.yaml")

    full = asyncio.run(reconciler.reconcile(body))
    assert full.update.kpis == Kpis(
        oee="0.540", availability="0.800", performance="0.750", quality="0.900"
    )
    assert full.update.spc == SpcStatus(
        in_control=in_control, violations=0 if in_control else 1, counted={"ring_diameter": 30}
    )
    assert full.update.drift == DriftStatus(
        max_psi="0.310", feature="press-01/vibration_rms", band="significant", drifting=1
    )
    patch = full.status  # checked against the model and the CRD schema
    assert patch["kpis"] == {
        "oee": "0.540",
        "availability": "0.800",
        "performance": "0.750",
        "quality": "0.900",
    }
    assert patch["spc"] == {
        "inControl": in_control,
        "violations": 0 if in_control else 1,
        "counted": {"ring_diameter": 30},
    }
    assert patch["observedGeneration"] == 3

    timer = asyncio.run(reconciler.monitor(body))
    assert "observedGeneration" not in timer.status  # only the full reconcile observes
    assert timer.status["drift"]["maxPsi"] == "0.310"


def test_what_the_status_says_was_counted_reaches_a_new_monitor() -> None:
    """After a restart the monitor starts from status.spc.counted, not from zero."""
    fake = _Monitors(_report(True))
    reconciler = LineReconciler(cast(KubeBackend, FakeKube()), cast(LineMonitors, fake))
    body = _body("productionline.yaml")
    body["status"] = {"spc": {"counted": {"ring_diameter": 12}}}
    asyncio.run(reconciler.reconcile(body))
    assert fake.counted == {"ring_diameter": 12}


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_monitoring_turned_off_removes_its_figures_and_says_why() -> None:
    """In-Control and OEE kept their last values after monitoring.spc/oee went off (None
    inside a part written field by field keeps the stored value)."""
    monitors = cast(LineMonitors, _Monitors(_report(False)))
    reconciler = LineReconciler(cast(KubeBackend, FakeKube()), monitors)
    body = _body("productionline.yaml")
    body["spec"]["monitoring"].update(spc=False, oee=False)
    patch = asyncio.run(reconciler.reconcile(body)).status
    assert patch["spc"] is None and patch["kpis"] is None
    in_control = _condition(patch, "InControl")
    assert (in_control["status"], in_control["reason"]) == ("Unknown", "Disabled")


def test_an_in_control_no_longer_known_is_removed_not_kept() -> None:
    """A spec edit restarts the charts: until they have limits again, inControl is not
    known, and the stored false must not stay next to an Unknown InControl."""
    report = _report(True)
    report.charts = [ChartSnapshot("ring_diameter", "xbar-r", 3, 25, established=False)]
    monitors = cast(LineMonitors, _Monitors(report))
    reconciler = LineReconciler(cast(KubeBackend, FakeKube()), monitors)
    patch = asyncio.run(reconciler.reconcile(_body("productionline.yaml"))).status
    assert patch["spc"]["inControl"] is None  # null: removes the stored value
    assert _condition(patch, "InControl")["status"] == "Unknown"
