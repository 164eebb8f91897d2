"""The cluster profile's serving workloads for one QualityModel, as manifests (pure).

* a stable Deployment ``<model>-serving`` running the champion's bento image,
* a canary Deployment ``<model>-serving-canary`` running a new champion beside it,
* one Service ``<model>-serving`` (port ``http``) selecting the Pods of both, so the canary's
  share of requests is its share of the Pods (a plain Service, no mesh),
* a HorizontalPodAutoscaler (autoscaling/v2, CPU) for the stable Deployment when
  ``spec.serving.maxReplicas`` is above ``replicas``.

The bento image of a tag ``<name>:<version>`` is ``<repository>/<name>:<version>``
(``LINEOPS_BENTO_IMAGE_REPOSITORY``): the image a CI job builds with ``bentoml containerize``
from the bento that holds that model version. Every object carries the labels
``app.kubernetes.io/name: lineops``, ``app.kubernetes.io/component: serving`` and
``lineops.io/model: <model>`` (a ServiceMonitor selects component=serving) and is owned by
the QualityModel, so deleting the model deletes them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from lineops.api.constants import LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_MODEL, MANAGED_BY
from lineops.api.qualitymodel import QualityModelSpec

PORT: Final = 3000  # what `bentoml serve` in a containerized bento listens on
LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_TRACK: Final = "lineops.io/track"  # stable | canary: keeps the two selectors apart
LABEL_VERSION: Final = "lineops.io/model-version"
ANNOTATION_TAG: Final = "serving.lineops.io/tag"
ANNOTATION_CANARY: Final = "serving.lineops.io/canary"  # the last canary's outcome (JSON)
COMPONENT: Final = "serving"
FEAST_REPO_DIR: Final = "/etc/lineops/feast"
TOKEN_DIR: Final = "/var/run/secrets/lineops/dataplane"
BENTO_UID: Final = 1034  # the user `bentoml containerize` images run as


@dataclass(frozen=True)
class WorkloadSettings:
    """What the operator's settings say about every model's serving Pods."""

    image_repository: str
    feast_config_map: str = "lineops-feast-repo"
    token_secret: str | None = None
    # registry-credential Secrets (in the model's namespace) for the bento images
    pull_secrets: tuple[str, ...] = ()
    # False: no runAsUser/fsGroup (OpenShift assigns them per namespace)
    user_ids: bool = True


def stable_name(model: str) -> str:
    return f"{model}-serving"


def canary_name(model: str) -> str:
    return f"{model}-serving-canary"


def endpoint(namespace: str, model: str) -> str:
    """The model's Service inside the cluster: the stable endpoint across champions."""
    return f"http://{stable_name(model)}.{namespace}.svc:{PORT}"


def image(repository: str, tag: str) -> str:
    """``<repository>/<name>:<version>`` for the model store tag ``<name>:<version>``."""
    name, sep, version = tag.partition(":")
    if not sep or not name or not version:
        raise ValueError(f"model tag {tag!r} is not <name>:<version>")
    return f"{repository.rstrip('/')}/{name}:{version}"


def _owner(owner: Mapping[str, Any]) -> dict[str, Any]:
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def selector(model: str) -> dict[str, str]:
    """The Service's selector: every serving Pod of the model, stable and canary."""
    return {LABEL_NAME: "lineops", LABEL_COMPONENT: COMPONENT, LABEL_MODEL: model}


def _metadata(
    owner: Mapping[str, Any], name: str, annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    model = owner["metadata"]["name"]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "labels": {LABEL_MANAGED_BY: MANAGED_BY, **selector(model)},
        "ownerReferences": [_owner(owner)],
    }
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def _env(
    namespace: str, model: str, tag: str, spec: QualityModelSpec, dataplane_url: str, token: bool
) -> list[dict[str, str]]:
    """The variables the embedded backend gives `bentoml serve` (docs/serving.md), with the
    line's data plane Service and a Feast repo instead of a data directory."""
    env = {
        "BENTOML_DO_NOT_TRACK": "True",
        "LINEOPS_SERVING_MODEL_TAG": tag,
        "LINEOPS_SERVING_MODEL_NAME": model,
        "LINEOPS_SERVING_LINE": spec.line_ref,
        "LINEOPS_SERVING_NAMESPACE": namespace,
        "LINEOPS_SERVING_FEATURE_SERVICE": spec.feature_service,
        "LINEOPS_SERVING_FEAST_REPO": FEAST_REPO_DIR,
        "LINEOPS_SERVING_DATAPLANE_URL": dataplane_url,
    }
    if token:
        env["LINEOPS_SERVING_DATAPLANE_TOKEN_FILE"] = f"{TOKEN_DIR}/token"
    return [{"name": k, "value": v} for k, v in env.items()]


def deployment(
    owner: Mapping[str, Any],
    spec: QualityModelSpec,
    tag: str,
    settings: WorkloadSettings,
    dataplane_url: str,
    *,
    canary: bool = False,
    replicas: int | None = None,
    record: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The stable (or canary) Deployment serving ``tag``. ``replicas`` None leaves the
    count to the HorizontalPodAutoscaler (the field is not applied, so the HPA owns it);
    ``record``: the last canary's outcome, kept on the stable Deployment."""
    namespace, model = owner["metadata"]["namespace"], owner["metadata"]["name"]
    track = "canary" if canary else "stable"
    match = {**selector(model), LABEL_TRACK: track}
    version = tag.partition(":")[2]
    annotations = {ANNOTATION_TAG: tag}
    if record is not None:
        annotations[ANNOTATION_CANARY] = json.dumps(dict(record), sort_keys=True)
    volumes: list[dict[str, Any]] = [
        # The platform team's feature_store.yaml (Redis online store, SQL registry); optional
        # so the Pod starts, and stays unready with the reason in its log, without it.
        {"name": "feast", "configMap": {"name": settings.feast_config_map, "optional": True}},
        {"name": "tmp", "emptyDir": {}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "feast", "mountPath": FEAST_REPO_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if settings.token_secret:
        volumes.append(
            {
                "name": "dataplane-token",
                "secret": {
                    "secretName": settings.token_secret,
                    "items": [{"key": "token", "path": "token"}],
                },
            }
        )
        mounts.append({"name": "dataplane-token", "mountPath": TOKEN_DIR, "readOnly": True})
    resources = {
        "requests": spec.serving.resources.requests.as_dict(),
        "limits": spec.serving.resources.limits.as_dict(),
    }
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(
            owner, canary_name(model) if canary else stable_name(model), annotations
        ),
        "spec": {
            "selector": {"matchLabels": match},
            # A new champion without a canary rolls in Pod by Pod, never below the count.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": {**match, LABEL_VERSION: version},
                    "annotations": {ANNOTATION_TAG: tag},
                },
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        **(
                            {"runAsUser": BENTO_UID, "fsGroup": BENTO_UID}
                            if settings.user_ids
                            else {}
                        ),
                    },
                    "containers": [
                        {
                            "name": "bento",
                            "image": image(settings.image_repository, tag),
                            "env": _env(
                                namespace,
                                model,
                                tag,
                                spec,
                                dataplane_url,
                                bool(settings.token_secret),
                            ),
                            "ports": [{"name": "http", "containerPort": PORT}],
                            # BentoML's own endpoints: /readyz is 200 once the model and the
                            # feature store are loaded, /livez as soon as the process serves.
                            "readinessProbe": {
                                "httpGet": {"path": "/readyz", "port": "http"},
                                "periodSeconds": 5,
                                "failureThreshold": 3,
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/livez", "port": "http"},
                                "initialDelaySeconds": 10,
                                "periodSeconds": 20,
                                "failureThreshold": 3,
                            },
                            "resources": {k: v for k, v in resources.items() if v},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": mounts,
                        }
                    ],
                    "volumes": volumes,
                },
            },
        },
    }
    if settings.pull_secrets:
        body["spec"]["template"]["spec"]["imagePullSecrets"] = [
            {"name": secret} for secret in settings.pull_secrets
        ]
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def service(owner: Mapping[str, Any]) -> dict[str, Any]:
    model = owner["metadata"]["name"]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(owner, stable_name(model)),
        "spec": {
            "selector": selector(model),
            "ports": [{"name": "http", "port": PORT, "targetPort": "http"}],
        },
    }


def autoscaler(owner: Mapping[str, Any], spec: QualityModelSpec) -> dict[str, Any] | None:
    """The HPA of the stable Deployment, or None when the spec asks for none."""
    serving = spec.serving
    if not serving.autoscaled or serving.max_replicas is None:
        return None
    model = owner["metadata"]["name"]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(owner, stable_name(model)),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": stable_name(model),
            },
            "minReplicas": serving.replicas,
            "maxReplicas": serving.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": serving.target_cpu_utilization_percent,
                        },
                    },
                }
            ],
        },
    }


def canary_replicas(stable: int, percent: int) -> int:
    """Canary Pods so that canary / (canary + stable) approximates ``percent``: at least one
    (a canary without a Pod measures nothing), so a small share of few stable Pods is
    larger than asked; ``canary_share`` says what it is."""
    if percent <= 0:
        return 0
    if percent >= 100:
        return max(stable, 1)
    return max(1, round(stable * percent / (100 - percent)))


def canary_share(stable: int, canary: int) -> float:
    total = stable + canary
    return canary / total if total else 0.0
