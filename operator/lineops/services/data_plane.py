"""Where a line's readings go, by profile: ingestion inside the operator (embedded) or a
Deployment + Service per line (cluster). The line reconciler talks to either through the
same two calls and never branches on the profile."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from lineops.api import reasons as R
from lineops.api.conditions import ConditionStatus
from lineops.api.productionline import ProductionLineSpec
from lineops.backends.data_plane_client import LineNameTaken, LocalDataPlane
from lineops.backends.kube import KubeBackend
from lineops.dataplane.lines import LineRef
from lineops.services.data_plane_workload import (
    MANIFEST_KEY,
    WorkloadConfig,
    endpoint_url,
    ingestion_workload,
    workload_name,
)

Verdict = tuple[ConditionStatus, str, str]  # status, reason, message


@dataclass(frozen=True)
class DataPlaneStatus:
    features: Verdict
    ingestion: Verdict
    problem: str | None = None  # set: the line is not Ready yet (retried)


class DataPlane(Protocol):
    async def configure(
        self, body: dict[str, Any], spec: ProductionLineSpec, config_map: dict[str, Any]
    ) -> DataPlaneStatus: ...

    async def remove(self, namespace: str, name: str) -> None: ...


def _ingestion(spec: ProductionLineSpec, http_url: str, prefix: str = "") -> Verdict:
    """IngestionReady for a data plane that runs: True with its endpoints, or False
    Disabled when the spec enables neither HTTP nor MQTT (True IngestionStarted said
    "no ingestion enabled", which reads as working)."""
    parts = []
    if spec.ingestion.http.enabled:
        parts.append(f"HTTP {http_url}")
    if spec.ingestion.mqtt.enabled:
        parts.append(f"MQTT {spec.ingestion.mqtt.broker} topic spBv1.0/<line>/DDATA/+/+")
    if not parts:
        return (
            "False",
            R.DISABLED,
            prefix + "spec.ingestion enables neither http nor mqtt: the line takes no readings "
            "(MES records, lots and plans are still taken)",
        )
    return ("True", R.INGESTION_STARTED, prefix + "; ".join(parts))


class EmbeddedDataPlane:
    """Ingestion, Feast and MQTT inside the operator process (laptop, demo, tests)."""

    def __init__(self, client: LocalDataPlane) -> None:
        self._client = client

    async def configure(
        self, body: dict[str, Any], spec: ProductionLineSpec, config_map: dict[str, Any]
    ) -> DataPlaneStatus:
        name, namespace = body["metadata"]["name"], body["metadata"]["namespace"]
        try:
            # Feast's SDK and the MQTT client block: never on the event loop.
            views = await asyncio.to_thread(
                self._client.configure_line, LineRef(namespace, name), spec
            )
        except LineNameTaken as exc:
            message = str(exc)
            return DataPlaneStatus(
                ("False", R.INGESTION_FAILED, message),
                ("False", R.INGESTION_FAILED, message),
                message,
            )
        except Exception as exc:
            message = f"applying the line's feature views failed: {exc}"
            return DataPlaneStatus(
                ("False", R.FEATURES_FAILED, message),
                ("False", R.INGESTION_FAILED, message),
                message,
            )
        features = (
            f"feature views {', '.join(views) or 'none (no Feast store)'}; window "
            f"{spec.features.window}, materialized every {spec.features.materialize_every}"
        )
        url = f"{self._client.url}/v1/namespaces/{namespace}/lines/{name}/readings"
        return DataPlaneStatus(
            ("True", R.FEATURES_APPLIED, features),
            _ingestion(spec, url),
        )

    async def remove(self, namespace: str, name: str) -> None:
        # Stops the subscriber and removes the Feast objects; stored data stays.
        await asyncio.to_thread(self._client.remove_line, LineRef(namespace, name))


class ClusterDataPlane:
    """A Deployment + Service per line running `lineops dataplane serve` (cluster profile)."""

    def __init__(self, kube: KubeBackend, config: WorkloadConfig | None = None) -> None:
        self._kube = kube
        self._config = config or WorkloadConfig()

    async def configure(
        self, body: dict[str, Any], spec: ProductionLineSpec, config_map: dict[str, Any]
    ) -> DataPlaneStatus:
        meta = body["metadata"]
        deployment, service = ingestion_workload(
            body,
            config_map["metadata"]["name"],
            config_map["data"][MANIFEST_KEY],
            self._config,
        )
        await self._kube.server_side_apply(deployment, "deployments")
        await self._kube.server_side_apply(service, "services")
        replicas = await self._kube.deployment_replicas(
            meta["namespace"], deployment["metadata"]["name"]
        )
        available, desired = replicas or (0, 1)
        name = workload_name(meta["name"])
        if available < 1:
            waiting = f"Deployment {name}: {available}/{desired} replicas available"
            return DataPlaneStatus(
                ("Unknown", R.PENDING, f"applied by the ingestion Pods once they run ({waiting})"),
                ("False", R.PENDING, waiting),
                waiting,
            )
        url = endpoint_url(meta["namespace"], meta["name"])
        return DataPlaneStatus(
            (
                "True",
                R.FEATURES_APPLIED,
                f"applied by Deployment {name} (window {spec.features.window})",
            ),
            _ingestion(spec, url, f"Deployment {name} {available}/{desired} available; "),
        )

    async def remove(self, namespace: str, name: str) -> None:
        return None  # the Deployment and Service are owned by the line: the GC removes them
