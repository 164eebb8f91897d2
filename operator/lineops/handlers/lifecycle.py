"""Operator start-up and shutdown: settings, login, clients and the probe server in memo."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import kopf

from lineops.api.constants import FINALIZER, PREFIX
from lineops.backends.feast_store import FeastStore
from lineops.backends.kube import KubeBackend, new_api_client
from lineops.backends.mes_metrics import MesMetrics
from lineops.backends.metrics import OperatorMetrics
from lineops.backends.probes import ProbeServer
from lineops.backends.training.kfp_client import KfpSettings, KfpTrainingBackend
from lineops.backends.training.local import (
    LocalTrainingBackend,
    default_pipelines_dir,
)
from lineops.backends.training.runs import TrainingBackend
from lineops.dataplane.app import DataPlaneApp, read_token
from lineops.dataplane.db.database import Database, embedded_url, open_database
from lineops.dataplane.mes_api import MesApi
from lineops.services.data_plane import ClusterDataPlane, DataPlane, EmbeddedDataPlane
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler
from lineops.services.monitoring.line_monitor import LineMonitors
from lineops.services.training import TrainingService
from lineops.services.training_policy import TrainingPolicy
from lineops.settings import Settings, load_settings


@kopf.on.startup()
async def configure(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    config: Settings = memo.get("config") or load_settings()
    memo["config"] = config
    # Our own names for everything kopf stores on objects, never kopf.zalando.org.
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # Bounded concurrency: each worker may hold an API thread; 2-core nodes are common.
    settings.queueing.worker_limit = config.worker_limit
    # Watches are re-established well before proxies cut idle connections.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.peering.standalone = True
    settings.posting.level = logging.INFO

    metrics = OperatorMetrics()
    kube = KubeBackend(new_api_client(config.kubeconfig))
    memo["metrics"], memo["kube"] = metrics, kube
    data = Path(config.data_dir).resolve()

    probes = ProbeServer(metrics.registry, config.metrics_host, config.metrics_port)
    db_url = config.db_url or embedded_url(data)
    if config.profile == "cluster":
        # Readings go to a data-plane Deployment per line; MES records are served by both
        # (same database, the cluster's PostgreSQL), the operator's monitors read them.
        # An outdated schema stops the start-up here, with `lineops db upgrade` to run.
        db = await asyncio.to_thread(open_database, db_url)
        memo["db"] = db
        monitors = LineMonitors(db.mes, MesMetrics(metrics.registry))
        mes_api = MesApi(db, monitors.spec_of, metrics.registry)
        probes.add_routes(mes_api.routes())
        plane: DataPlane = ClusterDataPlane(kube, config.image, config.db_secret)
        data_url = f"http://{config.metrics_host}:{config.metrics_port}"
    else:
        # In-process: the same data-plane application `lineops dataplane serve` runs.
        app = await asyncio.to_thread(
            DataPlaneApp,
            data,
            db_url,
            metrics.registry,
            feast=FeastStore.local(data),
            host=config.metrics_host,
            port=config.ingest_port,
            token=read_token(Path(config.api_token_file)) if config.api_token_file else None,
        )
        memo["data_plane_app"] = app
        monitors = LineMonitors(app.db.mes, MesMetrics(metrics.registry), app.ingestion.offline)
        # Servers start last: a failure above leaves no port bound for kopf's retry.
        await app.start()
        plane = EmbeddedDataPlane(app)
        data_url = app.url
    memo["monitors"] = monitors
    await probes.start()
    memo["probes"] = probes

    memo["lines"] = LineReconciler(kube, monitors, plane)
    memo["data_plane"] = plane
    backend = training_backend(config, data, logger)
    memo["training"] = backend
    policy = TrainingPolicy.from_settings(config)
    training = None if backend is None else TrainingService(backend, policy)
    memo["models"] = ModelReconciler(kube, training)
    logger.info(
        "lineops operator started: profile=%s data=%s metrics=http://%s:%d/metrics",
        config.profile,
        data_url,
        config.metrics_host,
        probes.port,
    )


def training_backend(
    config: Settings, data_dir: Path, logger: logging.Logger | logging.LoggerAdapter[Any]
) -> TrainingBackend | None:
    """The profile's training backend: kfp.local worker processes (embedded) or a KFP API
    server (cluster). ``LINEOPS_TRAINING=off`` (or, in the cluster profile, no KFP host)
    records training requests only."""
    if not config.training:
        logger.info("training disabled by LINEOPS_TRAINING")
        return None
    if config.profile == "cluster":
        try:
            settings = KfpSettings.from_settings(config)
        except ValueError as exc:
            logger.warning("training disabled: %s", exc)
            return None
        if settings.model_store is None:
            logger.warning(
                "LINEOPS_MODEL_STORE not set: succeeded KFP runs report no metrics or model "
                "tag, so the promotion gate blocks them"
            )
        return KfpTrainingBackend(settings, default_pipelines_dir(config.pipelines_dir))
    logger.info("training runs under %s", data_dir / "runs")
    return LocalTrainingBackend(data_dir, default_pipelines_dir(config.pipelines_dir))


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    # In a Pod: the ServiceAccount; elsewhere: KUBECONFIG. No pykube or client magic.
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)


@kopf.on.cleanup()
async def shutdown(memo: kopf.Memo, **_: Any) -> None:
    probes: ProbeServer | None = memo.get("probes")
    if probes is not None:
        await probes.stop()
    app: DataPlaneApp | None = memo.get("data_plane_app")
    if app is not None:
        await app.stop()
    db: Database | None = memo.get("db")
    if db is not None:
        db.close()
    backend: TrainingBackend | None = memo.get("training")
    if backend is not None:
        await backend.close()
    kube: KubeBackend | None = memo.get("kube")
    if kube is not None:
        kube.close()
