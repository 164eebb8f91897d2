"""Numbers as the figures print them, the same in the PNG labels, the HTML tables and the
Plotly hovers.

Control limits and centre lines get as many decimals as their spread needs: with ``.5g`` a
characteristic around 1250 with sigma 0.004 printed UCL, CL and LCL all as "1250". The
format specs returned here read the same in Python (``format(x, spec)``) and in d3-format,
which Plotly's hovertemplates use (``%{y:.3f}``).
"""

from __future__ import annotations

import math
from typing import Final

from lineops.services.reports.content import Bar, CapabilityContent, Panel

# Three significant digits of the spread (sigma): limits 3 sigma apart differ in the last
# two printed digits at least.
_DIGITS_OF_SPREAD: Final = 3
_MAX_DECIMALS: Final = 12
# No spread to go by (every value equal): the value itself, to six significant digits.
_NO_SPREAD: Final = ".6g"


def spread_format(sigma: float) -> str:
    """A format spec for values whose meaningful differences are about ``sigma``."""
    if not (math.isfinite(sigma) and sigma > 0):
        return _NO_SPREAD
    decimals = max(0, _DIGITS_OF_SPREAD - 1 - math.floor(math.log10(sigma)))
    return f".{min(decimals, _MAX_DECIMALS)}f"


def panel_format(panel: Panel) -> str:
    """The format of a panel's points, centre line and limits: from its narrowest sigma (the
    limits are 3 sigma from the centre; a clamped one, e.g. an LCL of 0, is the nearer)."""
    sigmas = [
        max(upper - panel.center, panel.center - lower) / 3
        for upper, lower in zip(panel.ucl, panel.lcl, strict=True)
    ]
    finite = [s for s in sigmas if math.isfinite(s) and s > 0]
    return spread_format(min(finite, default=0.0))


def capability_format(content: CapabilityContent) -> str:
    """The format of a capability study's mean: from the within sigma (Cp's), else the
    overall one."""
    r = content.result
    return spread_format(r.sigma_within if r.sigma_within > 0 else r.sigma_overall)


def given(value: float) -> str:
    """A value the user gave (a specification limit, a target) as given: ``:g`` printed
    1249.995 as "1250"."""
    return f"{value:.12g}"


def waterfall_label(bar: Bar, unit: str) -> tuple[str, str]:
    """A waterfall bar's time and share of the planned time. A loss is subtracted ("−2.5 h");
    a negative loss (parts made faster than the ideal cycle time) adds ("+2.5 h")."""
    if bar.total:
        return f"{bar.height:.3g} {unit}", f"{bar.share:.1%}"
    sign = "−" if bar.height > 0 else "+" if bar.height < 0 else ""
    return f"{sign}{abs(bar.height):.3g} {unit}", f"{sign}{abs(bar.share):.1%}"
