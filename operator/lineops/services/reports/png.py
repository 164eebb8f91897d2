"""Static report figures (PNG) drawn with matplotlib's Agg renderer.

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot: no global figure
registry, no GUI backend lookup, so reports can be written from the operator's threads.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from lineops.services.reports.content import (
    CapabilityContent,
    ControlChartContent,
    OeeContent,
    Panel,
    curve_x,
    normal_pdf,
    percent,
    waterfall_bars,
)
from lineops.services.reports.files import replacing
from lineops.services.reports.formatting import (
    capability_format,
    given,
    panel_format,
    waterfall_label,
)
from lineops.services.reports.style import (
    CENTER,
    CONNECTOR,
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

DPI: Final = 120
# Text from users (titles, units, order and work-unit names, reasons) is drawn as typed: as
# mathtext a "$" garbled the label, or failed the whole report ("$_$").
PLAIN: Final[dict[str, Any]] = {"parse_math": False}


def save(fig: Figure, path: Path) -> Path:
    """The figure as ``path``, replaced whole (a failure leaves the old file)."""
    with replacing(path) as file:
        fig.savefig(file, dpi=DPI, format="png")
    return path


def short_rule(rule: str) -> str:
    """``nelson-5`` -> ``N5``, ``weco-2`` -> ``W2``: labels that fit next to a point."""
    family, _, number = rule.partition("-")
    return f"{family[:1].upper()}{number}"


def _limit_line(ax: Axes, panel: Panel, values: list[float], label: str, **style: Any) -> None:
    if panel.varying_limits:
        ax.step(panel.x, values, where="mid", label=label, **style)
    else:
        ax.axhline(values[0], label=label, **style)


def _draw_panel(ax: Axes, panel: Panel) -> None:
    x = panel.x
    lower2, upper2 = panel.zones[2]
    lower1, upper1 = panel.zones[1]
    bands = (
        (panel.lcl, panel.ucl, ZONE_A, "Zone A (2-3σ)"),
        (lower2, upper2, ZONE_B, "Zone B (1-2σ)"),
        (lower1, upper1, ZONE_C, "Zone C (±1σ)"),
    )
    for lower, upper, color, label in bands:
        if panel.varying_limits:
            ax.fill_between(x, lower, upper, color=color, step="mid", label=label)
        else:
            # Constant limits: bands across the whole width, not only between first and last.
            ax.axhspan(lower[0], upper[0], color=color, label=label)
    _limit_line(ax, panel, panel.ucl, "UCL / LCL", color=LIMIT, linestyle="--", linewidth=1.2)
    _limit_line(ax, panel, panel.lcl, "_nolegend_", color=LIMIT, linestyle="--", linewidth=1.2)
    ax.axhline(panel.center, color=CENTER, linewidth=1.2, label="Center line")
    ax.plot(x, panel.points, color=POINTS, marker="o", markersize=3.5, linewidth=1, label="Points")
    if panel.violations:
        idx = sorted(panel.violations)
        ax.scatter(
            [x[i] for i in idx],
            [panel.points[i] for i in idx],
            s=60,
            facecolors="none",
            edgecolors=VIOLATION,
            linewidths=1.8,
            zorder=5,
            label="Run-rule violation",
        )
        for n, i in enumerate(idx):
            ax.annotate(
                ",".join(short_rule(r) for r in panel.violations[i]),
                (x[i], panel.points[i]),
                # Neighbouring violations alternate heights so their labels do not overlap.
                xytext=(0, 7 if n % 2 == 0 else 17),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=VIOLATION,
            )
    if not panel.varying_limits:
        # Values of the lines at the right edge, where a reader looks for them.
        number = panel_format(panel)
        for value, name in ((panel.ucl[0], "UCL"), (panel.center, "CL"), (panel.lcl[0], "LCL")):
            ax.annotate(
                f"{name} {value:{number}}",
                (1.0, value),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    ax.set_ylabel(panel.label)
    ax.margins(y=0.12)  # headroom for the rule labels above flagged points
    ax.grid(True, axis="y", alpha=0.3)


def control_chart_png(content: ControlChartContent, path: Path) -> Path:
    rows = len(content.panels)
    fig = Figure(figsize=(11, 1.2 + 3.3 * rows), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, content.panels, strict=True):
        _draw_panel(ax, panel)
        if content.phase1 and content.phase1 < content.subgroups:
            ax.axvline(
                content.phase1 + 0.5,
                color=CENTER,
                linestyle=":",
                linewidth=1.2,
                label="End of Phase I (limits)",
            )
    # Shared x axis: span every panel (a moving range starts at subgroup 2).
    first = min(p.x[0] for p in content.panels if p.x)
    last = max(p.x[-1] for p in content.panels if p.x)
    axes[-1].set_xlim(first - 0.5, last + 0.5)
    axes[-1].xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[-1].set_xlabel("Subgroup")
    handles, labels = axes[0].get_legend_handles_labels()
    # Violations may sit on any panel; collect legend entries from all of them.
    for ax in axes[1:]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    reference = f"first {content.phase1}" if content.phase1 else f"all {content.subgroups}"
    unit = f" [{content.unit}]" if content.unit else ""
    detail = (
        f"limits from {reference} subgroups · rules {', '.join(content.rules)} · "
        f"{content.violation_count} violation(s)"
    )
    # Twelve rule names do not fit on one line of an 11-inch figure.
    fig.suptitle(
        f"{content.title}{unit}: {content.kind.value} control chart\n"
        + textwrap.fill(detail, width=120),
        fontsize=11,
        **PLAIN,
    )
    return save(fig, path)


def capability_png(content: CapabilityContent, path: Path) -> Path:
    r = content.result
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    ax.hist(
        content.values,
        bins="auto",
        density=True,
        color=HISTOGRAM,
        edgecolor="white",
        label=f"Measurements (n={r.count})",
    )
    xs = curve_x(content)
    ax.plot(
        xs,
        normal_pdf(xs, r.mean, r.sigma_within),
        color=POINTS,
        linewidth=2,
        label=f"Normal, within σ = {r.sigma_within:.4g}",
    )
    ax.plot(
        xs,
        normal_pdf(xs, r.mean, r.sigma_overall),
        color=CENTER,
        linestyle="--",
        linewidth=1.5,
        label=f"Normal, overall σ = {r.sigma_overall:.4g}",
    )
    for value, name in ((r.lsl, "LSL"), (r.usl, "USL")):
        if value is not None:
            ax.axvline(
                value, color=LIMIT, linestyle="--", linewidth=1.6, label=f"{name} {given(value)}"
            )
    if content.target is not None:
        ax.axvline(
            content.target,
            color=TARGET,
            linestyle=":",
            linewidth=1.6,
            label=f"Target {given(content.target)}",
        )
    ax.axvline(
        r.mean, color=CENTER, linewidth=1, label=f"Mean {r.mean:{capability_format(content)}}"
    )
    lines = [
        f"Cp  {_index(r.cp)}   Cpk {_index(r.cpk)}",
        f"Pp  {_index(r.pp)}   Ppk {_index(r.ppk)}",
        f"within σ: {r.within_method}",
    ]
    ax.text(
        0.01,
        0.98,
        "\n".join(lines),
        transform=ax.transAxes,
        va="top",
        family="monospace",
        fontsize=9,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85},
    )
    unit = f" [{content.unit}]" if content.unit else ""
    ax.set_xlabel(f"{content.title}{unit}", **PLAIN)
    ax.set_ylabel("Density")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{content.title}: process capability (Cpk {_index(r.cpk)})", **PLAIN)
    return save(fig, path)


def _index(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def waterfall_png(content: OeeContent, path: Path) -> Path:
    o = content.oee
    unit, scale = content.time_unit
    fig = Figure(figsize=(11, 5.8), layout="constrained")
    ax = fig.subplots()
    bars = waterfall_bars(content)
    for i, bar in enumerate(bars):
        color = TOTAL if bar.total else LOSS[bar.factor]
        ax.bar(i, bar.height, bottom=bar.bottom, color=color, width=0.65)
        ax.annotate(
            "\n".join(waterfall_label(bar, unit)),
            (i, bar.bottom + max(bar.height, 0.0)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        if i + 1 < len(bars):
            # Connector from where this bar leaves the level to where the next one starts.
            level = bar.height if bar.total else bar.bottom
            ax.plot([i + 0.33, i + 0.67], [level, level], color=CONNECTOR, linewidth=0.8)
    ax.set_xticks(range(len(bars)), [b.label for b in bars], rotation=20, ha="right")
    # Work-unit times add up: two units over an 8-hour shift plan 16 machine hours.
    ax.set_ylabel(f"Machine time [{unit}]")
    # From the bars, not the planned time: above 100 % performance the net run time is
    # longer than the run time (a negative speed loss), and a fixed top cut it off.
    low = min(0.0, *(bar.bottom + min(bar.height, 0.0) for bar in bars))
    top = max(bar.bottom + max(bar.height, 0.0) for bar in bars)
    ax.set_ylim(low, max(top, (o.planned_production_time or 1.0) / scale) * 1.15)
    ax.grid(True, axis="y", alpha=0.3)
    legend = [Patch(color=TOTAL, label="Time")]
    legend += [Patch(color=c, label=f"{factor.capitalize()} loss") for factor, c in LOSS.items()]
    # Below the axes: bars above 100 % performance reach the top right corner.
    fig.legend(handles=legend, loc="outside lower center", ncols=4, fontsize=9, frameon=False)
    ax.set_title(
        f"{content.title}: OEE {percent(o.oee)} = availability {percent(o.availability)}"
        f" × performance {percent(o.performance)} × quality {percent(o.quality)}",
        **PLAIN,
    )
    return save(fig, path)
