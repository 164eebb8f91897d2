"""Ingest batches for one line: classify, store durably, then update memory and counters."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.features import PaneWindow, line_sensors
from lineops.dataplane.ingestion.metrics import IngestionMetrics
from lineops.dataplane.ingestion.payload import Names, RawBatch
from lineops.dataplane.ingestion.reasons import DETAILS, Reason
from lineops.dataplane.ingestion.state import LineState, reading_keys
from lineops.dataplane.ingestion.validation import Classified, LineRules, classify
from lineops.dataplane.offline_store import SCHEMA, OfflineStore
from lineops.dataplane.quarantine import ReadingQuarantine

# Accepted readings reach the feature window in chunks of at least this many (or when
# aggregates are taken): the window's cost per call is mostly fixed, so one call for ten
# 50,000-reading batches costs about half of ten calls, and nothing reads the window
# between two takes.
WINDOW_CHUNK: Final = 500_000

# Told about the accepted readings that carry a lot: work units, lots, timestamps (ns), one
# entry a reading (lineops.dataplane.lot_tracker opens and closes production lots from them).
LotObserver = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


@dataclass(frozen=True)
class BatchResult:
    """The per-batch answer: ``received == accepted + quarantined``."""

    line: str
    batch_id: str
    received: int
    accepted: int
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "batch_id": self.batch_id,
            "received": self.received,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "reasons": dict(self.reasons),
        }


def _text(value: Any) -> str | None:
    """What was sent, as text the quarantine can store (lone surrogates escaped)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _names_column(names: Names, pick: np.ndarray | slice) -> pa.Array:
    """A factorised name column as an Arrow string column (each distinct name converted
    once, then taken by code)."""
    distinct = pa.array(names.distinct, pa.string())
    return distinct.take(pa.array(names.codes[pick], pa.int64()))


class LineIngestor:
    """One line's ingestion. Thread-safe: batches of a line are processed one at a time, so
    watermarks and duplicate detection see batches in a single order."""

    def __init__(
        self,
        line: str,
        spec: ProductionLineSpec,
        *,
        offline: OfflineStore,
        quarantine: ReadingQuarantine,
        metrics: IngestionMetrics,
        allowed_lateness_s: float | None = None,
        max_clock_skew_s: float = 300.0,
        panes: int = 20,
    ) -> None:
        self.line = line
        self._offline = offline
        self._quarantine = quarantine
        self._metrics = metrics
        self._max_skew_ns = int(max_clock_skew_s * 1e9)
        self._explicit_lateness = allowed_lateness_s
        self._panes = panes
        self.lock = threading.RLock()
        self.lot_observer: LotObserver | None = None
        self.spec = spec
        self._configure(spec)
        self.restore()

    def _configure(self, spec: ProductionLineSpec) -> None:
        self.spec = spec
        self.rules = LineRules.from_spec(spec)
        window_s = spec.features.window_seconds
        lateness = window_s if self._explicit_lateness is None else self._explicit_lateness
        self.lateness_ns = int(lateness * 1e9)
        self.window = PaneWindow(window_s, line_sensors(spec), panes=self._panes)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._pending_rows = 0
        self.state = LineState(horizon_ns=self.lateness_ns)

    def update_spec(self, spec: ProductionLineSpec) -> None:
        """New rules take effect for the next batch; windows and memory are rebuilt from the
        offline store (a changed window or sensor list changes what they hold)."""
        with self.lock:
            self._configure(spec)
            self.restore()

    def restore(self) -> int:
        """Rebuild watermarks, duplicate keys and feature windows from recent stored
        readings. Returns how many readings were replayed into memory."""
        with self.lock:
            # The live window keeps whole panes: its oldest one may begin up to a pane
            # before (newest - window), and restored only from there it held fewer readings
            # than before the restart (308 became 301 at 1 Hz over 5 min).
            horizon = max(self.lateness_ns, self.window.window_ns + self.window.pane_ns)
            recent = self._offline.recent(self.line, horizon)
            if recent.empty:
                return 0
            units = recent["work_unit"].to_numpy(dtype=object)
            sensors = recent["sensor"].to_numpy(dtype=object)
            stamps = recent["timestamp"].astype("int64").to_numpy()
            values = recent["value"].to_numpy(dtype=float)
            self.state.accept(units, stamps, reading_keys(units, sensors, stamps))
            self.window.add(units, sensors, stamps, values)
            return len(recent)

    def _stored_keys(self, batch: RawBatch, units: list[str] | None = None) -> np.ndarray | None:
        """Keys of the readings already stored over the batch's time span, for its work
        units (or ``units``; sorted). A backfill reaches back past the duplicate memory (the
        lateness horizon): without them a backfill sent twice, or a released quarantine
        whose readings were also sent again, stored readings twice."""
        if len(batch) == 0:
            return None
        stamps = batch.timestamp_ns
        if units is None:
            units = sorted({str(u) for u in pd.unique(batch.work_unit)})
        stored = self._offline.read(
            self.line,
            pd.Timestamp(int(stamps.min()), tz="UTC"),
            pd.Timestamp(int(stamps.max()), tz="UTC"),
            work_units=units,
            columns=["work_unit", "sensor", "timestamp"],
        )
        if stored.empty:
            return None
        keys = reading_keys(
            stored["work_unit"].to_numpy(dtype=object),
            stored["sensor"].to_numpy(dtype=object),
            stored["timestamp"].astype("int64").to_numpy(),
        )
        return np.sort(keys)

    def _unseen_keys(self, batch: RawBatch) -> np.ndarray | None:
        """Stored keys for the batch's work units that have no watermark in memory: new
        ones, or ones quiet for longer than the restore horizon before a restart or a spec
        change (memory is rebuilt from the line's newest readings). Their duplicate memory
        is empty, so a batch of theirs sent again was stored twice. Read once per such unit:
        the batch gives it a watermark."""
        if len(batch) == 0:
            return None
        known = self.state.watermarks
        names = batch.work_unit_names
        distinct = names.distinct if names is not None else pd.unique(batch.work_unit)
        unseen = sorted({str(u) for u in distinct if u is not None} - known.keys())
        return self._stored_keys(batch, unseen) if unseen else None

    def ingest(
        self, batch: RawBatch, *, source: str = "http", backfill: bool = False
    ) -> BatchResult:
        """Classify and durably store a batch; returns only after both stores have it."""
        batch_id = uuid.uuid4().hex
        with self.lock:
            now = pd.Timestamp.now(tz="UTC")
            classified = classify(
                batch,
                self.rules,
                self.state,
                now_ns=now.value,
                max_skew_ns=self._max_skew_ns,
                lateness_ns=None if backfill else self.lateness_ns,
                stored_keys=self._stored_keys(batch) if backfill else self._unseen_keys(batch),
            )
            reason = classified.reason
            ok = reason == 0
            accepted = int(ok.sum())
            # All accepted (the common case): views instead of copies.
            pick: np.ndarray | slice = slice(None) if accepted == len(batch) else ok
            # The quarantine first: if the readings' write failed after it, a retry
            # quarantines its bad items again (kept twice, nothing lost); the other way round,
            # a failed quarantine write after stored readings made the retry store them twice
            # (the duplicate memory is only updated once both stores have the batch).
            bad = np.flatnonzero(~ok)
            if len(bad):
                self._quarantine.add_rows(
                    self._quarantine_rows(batch, reason, bad, source, batch_id, now)
                )
            if accepted:
                self._offline.append(
                    self.line, self._accepted_table(batch, classified, pick, now, batch_id)
                )
            # Memory and counters change only after the stores have the batch: a failed
            # write leaves everything as if the batch never arrived, and the client retries.
            if accepted:
                rows = classified.accepted_by_key()  # sorted keys: LineState merges them
                self.state.accept(
                    classified.work_unit.values(rows),
                    batch.timestamp_ns[rows],
                    classified.keys[rows],
                )
                self._pending.append(
                    (
                        classified.work_unit.values(pick),
                        classified.sensor.values(pick),
                        batch.timestamp_ns[pick],
                        batch.value[pick],
                    )
                )
                self._pending_rows += accepted
                if self._pending_rows >= WINDOW_CHUNK:
                    self._fold_pending()
                if self.lot_observer is not None:
                    lots = batch.lot[pick]
                    # Most lines send no lots: one pass over the column (~15 ns a reading;
                    # None and "" are falsy) before anything else.
                    if np.count_nonzero(lots):
                        self.lot_observer(
                            classified.work_unit.values(pick), lots, batch.timestamp_ns[pick]
                        )
            codes, counts = np.unique(reason[~ok], return_counts=True)
            reasons = {Reason(int(c)).label: int(k) for c, k in zip(codes, counts, strict=True)}
            self._metrics.record_batch(self.line, source, accepted, reasons)
        return BatchResult(
            line=self.line,
            batch_id=batch_id,
            received=len(batch),
            accepted=accepted,
            quarantined=len(batch) - accepted,
            reasons=reasons,
        )

    def quarantine_malformed(
        self, work_unit: str | None, payload: bytes, detail: str, source: str
    ) -> BatchResult:
        """Keep an undecodable message (e.g. a bad MQTT payload) as one quarantined reading."""
        batch_id = uuid.uuid4().hex
        with self.lock:
            text = payload.decode("utf-8", "backslashreplace")[:65536]
            self._quarantine.add_rows(
                [
                    (
                        self.line,
                        work_unit,
                        None,
                        None,
                        text,
                        None,
                        "malformed_payload",
                        detail[:1024],
                        source,
                        batch_id,
                        pd.Timestamp.now(tz="UTC").isoformat(),
                    )
                ]
            )
            self._metrics.record_batch(self.line, source, 0, {"malformed_payload": 1})
        return BatchResult(self.line, batch_id, 1, 0, 1, {"malformed_payload": 1})

    def take_aggregates(self) -> pd.DataFrame:
        """Window aggregates of the work units that received readings since the last call."""
        with self.lock:
            self._fold_pending()
            return self.window.take_dirty()

    def retry_aggregates(self, units: Iterable[str]) -> None:
        """Units whose aggregates were taken but not pushed: taken again at the next call
        (else they waited for new readings, and a quiet unit's latest window was lost)."""
        with self.lock:
            self.window.mark_dirty(units)

    def _fold_pending(self) -> None:
        """Add the accepted readings not yet in the feature window, in arrival order."""
        if not self._pending:
            return
        pending, self._pending, self._pending_rows = self._pending, [], 0
        if len(pending) == 1:
            self.window.add(*pending[0])
        else:
            self.window.add(*(np.concatenate(parts) for parts in zip(*pending, strict=True)))

    def _accepted_table(
        self,
        batch: RawBatch,
        classified: Classified,
        pick: np.ndarray | slice,
        now: pd.Timestamp,
        batch_id: str,
    ) -> pa.Table:
        stamps = batch.timestamp_ns[pick]
        n = len(stamps)
        return pa.table(
            {
                "work_unit": _names_column(classified.work_unit, pick),
                "sensor": _names_column(classified.sensor, pick),
                "timestamp": pa.array(stamps, pa.int64()).cast(SCHEMA.field("timestamp").type),
                "value": pa.array(batch.value[pick], pa.float64()),
                "lot": pa.array(batch.lot[pick], pa.string()),
                "received_at": pa.array(np.full(n, now.value, np.int64)).cast(
                    SCHEMA.field("received_at").type
                ),
                "batch_id": pa.repeat(batch_id, n),
            },
            schema=SCHEMA,
        )

    def _quarantine_rows(
        self,
        batch: RawBatch,
        reason: np.ndarray,
        rows: np.ndarray,
        source: str,
        batch_id: str,
        now: pd.Timestamp,
    ) -> list[tuple[str | None, ...]]:
        stamps = pd.to_datetime(batch.timestamp_ns[rows], utc=True)
        iso = [ts.isoformat() for ts in stamps]
        received = now.isoformat()
        out: list[tuple[str | None, ...]] = []
        for position, row in enumerate(rows.tolist()):
            code = Reason(int(reason[row]))
            out.append(
                (
                    self.line,
                    _text(batch.work_unit[row]),
                    _text(batch.sensor[row]),
                    iso[position],
                    _text(batch.raw_value[row]),
                    _text(batch.lot[row]),
                    code.label,
                    DETAILS[code],
                    source,
                    batch_id,
                    received,
                )
            )
        return out
