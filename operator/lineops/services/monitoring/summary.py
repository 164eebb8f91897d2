"""Turn a MonitorReport into the line's status: kpis, spc, MonitoringReady and InControl."""

from __future__ import annotations

from lineops.api import reasons as R
from lineops.api.productionline import (
    DriftStatus,
    Kpis,
    MaintenanceWindow,
    PlanStatus,
    ProductionLineSpec,
    ProductionLineStatus,
    ShiftKpis,
    ShiftsStatus,
    SpcStatus,
)
from lineops.mes.shifts import ShiftOee
from lineops.services.conditions import ConditionSet
from lineops.services.monitoring.line_monitor import MonitorReport

MAX_LISTED = 5  # violations named in a condition message; the metrics carry all of them


def _ratio(value: float | None) -> str | None:
    return None if value is None else f"{value:.3f}"


def _shift(result: ShiftOee | None) -> ShiftKpis | None:
    if result is None:
        return None
    return ShiftKpis(
        name=result.shift.name,
        start=result.shift.start.isoformat(),
        end=result.shift.end.isoformat(),
        availability=_ratio(result.availability),
        performance=_ratio(result.performance),
        quality=_ratio(result.quality),
        oee=_ratio(result.oee),
    )


def apply_report(
    report: MonitorReport,
    spec: ProductionLineSpec,
    conds: ConditionSet,
    status: ProductionLineStatus,
) -> None:
    """Set ``status.kpis`` (when the line has an OEE), ``status.drift`` (when a sensor has a
    PSI) and ``status.spc``, and the MonitoringReady and InControl conditions."""
    line_oee = report.oee.get("")
    if not spec.monitoring.oee:
        status.kpis = None  # removed: the OEE column kept the last value after oee: false
    elif line_oee is not None:
        status.kpis = Kpis(
            oee=_ratio(line_oee.oee),
            availability=_ratio(line_oee.availability),
            performance=_ratio(line_oee.performance),
            quality=_ratio(line_oee.quality),
        )
    if report.shifts is not None:
        status.shifts = ShiftsStatus(
            current=_shift(report.shifts.current), previous=_shift(report.shifts.previous)
        )
    worst = report.drift.worst if report.drift else None
    if worst is not None:
        limit = spec.monitoring.drift_psi_value
        status.drift = DriftStatus(
            max_psi=f"{worst.psi:.3f}",
            feature=worst.feature,
            band=worst.band,
            drifting=sum(f.psi > limit for f in report.drift.features),  # type: ignore[union-attr]
        )
    # Written whole (services/status.py): an inControl that is not known any more (SPC
    # off, or new limits being set up after a spec edit) is removed, not left at its old
    # value next to an Unknown InControl condition.
    status.spc = (
        SpcStatus(
            violations=report.open_violations,
            in_control=report.in_control,
            counted=report.counted or None,
        )
        if spec.monitoring.spc
        else None
    )
    plan = report.plan
    if plan is not None:
        window = plan.next_maintenance
        status.plan = PlanStatus(
            plan_id=plan.plan_id,
            created_at=plan.created_at,
            method=plan.method,
            orders=plan.orders,
            orders_late=plan.orders_late,
            weighted_tardiness=plan.weighted_tardiness,
            end=plan.end or None,
            next_maintenance=None
            if window is None
            else MaintenanceWindow(
                work_unit=window.work_unit,
                start=window.start.isoformat(),
                end=window.end.isoformat(),
                reason=window.reason[:1024] or None,
            ),
        )

    if not spec.monitoring.spc and not spec.monitoring.oee:
        conds.set(R.MONITORING_READY, "False", R.DISABLED, "spec.monitoring: spc and oee are off")
    elif report.established or report.oee or worst is not None:
        parts = [
            f"{c.characteristic} ({c.chart}, {c.subgroups} points)" for c in report.established
        ]
        if report.oee:
            parts.append(f"OEE over {len(report.oee) - 1} work units")
        if report.shifts_error:
            # Said where it is read: status.shifts stays as last computed until it is fixed.
            parts.append(f"per-shift OEE not computed: {report.shifts_error}")
        if report.plan_error:
            parts.append(report.plan_error)
        parts.extend(f"{qc} not charted: {why}" for qc, why in report.chart_errors.items())
        if worst is not None:
            parts.append(f"drift over {len(report.drift.features)} sensors")  # type: ignore[union-attr]
        conds.set(R.MONITORING_READY, "True", R.MONITORING_CONFIGURED, "; ".join(parts))
    else:
        waiting = [
            f"{c.characteristic}: {c.subgroups} of {c.phase1_needed} subgroups for trial limits"
            for c in report.charts
        ]
        if spec.monitoring.oee:
            waiting.append(report.oee_error or "no machine-state events yet")
        waiting.extend(f"{qc} not charted: {why}" for qc, why in report.chart_errors.items())
        conds.set(R.MONITORING_READY, "False", R.NO_DATA, "waiting for data: " + "; ".join(waiting))

    if not spec.monitoring.spc:
        conds.set(R.IN_CONTROL, "Unknown", R.DISABLED, "spec.monitoring.spc is off")
    elif report.in_control is None:
        conds.set(R.IN_CONTROL, "Unknown", R.NO_DATA, "no control chart has trial limits yet")
    elif report.in_control:
        conds.set(
            R.IN_CONTROL,
            "True",
            R.PROCESS_IN_CONTROL,
            f"no run rule fired in the last 25 points of {len(report.established)} charts",
        )
    else:
        found = [
            f"{c.characteristic}: {v.rule} on {v.chart} at point {v.index}"
            for c in report.charts
            for v in c.open_violations
        ]
        more = f" (+{len(found) - MAX_LISTED} more)" if len(found) > MAX_LISTED else ""
        conds.set(R.IN_CONTROL, "False", R.RULE_VIOLATION, "; ".join(found[:MAX_LISTED]) + more)
