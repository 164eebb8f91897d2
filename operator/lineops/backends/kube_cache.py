"""What the operator last knew of the ConfigMaps it owns, so a resync need not ask again.

Every line reconcile used to read its configuration ConfigMap back, and every model reconcile
POSTed its training request (answered 409 after the first time): at 1,000 lines that was
most of the operator's API traffic. ``KubeBackend`` now consults this record first and asks
the API server only when it does not know, or knows of a difference.

The record is fed by the operator's own writes (their answers carry the resourceVersion) and by
the ConfigMap watch (``lineops.handlers.children``: added, modified, deleted), so it stays
level-based: a child deleted or edited by hand is seen by the watch, dropped or marked
different here, and the next reconcile of its owner (at the latest the next resync) writes it
again. What was learnt more than ``TRUST_SECONDS`` ago is not trusted either: a watch that
restarts with a fresh listing does not report what was deleted while it was down, so a missed
deletion costs at most that long, then the reconcile reads the object as before.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

TRUST_SECONDS: Final = 600.0


@dataclass(frozen=True, slots=True)
class _Known:
    version: int  # resourceVersion (an etcd revision); 0: existence known from a 409 only
    data: str | None  # digest of .data; None: deleted at ``version``
    labels: tuple[tuple[str, str], ...]
    owners: tuple[str, ...]  # ownerReferences' uids, in order
    at: float  # when it was learnt (monotonic)


def _digest(data: Mapping[str, Any] | None) -> str:
    text = json.dumps(dict(data or {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _version(meta: Mapping[str, Any]) -> int | None:
    try:
        return int(meta.get("resourceVersion") or "")
    except ValueError:
        return None


def _owners(meta: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(o.get("uid")) for o in meta.get("ownerReferences") or [])


class ConfigMapCache:
    def __init__(
        self, trust_seconds: float = TRUST_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._trust = trust_seconds
        self._clock = clock
        self._known: dict[tuple[str, str], _Known] = {}
        self._prune_at = 64

    def __len__(self) -> int:
        return len(self._known)

    def observe(self, body: Mapping[str, Any], deleted: bool = False) -> None:
        """Record a ConfigMap as the API server returned or the watch reported it. An answer
        older than what is known (a write's answer overtaken by the watch) is ignored."""
        meta = body.get("metadata") or {}
        version = _version(meta)
        if version is None or not meta.get("name"):
            return
        key = (str(meta.get("namespace") or ""), str(meta["name"]))
        old = self._known.get(key)
        if old is not None and old.version > version:
            return
        labels = tuple(sorted((str(k), str(v)) for k, v in (meta.get("labels") or {}).items()))
        digest = None if deleted else _digest(body.get("data"))
        self._known[key] = _Known(version, digest, labels, _owners(meta), self._clock())
        if len(self._known) >= self._prune_at:
            self._prune()

    def confirm_exists(self, namespace: str, name: str) -> None:
        """A create answered 409: it exists, though its content is not known. A recorded
        deletion stays (the object came back after it: the watch reports that)."""
        old = self._known.get((namespace, name))
        if old is None:
            self._known[(namespace, name)] = _Known(0, "", (), (), self._clock())
        elif old.data is not None:
            self._known[(namespace, name)] = _Known(
                old.version, old.data, old.labels, old.owners, self._clock()
            )

    def forget(self, namespace: str, name: str) -> None:
        self._known.pop((namespace, name), None)

    def exists(self, namespace: str, name: str) -> bool:
        """Known, recently, to exist (False means: not known; ask)."""
        known = self._fresh(namespace, name)
        return known is not None and known.data is not None

    def matches(self, namespace: str, name: str, wanted: Mapping[str, Any]) -> bool:
        """Known, recently, to hold ``wanted``'s data, its labels (others may be added) and
        exactly its owners: the same test ``KubeBackend.apply_config_map`` makes on a read."""
        known = self._fresh(namespace, name)
        if known is None or not known.data:
            return False
        meta = wanted.get("metadata") or {}
        labels = dict(known.labels)
        return (
            known.data == _digest(wanted.get("data"))
            and all(labels.get(k) == v for k, v in (meta.get("labels") or {}).items())
            and known.owners == _owners(meta)
        )

    def _fresh(self, namespace: str, name: str) -> _Known | None:
        known = self._known.get((namespace, name))
        if known is None or self._clock() - known.at > self._trust:
            return None
        return known

    def _prune(self) -> None:
        """Drop what is no longer trusted (deleted children of deleted owners end here)."""
        now = self._clock()
        self._known = {k: v for k, v in self._known.items() if now - v.at <= self._trust}
        self._prune_at = max(64, 2 * len(self._known))
