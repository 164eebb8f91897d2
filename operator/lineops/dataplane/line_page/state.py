"""What the line page shows, as JSON: computed from the data plane's stored records with the
same grouping (lineops.mes.stored_series) and chart content (lineops.mes.report_content)
as the SPC/OEE reports, so the page and a report of the same records agree."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from lineops.api.productionline import ProductionLineSpec, QualityCharacteristic
from lineops.dataplane.db.database import Database
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.predictions import PredictionRepository
from lineops.dataplane.repositories.shifts import utc_text
from lineops.mes.chart_tracker import PHASE1_SUBGROUPS
from lineops.mes.charts import MIN_SUBGROUPS
from lineops.mes.errors import MesInputError
from lineops.mes.oee import (
    RECENT_SPAN,
    Oee,
    combine_oee,
    counts_from_records,
    events_from_records,
    oee_from_events,
    recent_window,
)
from lineops.mes.report_content import ControlChartContent, control_chart_content
from lineops.mes.stored_series import count_records, event_records, stored_subgroups

LATEST_PREDICTIONS: Final = 10
MAX_ALARMS: Final = 50


def line_state(
    db: Database, line: LineRef, spec: ProductionLineSpec, *, predictions: bool = True
) -> dict[str, Any]:
    """Charts, alarms, OEE and, with ``predictions``, the newest predictions of ``line``
    now (blocking: database reads)."""
    charts = [_chart(db, line, qc) for qc in spec.quality_characteristics]
    alarms = [
        {"characteristic": c["name"], "chart": p["name"], "subgroup": p["x"][i], "rules": rules}
        for c in charts
        for p in c.get("panels", [])
        for i, rules in sorted(p["violations"].items())
    ]
    return {
        "namespace": line.namespace,
        "line": line.name,
        "characteristics": charts,
        # Newest first: what the line has to look at now; the newest MAX_ALARMS only (a
        # line's whole history of violations was sent every 2 s), and how many in all.
        "alarms": sorted(alarms, key=lambda a: -a["subgroup"])[:MAX_ALARMS],
        "alarmsTotal": len(alarms),
        "oee": _oee(db, line, spec),
        # None: not shown (the data plane guards its records with a token; see LinePage).
        "predictions": _predictions(db, line) if predictions else None,
    }


def _chart(db: Database, line: LineRef, qc: QualityCharacteristic) -> dict[str, Any]:
    stored = stored_subgroups(qc, [m for _, m in db.mes.measurements(line, qc.name)])
    out: dict[str, Any] = {
        "name": qc.name,
        "unit": qc.unit,
        "chart": str(qc.chart.value),
        "subgroups": stored.count,
        "pending": stored.pending,
    }
    if stored.count < MIN_SUBGROUPS:
        out["note"] = f"{stored.count} subgroup(s) stored; a chart needs {MIN_SUBGROUPS}"
        return out
    # Limits from the first 25 subgroups (fewer: trial limits from all), as the operator
    # judges the chart.
    phase1 = min(PHASE1_SUBGROUPS, stored.count)
    try:
        content = control_chart_content(
            qc.chart,
            stored.chart_data(),
            [str(r.value) for r in qc.rules],
            title=qc.name,
            unit=qc.unit,
            phase1=phase1,
        )
    except MesInputError as exc:
        out["note"] = str(exc)
        return out
    out.update(_content(content))
    return out


def _content(content: ControlChartContent) -> dict[str, Any]:
    return {
        "phase1": content.phase1,
        "inControl": content.in_control,
        "violations": content.violation_count,
        "panels": [
            {
                "name": p.name,
                "label": p.label,
                "x": p.x,
                "points": p.points,
                "center": p.center,
                "ucl": p.ucl,
                "lcl": p.lcl,
                "violations": {i: rules for i, rules in p.violations.items()},
            }
            for p in content.panels
        ],
    }


def _ratios(oee: Oee) -> dict[str, float | None]:
    return {
        "oee": oee.oee,
        "availability": oee.availability,
        "performance": oee.performance,
        "quality": oee.quality,
    }


def _oee(db: Database, line: LineRef, spec: ProductionLineSpec) -> dict[str, Any] | None:
    newest = db.mes.newest(line)
    if newest is None:
        return None
    # The window's records only, with each unit's state in force at its start (the whole
    # log was read for every page refresh).
    since = utc_text(datetime.fromisoformat(newest) - RECENT_SPAN)
    events = db.mes.events(line, since)
    if not events:
        return None
    try:
        states = events_from_records(event_records(events))
        counts = counts_from_records(count_records(db.mes.counts(line, since)))
        # The window the operator's status.kpis use, so the page and the status agree.
        window = recent_window(states, counts)
        if window is None:
            return {"note": "one machine event so far: OEE needs a span of time after it"}
        ideal = {w.name: w.ideal_cycle_seconds for w in spec.work_units}
        report = oee_from_events(
            states, counts, window=window, ideal_cycle_time=ideal, through_end=True
        )
    except (MesInputError, ValueError, TypeError) as exc:
        return {"error": str(exc)}
    start, end = report.window
    return {
        "window": [start.isoformat(), end.isoformat()],
        "line": _ratios(combine_oee(report.work_units.values())),
        "workUnits": {name: _ratios(o) for name, o in sorted(report.work_units.items())},
    }


def _predictions(db: Database, line: LineRef) -> list[dict[str, Any]]:
    rows = PredictionRepository(db.engine).newest(line, LATEST_PREDICTIONS)
    return [
        {
            "id": pid,
            "modelTag": p.model_tag,
            "workUnit": p.work_unit,
            "lot": p.lot,
            "timestamp": p.timestamp,
            "result": json.loads(p.result),
        }
        for pid, p in rows
    ]
