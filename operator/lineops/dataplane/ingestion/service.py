"""The ingestion service of an operator: every line's ingestor, stores, MQTT and Feast.

One instance per operator process (built at startup, kept in kopf's memo). The reconcile of a
ProductionLine calls :meth:`IngestionService.configure_line` (idempotent) and
:meth:`remove_line` on deletion; the HTTP server and the MQTT subscribers call ``ingest_*``.
Methods block (disk, SQLite, Feast): call them from a thread, e.g. ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from prometheus_client import CollectorRegistry

from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import EVENT_TIMESTAMP, FeastStore
from lineops.dataplane.errors import IngestionDisabled, LineConflict, PayloadError, UnknownLine
from lineops.dataplane.features import apply_line_features
from lineops.dataplane.ingestion.line_ingestor import BatchResult, LineIngestor, LotObserver
from lineops.dataplane.ingestion.metrics import IngestionMetrics
from lineops.dataplane.ingestion.mqtt_bridge import MqttBridge
from lineops.dataplane.ingestion.mqtt_client import (
    MqttSubscriber,
    ddata_topic,
    shared,
    split_broker,
)
from lineops.dataplane.ingestion.payload import parse_bulk, parse_json_batch, readings_batch
from lineops.dataplane.offline_store import OfflineStore
from lineops.dataplane.quarantine import ReadingQuarantine
from lineops.dataplane.repositories.quarantine import QuarantineRepository

log = logging.getLogger(__name__)


@dataclass
class _Line:
    ingestor: LineIngestor
    spec: ProductionLineSpec
    mqtt: MqttSubscriber | None = None
    mqtt_key: tuple[str, str | None] | None = None
    next_push: float = 0.0
    namespace: str = "default"
    # The event time last pushed per work unit (see IngestionService._later).
    pushed: dict[str, pd.Timestamp] = field(default_factory=dict)


class IngestionService:
    """Ingestion for all lines of one operator, over one data directory::

    <data>/offline/line=<line>/date=<day>/*.parquet   raw accepted readings
    <data>/lineops.db (or the configured database)   quarantined readings, table quarantine
    <data>/aggregates/line=<line>/*.parquet          window aggregates pushed online
    <data>/feast/                                    registry + SQLite online store
    """

    def __init__(
        self,
        data_dir: Path,
        registry: CollectorRegistry,
        *,
        feast: FeastStore | None = None,
        quarantine: QuarantineRepository | None = None,
        offline: OfflineStore | None = None,
        allowed_lateness_s: float | None = None,
        max_clock_skew_s: float = 300.0,
        panes: int = 20,
        operator_id: str = "lineops",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = data_dir
        # Raw readings: <data>/offline unless a store is given (a PVC path or an S3-compatible
        # URI through OfflineStore.from_uri, in the cluster profile).
        self.offline = offline if offline is not None else OfflineStore(data_dir / "offline")
        # The one quarantine of the data plane's database; without one (tools, tests), a
        # SQLite database of its own in the data directory.
        self.quarantine = (
            ReadingQuarantine.embedded(data_dir, self.namespace_of)
            if quarantine is None
            else ReadingQuarantine(quarantine, self.namespace_of)
        )
        self.aggregates_dir = data_dir / "aggregates"
        self.metrics = IngestionMetrics(registry, clock)
        self.feast = feast
        self._lateness = allowed_lateness_s
        self._skew = max_clock_skew_s
        self._panes = panes
        self._operator_id = operator_id
        self._clock = clock
        self._lines: dict[str, _Line] = {}
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._bridge = MqttBridge(self.ingest_readings_mqtt, self._quarantine_mqtt)

    # ------------------------------------------------------------------ configuration

    @property
    def lines(self) -> list[str]:
        return sorted(self._lines)

    def spec(self, line: str) -> ProductionLineSpec:
        return self._entry(line).spec

    def namespace_of(self, line: str) -> str | None:
        entry = self._lines.get(line)
        return None if entry is None else entry.namespace

    def configure_line(
        self, line: str, spec: ProductionLineSpec, namespace: str = "default"
    ) -> list[str]:
        """Create or update a line's ingestion, Feast objects and MQTT subscription.

        Idempotent. Returns the line's feature view names (empty without Feast). Stores and
        Feast objects are named by the line's name alone, so a name already served for
        another namespace is refused (:class:`LineConflict`) rather than mixed."""
        with self._lock:
            entry = self._lines.get(line)
            if entry is not None and entry.namespace != namespace:
                raise LineConflict(line, entry.namespace)
            if entry is None:
                ingestor = LineIngestor(
                    line,
                    spec,
                    offline=self.offline,
                    quarantine=self.quarantine,
                    metrics=self.metrics,
                    allowed_lateness_s=self._lateness,
                    max_clock_skew_s=self._skew,
                    panes=self._panes,
                )
                entry = self._lines[line] = _Line(ingestor, spec, namespace=namespace)
            elif entry.spec != spec:
                entry.ingestor.update_spec(spec)
                entry.spec = spec
        views: list[str] = []
        if self.feast is not None:
            views = apply_line_features(self.feast, line, spec, self.aggregates_dir)
        self._configure_mqtt(line, entry, spec)
        return views

    def _configure_mqtt(self, line: str, entry: _Line, spec: ProductionLineSpec) -> None:
        mqtt = spec.ingestion.mqtt
        key = (mqtt.broker, mqtt.group) if mqtt.enabled and mqtt.broker else None
        if key == entry.mqtt_key:
            return
        if entry.mqtt is not None:
            entry.mqtt.stop()
            entry.mqtt = None
        if key is None or mqtt.broker is None:
            entry.mqtt_key = None
            self.metrics.record_mqtt(line, None)
            return
        entry.mqtt_key = None  # until the subscriber runs: a failed start is tried again
        host, port = split_broker(mqtt.broker)
        subscriber = MqttSubscriber(
            host,
            port,
            [shared(ddata_topic(line), mqtt.group)],
            self._bridge,
            client_id=f"{self._operator_id}-{line}",
            on_state=lambda subscribed: self.metrics.record_mqtt(line, subscribed),
        )
        self.metrics.record_mqtt(line, False)  # until the broker grants the subscription
        subscriber.start()
        entry.mqtt, entry.mqtt_key = subscriber, key

    def observe_lots(self, line: str, observer: LotObserver | None) -> None:
        """Tell ``observer`` (in the batch's thread, after the stores have it) about a line's
        accepted readings that carry a lot."""
        self._entry(line).ingestor.lot_observer = observer

    def mqtt_subscriber(self, line: str) -> MqttSubscriber | None:
        return self._entry(line).mqtt

    def remove_line(self, line: str, *, delete_features: bool = True) -> None:
        """Stop ingesting a line. Stored readings and quarantine stay (they are data)."""
        entry = self._lines.get(line)
        if entry is None:
            return
        if entry.mqtt is not None:
            # Stopped while the line is still known: the subscriber's last messages are
            # ingested, not dropped as readings of an unknown line.
            entry.mqtt.stop()
        if delete_features and self.feast is not None:
            # Before the line is forgotten: when Feast fails, the deletion's retry must still
            # find the line here (it then did nothing, and the line's Feast objects stayed).
            self.feast.remove_line(line)
        with self._lock:
            self._lines.pop(line, None)
        self.metrics.forget_line(line)

    def _entry(self, line: str) -> _Line:
        entry = self._lines.get(line)
        if entry is None:
            raise UnknownLine(line)
        return entry

    # ------------------------------------------------------------------ ingestion

    def ingest_json(self, line: str, body: bytes, *, source: str = "http") -> BatchResult:
        """A JSON batch from the HTTP endpoint (raises PayloadError, UnknownLine, ...)."""
        entry = self._http_line(line)
        try:
            batch = parse_json_batch(body)
        except PayloadError:
            self.metrics.record_rejected(line, source)
            raise
        return entry.ingestor.ingest(batch, source=source)

    def ingest_bulk(
        self, line: str, body: bytes, content_type: str | None, *, backfill: bool = False
    ) -> BatchResult:
        """A CSV, Parquet or Arrow IPC stream upload (by ``content_type``); ``backfill``
        skips the lateness check (history)."""
        entry = self._http_line(line)
        try:
            batch = parse_bulk(body, content_type)
        except PayloadError:
            self.metrics.record_rejected(line, "bulk")
            raise
        return entry.ingestor.ingest(batch, source="bulk", backfill=backfill)

    def ingest_readings(
        self,
        line: str,
        readings: list[dict[str, Any]],
        *,
        source: str = "api",
        backfill: bool = False,
    ) -> BatchResult:
        entry = self._entry(line)
        batch = readings_batch(readings, "readings")
        return entry.ingestor.ingest(batch, source=source, backfill=backfill)

    def ingest_readings_mqtt(self, line: str, readings: list[dict[str, Any]]) -> None:
        if line in self._lines:
            self.ingest_readings(line, readings, source="mqtt")
        else:
            log.warning("%d MQTT reading(s) for unknown line %s not stored", len(readings), line)

    def _quarantine_mqtt(self, line: str, device: str | None, payload: bytes, why: str) -> None:
        if line in self._lines:
            self._lines[line].ingestor.quarantine_malformed(device, payload, why, "mqtt")

    def _http_line(self, line: str) -> _Line:
        entry = self._entry(line)
        if not entry.spec.ingestion.http.enabled:
            raise IngestionDisabled(f"HTTP ingestion is disabled for line {line}")
        return entry

    # ------------------------------------------------------------------ features

    def materialize(self, line: str) -> int:
        """Push the window aggregates of work units with new readings to the online store
        (and append them to the aggregates history). Returns rows pushed."""
        entry = self._entry(line)
        aggregates = entry.ingestor.take_aggregates()
        if aggregates.empty:
            return 0
        aggregates = _later(aggregates, entry.pushed)
        try:
            # The online push first: repeating it overwrites, while the history file is
            # appended, so it is written once the push went through.
            if self.feast is not None:
                self.feast.push_aggregates(line, aggregates)
            directory = self.aggregates_dir / f"line={line}"
            directory.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pandas(aggregates, preserve_index=False)
            pq.write_table(table, directory / f"agg-{time.time_ns()}.parquet")
        except Exception:
            entry.ingestor.retry_aggregates(str(u) for u in aggregates["work_unit"])
            raise
        entry.pushed.update(
            zip(aggregates["work_unit"].astype(str), aggregates[EVENT_TIMESTAMP], strict=True)
        )
        ends = {
            str(unit): ts.timestamp()
            for unit, ts in zip(aggregates["work_unit"], aggregates["event_timestamp"], strict=True)
        }
        self.metrics.record_push(line, ends)
        return len(aggregates)

    def materialize_due(self) -> int:
        """Materialise every line whose ``features.materializeEvery`` has elapsed."""
        now = self._clock()
        pushed = 0
        for line, entry in list(self._lines.items()):
            if now >= entry.next_push:
                entry.next_push = now + entry.spec.features.materialize_every_seconds
                try:
                    pushed += self.materialize(line)
                except UnknownLine:
                    continue
        return pushed

    async def start(self, tick_s: float = 0.1) -> None:
        """Run materialisation in the background (embedded profile)."""
        if self._task is None:
            self._task = asyncio.create_task(self._materialize_loop(tick_s))

    async def _materialize_loop(self, tick_s: float) -> None:
        while True:
            try:
                await asyncio.to_thread(self.materialize_due)
            except Exception:  # keep serving; the next tick retries
                log.exception("feature materialisation failed")
            await asyncio.sleep(tick_s)

    async def stop(self, deadline: float | None = None) -> None:
        """Stop materialisation and MQTT, push what is pending, close the stores.
        ``deadline`` (``time.monotonic()``; operator shutdown) bounds the pushing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self.close, deadline)

    def close(self, deadline: float | None = None) -> None:
        """MQTT bridges stopped and the quarantine closed always; each line's pending window
        aggregates pushed until ``deadline`` (the rest are logged by name: their readings are
        stored raw, only the latest window's aggregates are not pushed)."""
        skipped: list[str] = []
        for line in list(self._lines):
            entry = self._lines[line]
            if entry.mqtt is not None:
                entry.mqtt.stop()
                entry.mqtt = None
                entry.mqtt_key = None
            if deadline is not None and time.monotonic() >= deadline:
                skipped.append(line)
                continue
            try:
                self.materialize(line)
            except Exception:  # the others are still pushed; this one is named
                log.exception("shutdown: pending aggregates of line %s not pushed", line)
        if skipped:
            log.warning(
                "shutdown deadline: pending aggregates of %d line(s) not pushed: %s",
                len(skipped),
                ", ".join(skipped),
            )
        self.quarantine.close()


def _later(aggregates: pd.DataFrame, pushed: dict[str, pd.Timestamp]) -> pd.DataFrame:
    """``aggregates`` with each unit's event time moved past the one last pushed for it (by
    a microsecond at a time). A late reading changes a window but not its end (the unit's
    newest reading), and Feast's Redis store skips a write whose event time is not newer
    than the stored one: the corrected window never reached serving."""
    if not pushed:
        return aggregates
    step = pd.Timedelta(microseconds=1)
    times = [
        max(end, pushed[unit] + step) if unit in pushed else end
        for unit, end in zip(
            aggregates["work_unit"].astype(str), aggregates[EVENT_TIMESTAMP], strict=True
        )
    ]
    out = aggregates.copy()
    out[EVENT_TIMESTAMP] = pd.to_datetime(times, utc=True)
    return out
