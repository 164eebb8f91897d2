"""The cluster profile's data plane for one line: a Deployment running
`lineops dataplane serve` (readings and MES records) and a Service in front of it, rendered
from the ProductionLine.

Pure: manifests only. The line's manifest reaches the Pod through the line's configuration
ConfigMap (key ``productionline.yaml``), so a spec change rolls the Deployment through the
checksum annotation rather than through a restart by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from lineops.api.constants import LABEL_COMPONENT, LABEL_LINE
from lineops.services.children import child_metadata
from lineops.settings import DEFAULT_IMAGE as DEFAULT_IMAGE  # LINEOPS_IMAGE's default
from lineops.settings import Settings

INGEST_PORT: Final = 8081
MANIFEST_KEY: Final = "productionline.yaml"
RUN_AS: Final = 10001  # the image's `lineops` user (operator/Dockerfile), as in the chart
# Keys of the Secrets the cluster settings name (docs/install.md).
FEAST_REDIS_KEY: Final = "redis"
FEAST_REGISTRY_KEY: Final = "registry-url"
TOKEN_KEY: Final = "token"
TOKEN_DIR: Final = "/var/run/secrets/lineops/api"


def workload_name(line: str) -> str:
    return f"{line}-ingest"


def service_url(namespace: str, line: str) -> str:
    """The line's data plane inside the cluster (its Service)."""
    return f"http://{workload_name(line)}.{namespace}.svc:{INGEST_PORT}"


def endpoint_url(namespace: str, line: str) -> str:
    """Where the line's sensors post readings from inside the cluster."""
    return f"{service_url(namespace, line)}/v1/namespaces/{namespace}/lines/{line}/readings"


@dataclass(frozen=True)
class WorkloadConfig:
    """What the operator's cluster settings put into every line's data-plane Deployment.

    Everything that holds a credential arrives as a reference to a Secret in the line's
    namespace, never as a value in the manifest: ``db_secret`` (key ``url``),
    ``feast_secret`` (keys ``redis`` and ``registry-url``), ``api_token_secret`` (key
    ``token``, mounted as a file)."""

    image: str = DEFAULT_IMAGE
    # None leaves the policy to Kubernetes' default for the image reference
    pull_policy: str | None = None
    pull_secrets: tuple[str, ...] = ()
    db_secret: str | None = None
    feast_secret: str | None = None
    api_token_secret: str | None = None
    log_format: str = "text"
    # False: no runAsUser/runAsGroup/fsGroup (OpenShift assigns them per namespace)
    user_ids: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkloadConfig:
        return cls(
            image=settings.image,
            pull_policy=settings.image_pull_policy,
            pull_secrets=settings.pull_secrets,
            db_secret=settings.db_secret,
            feast_secret=settings.feast_secret,
            api_token_secret=settings.api_token_secret,
            log_format=settings.log_format,
            user_ids=settings.pod_user_ids,
        )


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _env(config: WorkloadConfig) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "LINEOPS_LOG_FORMAT", "value": config.log_format},
        # Feast, BentoML and tempfile want a writable home; the root filesystem is read-only.
        {"name": "HOME", "value": "/tmp"},
    ]
    if config.db_secret is not None:
        env.append(_secret_env("LINEOPS_DB_URL", config.db_secret, "url"))
    if config.feast_secret is not None:
        env.append(_secret_env("LINEOPS_FEAST_REDIS", config.feast_secret, FEAST_REDIS_KEY))
        env.append(
            _secret_env("LINEOPS_FEAST_REGISTRY_URL", config.feast_secret, FEAST_REGISTRY_KEY)
        )
    if config.api_token_secret is not None:
        env.append({"name": "LINEOPS_API_TOKEN_FILE", "value": f"{TOKEN_DIR}/{TOKEN_KEY}"})
    return env


def ingestion_workload(
    body: dict[str, Any],
    config_map: str,
    manifest: str,
    config: WorkloadConfig = WorkloadConfig(),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(Deployment, Service) for the line in ``body``; ``manifest`` is what the ConfigMap
    holds under MANIFEST_KEY (its hash rolls the Pods when the spec changes). With
    ``config.db_secret``, MES records and the quarantine go to the database in that Secret
    (key ``url``), shared with the operator; with ``config.feast_secret``, Feast's Redis
    online store and SQL registry; with ``config.api_token_secret``, the line routes need
    that bearer token. No URL, password or token ever appears in the manifest.

    The Pod is hardened like the chart's operator Pod: non-root, read-only root
    filesystem with emptyDirs for what must be writable, no capabilities, seccomp
    RuntimeDefault, requests and a memory limit, start-up, liveness and readiness probes."""
    env = _env(config)
    line = body["metadata"]["name"]
    name = workload_name(line)
    selector = {"app.kubernetes.io/name": "lineops-ingest", LABEL_LINE: line}
    labels = {**selector, LABEL_COMPONENT: "ingestion"}
    checksum = hashlib.sha256(manifest.encode()).hexdigest()[:16]
    token_mounts: list[dict[str, Any]] = []
    token_volumes: list[dict[str, Any]] = []
    if config.api_token_secret is not None:
        token_mounts.append({"name": "api-token", "mountPath": TOKEN_DIR, "readOnly": True})
        token_volumes.append(
            {
                "name": "api-token",
                "secret": {
                    "secretName": config.api_token_secret,
                    "items": [{"key": TOKEN_KEY, "path": TOKEN_KEY}],
                },
            }
        )
    deployment: dict[str, Any] = {
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
                    "securityContext": {
                        "runAsNonRoot": True,
                        **(
                            {"runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS}
                            if config.user_ids
                            else {}
                        ),
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    # The data plane calls no Kubernetes API: no token in the Pod.
                    "automountServiceAccountToken": False,
                    "containers": [
                        {
                            "name": "ingest",
                            "image": config.image,
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
                            # Feast's SDK takes seconds to import: the start-up probe holds
                            # liveness off until /healthz answers (up to two minutes).
                            "startupProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 5,
                                "failureThreshold": 24,
                            },
                            "readinessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 5,
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/healthz", "port": "http"},
                                "periodSeconds": 20,
                                "timeoutSeconds": 5,
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
                                *token_mounts,
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "line", "configMap": {"name": config_map}},
                        # Stores are per Pod here; a team that keeps raw readings beyond the
                        # Pod's life points the offline store at shared storage instead.
                        {"name": "data", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}},
                        *token_volumes,
                    ],
                },
            },
        },
    }
    pod = deployment["spec"]["template"]["spec"]
    if config.pull_secrets:
        pod["imagePullSecrets"] = [{"name": secret} for secret in config.pull_secrets]
    if config.pull_policy is not None:
        pod["containers"][0]["imagePullPolicy"] = config.pull_policy
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
