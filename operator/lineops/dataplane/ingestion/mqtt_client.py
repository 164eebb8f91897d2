"""MQTT subscriber (paho-mqtt) for Sparkplug-B-style topics, acknowledging after storage.

Topic layout: ``spBv1.0/<group>/DDATA/<edge node>/<device>``; lineops uses the Sparkplug group
as the line name and the device as the work unit. Payloads are handed to a *sink* in batches;
QoS 1 messages are acknowledged to the broker (``manual_ack``) only after the sink returned,
i.e. after the readings are durably stored, and the session is persistent (fixed client id,
``clean_session=False``), so a crash between receipt and storage makes the broker redeliver.
This module knows nothing about readings: decoding belongs to the service layer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

SPARKPLUG_NAMESPACE: Final = "spBv1.0"
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MqttMessage:
    topic: str
    payload: bytes
    mid: int
    qos: int


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    group: str
    message_type: str
    edge_node: str
    device: str | None


def ddata_topic(group: str, edge_node: str = "+", device: str = "+") -> str:
    return f"{SPARKPLUG_NAMESPACE}/{group}/DDATA/{edge_node}/{device}"


def parse_topic(topic: str) -> SparkplugTopic | None:
    """``spBv1.0/<group>/<type>/<edge>[/<device>]`` -> parts, None for other topics."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != SPARKPLUG_NAMESPACE:
        return None
    return SparkplugTopic(parts[1], parts[2], parts[3], parts[4] if len(parts) == 5 else None)


def shared(topic: str, group: str | None) -> str:
    """A shared subscription (``$share/<group>/<topic>``) lets operator replicas split the
    stream instead of each storing every message."""
    return topic if not group else f"$share/{group}/{topic}"


def split_broker(broker: str) -> tuple[str, int]:
    host, _, port = broker.rpartition(":")
    return host, int(port)


Sink = Callable[[Sequence[MqttMessage]], None]


class MqttSubscriber:
    """Subscribe to topics on one broker and feed batches of messages to ``sink``."""

    def __init__(
        self,
        host: str,
        port: int,
        topics: Sequence[str],
        sink: Sink,
        *,
        client_id: str,
        flush_interval_s: float = 0.2,
        max_batch: int = 10_000,
        qos: int = 1,
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.topics = list(topics)
        self._sink = sink
        self._qos = qos
        self._flush_interval = flush_interval_s
        self._max_batch = max_batch
        self._pending: list[MqttMessage] = []
        self._cond = threading.Condition()
        self._stopping = False
        # Set once the broker granted every subscription (SUBACK), not at CONNACK: a
        # refused subscription (an ACL, shared subscriptions off) leaves a connected
        # client that receives nothing.
        self._subscribed = threading.Event()
        self._on_state = on_state or (lambda _subscribed: None)
        self.refusal: str | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._flusher = threading.Thread(
            target=self._flush_loop, name=f"mqtt-{client_id}", daemon=True
        )
        self.delivered = 0

    # paho callbacks run on its network thread; they only queue.
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("MQTT connect to %s:%s refused: %s", self.host, self.port, reason)
            return
        client.subscribe([(topic, self._qos) for topic in self.topics])

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        problems = []
        for topic, reason in zip(self.topics, reasons, strict=False):
            if getattr(reason, "is_failure", False):
                problems.append(f"{topic}: {reason}")
            elif int(getattr(reason, "value", self._qos)) < self._qos:
                # QoS 0 granted for QoS 1 asked: messages lost in a crash are not redelivered
                log.warning(
                    "MQTT broker %s:%s granted QoS %s for %s (asked %s): a reading received "
                    "but not yet stored when the data plane stops is not redelivered",
                    self.host, self.port, int(reason.value), topic, self._qos,
                )  # fmt: skip
        if problems:
            self.refusal = "; ".join(problems)
            log.error(
                "MQTT broker %s:%s refused the subscription, no readings arrive: %s",
                self.host, self.port, self.refusal,
            )  # fmt: skip
            self._on_state(False)
            return
        self.refusal = None
        self._subscribed.set()
        self._on_state(True)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._subscribed.clear()
        self._on_state(False)
        if not self._stopping:
            log.warning("MQTT disconnected from %s:%s: %s", self.host, self.port, reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            self._pending.append(
                MqttMessage(message.topic, bytes(message.payload), message.mid, message.qos)
            )
            if len(self._pending) >= self._max_batch:
                self._cond.notify()

    def _flush_loop(self) -> None:
        while True:
            with self._cond:
                if not self._stopping and len(self._pending) < self._max_batch:
                    self._cond.wait(self._flush_interval)
                batch, self._pending = self._pending, []
                stopping = self._stopping
            if batch:
                self._deliver(batch)
            if stopping:
                return

    def _deliver(self, batch: list[MqttMessage]) -> None:
        try:
            self._sink(batch)
        except Exception:
            # Not acknowledged: keep the messages and try again on the next flush.
            log.exception("MQTT sink failed for %d messages; retrying", len(batch))
            with self._cond:
                self._pending[:0] = batch
            time.sleep(self._flush_interval)
            return
        self.delivered += len(batch)
        for message in batch:
            if message.qos > 0:
                self._client.ack(message.mid, message.qos)

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        self._flusher.start()

    def wait_subscribed(self, timeout_s: float) -> bool:
        """True once the broker granted every subscription (within ``timeout_s``)."""
        return self._subscribed.wait(timeout_s)

    def stop(self) -> None:
        """Deliver what was received, then disconnect."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._flusher.is_alive():
            self._flusher.join()
        self._client.disconnect()
        self._client.loop_stop()
