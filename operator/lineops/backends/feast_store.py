"""Feast backend: entities, per-line sources, feature views and services, online reads/writes.

This module turns a :class:`LineFeaturePlan` (plain data, produced by
``lineops.dataplane.features.plan_line_features`` from a ProductionLine spec) into Feast objects
and applies them through the SDK. It also holds the shared object definitions that
``feature_repo/`` re-exports, so ``feast apply`` in the repo and the operator register exactly
the same objects.

Every call here blocks (SQLite, registry file); callers on an event loop run them in a thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import pandas as pd
from feast import (
    Entity,
    FeatureService,
    FeatureStore,
    FeatureView,
    Field,
    FileSource,
    PushSource,
    RepoConfig,
    ValueType,
)
from feast.data_source import PushMode
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
from feast.types import Float64, Int64, String

from lineops.backends import MULTIPROC_DIR_SET, MULTIPROCESS_DIR_SET
from lineops.backends.errors import TransientBackendError
from lineops.backends.feast_offline import OFFLINE_STORE_TYPE

# Undo the multi-process switch Feast's import made (see lineops.backends).
if not MULTIPROC_DIR_SET:
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
if not MULTIPROCESS_DIR_SET:
    os.environ.pop("PROMETHEUS_MULTIPROCESS_DIR", None)

PROJECT: Final = "lineops"
OWNER: Final = "platform-team@lineops.io"
EVENT_TIMESTAMP: Final = "event_timestamp"
WORK_UNIT_KEY: Final = "work_unit"
LINE_KEY: Final = "line"
LOT_KEY: Final = "lot"

_DTYPES: Final = {"float64": Float64, "int64": Int64, "string": String}


class FeatureStoreError(TransientBackendError):
    """Feast could not apply or remove a line's objects (registry or online store busy or
    unreadable, an SDK error): reported on the line and retried."""


# ----------------------------------------------------------------------------- names


def line_id(line: str) -> str:
    """Feast-safe form of a line name. Line names are DNS labels (no underscores), so
    replacing ``-`` by ``_`` cannot make two lines collide."""
    return line.replace("-", "_")


def window_view_name(line: str) -> str:
    return f"{line_id(line)}__sensor_window"


def push_source_name(line: str) -> str:
    return f"{line_id(line)}__sensor_window_push"


def batch_source_name(line: str) -> str:
    return f"{line_id(line)}__sensor_window_batch"


def feature_service_name(line: str, service: str) -> str:
    """Project-wide name of a line's versioned service, e.g. ``press_line_1__sensor_window_v1``.

    QualityModels name the short form (``sensor_window_v1``) next to their ``lineRef``."""
    return f"{line_id(line)}__{service}"


# ----------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    dtype: str  # float64 | int64 | string
    description: str = ""


@dataclass(frozen=True)
class FeatureViewPlan:
    name: str
    line: str
    features: tuple[FeatureSpec, ...]
    ttl_seconds: float
    push_source: str
    batch_source: str
    batch_path: str
    description: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FeatureServicePlan:
    name: str
    views: tuple[str, ...]
    description: str
    tags: Mapping[str, str] = field(default_factory=dict)
    # A projection of the views' features; None serves every feature of the views.
    features: tuple[str, ...] | None = None


@dataclass(frozen=True)
class LineFeaturePlan:
    line: str
    views: tuple[FeatureViewPlan, ...]
    services: tuple[FeatureServicePlan, ...]


# ----------------------------------------------------------------------------- shared objects


def line_entity() -> Entity:
    return Entity(
        name=LINE_KEY,
        join_keys=[LINE_KEY],
        value_type=ValueType.STRING,
        description="A ProductionLine (ISA-95 work center), named as its custom resource.",
        owner=OWNER,
        tags={"isa95": "work-center"},
    )


def work_unit_entity() -> Entity:
    return Entity(
        name=WORK_UNIT_KEY,
        join_keys=[WORK_UNIT_KEY],
        value_type=ValueType.STRING,
        description="An ISA-95 work unit (machine or station) of a line; sensor features "
        "are keyed by it.",
        owner=OWNER,
        tags={"isa95": "work-unit"},
    )


def lot_entity() -> Entity:
    return Entity(
        name=LOT_KEY,
        join_keys=[LOT_KEY],
        value_type=ValueType.STRING,
        description="An ISA-95 material lot; quality labels are keyed by it.",
        owner=OWNER,
        tags={"isa95": "material-lot"},
    )


def entities() -> list[Entity]:
    return [line_entity(), work_unit_entity(), lot_entity()]


def batch_source(view: FeatureViewPlan) -> FileSource:
    return FileSource(
        name=view.batch_source,
        path=view.batch_path,
        timestamp_field=EVENT_TIMESTAMP,
        description=f"Window aggregates of line {view.line} written by the ingestion service.",
        owner=OWNER,
        tags={"line": view.line},
    )


def push_source(view: FeatureViewPlan) -> PushSource:
    return PushSource(
        name=view.push_source,
        batch_source=batch_source(view),
        description=f"Window aggregates of line {view.line}, pushed on every materialisation.",
        owner=OWNER,
        tags={"line": view.line},
    )


def feature_view(view: FeatureViewPlan, source: PushSource | None = None) -> FeatureView:
    return FeatureView(
        name=view.name,
        entities=[work_unit_entity()],
        ttl=timedelta(seconds=view.ttl_seconds),
        schema=[Field(name=WORK_UNIT_KEY, dtype=String)]
        + [
            Field(name=f.name, dtype=_DTYPES[f.dtype], description=f.description)
            for f in view.features
        ],
        source=source if source is not None else push_source(view),
        online=True,
        description=view.description,
        owner=OWNER,
        tags=dict(view.tags),
    )


def feast_objects(plan: LineFeaturePlan) -> list[Any]:
    """Every Feast object of a line, in dependency order."""
    views = {v.name: feature_view(v) for v in plan.views}
    objects: list[Any] = [*entities()]
    for view in plan.views:
        objects += [views[view.name].stream_source or push_source(view), views[view.name]]
    for service in plan.services:
        objects.append(
            FeatureService(
                name=service.name,
                features=[
                    views[name] if service.features is None else views[name][list(service.features)]
                    for name in service.views
                ],
                description=service.description,
                owner=OWNER,
                tags=dict(service.tags),
            )
        )
    return objects


# ----------------------------------------------------------------------------- store


def local_config(data_dir: Path, project: str = PROJECT) -> RepoConfig:
    """Embedded profile: local provider, SQLite online store, file registry, all under
    ``data_dir/feast``; no offline store (``feast_offline``: never queried, and Feast's file
    store would load dask and scipy, ~26 MB of the operator's memory)."""
    root = data_dir / "feast"
    root.mkdir(parents=True, exist_ok=True)
    return RepoConfig(
        project=project,
        provider="local",
        registry=str(root / "registry.db"),
        online_store=SqliteOnlineStoreConfig(path=str(root / "online_store.db")),
        offline_store={"type": OFFLINE_STORE_TYPE},
        entity_key_serialization_version=3,
        repo_path=str(root),
    )


# How long a data plane trusts its copy of the SQL registry before re-reading it: lines
# are applied by their own data plane, so a short TTL only matters for readers of other
# lines' objects (a training job), and the registry database is not polled every request.
REGISTRY_CACHE_TTL_SECONDS: Final = 60


def cluster_config(
    data_dir: Path, redis: str, registry_url: str, project: str = PROJECT
) -> RepoConfig:
    """Cluster profile: Redis online store, SQL registry (PostgreSQL), so every data-plane
    Pod and the training jobs share one set of Feast objects and online values.

    ``redis`` is Feast's connection string (``host:port[,db=N][,password=...][,ssl=true]``),
    ``registry_url`` a SQLAlchemy URL (``postgresql+psycopg://user@host/db``). No offline store
    (``feast_offline``): lineops pushes window aggregates online and builds training sets from
    its own raw store, so Feast's offline store is never queried."""
    root = data_dir / "feast"
    root.mkdir(parents=True, exist_ok=True)
    return RepoConfig(
        project=project,
        provider="local",
        # Feast 0.67 keys (feast.infra.registry.sql.SqlRegistryConfig): the registry's
        # tables are created on first use (schema_mode "auto").
        registry={
            "registry_type": "sql",
            "path": registry_url,
            "cache_ttl_seconds": REGISTRY_CACHE_TTL_SECONDS,
            # A pooled connection can be cut by a database restart or an idle timeout.
            "sqlalchemy_config_kwargs": {"echo": False, "pool_pre_ping": True},
        },
        # A dict rather than RedisOnlineStoreConfig: the redis client is imported only by
        # processes configured for it.
        online_store={"type": "redis", "connection_string": redis},
        offline_store={"type": OFFLINE_STORE_TYPE},
        entity_key_serialization_version=3,
        repo_path=str(root),
    )


@contextmanager
def _feast_errors(doing: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:  # the SDK raises anything from ValueError to sqlite3 errors
        raise FeatureStoreError(f"Feast: {doing}: {exc}") from exc


class _Ticket:
    """A plan waiting to be applied, and how that ended (set by whichever caller wrote it)."""

    def __init__(self, plan: LineFeaturePlan) -> None:
        self.plan = plan
        self.done = False
        self.error: FeatureStoreError | None = None

    def finish(self, error: FeatureStoreError | None) -> None:
        if not self.done:
            self.done, self.error = True, error


class FeastStore:
    """A Feast FeatureStore plus what lineops needs from it, one instance per operator."""

    def __init__(self, store: FeatureStore | Callable[[], FeatureStore]) -> None:
        # A factory defers building the FeatureStore to the first use: building it loads
        # the provider's and online store's modules, which an operator with no line yet
        # should not carry.
        self._store: FeatureStore | None = None
        self._factory: Callable[[], FeatureStore] | None = None
        if isinstance(store, FeatureStore) or not callable(store):
            self._store = store  # a store (or a stand-in with its methods)
        else:
            self._factory = store
        self._store_lock = threading.Lock()
        # The file registry is rewritten whole on every apply: serialise writers.
        self._apply_lock = threading.Lock()
        # Plans waiting for the writer; whoever holds the apply lock writes them all at once.
        self._pending_lock = threading.Lock()
        self._pending: list[_Ticket] = []
        self._plans: dict[str, LineFeaturePlan] = {}  # as last applied by this process
        self._index: dict[str, dict[str, Any]] | None = None  # see _existing
        self._refs: dict[str, list[str]] = {}

    @property
    def store(self) -> FeatureStore:
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    assert self._factory is not None
                    self._store = self._factory()
        return self._store

    @classmethod
    def local(cls, data_dir: Path, project: str = PROJECT) -> FeastStore:
        """Built on first use (see ``__init__``)."""
        return cls(lambda: FeatureStore(config=local_config(data_dir, project)))

    @classmethod
    def cluster(
        cls, data_dir: Path, redis: str, registry_url: str, project: str = PROJECT
    ) -> FeastStore:
        """Redis online store + SQL registry (see ``cluster_config``); built on first use."""
        return cls(
            lambda: FeatureStore(config=cluster_config(data_dir, redis, registry_url, project))
        )

    @classmethod
    def configured(
        cls, data_dir: Path, redis: str | None = None, registry_url: str | None = None
    ) -> FeastStore:
        """The cluster stores when both are given (LINEOPS_FEAST_REDIS and
        LINEOPS_FEAST_REGISTRY_URL), else the embedded files under ``data_dir``."""
        if redis is not None and registry_url is not None:
            return cls.cluster(data_dir, redis, registry_url)
        if redis is not None or registry_url is not None:
            raise ValueError("the Feast cluster stores need both a Redis and a registry URL")
        return cls.local(data_dir)

    @classmethod
    def from_repo(cls, repo_path: Path) -> FeastStore:
        return cls(FeatureStore(repo_path=str(repo_path)))

    def apply_line(self, plan: LineFeaturePlan) -> list[str]:
        """Register (or update) a line's objects; remove its views that the plan dropped.

        Idempotent: a plan equal to the one this store last applied writes nothing (a resync
        costs no registry write). Feast rewrites and re-reads the whole registry on every
        apply, so applying lines one by one costs O(lines) each; concurrent callers are
        grouped instead: they queue their plans, and whoever holds the writer lock applies
        every queued plan in one Feast apply (one registry write for the group). Returns
        the view names."""
        names = [v.name for v in plan.views]
        if self._plans.get(plan.line) == plan:
            return names
        ticket = _Ticket(plan)
        with self._pending_lock:
            self._pending.append(ticket)
        with self._apply_lock:
            if not ticket.done:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._apply_batch(batch)
        if ticket.error is not None:
            raise ticket.error
        return names

    def _apply_batch(self, batch: list[_Ticket]) -> None:
        """One Feast apply for every plan of ``batch`` (the latest plan of each line); if it
        fails, each line alone, so one bad line does not fail the others. Holds the writer
        lock."""
        latest = {t.plan.line: t.plan for t in batch}
        try:
            with _feast_errors(f"applying lines {', '.join(map(repr, sorted(latest)))}"):
                self._apply_plans(list(latest.values()))
        except FeatureStoreError as exc:
            if len(latest) == 1:
                for t in batch:
                    t.finish(exc)
                return
            for line, plan in latest.items():
                try:
                    with _feast_errors(f"applying line {line!r}"):
                        self._apply_plans([plan])
                except FeatureStoreError as one:
                    for t in batch:
                        if t.plan.line == line:
                            t.finish(one)
        for t in batch:
            t.finish(None)

    def _apply_plans(self, plans: list[LineFeaturePlan]) -> None:
        objects: list[Any] = [*entities()]
        stale: list[Any] = []
        existing = self._existing()
        for plan in plans:
            objects += [o for o in feast_objects(plan) if not isinstance(o, Entity)]
            wanted = {v.name for v in plan.views} | {s.name for s in plan.services}
            before = existing.get(line_id(plan.line), {})
            stale += [o for name, o in before.items() if name not in wanted]
        if stale:
            self.store.apply(objects, objects_to_delete=stale, partial=False)
        else:
            self.store.apply(objects)
        named = {o.name: o for o in objects if isinstance(o, FeatureView | FeatureService)}
        for plan in plans:
            self._remember(plan)
            names = [v.name for v in plan.views] + [s.name for s in plan.services]
            existing[line_id(plan.line)] = {name: named[name] for name in names}

    def _existing(self) -> dict[str, dict[str, Any]]:
        """Each line's feature views and services in the registry by name, keyed by
        ``line_id``. Read from the registry once (listing deserialises every object, so
        it costs O(lines)), then kept by this store's own applies and removals: each line
        has one writer (the operator in the embedded profile, the line's own data plane in
        the cluster profile). Called with the writer lock held."""
        if self._index is None:
            index: dict[str, dict[str, Any]] = {}
            known: list[Any] = [*self.store.list_feature_views(allow_cache=False)]
            known += self.store.list_feature_services()
            for obj in known:
                prefix, sep, _ = obj.name.partition("__")
                if sep:
                    index.setdefault(prefix, {})[obj.name] = obj
            self._index = index
        return self._index

    def remove_line(self, line: str) -> None:
        """Delete a line's feature services, views (their online tables go with them) and
        data sources (its push and batch sources stayed in the registry)."""
        prefix = f"{line_id(line)}__"
        with self._apply_lock, _feast_errors(f"removing line {line!r}"):
            for fs in self.store.list_feature_services():
                if fs.name.startswith(prefix):
                    self.store.delete_feature_service(fs.name)
            for fv in self.store.list_feature_views(allow_cache=False):
                if fv.name.startswith(prefix):
                    self.store.apply([], objects_to_delete=[fv], partial=False)
            sources: list[Any] = [
                ds
                for ds in self.store.list_data_sources(allow_cache=False)
                if ds.name.startswith(prefix)
            ]
            if sources:
                self.store.apply([], objects_to_delete=sources, partial=False)
            self._plans.pop(line, None)
            self._refs.pop(line, None)
            if self._index is not None:
                self._index.pop(line_id(line), None)

    def _remember(self, plan: LineFeaturePlan) -> None:
        self._plans[plan.line] = plan
        self._refs[plan.line] = [
            f"{view.name}:{f.name}" for view in plan.views for f in view.features
        ]

    def feature_refs(self, line: str) -> list[str]:
        """``view:feature`` references of every feature of a line (after ``apply_line``)."""
        return list(self._refs[line])

    def push_aggregates(self, line: str, aggregates: pd.DataFrame) -> int:
        """Write window aggregates (one row per work unit, ``event_timestamp`` = window end)
        to the online store. Returns the number of rows written."""
        if aggregates.empty:
            return 0
        self.store.push(push_source_name(line), aggregates, to=PushMode.ONLINE)
        return len(aggregates)

    def online_features(
        self,
        line: str,
        work_units: Sequence[str],
        features: Sequence[str] | None = None,
        *,
        service: str | None = None,
    ) -> dict[str, list[Any]]:
        """Latest features of work units: all of the line's features, the named ones
        (``view:feature`` or bare feature names of the window view), or a feature service."""
        if service is not None:
            refs: Any = self.store.get_feature_service(feature_service_name(line, service))
        elif features is None:
            refs = self._refs[line]
        else:
            view = window_view_name(line)
            refs = [f if ":" in f else f"{view}:{f}" for f in features]
        rows = [{WORK_UNIT_KEY: unit} for unit in work_units]
        result: dict[str, list[Any]] = self.store.get_online_features(
            features=refs, entity_rows=rows
        ).to_dict()
        return result

    def event_times(self, line: str, work_units: Sequence[str]) -> dict[str, pd.Timestamp | None]:
        """Event time (window end) of the online features of each work unit, None if absent."""
        plan = self._plans[line]
        first = f"{plan.views[0].name}:{plan.views[0].features[0].name}"
        response = self.store.get_online_features(
            features=[first], entity_rows=[{WORK_UNIT_KEY: unit} for unit in work_units]
        ).to_dict(include_event_timestamps=True)
        stamps = response[f"{plan.views[0].features[0].name}__ts"]
        values = response[plan.views[0].features[0].name]
        return {
            unit: (None if value is None or not ts else pd.Timestamp(ts, unit="s", tz="UTC"))
            for unit, ts, value in zip(work_units, stamps, values, strict=True)
        }

    def freshness(
        self, line: str, work_units: Sequence[str], now: pd.Timestamp | None = None
    ) -> dict[str, float | None]:
        """Age in seconds of each work unit's online features (now - window end)."""
        current = now if now is not None else pd.Timestamp.now(tz="UTC")
        return {
            unit: None if ts is None else (current - ts).total_seconds()
            for unit, ts in self.event_times(line, work_units).items()
        }
