"""Static report figures (PNG) drawn with matplotlib's Agg renderer.

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot: no global figure
registry, no GUI backend lookup, so reports can be written from the operator's threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lineops.services.reports.content import (
    CapabilityContent,
    ControlChartContent,
    OeeContent,
    Panel,
    curve_x,
    normal_pdf,
    percent,
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


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, format="png")
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
    step: Literal["mid"] | None = "mid" if panel.varying_limits else None
    ax.fill_between(x, panel.lcl, panel.ucl, color=ZONE_A, step=step, label="Zone A (2-3σ)")
    ax.fill_between(x, lower2, upper2, color=ZONE_B, step=step, label="Zone B (1-2σ)")
    ax.fill_between(x, lower1, upper1, color=ZONE_C, step=step, label="Zone C (±1σ)")
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
        for i in idx:
            ax.annotate(
                ",".join(short_rule(r) for r in panel.violations[i]),
                (x[i], panel.points[i]),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=7,
                color=VIOLATION,
            )
    if not panel.varying_limits:
        # Values of the lines at the right edge, where a reader looks for them.
        for value, name in ((panel.ucl[0], "UCL"), (panel.center, "CL"), (panel.lcl[0], "LCL")):
            ax.annotate(
                f"{name} {value:.5g}",
                (1.0, value),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
    ax.set_ylabel(panel.label)
    ax.set_xlim(min(x) - 0.5, max(x) + 0.5)
    ax.grid(True, axis="y", alpha=0.3)


def control_chart_png(content: ControlChartContent, path: Path) -> Path:
    rows = len(content.panels)
    fig = Figure(figsize=(11, 1.2 + 3.3 * rows), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, content.panels, strict=True):
        _draw_panel(ax, panel)
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
    fig.suptitle(
        f"{content.title}{unit}: {content.kind.value} control chart\n"
        f"limits from {reference} subgroups · rules {', '.join(content.rules)} · "
        f"{content.violation_count} violation(s)",
        fontsize=11,
    )
    return _save(fig, path)


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
            ax.axvline(value, color=LIMIT, linestyle="--", linewidth=1.6, label=f"{name} {value:g}")
    if content.target is not None:
        ax.axvline(
            content.target,
            color=TARGET,
            linestyle=":",
            linewidth=1.6,
            label=f"Target {content.target:g}",
        )
    ax.axvline(r.mean, color=CENTER, linewidth=1, label=f"Mean {r.mean:.5g}")
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
    ax.set_xlabel(f"{content.title}{unit}")
    ax.set_ylabel("Density")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"{content.title}: process capability (Cpk {_index(r.cpk)})")
    return _save(fig, path)


def _index(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def waterfall_png(content: OeeContent, path: Path) -> Path:
    o = content.oee
    unit, scale = content.time_unit
    fig = Figure(figsize=(11, 5.8), layout="constrained")
    ax = fig.subplots()
    level = 0.0
    planned = o.planned_production_time or 1.0
    for i, step in enumerate(content.steps):
        value = step.seconds / scale
        if step.total:
            bottom, height, color = 0.0, value, TOTAL
            level = value
        else:
            level -= value
            bottom, height, color = level, value, LOSS
        ax.bar(i, height, bottom=bottom, color=color, width=0.65)
        ax.annotate(
            f"{'−' if not step.total else ''}{value:.3g} {unit}\n{step.seconds / planned:.1%}",
            (i, bottom + max(height, 0.0)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        if i + 1 < len(content.steps):
            # Connector from this bar's end to the next bar's start.
            ax.plot([i + 0.33, i + 0.67], [level, level], color=CONNECTOR, linewidth=0.8)
    ax.set_xticks(
        range(len(content.steps)), [s.label for s in content.steps], rotation=20, ha="right"
    )
    ax.set_ylabel(f"Time [{unit}]")
    ax.set_ylim(0, planned / scale * 1.15)
    ax.grid(True, axis="y", alpha=0.3)
    ax.bar([], [], color=TOTAL, label="Time")
    ax.bar([], [], color=LOSS, label="Loss")
    ax.legend(loc="upper right", fontsize=9)
    ax.set_title(
        f"{content.title}: OEE {percent(o.oee)} = availability {percent(o.availability)}"
        f" × performance {percent(o.performance)} × quality {percent(o.quality)}"
    )
    return _save(fig, path)
