"""Evaluate a line's charts, capability and OEE from its MES records; export and summarise.

One LineMonitor per line generation lives in the operator's memo: its chart trackers keep
the Phase I limits and the stream state, so each evaluation only reads the records stored
since the last one. A new spec generation starts afresh (limits may have changed).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from lineops.api.productionline import ProductionLineSpec
from lineops.backends.data_plane_client import DataPlaneReader
from lineops.backends.mes_metrics import MesMetrics
from lineops.dataplane.lines import LineRef
from lineops.mes.chart_tracker import ChartSnapshot, ChartTracker
from lineops.mes.errors import MesInputError
from lineops.mes.oee import (
    CountRecord,
    MachineState,
    Oee,
    StateEvent,
    oee_from_events,
    recent_window,
)
from lineops.services.monitoring.drift_tracker import DriftSnapshot, DriftTracker
from lineops.services.monitoring.plan_summary import PlanSummary, summarise_plan
from lineops.services.monitoring.shift_tracker import SHIFT_HISTORY, ShiftSnapshot, ShiftTracker

# The records the monitor reads, back from the newest: the shift history a fresh monitor
# writes (SHIFT_HISTORY), plus a whole shift overlapping its start (at most a day and a DST
# hour); the live OEE's 8 hours lie within.
RECORDS_SPAN: Final = SHIFT_HISTORY + timedelta(days=2)


@dataclass
class MonitorReport:
    charts: list[ChartSnapshot] = field(default_factory=list)
    drift: DriftSnapshot | None = None
    oee: dict[str, Oee] = field(default_factory=dict)  # "" = the line, else the work unit
    oee_error: str | None = None
    # The newest event or count: the end of the live OEE's window (None without records).
    oee_newest: datetime | None = None
    plan: PlanSummary | None = None
    shifts: ShiftSnapshot | None = None  # OEE of the current and previous planned shift
    shifts_error: str | None = None
    plan_error: str | None = None  # the current plan could not be summarised
    # Characteristics whose stored series cannot be charted, with why: the other charts,
    # OEE, drift and the plan are still evaluated and exported.
    chart_errors: dict[str, str] = field(default_factory=dict)
    # Per characteristic, the subgroups whose violations are counted (status.spc.counted).
    counted: dict[str, int] = field(default_factory=dict)

    @property
    def established(self) -> list[ChartSnapshot]:
        return [c for c in self.charts if c.established]

    @property
    def in_control(self) -> bool | None:
        judged = self.established
        return None if not judged else all(c.in_control for c in judged)

    @property
    def open_violations(self) -> int:
        return sum(len(c.open_violations) for c in self.charts)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class LineMonitor:
    def __init__(
        self,
        namespace: str,
        name: str,
        generation: int,
        spec: ProductionLineSpec,
        store: DataPlaneReader,
        metrics: MesMetrics,
        drift: DriftTracker | None = None,
    ) -> None:
        self.namespace, self.name, self.generation = namespace, name, generation
        self.key = LineRef(namespace, name)
        self.spec = spec
        self._store = store
        self._metrics = metrics
        self._trackers = {qc.name: ChartTracker(qc) for qc in spec.quality_characteristics}
        self._broken: dict[str, str] = {}  # characteristic -> why its series cannot be charted
        self._oee_exported: set[tuple[str, str]] = set()  # (work unit, component) set last
        self._counted: dict[str, int] = {}  # per characteristic: points already counted
        self._drift = drift
        self._oee_version: tuple[int, int] | None = None
        self._oee_cache: tuple[dict[str, Oee], str | None, datetime | None] | None = None
        # The parsed records of the newest OEE computation, for the per-shift OEE.
        self._records: tuple[list[StateEvent], list[CountRecord]] | None = None
        self._shifts = ShiftTracker(self.key, spec, store)
        # A reconcile and the monitoring loop may evaluate the same line at once (each in a
        # thread): both read the rows after the same last id, and the charts took them twice
        # (false run-rule violations, InControl=False, counters doubled).
        self._evaluating = threading.Lock()
        # Every violation series exists from the start at 0: increase() in an alert needs a
        # sample before the first violation, or the first one would never fire.
        for qc in spec.quality_characteristics:
            for rule in qc.rules:
                for chart in qc.chart.statistics:
                    metrics.spc_violations.labels(namespace, name, qc.name, rule.value, chart)

    def evaluate(self) -> MonitorReport:
        with self._evaluating:
            return self._evaluate()

    def _evaluate(self) -> MonitorReport:
        report = MonitorReport()
        if self.spec.monitoring.spc:
            for name, tracker in self._trackers.items():
                if name in self._broken:
                    continue
                rows = self._store.measurements(self.key, name, after_id=tracker.last_id)
                try:
                    report.charts.append(tracker.add(rows))
                except (MesInputError, ValueError) as exc:
                    # One unusable series stopped the whole pass (every chart, OEE, status).
                    # The tracker may hold part of the rows now: the chart stays off, and
                    # said so, until the spec changes (a new monitor, a new tracker).
                    self._broken[name] = str(exc)
            report.chart_errors = dict(self._broken)
        latest = self._store.latest_plan(self.key)
        if self.spec.monitoring.oee:
            self._oee(report)
            self._shift_oee(report, latest)
        if self._drift is not None:
            report.drift = self._drift.evaluate()
        try:
            report.plan = None if latest is None else summarise_plan(latest, datetime.now(UTC))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A plan stored before the data plane checked its blocked windows: the line's
            # other analytics go on (the monitor pass stopped on every tick).
            report.plan = None
            report.plan_error = f"the current plan cannot be summarised: {exc!r}"
        self._export(report)
        report.counted = dict(self._counted)
        return report

    def _oee(self, report: MonitorReport) -> None:
        # The monitor ticks every few seconds; the event log only grows. Re-read and recompute
        # only when rows were added since the last evaluation.
        version = self._store.oee_version(self.key)
        if version == self._oee_version and self._oee_cache is not None:
            report.oee, report.oee_error, report.oee_newest = self._oee_cache
            return
        self._compute_oee(report)
        self._oee_version = version
        self._oee_cache = (report.oee, report.oee_error, report.oee_newest)

    def _shift_oee(self, report: MonitorReport, plan: dict[str, Any] | None) -> None:
        if self._records is None or self._oee_version is None:
            return
        states, counts = self._records
        try:
            report.shifts = self._shifts.evaluate(states, counts, self._oee_version, plan)
        except (MesInputError, ValueError) as exc:
            report.shifts_error = str(exc)

    def _compute_oee(self, report: MonitorReport) -> None:
        self._records = None
        newest = self._store.newest(self.key)
        if newest is None:
            return
        report.oee_newest = newest
        # Only the days the OEE and the shift history look at (with each unit's state in
        # force then): the whole log was read on every new record, a year of a running line
        # on every tick.
        since = newest - RECORDS_SPAN
        events = self._store.events(self.key, since)
        if not events:
            return
        try:
            states = [
                StateEvent(
                    _parse_time(e.timestamp),
                    e.work_unit,
                    MachineState(e.state),
                    e.reason,
                    self.name,
                )
                for e in events
            ]
            counts = [
                CountRecord(_parse_time(c.timestamp), c.work_unit, c.total, c.good)
                for c in self._store.counts(self.key, since)
            ]
            self._records = (states, counts)
            window = recent_window(states, counts)
            if window is None:
                return
            ideal = {w.name: w.ideal_cycle_seconds for w in self.spec.work_units}
            result = oee_from_events(
                states, counts, window=window, ideal_cycle_time=ideal, through_end=True
            )
        except (MesInputError, ValueError) as exc:
            # Records that cannot be combined are reported, never a crash of the reconcile.
            report.oee_error = str(exc)
            return
        report.oee = {"": result.lines[self.name], **result.work_units}

    def inherit(self, previous: LineMonitor) -> None:
        """A new generation re-reads every record; violations its predecessor already
        counted must not be counted twice (the counter would jump on every spec edit), and
        the OEE series it set are removed when this one has no value for them (a stale
        quality stayed after every spec edit)."""
        self.restore_counted(previous._counted)
        self._oee_exported = set(previous._oee_exported)

    def restore_counted(self, counted: Mapping[str, int]) -> None:
        """What a predecessor counted, in this process or (status.spc.counted) before a
        restart: re-read violations are not counted again. The counter itself restarts at
        0 with the process, which Prometheus reads as a reset, not as new violations."""
        self._counted = {
            qc: int(n) for qc, n in counted.items() if qc in self._trackers and int(n) >= 0
        }

    def _export(self, report: MonitorReport) -> None:
        m, ns, line = self._metrics, self.namespace, self.name
        for snap in report.charts:
            qc = snap.characteristic
            m.spc_subgroups.labels(ns, line, qc).set(snap.subgroups)
            counted = self._counted.get(qc, 0)
            for v in snap.new_violations:
                if v.index >= counted:
                    m.spc_violations.labels(ns, line, qc, v.rule, v.chart).inc()
            self._counted[qc] = max(counted, snap.subgroups)
            if snap.in_control is not None:
                m.spc_in_control.labels(ns, line, qc).set(1.0 if snap.in_control else 0.0)
            for chart, series in snap.series.items():
                m.spc_last.labels(ns, line, qc, chart).set(float(series.points[-1]))
                m.spc_center.labels(ns, line, qc, chart).set(series.center)
                m.spc_ucl.labels(ns, line, qc, chart).set(float(series.ucl[-1]))
                m.spc_lcl.labels(ns, line, qc, chart).set(float(series.lcl[-1]))
            if snap.capability is not None:
                m.cpk.labels(ns, line, qc).set(snap.capability.cpk)
                m.ppk.labels(ns, line, qc).set(snap.capability.ppk)
        for found in report.drift.features if report.drift else ():
            m.drift_psi.labels(ns, line, found.feature).set(found.psi)
        self._export_plan(report.plan)
        exported = set()
        for unit, oee in report.oee.items():
            for component in ("availability", "performance", "quality", "oee"):
                value = getattr(oee, component)
                if value is not None:
                    m.oee_ratio.labels(ns, line, unit, component).set(value)
                    exported.add((unit, component))
        # A ratio without a denominator now (no count in the window, records refused): no
        # sample, rather than the last value left standing. Only those: a series removed and
        # set again could miss a scrape and read as stale.
        for unit, component in self._oee_exported - exported:
            m.oee_ratio.remove_by_labels(
                {"namespace": ns, "line": line, "work_unit": unit, "component": component}
            )
        self._oee_exported = exported
        # The OEE is computed for the line (LineopsOeeMetricsAbsent watches this series, not
        # a ratio: a line without a part in its last hours has no OEE, and is not unwatched).
        if report.oee_newest is None:
            m.oee_newest_record.remove_by_labels({"namespace": ns, "line": line})
        else:
            m.oee_newest_record.labels(ns, line).set(report.oee_newest.timestamp())
        self._export_shifts(report.shifts)

    def _export_shifts(self, shifts: ShiftSnapshot | None) -> None:
        m, ns, line = self._metrics, self.namespace, self.name
        for which in ("current", "previous"):
            found = None if shifts is None else getattr(shifts, which)
            labels = {"namespace": ns, "line": line, "shift": which}
            if found is None:
                m.shift_oee_ratio.remove_by_labels(labels)
                m.shift_start.remove_by_labels(labels)
                continue
            m.shift_start.labels(ns, line, which).set(found.shift.start.timestamp())
            for component in ("availability", "performance", "quality", "oee"):
                value = getattr(found, component)
                if value is None:
                    # No denominator (e.g. a shift all in planned maintenance): no sample,
                    # rather than the previous shift's value left standing.
                    m.shift_oee_ratio.remove_by_labels({**labels, "component": component})
                else:
                    m.shift_oee_ratio.labels(ns, line, which, component).set(value)

    def _export_plan(self, plan: PlanSummary | None) -> None:
        m, ns, line = self._metrics, self.namespace, self.name
        m.plan_next_maintenance.remove_by_labels({"namespace": ns, "line": line})
        if plan is None:
            return
        m.plan_orders.labels(ns, line).set(plan.orders)
        m.plan_orders_late.labels(ns, line).set(plan.orders_late)
        if plan.next_maintenance is not None:
            window = plan.next_maintenance
            m.plan_next_maintenance.labels(ns, line, window.work_unit).set(window.start.timestamp())


class LineMonitors:
    """The monitors of every line this operator reconciles, keyed by namespace/name."""

    def __init__(self, reader: DataPlaneReader, metrics: MesMetrics, *, drift: bool = True) -> None:
        self.store = reader
        self.metrics = metrics
        self._drift_on = drift
        self._monitors: dict[LineRef, LineMonitor] = {}

    def for_line(
        self,
        namespace: str,
        name: str,
        generation: int,
        spec: ProductionLineSpec,
        counted: Mapping[str, int] | None = None,
    ) -> LineMonitor:
        """The line's monitor; a new one (a first reconcile after a start) takes
        ``counted`` from the line's status.spc.counted."""
        key = LineRef(namespace, name)
        current = self._monitors.get(key)
        if current is None or current.generation != generation:
            fresh = LineMonitor(
                namespace,
                name,
                generation,
                spec,
                self.store,
                self.metrics,
                self._drift_tracker(key, current),
            )
            if current is not None:
                fresh.inherit(current)
            elif counted:
                fresh.restore_counted(counted)
            self._monitors[key] = current = fresh
        return current

    def _drift_tracker(self, line: LineRef, current: LineMonitor | None) -> DriftTracker | None:
        if not self._drift_on:
            return None
        if current is not None and current._drift is not None:
            # The reference does not depend on the spec generation: keep it.
            kept: DriftTracker = current._drift
            return kept
        reader = self.store
        return DriftTracker(
            count=lambda: reader.readings_count(line),
            read_first=lambda: reader.readings_first_day(line),
            read_recent=lambda horizon: reader.readings_recent(line, int(horizon.value)),
        )

    def spec_of(self, namespace: str, name: str) -> ProductionLineSpec | None:
        """The spec of a line this operator has reconciled, for validating its records."""
        monitor = self._monitors.get(LineRef(namespace, name))
        return None if monitor is None else monitor.spec

    def forget(self, namespace: str, name: str) -> None:
        self._monitors.pop(LineRef(namespace, name), None)
        self.metrics.forget(namespace, name)
