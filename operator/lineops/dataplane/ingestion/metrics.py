"""Prometheus metrics of ingestion and feature freshness, on a registry the caller owns.

A custom collector rather than ``Counter`` objects: the counts of a batch are updated under
one lock and read under the same lock, so a scrape never sees the accepted part of a batch
without its quarantined part, and ``sum(readings_total) == received`` holds at every scrape.
Freshness is computed at scrape time from the newest window end pushed per work unit, so it
grows while a work unit is silent instead of freezing at its last value.
"""

from __future__ import annotations

import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class IngestionMetrics(Collector):
    """``lineops_ingest_readings_total{line,outcome}`` (accepted|quarantined),
    ``lineops_ingest_quarantined_total{line,reason}``,
    ``lineops_ingest_batches_total{line,source,result}`` (stored|rejected) and
    ``lineops_feature_freshness_seconds{line,work_unit}`` and
    ``lineops_ingest_mqtt_subscribed{line}`` (1 while the broker grants the line's
    subscription, 0 while connecting or refused; only for lines that ingest over MQTT)."""

    def __init__(self, registry: CollectorRegistry, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._accepted: Tally[str] = Tally()
        self._quarantined: dict[str, Tally[str]] = {}
        self._batches: Tally[tuple[str, str, str]] = Tally()
        self._window_end: dict[str, dict[str, float]] = {}
        self._mqtt: dict[str, bool] = {}
        registry.register(self)

    def record_batch(
        self, line: str, source: str, accepted: int, reasons: Mapping[str, int]
    ) -> None:
        with self._lock:
            self._accepted[line] += accepted
            tally = self._quarantined.setdefault(line, Tally())
            tally.update(reasons)
            self._batches[(line, source, "stored")] += 1

    def record_rejected(self, line: str, source: str) -> None:
        with self._lock:
            self._batches[(line, source, "rejected")] += 1

    def record_push(self, line: str, window_ends: Mapping[str, float]) -> None:
        """Window ends (epoch seconds) just written to the online store, per work unit."""
        with self._lock:
            ends = self._window_end.setdefault(line, {})
            for unit, end in window_ends.items():
                ends[unit] = max(end, ends.get(unit, end))

    def record_mqtt(self, line: str, subscribed: bool | None) -> None:
        """The line's MQTT subscription state; None: the line no longer uses MQTT."""
        with self._lock:
            if subscribed is None:
                self._mqtt.pop(line, None)
            else:
                self._mqtt[line] = subscribed

    def forget_line(self, line: str) -> None:
        """Drop every series of a deleted line, counters included: a deleted line's counters
        would otherwise be exported for the life of the process (a line re-created under the
        same name starts from zero, which Prometheus reads as a counter reset)."""
        with self._lock:
            self._window_end.pop(line, None)
            self._accepted.pop(line, None)
            self._quarantined.pop(line, None)
            self._mqtt.pop(line, None)
            for key in [k for k in self._batches if k[0] == line]:
                del self._batches[key]

    def totals(self, line: str) -> tuple[int, int, dict[str, int]]:
        """(accepted, quarantined, quarantined by reason) as one consistent snapshot."""
        with self._lock:
            reasons = dict(self._quarantined.get(line, Tally()))
            return self._accepted[line], sum(reasons.values()), reasons

    def collect(self) -> Iterator[Metric]:
        readings = CounterMetricFamily(
            "lineops_ingest_readings",
            "Readings received, by outcome (accepted + quarantined = received).",
            labels=["line", "outcome"],
        )
        quarantined = CounterMetricFamily(
            "lineops_ingest_quarantined",
            "Readings quarantined, by reason.",
            labels=["line", "reason"],
        )
        batches = CounterMetricFamily(
            "lineops_ingest_batches",
            "Payloads received, by source and result (stored, or rejected as malformed).",
            labels=["line", "source", "result"],
        )
        freshness = GaugeMetricFamily(
            "lineops_feature_freshness_seconds",
            "Age of the newest online features of a work unit (now - window end).",
            labels=["line", "work_unit"],
        )
        mqtt = GaugeMetricFamily(
            "lineops_ingest_mqtt_subscribed",
            "1 while the MQTT broker grants the line's subscription, 0 while connecting, "
            "disconnected or refused.",
            labels=["line"],
        )
        now = self._clock()
        with self._lock:
            for line, subscribed in sorted(self._mqtt.items()):
                mqtt.add_metric([line], 1.0 if subscribed else 0.0)
            lines = set(self._accepted) | set(self._quarantined)
            for line in sorted(lines):
                tally = self._quarantined.get(line, Tally())
                readings.add_metric([line, "accepted"], self._accepted[line])
                readings.add_metric([line, "quarantined"], sum(tally.values()))
                for reason, count in sorted(tally.items()):
                    quarantined.add_metric([line, reason], count)
            for (line, source, result), count in sorted(self._batches.items()):
                batches.add_metric([line, source, result], count)
            for line, ends in sorted(self._window_end.items()):
                for unit, end in sorted(ends.items()):
                    freshness.add_metric([line, unit], max(0.0, now - end))
        yield readings
        yield quarantined
        yield batches
        yield freshness
        yield mqtt
