"""OEE per planned shift of one line (lineops.mes.shifts), kept as history in the data plane.

The clock is the line's newest record, as for the live OEE: a replayed or back-filled
history gets its shifts, and a live line's newest record is moments old. Each evaluation
with new records (or new planned maintenance) re-computes the shifts that ended recently
and upserts them, so late records correct a shift and a re-computation never duplicates
one; the shift in progress is computed up to the clock and only shown (status, metrics).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lineops.api.productionline import ProductionLineSpec
from lineops.backends.data_plane_client import DataPlaneReader
from lineops.dataplane.lines import LineRef
from lineops.mes.oee import CountRecord, StateEvent
from lineops.mes.shifts import Maintenance, ShiftOee, shift_occurrences, shifts_oee
from lineops.planning.calendar import OFF_SHIFT

SHIFT_HISTORY = timedelta(days=7)  # how far back a fresh monitor (re)writes the history
SHIFT_RECOMPUTE = timedelta(days=1)  # late records re-compute the shifts ended this recently


@dataclass(frozen=True)
class ShiftSnapshot:
    current: ShiftOee | None  # the shift in progress at the clock, so far
    previous: ShiftOee | None  # the last shift ended by the clock


def plan_maintenance(plan: dict[str, Any] | None) -> list[Maintenance]:
    """The maintenance windows the line's current plan schedules (not its off-shift time)."""
    blocked = ((plan or {}).get("plan") or {}).get("blocked") or []
    return [
        Maintenance(str(b["workUnit"]), _instant(b["start"]), _instant(b["end"]))
        for b in blocked
        if b.get("reason") != OFF_SHIFT
    ]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ShiftTracker:
    def __init__(self, line: LineRef, spec: ProductionLineSpec, store: DataPlaneReader) -> None:
        self._line, self._spec, self._store = line, spec, store
        self._ideal = {w.name: w.ideal_cycle_seconds for w in spec.work_units}
        self._stored_once = False
        self._key: Hashable = None
        self._snapshot = ShiftSnapshot(None, None)

    def evaluate(
        self,
        states: Sequence[StateEvent],
        counts: Sequence[CountRecord],
        version: Hashable,
        plan: dict[str, Any] | None,
    ) -> ShiftSnapshot:
        """Raises MesInputError for records that cannot be combined (the caller reports it)."""
        if not states:
            return ShiftSnapshot(None, None)
        now = max([s.timestamp for s in states] + [c.timestamp for c in counts])
        back = SHIFT_RECOMPUTE if self._stored_once else SHIFT_HISTORY
        since = max(min(s.timestamp for s in states), now - back)
        # Each shift overlapping ``since`` is computed whole: its maintenance is asked for
        # from the shift's start (from ``since``, a recomputed shift lost what came before).
        first = min(
            (o.start for o in shift_occurrences(self._spec.schedule, since, now)), default=since
        )
        maintenance = [
            Maintenance(m.work_unit, m.start, m.end or now)
            for m in self._store.planned_maintenance(self._line, first, now)
        ] + plan_maintenance(plan)
        key = (version, tuple(maintenance))
        if key == self._key:
            return self._snapshot
        results = shifts_oee(
            self._spec.schedule, since, now, states, counts, maintenance, self._ideal, until=now
        )
        ended = [r for r in results if r.shift.end <= now]
        current = next((r for r in results if r.shift.start <= now < r.shift.end), None)
        self._store.save_shifts(self._line, ended)
        self._stored_once = True
        self._key = key
        previous = max(ended, key=lambda r: r.shift.end) if ended else None
        self._snapshot = ShiftSnapshot(current, previous)
        return self._snapshot
