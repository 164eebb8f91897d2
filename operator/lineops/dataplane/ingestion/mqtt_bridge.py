"""Sparkplug-B-style JSON over MQTT -> readings for the ingestion core.

Topic ``spBv1.0/<line>/DDATA/<edge node>/<work unit>``, payload::

    {"timestamp": 1718000000000, "lot": "L-17",
     "metrics": [{"name": "vibration_rms", "value": 3.2, "timestamp": 1718000000000}]}

Numeric timestamps are epoch *milliseconds*, as in Sparkplug B; ISO 8601 strings work too.
A metric without its own timestamp takes the payload's. A message that cannot be decoded is
quarantined whole as ``malformed_payload`` (there is no HTTP client to answer 422 to).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.mqtt_client import MqttMessage, parse_topic
from lineops.dataplane.ingestion.payload import readings_batch


def decode_message(payload: bytes, work_unit: str) -> list[dict[str, Any]]:
    """One DDATA payload -> reading dicts (``readings_batch`` input); PayloadError if bad."""
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("payload", f"not valid JSON ({exc})", 400) from None
    if not isinstance(document, dict):
        raise PayloadError("payload", "must be a JSON object")
    metrics = document.get("metrics")
    if not isinstance(metrics, list):
        raise PayloadError("metrics", "missing" if metrics is None else "must be an array")
    default_ts = _timestamp(document.get("timestamp"), "timestamp")
    lot = document.get("lot")
    readings: list[dict[str, Any]] = []
    for index, metric in enumerate(metrics):
        if not isinstance(metric, dict):
            raise PayloadError(f"metrics[{index}]", "must be an object")
        if "name" not in metric:
            raise PayloadError(f"metrics[{index}].name", "missing")
        if "value" not in metric:
            raise PayloadError(f"metrics[{index}].value", "missing")
        stamp = _timestamp(metric.get("timestamp"), f"metrics[{index}].timestamp")
        if stamp is None:
            stamp = default_ts
        if stamp is None:
            raise PayloadError(f"metrics[{index}].timestamp", "missing")
        readings.append(
            {
                "work_unit": work_unit,
                "sensor": metric["name"],
                "timestamp": stamp,
                "value": metric["value"],
                "lot": metric.get("lot", lot),
            }
        )
    # Shape-check now, so that one bad message cannot reject its neighbours' batch later.
    readings_batch(readings, "metrics")
    return readings


def _timestamp(value: Any, field: str) -> Any:
    if value is None or isinstance(value, str):
        return value
    if type(value) in (int, float):
        return value / 1000.0  # Sparkplug: epoch milliseconds -> seconds
    raise PayloadError(field, "must be epoch milliseconds or an ISO 8601 string")


class MqttBridge:
    """Sink for :class:`lineops.dataplane.ingestion.mqtt_client.MqttSubscriber`: decodes
    messages, groups them per line and hands them to ``ingest`` / ``quarantine``."""

    def __init__(
        self,
        ingest: Callable[[str, list[dict[str, Any]]], object],
        quarantine: Callable[[str, str | None, bytes, str], object],
    ) -> None:
        self._ingest = ingest
        self._quarantine = quarantine

    def __call__(self, messages: Sequence[MqttMessage]) -> None:
        per_line: dict[str, list[dict[str, Any]]] = {}
        for message in messages:
            topic = parse_topic(message.topic)
            if topic is None or topic.message_type != "DDATA" or topic.device is None:
                continue  # not ours (NBIRTH, STATE, ...): nothing to store
            try:
                readings = decode_message(message.payload, topic.device)
            except PayloadError as exc:
                self._quarantine(topic.group, topic.device, message.payload, str(exc))
                continue
            per_line.setdefault(topic.group, []).extend(readings)
        for line, readings in per_line.items():
            self._ingest(line, readings)
