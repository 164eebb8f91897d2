"""Kubernetes access for services: the official client, always off the event loop.

The client is blocking; every call goes through ``asyncio.to_thread`` so a slow API server
never stalls kopf's event loop. Each operator builds its own ``ApiClient`` (no global
configuration), which keeps the tests' admin client and the operator's ServiceAccount apart.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from lineops.api.constants import GROUP, VERSION
from lineops.backends.errors import PermanentBackendError, TransientBackendError
from lineops.backends.kube_cache import ConfigMapCache

T = TypeVar("T")
# What a status patch came to (KubeBackend.patch_custom_status).
StatusPatch = Literal["patched", "gone", "conflict"]
# (connect, read) seconds for every request: a hung API server must not hang a worker.
REQUEST_TIMEOUT: tuple[float, float] = (5.0, 30.0)
# How long whether a resource is served (a CRD is installed) is believed without asking.
SERVED_SECONDS: Final = 300.0


class KubeUnavailable(TransientBackendError):
    """The API server could not be reached or answered 5xx/429: worth retrying later."""


class KubeForbidden(TransientBackendError):
    """RBAC denied the operator something it needs: a configuration problem of the cluster,
    not of the object, so it is retried (granting the permission does not touch the object)."""


class KubeRejected(PermanentBackendError):
    """The API server rejected an object the operator built (400 Bad Request, 422 Invalid):
    the same object would be rejected again until the spec it was built from changes."""


@dataclass(frozen=True)
class OwnerRef:
    """Enough of an object to own a child (so deletion cascades through the GC)."""

    api_version: str
    kind: str
    name: str
    uid: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def new_api_client(kubeconfig: str | None = None) -> client.ApiClient:
    """In-cluster credentials when running in a Pod, else the kubeconfig (KUBECONFIG)."""
    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        cfg = client.Configuration()
        config.load_incluster_config(client_configuration=cfg)
        return client.ApiClient(cfg)
    return config.new_client_from_config(config_file=kubeconfig or os.environ.get("KUBECONFIG"))


class KubeBackend:
    """The few Kubernetes operations the reconcilers need, as coroutines."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._core = client.CoreV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        # The ConfigMaps this operator writes, as it last knew them (fed by the writes below
        # and by the ConfigMap watch): a resync that would write the same asks nothing.
        self.config_maps = ConfigMapCache()
        self._served: dict[tuple[str, str, str, str], tuple[bool, float]] = {}

    def close(self) -> None:
        self._api.close()

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ApiException as exc:
            if exc.status in (429, 500, 502, 503, 504) or exc.status == 0:
                raise KubeUnavailable(f"API server answered {exc.status}: {exc.reason}") from exc
            if exc.status == 403:
                raise KubeForbidden(_message(exc)) from exc
            if exc.status in (400, 422):
                raise KubeRejected(f"API server rejected the request: {_message(exc)}") from exc
            raise
        except OSError as exc:  # connection refused, DNS, TLS: the server is not there
            raise KubeUnavailable(f"API server unreachable: {exc}") from exc

    async def get_custom(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            obj: dict[str, Any] = await self._call(
                self._custom.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return obj

    async def patch_custom(
        self,
        plural: str,
        namespace: str,
        name: str,
        patch: Mapping[str, Any],
        missing_ok: bool = False,
    ) -> bool:
        """Merge-patch a custom object; with ``missing_ok`` an object that is gone (404)
        returns False instead of raising."""
        try:
            await self._call(
                self._custom.patch_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
                dict(patch),
            )
        except ApiException as exc:
            if missing_ok and exc.status == 404:
                return False
            raise
        return True

    async def patch_custom_status(
        self,
        plural: str,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        resource_version: str | None = None,
    ) -> StatusPatch:
        """Merge-patch a custom object's status subresource (what kopf does with a handler's
        ``patch.status``, for work that runs outside a handler): ``"gone"`` if the object is
        gone. With ``resource_version`` the API server applies the patch only to that version
        of the object (optimistic lock): ``"conflict"`` if it has changed since, nothing is
        written. A merge patch replaces a list whole, so a patch of ``conditions`` computed
        from an older read would put back conditions another writer has changed since."""
        patch: dict[str, Any] = {"status": dict(status)}
        if resource_version is not None:
            patch["metadata"] = {"resourceVersion": resource_version}
        try:
            await self._call(
                self._custom.patch_namespaced_custom_object_status,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
                patch,
            )
        except ApiException as exc:
            if exc.status == 404:
                return "gone"
            if exc.status == 409 and resource_version is not None:
                return "conflict"
            raise
        return "patched"

    async def served(self, group: str, version: str, plural: str, namespace: str) -> bool:
        """Whether the API server serves this resource (e.g. the Prometheus Operator's CRDs).
        The answer is kept for ``SERVED_SECONDS`` (every line reconcile asked it): a CRD
        installed or removed later is noticed within that time."""
        key = (group, version, plural, namespace)
        known = self._served.get(key)
        if known is not None and time.monotonic() - known[1] < SERVED_SECONDS:
            return known[0]
        try:
            await self._call(
                self._custom.list_namespaced_custom_object,
                group,
                version,
                namespace,
                plural,
                limit=1,
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            self._served[key] = (False, time.monotonic())
            return False
        self._served[key] = (True, time.monotonic())
        return True

    async def apply_custom_object(
        self, group: str, version: str, plural: str, namespace: str, body: Mapping[str, Any]
    ) -> str:
        """Create, or merge-patch labels, owners and spec; created/updated/unchanged."""
        name = body["metadata"]["name"]
        try:
            current: dict[str, Any] = await self._call(
                self._custom.get_namespaced_custom_object, group, version, namespace, plural, name
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            await self._call(
                self._custom.create_namespaced_custom_object,
                group,
                version,
                namespace,
                plural,
                dict(body),
            )
            return "created"
        meta = current.get("metadata", {})
        if current.get("spec") == body.get("spec") and _subset(
            body["metadata"].get("labels", {}), meta.get("labels") or {}
        ):
            return "unchanged"
        await self._call(
            self._custom.patch_namespaced_custom_object,
            group,
            version,
            namespace,
            plural,
            name,
            {
                "metadata": {k: v for k, v in body["metadata"].items() if k != "namespace"},
                "spec": body.get("spec"),
            },
        )
        return "updated"

    async def server_side_apply(
        self, body: Mapping[str, Any], plural: str, manager: str = "lineops"
    ) -> None:
        """Server-side apply as field manager ``lineops``: the API server merges our fields and
        leaves fields other managers own (an HPA's replicas, a mesh's annotations) alone.
        Another ``manager`` owns only the fields of its (partial) ``body``."""
        api_version, meta = body["apiVersion"], body["metadata"]
        prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        path = f"{prefix}/namespaces/{meta['namespace']}/{plural}/{meta['name']}"
        await self._call(
            self._api.call_api,
            path,
            "PATCH",
            query_params=[("fieldManager", manager), ("force", "true")],
            header_params={
                "Content-Type": "application/apply-patch+yaml",
                "Accept": "application/json",
            },
            body=dict(body),
            auth_settings=["BearerToken"],
            response_type="object",
        )

    async def get_object(
        self, api_version: str, plural: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """Any namespaced object as JSON (``apps/v1``, ``deployments``, ...); None when it
        does not exist."""
        try:
            found: dict[str, Any] = await self._call(
                self._api.call_api,
                _path(api_version, plural, namespace, name),
                "GET",
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                response_type="object",
                _return_http_data_only=True,
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return found

    async def delete_object(self, api_version: str, plural: str, namespace: str, name: str) -> bool:
        """Delete (its dependents in the background); False when it did not exist."""
        try:
            await self._call(
                self._api.call_api,
                _path(api_version, plural, namespace, name),
                "DELETE",
                query_params=[("propagationPolicy", "Background")],
                header_params={"Accept": "application/json"},
                auth_settings=["BearerToken"],
                response_type="object",
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def deployment_replicas(self, namespace: str, name: str) -> tuple[int, int] | None:
        """(available, desired) replicas of a Deployment, or None when it does not exist."""
        apps = client.AppsV1Api(self._api)
        try:
            dep = await self._call(apps.read_namespaced_deployment, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return int(dep.status.available_replicas or 0), int(dep.spec.replicas or 0)

    async def get_config_map(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            cm = await self._call(self._core.read_namespaced_config_map, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        result: dict[str, Any] = self._api.sanitize_for_serialization(cm)
        return result

    async def list_config_maps(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        items = await self._call(
            self._core.list_namespaced_config_map, namespace, label_selector=selector
        )
        return [self._api.sanitize_for_serialization(i) for i in items.items]

    async def create_config_map(self, namespace: str, body: Mapping[str, Any]) -> bool:
        """Create; False if it already exists (the name is the idempotency key), which the
        ConfigMap record may already know without a request."""
        name = body["metadata"]["name"]
        if self.config_maps.exists(namespace, name):
            return False
        try:
            created = await self._call(
                self._core.create_namespaced_config_map, namespace, dict(body)
            )
        except ApiException as exc:
            if exc.status == 409:
                self.config_maps.confirm_exists(namespace, name)
                return False
            raise
        self.config_maps.observe(self._api.sanitize_for_serialization(created))
        return True

    async def apply_config_map(self, namespace: str, body: Mapping[str, Any]) -> str:
        """Create, or bring data, labels and owners in line: created, updated or unchanged."""
        name = body["metadata"]["name"]
        if self.config_maps.matches(namespace, name, body):
            return "unchanged"
        current = await self.get_config_map(namespace, name)
        if current is None:
            self.config_maps.forget(namespace, name)
            return "created" if await self.create_config_map(namespace, body) else "unchanged"
        self.config_maps.observe(current)
        wanted_meta = body.get("metadata", {})
        cur_meta = current.get("metadata", {})
        same = (
            current.get("data") == body.get("data")
            and _subset(wanted_meta.get("labels", {}), cur_meta.get("labels") or {})
            and [o.get("uid") for o in cur_meta.get("ownerReferences") or []]
            == [o.get("uid") for o in wanted_meta.get("ownerReferences") or []]
        )
        if same:
            return "unchanged"
        patched = await self._call(
            self._core.patch_namespaced_config_map, name, namespace, dict(body)
        )
        self.config_maps.observe(self._api.sanitize_for_serialization(patched))
        return "updated"


def _path(api_version: str, plural: str, namespace: str, name: str) -> str:
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{prefix}/namespaces/{namespace}/{plural}/{name}"


def _subset(small: Mapping[str, Any], big: Mapping[str, Any]) -> bool:
    return all(big.get(k) == v for k, v in small.items())


def _message(exc: ApiException) -> str:
    import json

    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)
