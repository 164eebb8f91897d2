"""Ingestion end to end: real HTTP server, real Mosquitto, real Feast local store (no cluster).

Loopback only; every wait polls with a deadline (no sleeps as synchronisation).
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pandas as pd
import pytest
import yaml
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.feast_store import FeastStore
from lineops.dataplane.ingestion import IngestionServer, IngestionService
from prometheus_client import CollectorRegistry

from tests.support.kube import wait_for as support_wait_for
from tests.support.mosquitto import broker

pytestmark = pytest.mark.integration

LINE = "press-line-1"
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    return support_wait_for(check, timeout=timeout, interval=0.05, what=what)


async def await_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    """``wait_for`` for coroutines: the event loop (and the materialiser on it) keeps running."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


def line_spec(mqtt_port: int | None = None) -> ProductionLineSpec:
    document = yaml.safe_load((ROOT / "examples" / "productionline.yaml").read_text())["spec"]
    document["features"] = {"window": "5m", "materializeEvery": "100ms"}
    if mqtt_port is not None:
        document["ingestion"]["mqtt"] = {
            "enabled": True,
            "broker": f"127.0.0.1:{mqtt_port}",
            "group": "lineops",
        }
    return ProductionLineSpec.model_validate(document)


def now_iso(offset_s: float = 0.0) -> str:
    return (pd.Timestamp.now(tz="UTC") + pd.Timedelta(seconds=offset_s)).isoformat()


def online(service: IngestionService, unit: str, feature: str) -> Any:
    assert service.feast is not None
    return service.feast.online_features(LINE, [unit], [feature])[feature][0]


async def _http_and_quarantine(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    service = IngestionService(tmp_path, registry, feast=FeastStore.local(tmp_path))
    views = await asyncio.to_thread(service.configure_line, LINE, line_spec())
    assert views == ["press_line_1__sensor_window"]
    server = IngestionServer(service, registry, port=0)
    port = await server.start()
    assert port > 0
    await service.start()
    try:
        readings = [
            {
                "work_unit": "press-01",
                "sensor": "vibration_rms",
                "timestamp": now_iso(-i),
                "value": float(i % 7),
            }
            for i in range(100)
        ]
        junk = [
            {"work_unit": "press-01", "sensor": "ram_force", "timestamp": now_iso(), "value": v}
            for v in ("Bad", "Inp OutRange", "I/O Timeout")
        ]
        junk += [
            {"work_unit": "press-01", "sensor": "ram_force", "timestamp": now_iso(), "value": 1e6},
            {"work_unit": "ghost-01", "sensor": "ram_force", "timestamp": now_iso(), "value": 1},
        ]
        async with aiohttp.ClientSession() as http:
            url = f"{server.url}/v1/namespaces/default/lines/{LINE}/readings"
            response = await http.post(url, json={"readings": readings + junk + readings[:2]})
            answer = await response.json()
            assert response.status == 200, answer
            assert answer["received"] == 107
            assert answer["accepted"] == 100
            assert answer["reasons"] == {
                "non_numeric": 3,
                "out_of_range": 1,
                "unknown_work_unit": 1,
                "duplicate": 2,
            }
            bad = await http.post(
                url,
                data=json.dumps({"readings": [{"value": 1}]}),
                headers={"Content-Type": "application/json"},
            )
            assert bad.status == 422
            assert (await bad.json(content_type=None))["field"] == "readings[0].work_unit"
            missing = await http.post(
                f"{server.url}/v1/namespaces/default/lines/nope/readings", json={"readings": []}
            )
            assert missing.status == 404
            csv = (
                "work_unit,sensor,timestamp,value\n"
                + "".join(
                    f"furnace-01,zone1_temperature,{now_iso(-i)},{850 + i}\n" for i in range(10)
                )
                + f"furnace-01,zone1_temperature,{now_iso()},Scan Timeout\n"
            )
            bulk = await http.post(
                f"{server.url}/v1/namespaces/default/lines/{LINE}/readings:bulk",
                data=csv.encode(),
                headers={"Content-Type": "text/csv"},
            )
            assert (await bulk.json())["reasons"] == {"non_numeric": 1}

            # Window aggregates reach the Feast online store through the materialiser.
            await await_for(
                lambda: online(service, "press-01", "vibration_rms__count") == 100,
                what="press-01 features online",
            )
            await await_for(
                lambda: online(service, "furnace-01", "zone1_temperature__max") == 859.0,
                what="furnace-01 features online",
            )
            assert online(service, "press-01", "vibration_rms__mean") == pytest.approx(
                sum(i % 7 for i in range(100)) / 100
            )
            via_service = service.feast.online_features(  # type: ignore[union-attr]
                LINE, ["press-01"], service="sensor_window_v1"
            )
            assert via_service["vibration_rms__count"] == [100]

            text = await (await http.get(f"{server.url}/metrics")).text()
            assert (
                f'lineops_ingest_readings_total{{line="{LINE}",outcome="accepted"}} 110.0' in text
            )
            assert (
                f'lineops_ingest_readings_total{{line="{LINE}",outcome="quarantined"}} 8.0' in text
            )
            assert (
                'lineops_feature_freshness_seconds{line="press-line-1",work_unit="press-01"}'
                in text
            )
            health = await http.get(f"{server.url}/healthz")
            assert (await health.json())["lines"] == [LINE]
        assert service.quarantine.counts_by_reason(LINE) == {
            "non_numeric": 4,
            "out_of_range": 1,
            "unknown_work_unit": 1,
            "duplicate": 2,
        }
        assert service.offline.count(LINE) == 110
        freshness = service.feast.freshness(LINE, ["press-01", "gauge-01"])  # type: ignore[union-attr]
        assert freshness["gauge-01"] is None
        assert freshness["press-01"] is not None and freshness["press-01"] < 60
    finally:
        await server.stop()
        await service.stop()


def test_http_readings_reach_the_online_store_and_junk_is_quarantined(tmp_path: Path) -> None:
    asyncio.run(_http_and_quarantine(tmp_path))


def test_mqtt_readings_reach_the_online_store(tmp_path: Path, mosquitto: int) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    registry = CollectorRegistry()
    service = IngestionService(tmp_path, registry, feast=FeastStore.local(tmp_path))
    service.configure_line(LINE, line_spec(mosquitto))
    subscriber = service.mqtt_subscriber(LINE)
    assert subscriber is not None
    assert subscriber.wait_subscribed(10)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-edge")
    publisher.connect("127.0.0.1", mosquitto)
    publisher.loop_start()
    try:
        # The subscription is in place once the broker answers SUBACK; until then, publish
        # and check again (QoS 1 messages published before it would not be routed to us).
        stamp_ms = int(time.time() * 1000)
        infos = []
        topic = f"spBv1.0/{LINE}/DDATA/edge-1/press-01"
        for i in range(50):
            payload = {
                "timestamp": stamp_ms - i * 1000,
                "metrics": [
                    {"name": "oil_temperature", "value": 40.0 + i},
                    {"name": "ram_force", "value": "Bad"},
                ],
            }
            infos.append(publisher.publish(topic, json.dumps(payload), qos=1))
        infos.append(publisher.publish(topic, b"{broken", qos=1))
        for info in infos:
            info.wait_for_publish(10)

        def settled() -> bool:
            service.materialize(LINE)
            accepted, quarantined, _ = service.metrics.totals(LINE)
            return accepted == 50 and quarantined == 51

        wait_for(settled, 20, "MQTT readings stored")
        assert service.quarantine.counts_by_reason(LINE) == {
            "non_numeric": 50,
            "malformed_payload": 1,
        }
        assert online(service, "press-01", "oil_temperature__count") == 50
        assert online(service, "press-01", "oil_temperature__max") == 89.0
        assert online(service, "press-01", "oil_temperature__last") == 40.0
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        service.close()


def test_a_refused_subscription_is_reported_not_taken_for_a_working_one(
    tmp_path: Path,
) -> None:
    """A real Mosquitto whose access control (its dynamic-security plugin, shipped with the
    Debian package; the plain acl_file of 2.0 grants every subscription and filters at
    delivery) lets the client connect but not subscribe: it answers SUBACK with a failure
    code (0x80). The subscriber must not count as subscribed, must say why, and the line's
    gauge stays 0; the same client on a broker that grants the topic reaches 1."""
    plugin = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
    assert plugin.exists(), f"{plugin} (Debian package mosquitto) is missing"
    access = tmp_path / "dynamic-security.json"
    access.write_text(
        json.dumps(
            {
                "defaultACLAccess": {
                    "publishClientSend": True,
                    "publishClientReceive": True,
                    "subscribe": False,
                    "unsubscribe": True,
                },
                "clients": [],
                "groups": [],
                "roles": [],
            }
        )
    )
    service = IngestionService(
        tmp_path / "refused", CollectorRegistry(), feast=FeastStore.local(tmp_path / "refused")
    )

    def gauge(svc: IngestionService) -> float | None:
        for metric in svc.metrics.collect():
            if metric.name == "lineops_ingest_mqtt_subscribed":
                return next((x.value for x in metric.samples if x.labels["line"] == LINE), None)
        return None

    try:
        with broker(tmp_path, f"plugin {plugin}\nplugin_opt_config_file {access}\n") as port:
            service.configure_line(LINE, line_spec(port))
            subscriber = service.mqtt_subscriber(LINE)
            assert subscriber is not None
            refusal = wait_for(lambda: subscriber.refusal, 10, "the broker's SUBACK")
            assert f"spBv1.0/{LINE}/DDATA/+/+" in refusal
            assert not subscriber.wait_subscribed(0)
            assert gauge(service) == 0.0
    finally:
        service.close()
    granted_dir = tmp_path / "granted"
    granted_dir.mkdir()
    service = IngestionService(
        granted_dir, CollectorRegistry(), feast=FeastStore.local(granted_dir)
    )
    try:
        with broker(granted_dir) as port:
            service.configure_line(LINE, line_spec(port))
            subscriber = service.mqtt_subscriber(LINE)
            assert subscriber is not None and subscriber.wait_subscribed(10)
            assert subscriber.refusal is None and gauge(service) == 1.0
    finally:
        service.close()


def _serve(data: Path, line_file: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lineops.cli.main",
            "dataplane",
            "serve",
            "--line-file",
            str(line_file),
            "--data",
            str(data),
            "--port",
            "0",
            "--no-feast",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # blocks until the server printed its URL
    if not first:
        raise AssertionError("dataplane serve exited before listening")
    return process, json.loads(first)["url"]


def test_a_killed_server_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    manifest = yaml.safe_load((ROOT / "examples" / "productionline.yaml").read_text())
    line_file = tmp_path / "line.yaml"
    line_file.write_text(yaml.safe_dump(manifest))
    data = tmp_path / "data"
    process, url = _serve(data, line_file)
    acknowledged: list[dict[str, Any]] = []
    sent: list[list[dict[str, Any]]] = []
    stop = threading.Event()
    target = {"url": url}
    base = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(hours=1)

    def client() -> None:
        i = 0
        while not stop.is_set():
            batch = [
                {
                    "work_unit": "press-01",
                    "sensor": "ram_force",
                    "timestamp": (base + pd.Timedelta(milliseconds=i * 100 + k)).isoformat(),
                    "value": float(k),
                }
                for k in range(100)
            ]
            request = urllib.request.Request(
                f"{target['url']}/v1/namespaces/default/lines/{LINE}/readings",
                data=json.dumps({"readings": batch}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    acknowledged.append({"batch": batch, "answer": json.loads(response.read())})
            except (urllib.error.URLError, ConnectionError, OSError):
                sent.append(batch)  # not acknowledged: may or may not be stored
            i += 1

    thread = threading.Thread(target=client)
    thread.start()
    try:
        wait_for(lambda: len(acknowledged) >= 20, 30, "batches acknowledged before the kill")
        process.send_signal(signal.SIGKILL)  # a crash, not a graceful stop
        process.wait(10)
        acked_before = len(acknowledged)
        process, target["url"] = _serve(data, line_file)
        wait_for(lambda: len(acknowledged) >= acked_before + 20, 30, "batches after restart")
    finally:
        stop.set()
        thread.join(30)
        process.send_signal(signal.SIGTERM)
        process.wait(30)

    from lineops.dataplane.offline_store import OfflineStore

    stored = OfflineStore(data / "offline").read(LINE)
    keys = set(zip(stored["sensor"], stored["timestamp"].astype("int64"), strict=True))
    assert len(keys) == len(stored), "a reading was stored twice"
    for entry in acknowledged:
        assert entry["answer"]["accepted"] == 100, entry["answer"]["reasons"]
        for reading in entry["batch"]:
            key = (reading["sensor"], pd.Timestamp(reading["timestamp"]).value)
            assert key in keys, "an acknowledged reading was lost"


def test_a_subscriber_that_failed_to_start_is_started_on_the_next_reconcile(
    tmp_path: Path, mosquitto: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line's broker key was remembered before the subscriber started, so after one
    failed start every later reconcile saw 'unchanged' and the line went Ready with no
    subscriber. The failure is injected into the first start only (the one way to make a
    valid spec fail); the second start is the real subscriber on a real broker."""
    from lineops.dataplane.ingestion import mqtt_client

    real_start = mqtt_client.MqttSubscriber.start
    starts: list[int] = []

    def failing_once(self: mqtt_client.MqttSubscriber) -> None:
        starts.append(1)
        if len(starts) == 1:
            raise OSError("injected: the first start fails")
        real_start(self)

    monkeypatch.setattr(mqtt_client.MqttSubscriber, "start", failing_once)
    service = IngestionService(tmp_path, CollectorRegistry(), feast=FeastStore.local(tmp_path))
    try:
        with pytest.raises(OSError, match="injected"):
            service.configure_line(LINE, line_spec(mosquitto))
        assert service.mqtt_subscriber(LINE) is None
        service.configure_line(LINE, line_spec(mosquitto))  # the operator's retry
        subscriber = service.mqtt_subscriber(LINE)
        assert subscriber is not None and subscriber.wait_subscribed(10)
        assert len(starts) == 2
    finally:
        service.remove_line(LINE, delete_features=False)


def test_removing_a_line_stores_the_mqtt_readings_it_already_received(
    tmp_path: Path, mosquitto: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The subscriber is stopped (which delivers what it holds) while the line is still
    known: it used to be forgotten first, and those readings were dropped with a warning."""
    import paho.mqtt.client as mqtt
    from lineops.dataplane.ingestion import mqtt_client
    from paho.mqtt.enums import CallbackAPIVersion

    # A long flush interval: what was received stays pending until the subscriber stops.
    init = mqtt_client.MqttSubscriber.__init__
    monkeypatch.setattr(init, "__kwdefaults__", {**init.__kwdefaults__, "flush_interval_s": 600.0})
    service = IngestionService(tmp_path, CollectorRegistry(), feast=FeastStore.local(tmp_path))
    service.configure_line(LINE, line_spec(mosquitto))
    subscriber = service.mqtt_subscriber(LINE)
    assert subscriber is not None and subscriber.wait_subscribed(10)
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-edge-remove")
    publisher.connect("127.0.0.1", mosquitto)
    publisher.loop_start()
    try:
        stamp_ms = int(time.time() * 1000)
        topic = f"spBv1.0/{LINE}/DDATA/edge-1/press-01"

        def received() -> bool:
            # Publish until the subscription is in place (SUBACK), then wait for all five.
            if not subscriber._pending:  # held, not yet flushed
                for i in range(5):
                    payload = {
                        "timestamp": stamp_ms - i * 1000,
                        "metrics": [{"name": "oil_temperature", "value": 40.0 + i}],
                    }
                    publisher.publish(topic, json.dumps(payload), qos=1).wait_for_publish(10)
            return len(subscriber._pending) >= 5

        wait_for(received, 20, "MQTT readings received")
        held = len(subscriber._pending)
        service.remove_line(LINE, delete_features=False)
        stored = service.offline.read(LINE)
        assert len(stored) == held and set(stored["sensor"]) == {"oil_temperature"}
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        service.close()


def test_removing_a_line_removes_all_of_its_feast_objects(tmp_path: Path) -> None:
    """Its feature services and views went, its push and batch sources stayed in the
    registry."""
    feast = FeastStore.local(tmp_path)
    service = IngestionService(tmp_path, CollectorRegistry(), feast=feast)
    service.configure_line(LINE, line_spec())
    prefix = "press_line_1__"

    def mine() -> list[str]:
        store = feast.store
        objects = [
            *store.list_feature_services(),
            *store.list_feature_views(allow_cache=False),
            *store.list_data_sources(allow_cache=False),
        ]
        return sorted(o.name for o in objects if o.name.startswith(prefix))

    assert any(name.endswith("_push") for name in mine())

    service.remove_line(LINE)

    assert mine() == []


def test_a_line_whose_feast_removal_failed_is_removed_on_the_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The line was forgotten before Feast was asked: the deletion's retry found no line
    and did nothing, and its Feast objects stayed."""
    feast = FeastStore.local(tmp_path)
    service = IngestionService(tmp_path, CollectorRegistry(), feast=feast)
    service.configure_line(LINE, line_spec())
    real = feast.remove_line
    calls: list[str] = []

    def failing_once(line: str) -> None:
        calls.append(line)
        if len(calls) == 1:
            raise OSError("injected: the registry is not reachable")
        real(line)

    monkeypatch.setattr(feast, "remove_line", failing_once)
    with pytest.raises(OSError, match="injected"):
        service.remove_line(LINE)
    assert service.namespace_of(LINE) is not None  # still known: the retry can finish it

    service.remove_line(LINE)

    assert calls == [LINE, LINE] and service.namespace_of(LINE) is None
    views = feast.store.list_feature_views(allow_cache=False)
    assert not [v for v in views if v.name.startswith("press_line_1__")]
