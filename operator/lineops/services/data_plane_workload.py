"""The cluster profile's data plane for one line: a Deployment running
`lineops dataplane serve` (readings and MES records) and a Service in front of it, rendered
from the ProductionLine.

Pure: manifests only. The line's manifest reaches the Pod through the line's configuration
ConfigMap (key ``productionline.yaml``), so a spec change rolls the Deployment through the
checksum annotation rather than through a restart by hand.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from lineops.api.constants import LABEL_COMPONENT, LABEL_LINE
from lineops.services.children import child_metadata
from lineops.settings import DEFAULT_IMAGE as DEFAULT_IMAGE  # LINEOPS_IMAGE's default

INGEST_PORT: Final = 8081
MANIFEST_KEY: Final = "productionline.yaml"


def workload_name(line: str) -> str:
    return f"{line}-ingest"


def service_url(namespace: str, line: str) -> str:
    """The line's data plane inside the cluster (its Service)."""
    return f"http://{workload_name(line)}.{namespace}.svc:{INGEST_PORT}"


def endpoint_url(namespace: str, line: str) -> str:
    """Where the line's sensors post readings from inside the cluster."""
    return f"{service_url(namespace, line)}/v1/namespaces/{namespace}/lines/{line}/readings"


def ingestion_workload(
    body: dict[str, Any],
    config_map: str,
    manifest: str,
    image: str = DEFAULT_IMAGE,
    db_secret: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Deployment, Service) for the line in ``body``; ``manifest`` is what the ConfigMap
    holds under MANIFEST_KEY (its hash rolls the Pods when the spec changes). With
    ``db_secret``, MES records and the quarantine go to the database in that Secret (key
    ``url``), shared with the operator; the URL never appears in the manifest."""
    env = (
        []
        if db_secret is None
        else [
            {
                "name": "LINEOPS_DB_URL",
                "valueFrom": {"secretKeyRef": {"name": db_secret, "key": "url"}},
            }
        ]
    )
    line = body["metadata"]["name"]
    name = workload_name(line)
    selector = {"app.kubernetes.io/name": "lineops-ingest", LABEL_LINE: line}
    labels = {**selector, LABEL_COMPONENT: "ingestion"}
    checksum = hashlib.sha256(manifest.encode()).hexdigest()[:16]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": child_metadata(body, name, labels),
        "spec": {
            "replicas": 1,
            # One writer per offline store: a new Pod starts after the old one stopped.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {"lineops.io/line-checksum": checksum},
                },
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
                    "containers": [
                        {
                            "name": "ingest",
                            "image": image,
                            "args": [
                                "dataplane",
                                "serve",
                                "--line-file",
                                f"/etc/lineops/{MANIFEST_KEY}",
                                "--data",
                                "/var/lib/lineops",
                                "--host",
                                "0.0.0.0",
                                "--port",
                                str(INGEST_PORT),
                            ],
                            "env": env,
                            "ports": [{"name": "http", "containerPort": INGEST_PORT}],
                            "readinessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 5,
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 20,
                                "failureThreshold": 3,
                            },
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "512Mi"},
                                "limits": {"memory": "2Gi"},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [
                                {"name": "line", "mountPath": "/etc/lineops", "readOnly": True},
                                {"name": "data", "mountPath": "/var/lib/lineops"},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "line", "configMap": {"name": config_map}},
                        # Stores are per Pod here; a team that keeps raw readings beyond the
                        # Pod's life points the offline store at shared storage instead.
                        {"name": "data", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": child_metadata(body, name, labels),
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": INGEST_PORT, "targetPort": "http"}],
        },
    }
    return deployment, service
