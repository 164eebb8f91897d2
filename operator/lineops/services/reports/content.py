"""Report content: moved to :mod:`lineops.mes.report_content` (pure, so the data plane's live
line page can use it too); these names stay importable from here."""

from __future__ import annotations

from lineops.mes.report_content import (
    AVAILABILITY,
    PERFORMANCE,
    QUALITY,
    STATISTIC_LABELS,
    ZONES,
    Bar,
    CapabilityContent,
    ControlChartContent,
    OeeContent,
    Panel,
    WaterfallStep,
    capability_content,
    control_chart_content,
    curve_x,
    normal_pdf,
    oee_content,
    oee_steps,
    percent,
    rule_legend,
    waterfall_bars,
)

__all__ = [
    "AVAILABILITY",
    "PERFORMANCE",
    "QUALITY",
    "STATISTIC_LABELS",
    "ZONES",
    "Bar",
    "CapabilityContent",
    "ControlChartContent",
    "OeeContent",
    "Panel",
    "WaterfallStep",
    "capability_content",
    "control_chart_content",
    "curve_x",
    "normal_pdf",
    "oee_content",
    "oee_steps",
    "percent",
    "rule_legend",
    "waterfall_bars",
]
