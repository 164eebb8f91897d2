"""Colours shared by the static and the interactive figures, so both read the same."""

from __future__ import annotations

from typing import Final

# Western Electric zones: C (within 1 sigma), B (1-2 sigma), A (2-3 sigma).
ZONE_A: Final = "#fde0dd"
ZONE_B: Final = "#fff3c4"
ZONE_C: Final = "#e5f5e0"
POINTS: Final = "#1f5fa8"
LIMIT: Final = "#c0392b"
CENTER: Final = "#2d3436"
TARGET: Final = "#2ca25f"
VIOLATION: Final = "#d62728"
HISTOGRAM: Final = "#9ecae1"
TOTAL: Final = "#2f6db5"
# One colour per OEE factor, so a reader sees at once which factor loses the most time.
LOSS: Final = {
    "availability": "#e4572e",
    "performance": "#f3a712",
    "quality": "#8e44ad",
}
CONNECTOR: Final = "#888888"
