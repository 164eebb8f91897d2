"""Production lots opened and closed from the readings' ``lot`` field.

A reading that names a lot says "this work unit is making this lot now". The tracker keeps,
per work unit of its line, the current lot and the time of its latest reading, in memory,
and writes to the store only on a change:

- a lot the work unit was not on: the lot opens on that work unit at its first reading's
  time (unless the store already has it: opened through the API, or before a restart);
  material is the line's name, unit ``pcs``, quantities 0 until it is closed with counts;
- the previous lot of the work unit closes at its last reading's time (after a restart the
  tracker has not seen that reading: the lot still open on the work unit closes at the new
  lot's first reading instead; readings from before that open lot's start are late, as
  below, and leave it open).

Readings older than the work unit's latest are ignored here (late readings of a lot that has
moved on must not reopen it). A store error is logged and the batch's readings that name a
lot are kept and observed again, before the next batch's (the readings themselves are stored
already): a lot seen only in the failed batch still opens, at its own first reading's time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.lots import LotRepository

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Current:
    lot: str
    last_ns: int


def _iso(ns: int) -> str:
    # Whole microseconds, cut down: ns / 1e9 as a float rounded 00.999999999 up to the next
    # second, after the reading itself, and the lot's first reading fell outside its window.
    return (EPOCH + timedelta(microseconds=ns // 1000)).isoformat()


def _ns(stamp: str) -> int:
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


class LotTracker:
    """One line's current lot per work unit; ``observe`` is a line ingestor's lot observer."""

    def __init__(self, repo: LotRepository, line: LineRef) -> None:
        self.repo = repo
        self.line = line
        self._current: dict[str, _Current] = {}
        self._lock = threading.Lock()
        # The lot-naming readings of batches the store refused, observed again first.
        self._retry: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def observe(self, units: np.ndarray, lots: np.ndarray, stamps: np.ndarray) -> None:
        with self._lock:
            if self._retry is not None:
                old_units, old_lots, old_stamps = self._retry
                units = np.concatenate((old_units, units))
                lots = np.concatenate((old_lots, lots))
                stamps = np.concatenate((old_stamps, stamps))
            try:
                self._observe(units, lots, stamps)
            except Exception:
                has = lots.astype(bool)
                self._retry = (units[has], lots[has], stamps[has])
                log.exception(
                    "%s: lots from %d reading(s) not recorded; observed again with the next batch",
                    self.line,
                    int(has.sum()),
                )
            else:
                self._retry = None

    def _observe(self, units: np.ndarray, lots: np.ndarray, stamps: np.ndarray) -> None:
        has = lots.astype(bool)
        units, lots, stamps = units[has], lots[has], stamps[has]
        # Per work unit in time order; a segment is a run of one lot.
        order = np.lexsort((stamps, units.astype(str)))
        units, lots, stamps = units[order], lots[order], stamps[order]
        starts = np.flatnonzero(
            np.concatenate(([True], (units[1:] != units[:-1]) | (lots[1:] != lots[:-1])))
        )
        ends = np.append(starts[1:], len(units)) - 1
        for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
            unit, lot = str(units[first]), str(lots[first])
            self._segment(unit, lot, int(stamps[first]), int(stamps[last]))

    def _segment(self, unit: str, lot: str, first_ns: int, last_ns: int) -> None:
        current = self._current.get(unit)
        if current is not None and last_ns < current.last_ns:
            return  # late readings: the work unit has moved past them
        if current is not None and current.lot == lot:
            current.last_ns = max(current.last_ns, last_ns)
            return
        started = _iso(first_ns)
        if current is not None:
            self.repo.close_from_readings(self.line, current.lot, _iso(current.last_ns))
        else:
            # First sight of the work unit since start: a lot left open on it before a
            # restart ends where the new one begins, unless it began after these readings:
            # they are late (replayed), and the open lot is still the one being made (it
            # was closed before its own start, its window empty).
            still_open = self.repo.open_lots_on(self.line, unit)
            newest = max((_ns(at) for _, at in still_open), default=None)
            if newest is not None and newest > first_ns:
                lot_now = next(name for name, at in reversed(still_open) if _ns(at) == newest)
                self._current[unit] = _Current(lot_now, newest)
                self._segment(unit, lot, first_ns, last_ns)  # judged against that lot
                return
            for stale, _ in still_open:
                if stale != lot:
                    self.repo.close_from_readings(self.line, stale, started)
        self.repo.open_from_readings(self.line, lot, unit, started, self.line.name)
        self._current[unit] = _Current(lot, last_ns)
