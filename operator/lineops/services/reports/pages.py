"""Interactive report pages drawn with Plotly, readable without a network.

The plant network often has no internet, so no page loads anything from a CDN: plotly.js is
copied once from the installed Python package into the report folder (``plotly.min.js``)
and every page loads it from there. Numbers go into the pages as plain JSON lists, so the
data a chart shows is also in the page's source.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from lineops.services.reports.content import (
    CapabilityContent,
    ControlChartContent,
    OeeContent,
    Panel,
    curve_x,
    normal_pdf,
    percent,
    rule_legend,
    waterfall_bars,
)
from lineops.services.reports.files import write_file
from lineops.services.reports.formatting import (
    capability_format,
    given,
    panel_format,
    waterfall_label,
)
from lineops.services.reports.style import (
    CENTER,
    HISTOGRAM,
    LIMIT,
    LOSS,
    POINTS,
    TARGET,
    TOTAL,
    VIOLATION,
    ZONE_A,
    ZONE_B,
    ZONE_C,
)

PLOTLY_JS: Final = "plotly.min.js"

_PAGE: Final = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script src="{plotly}"></script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.bad {{ color: #b00020; font-weight: 600; }}
.good {{ color: #1b7f3b; font-weight: 600; }}
</style>
</head>
<body>
{back}<h1>{title}</h1>
{body}
</body>
</html>
"""


@dataclass(frozen=True)
class Fact:
    """A row of the summary table under a chart."""

    name: str
    value: str
    good: bool | None = None  # colours the value; None leaves it plain


def facts_table(facts: Sequence[Fact]) -> str:
    rows = []
    for f in facts:
        css = "" if f.good is None else (" good" if f.good else " bad")
        rows.append(
            f"<tr><th>{html.escape(f.name)}</th>"
            f'<td class="num{css}">{html.escape(f.value)}</td></tr>'
        )
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def page(title: str, body: str, *, back_to_index: bool = True) -> str:
    back = '<p><a href="index.html">&larr; Report index</a></p>\n' if back_to_index else ""
    return _PAGE.format(title=html.escape(title), plotly=PLOTLY_JS, body=body, back=back)


def write_plotly_js(directory: Path) -> Path:
    """The plotly.js bundle of the installed plotly package, next to the pages; left alone
    when the folder already holds this very bundle (4.8 MB rewritten on every report)."""
    return write_file(directory / PLOTLY_JS, get_plotlyjs(), skip_unchanged=True)


def figure_div(fig: go.Figure, div_id: str) -> str:
    # A fixed div id keeps the page byte-for-byte stable between runs of the same data.
    text: str = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id, config={"responsive": True}
    )
    return text


# ------------------------------------------------------------------------- control charts


def _span(content: ControlChartContent) -> tuple[float, float]:
    """The shared x axis: every panel's points (a moving range starts at subgroup 2)."""
    first = min(p.x[0] for p in content.panels if p.x)
    last = max(p.x[-1] for p in content.panels if p.x)
    return first - 0.5, last + 0.5


def _across(
    panel: Panel, span: tuple[float, float], values: list[float]
) -> tuple[list[float], list[float]]:
    """x and y of a limit, a band edge or the centre line: stepped with the points where it
    varies with the sample size; otherwise a horizontal line across the whole axis, as in the
    PNG (a single point, e.g. the one moving range of two values, drew no line at all)."""
    if panel.varying_limits:
        return [float(x) for x in panel.x], values
    return list(span), [values[0]] * 2


def _band(
    fig: go.Figure,
    row: int,
    panel: Panel,
    span: tuple[float, float],
    edges: tuple[list[float], list[float]],
    color: str,
    name: str,
    first: bool,
) -> None:
    shape = "hvh" if panel.varying_limits else "linear"
    lower, upper = (_across(panel, span, edge) for edge in edges)
    fig.add_trace(
        go.Scatter(
            x=lower[0],
            y=lower[1],
            mode="lines",
            line={"width": 0, "shape": shape},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=name,
        ),
        row=row,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=upper[0],
            y=upper[1],
            mode="lines",
            line={"width": 0, "shape": shape},
            fill="tonexty",
            fillcolor=color,
            name=name,
            legendgroup=name,
            showlegend=first,
            hoverinfo="skip",
        ),
        row=row,
        col=1,
    )


def control_chart_figure(content: ControlChartContent) -> go.Figure:
    rows = len(content.panels)
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[p.label for p in content.panels],
    )
    span = _span(content)
    for row, panel in enumerate(content.panels, start=1):
        first = row == 1
        number = panel_format(panel)
        _band(fig, row, panel, span, (panel.lcl, panel.ucl), ZONE_A, "Zone A (2-3σ)", first)
        _band(fig, row, panel, span, panel.zones[2], ZONE_B, "Zone B (1-2σ)", first)
        _band(fig, row, panel, span, panel.zones[1], ZONE_C, "Zone C (±1σ)", first)
        shape = "hvh" if panel.varying_limits else "linear"
        for values, name in ((panel.ucl, "UCL"), (panel.lcl, "LCL")):
            x, y = _across(panel, span, values)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    name=name,
                    legendgroup="limits",
                    line={"color": LIMIT, "dash": "dash", "shape": shape},
                    showlegend=first,
                    hovertemplate=f"{name} %{{y:{number}}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.add_trace(
            go.Scatter(
                # The centre never varies: across the whole axis.
                x=list(span),
                y=[panel.center] * 2,
                mode="lines",
                name="Center line",
                legendgroup="center",
                showlegend=first,
                line={"color": CENTER},
                hovertemplate=f"CL %{{y:{number}}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=panel.x,
                y=panel.points,
                mode="lines+markers",
                name=panel.label,
                line={"color": POINTS, "width": 1},
                marker={"size": 5},
                hovertemplate=f"subgroup %{{x}}<br>%{{y:{number}}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        if panel.violations:
            idx = sorted(panel.violations)
            fig.add_trace(
                go.Scatter(
                    x=[panel.x[i] for i in idx],
                    y=[panel.points[i] for i in idx],
                    mode="markers",
                    name="Run-rule violation",
                    legendgroup="violations",
                    marker={
                        "color": VIOLATION,
                        "size": 11,
                        "symbol": "circle-open",
                        "line": {"width": 2},
                    },
                    text=[", ".join(panel.violations[i]) for i in idx],
                    hovertemplate="subgroup %{x}: %{text}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        if content.phase1 and content.phase1 < content.subgroups:
            # The end of Phase I, dotted as in the PNG: limits from the subgroups left of it.
            fig.add_vline(
                x=content.phase1 + 0.5,
                line={"color": CENTER, "dash": "dot", "width": 1.2},
                row=row,
                col=1,
                annotation_text="End of Phase I (limits)" if first else None,
                annotation_position="top left",
                annotation_font_size=10,
            )
    fig.update_xaxes(range=list(span))
    fig.update_xaxes(title_text="Subgroup", row=rows, col=1)
    fig.update_layout(
        height=320 * rows + 140,
        template="plotly_white",
        title=f"{content.title}: {content.kind.value} control chart",
    )
    return fig


def control_chart_page(content: ControlChartContent, div_id: str = "control-chart") -> str:
    facts = [
        Fact("Chart", content.kind.value),
        Fact("Subgroups", str(content.subgroups)),
        Fact("Limits estimated from", f"first {content.phase1}" if content.phase1 else "all"),
        Fact("Run-rule violations", str(content.violation_count), content.in_control),
    ]
    for p in content.panels:
        number = panel_format(p)
        limits = (
            "varies with n" if p.varying_limits else f"{p.lcl[0]:{number}} .. {p.ucl[0]:{number}}"
        )
        facts.append(Fact(f"{p.label}: center / limits", f"{p.center:{number}} / {limits}"))
    rules = "".join(f"<li>{html.escape(r)}</li>" for r in rule_legend(content.rules))
    found = [
        f"<li>subgroup {p.x[i]} ({html.escape(p.name)}): {html.escape(', '.join(rs))}</li>"
        for p in content.panels
        for i, rs in sorted(p.violations.items())
    ]
    body = (
        figure_div(control_chart_figure(content), div_id)
        + facts_table(facts)
        + f"<h2>Run rules</h2><ul>{rules}</ul>"
        + f"<h2>Violations</h2><ul>{''.join(found) or '<li>none</li>'}</ul>"
    )
    return page(f"{content.title} — control chart", body)


# ------------------------------------------------------------------------------ capability


def capability_figure(content: CapabilityContent) -> go.Figure:
    r = content.result
    xs = curve_x(content)
    fig = go.Figure()
    fig.add_trace(
        go.Histogram(
            x=content.values,
            histnorm="probability density",
            name=f"Measurements (n={r.count})",
            marker={"color": HISTOGRAM},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=normal_pdf(xs, r.mean, r.sigma_within),
            mode="lines",
            name=f"Normal, within σ = {r.sigma_within:.4g}",
            line={"color": POINTS, "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=normal_pdf(xs, r.mean, r.sigma_overall),
            mode="lines",
            name=f"Normal, overall σ = {r.sigma_overall:.4g}",
            line={"color": CENTER, "dash": "dash"},
        )
    )
    for value, name, color, dash in (
        (r.lsl, "LSL", LIMIT, "dash"),
        (r.usl, "USL", LIMIT, "dash"),
        (content.target, "Target", TARGET, "dot"),
    ):
        if value is not None:
            fig.add_vline(
                x=value,
                line={"color": color, "dash": dash},
                annotation_text=f"{name} {given(value)}",
            )
    unit = f" [{content.unit}]" if content.unit else ""
    fig.update_layout(
        template="plotly_white",
        height=520,
        barmode="overlay",
        title=f"{content.title}: process capability",
        xaxis_title=f"{content.title}{unit}",
        yaxis_title="Density",
    )
    return fig


def capability_page(content: CapabilityContent, div_id: str = "capability") -> str:
    r = content.result
    facts = [
        Fact("Cp", _index(r.cp)),
        Fact("Cpk", _index(r.cpk)),
        Fact("Pp", _index(r.pp)),
        Fact("Ppk", _index(r.ppk)),
        Fact("Mean", format(r.mean, capability_format(content))),
        Fact(f"Within σ ({r.within_method})", f"{r.sigma_within:.4g}"),
        Fact("Overall σ", f"{r.sigma_overall:.4g}"),
        Fact("Measurements", str(r.count)),
    ]
    return page(
        f"{content.title} — capability",
        figure_div(capability_figure(content), div_id) + facts_table(facts),
    )


def _index(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


# ------------------------------------------------------------------------------------- OEE


def waterfall_figure(content: OeeContent) -> go.Figure:
    unit, _ = content.time_unit
    bars = waterfall_bars(content)
    fig = go.Figure()
    # One trace per colour so that the legend explains them; bars overlay on one category
    # axis. A transparent base would show in hover, so losses float via ``base`` instead.
    kinds = [("Time", TOTAL, "")] + [(f"{f.capitalize()} loss", c, f) for f, c in LOSS.items()]
    for name, color, factor in kinds:
        mine = [b for b in bars if (b.total and not factor) or (not b.total and b.factor == factor)]
        fig.add_trace(
            go.Bar(
                x=[b.label for b in mine],
                y=[b.height for b in mine],
                base=[b.bottom for b in mine],
                name=name,
                marker={"color": color},
                text=["{} ({})".format(*waterfall_label(b, unit)) for b in mine],
                textposition="outside",
                hovertemplate="%{x}: %{text}<extra></extra>",
            )
        )
    o = content.oee
    fig.update_layout(
        template="plotly_white",
        height=560,
        barmode="overlay",
        xaxis={"categoryorder": "array", "categoryarray": [b.label for b in bars]},
        yaxis_title=f"Machine time [{unit}]",
        title=f"{content.title}: OEE {percent(o.oee)} = A {percent(o.availability)} × "
        f"P {percent(o.performance)} × Q {percent(o.quality)}",
    )
    return fig


def oee_page(content: OeeContent, div_id: str = "oee-waterfall") -> str:
    o = content.oee
    facts = [
        Fact("OEE", percent(o.oee)),
        Fact("Availability", percent(o.availability)),
        Fact("Performance", percent(o.performance)),
        Fact("Quality", percent(o.quality)),
        Fact("Total / good count", f"{o.total_count} / {o.good_count}"),
    ]
    units = ""
    if content.work_units:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td>"
            + "".join(
                f'<td class="num">{percent(v)}</td>'
                for v in (u.availability, u.performance, u.quality, u.oee)
            )
            + "</tr>"
            for name, u in content.work_units.items()
        )
        units = (
            "<h2>Work units</h2><table><tr><th>Work unit</th><th>Availability</th>"
            f"<th>Performance</th><th>Quality</th><th>OEE</th></tr>{rows}</table>"
        )
    reasons = ""
    if o.downtime_by_reason:
        items = "".join(
            f"<li>{html.escape(k)}: {v / 60:.1f} min</li>" for k, v in o.downtime_by_reason.items()
        )
        reasons = f"<h2>Down time by reason</h2><ul>{items}</ul>"
    body = figure_div(waterfall_figure(content), div_id) + facts_table(facts) + units + reasons
    return page(f"{content.title} — OEE", body)
