"""An in-memory stand-in for lineops.backends.kube.KubeBackend, for unit tests of the
reconcile decisions only. Everything that talks to Kubernetes is tested against the real
kube-apiserver in tests/integration."""

from __future__ import annotations

import copy
from typing import Any

from lineops.backends.kube import KubeUnavailable


class FakeKube:
    def __init__(self) -> None:
        self.custom: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.config_maps: dict[tuple[str, str], dict[str, Any]] = {}
        self.down = False
        self.patches: list[tuple[str, str, str, dict[str, Any]]] = []
        # The Prometheus Operator's CRD counts as installed once a test adds its plural.
        self.served_plurals: set[str] = set()
        self.missing: set[str] = set()  # names whose patch answers 404

    def _check(self) -> None:
        if self.down:
            raise KubeUnavailable("API server unreachable: connection refused")

    async def get_custom(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        self._check()
        return copy.deepcopy(self.custom.get((plural, namespace, name)))

    async def patch_custom(
        self,
        plural: str,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        missing_ok: bool = False,
    ) -> bool:
        self._check()
        if name in self.missing:
            if missing_ok:
                return False
            raise LookupError(f"{plural}/{name} not found")
        self.patches.append((plural, namespace, name, patch))
        return True

    async def get_config_map(self, namespace: str, name: str) -> dict[str, Any] | None:
        self._check()
        return copy.deepcopy(self.config_maps.get((namespace, name)))

    async def create_config_map(self, namespace: str, body: dict[str, Any]) -> bool:
        self._check()
        key = (namespace, body["metadata"]["name"])
        if key in self.config_maps:
            return False
        self.config_maps[key] = copy.deepcopy(body)
        return True

    async def apply_config_map(self, namespace: str, body: dict[str, Any]) -> str:
        self._check()
        key = (namespace, body["metadata"]["name"])
        if key not in self.config_maps:
            self.config_maps[key] = copy.deepcopy(body)
            return "created"
        if self.config_maps[key] == body:
            return "unchanged"
        self.config_maps[key] = copy.deepcopy(body)
        return "updated"

    async def served(self, group: str, version: str, plural: str, namespace: str) -> bool:
        self._check()
        return plural in self.served_plurals

    async def apply_custom_object(
        self, group: str, version: str, plural: str, namespace: str, body: dict[str, Any]
    ) -> str:
        self._check()
        key = (plural, namespace, body["metadata"]["name"])
        previous = self.custom.get(key)
        self.custom[key] = copy.deepcopy(body)
        return "created" if previous is None else ("unchanged" if previous == body else "updated")
