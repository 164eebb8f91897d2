"""The control-chart vocabulary: one enum for the CRD field (``spec.qualityCharacteristics[].
chart``), the charts, the CLI and the reports.

Kept free of numpy so that ``lineops.api`` can use it without loading the analytics.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class ChartKind(StrEnum):
    """Shewhart control chart used for a quality characteristic."""

    XBAR_R = "xbar-r"
    XBAR_S = "xbar-s"
    IMR = "imr"
    P = "p"
    NP = "np"
    C = "c"
    U = "u"

    @property
    def is_attribute(self) -> bool:
        """Counts per sample (p, np, c, u) rather than measured values."""
        return self in _ATTRIBUTE

    @property
    def is_subgrouped(self) -> bool:
        """X-bar charts: each point is a subgroup of ``subgroupSize`` measured values."""
        return self in SUBGROUP_CHARTS

    @property
    def counts_defectives(self) -> bool:
        """p and np: defective items, so no count may exceed its sample size."""
        return self in (ChartKind.P, ChartKind.NP)

    @property
    def statistics(self) -> tuple[str, ...]:
        """Names of the plotted statistics, in plotting order."""
        return _STATISTICS[self]

    def values_per_point(self, subgroup_size: int) -> int:
        """Measured values that make one plotted point: the subgroup size for X-bar charts,
        1 for I-MR and for attribute charts (one count per point)."""
        return subgroup_size if self.is_subgrouped else 1


SUBGROUP_CHARTS: Final = frozenset({ChartKind.XBAR_R, ChartKind.XBAR_S})
_ATTRIBUTE: Final = frozenset({ChartKind.P, ChartKind.NP, ChartKind.C, ChartKind.U})
_STATISTICS: Final[dict[ChartKind, tuple[str, ...]]] = {
    ChartKind.XBAR_R: ("xbar", "r"),
    ChartKind.XBAR_S: ("xbar", "s"),
    ChartKind.IMR: ("i", "mr"),
    ChartKind.P: ("p",),
    ChartKind.NP: ("np",),
    ChartKind.C: ("c",),
    ChartKind.U: ("u",),
}
