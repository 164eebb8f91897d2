"""What the cluster profile's pipeline pods mount, added to a compiled pipeline (IR) when it is
submitted: the shared model store (a PersistentVolumeClaim, the pods' ``BENTOML_HOME``, where
the ``register`` step writes the candidate the operator then reads) and the data plane's API
token (a Secret, the pods' ``LINEOPS_API_TOKEN_FILE``, which ``load_dataset`` sends to the
line's data plane).

At submission rather than at compile time, because the claim and the Secret are the
installation's (chart values), not the pipeline's, and because a pipeline an engineer brings
as IR (``spec.training.pipelineRef``) needs them just the same. The Kubernetes part is written
by kfp-kubernetes itself (``kfp.kubernetes.mount_pvc`` / ``use_secret_as_volume``, the
functions a pipeline author would call on each task), so the platform spec has the shape the
KFP backend's driver expects, including a platform spec the IR already carries.

Every executor gets both: which steps read the data plane or write the store is the
pipeline's business, and an engineer's IR does not say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import yaml

MODEL_STORE_MOUNT: Final = "/var/lib/lineops/model-store"
TOKEN_MOUNT: Final = "/var/run/secrets/lineops/api"
TOKEN_KEY: Final = "token"  # the key of the token Secret (as for the data-plane Pods)


@dataclass(frozen=True)
class PodMounts:
    """The installation's volumes for pipeline pods; None: not mounted."""

    model_store_claim: str | None = None
    api_token_secret: str | None = None

    @property
    def empty(self) -> bool:
        return self.model_store_claim is None and self.api_token_secret is None

    def env(self) -> dict[str, str]:
        env = {}
        if self.model_store_claim is not None:
            env["BENTOML_HOME"] = MODEL_STORE_MOUNT
        if self.api_token_secret is not None:
            env["LINEOPS_API_TOKEN_FILE"] = f"{TOKEN_MOUNT}/{TOKEN_KEY}"
        return env


@dataclass
class _Task:
    """What kfp-kubernetes reads and writes of a ``dsl.PipelineTask``: its platform config.
    Its functions touch nothing else when given names as plain strings."""

    platform_config: dict[str, Any] = field(default_factory=dict)


def kubernetes_config(existing: dict[str, Any], mounts: PodMounts) -> dict[str, Any]:
    """An executor's Kubernetes config (KubernetesExecutorConfig as a dict): ``existing``
    plus the PVC and Secret mounts of ``mounts``."""
    from kfp import kubernetes

    task: Any = _Task({"kubernetes": existing} if existing else {})
    if mounts.model_store_claim is not None:
        kubernetes.mount_pvc(task, mounts.model_store_claim, MODEL_STORE_MOUNT)
    if mounts.api_token_secret is not None:
        kubernetes.use_secret_as_volume(task, mounts.api_token_secret, TOKEN_MOUNT)
    config: dict[str, Any] = task.platform_config.get("kubernetes", {})
    return config


def with_mounts(ir: str, mounts: PodMounts) -> str:
    """The compiled pipeline ``ir`` (YAML: the pipeline spec, then optionally its platform
    spec) with ``mounts`` in every container executor: the volumes in the Kubernetes platform
    spec, the variables pointing at them in the container's env. Unchanged without mounts.

    Raises ValueError naming what is missing when ``ir`` is not a compiled pipeline."""
    if mounts.empty:
        return ir
    docs = [doc for doc in yaml.safe_load_all(ir) if doc is not None]
    if not docs or not isinstance(docs[0], dict):
        raise ValueError("pipeline IR: no pipeline spec (first YAML document)")
    spec = docs[0]
    executors = (spec.get("deploymentSpec") or {}).get("executors")
    if not isinstance(executors, dict) or not executors:
        raise ValueError("pipeline IR: deploymentSpec.executors is missing or empty")
    platform: dict[str, Any] = {}
    for doc in docs[1:]:
        if isinstance(doc, dict):
            platform.update(doc)
    k8s = platform.setdefault("platforms", {}).setdefault("kubernetes", {})
    configs = k8s.setdefault("deploymentSpec", {}).setdefault("executors", {})
    env = mounts.env()
    for name, executor in executors.items():
        container = executor.get("container") if isinstance(executor, dict) else None
        if not isinstance(container, dict):
            continue  # an importer or resolver: no pod of ours
        kept = [e for e in container.get("env") or [] if e.get("name") not in env]
        container["env"] = kept + [{"name": k, "value": v} for k, v in env.items()]
        configs[name] = kubernetes_config(configs.get(name) or {}, mounts)
    return yaml.safe_dump_all([spec, platform], sort_keys=False)
