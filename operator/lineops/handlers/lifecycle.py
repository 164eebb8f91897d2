"""Operator start-up and shutdown: the composition root. Settings in, one typed
:class:`~lineops.handlers.components.Components` object into kopf's memo, closed on exit."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import kopf

from lineops.api.constants import FINALIZER, PREFIX
from lineops.backends.data_plane_client import DataPlaneReader, HttpDataPlane, LocalDataPlane
from lineops.backends.feast_store import FeastStore
from lineops.backends.kube import KubeBackend, new_api_client
from lineops.backends.mes_metrics import MesMetrics
from lineops.backends.metrics import OperatorMetrics
from lineops.backends.metrics_mode import single_process
from lineops.backends.probes import ProbeServer
from lineops.backends.serving.canary_metrics import PrometheusCanaryMetrics
from lineops.backends.serving.cluster import ClusterServingBackend, ClusterServingConfig
from lineops.backends.serving.local import LocalServingBackend, LocalServingConfig
from lineops.backends.serving.manifests import WorkloadSettings
from lineops.backends.serving.protocol import ServingBackend
from lineops.backends.training.kfp_client import KfpSettings, KfpTrainingBackend
from lineops.backends.training.local import (
    LocalTrainingBackend,
    default_pipelines_dir,
)
from lineops.backends.training.runs import TrainingBackend
from lineops.dataplane.app import DataPlaneApp, read_token
from lineops.dataplane.db.database import embedded_url
from lineops.handlers.components import KEY as COMPONENTS
from lineops.handlers.components import Components, close_all
from lineops.handlers.monitor_loop import MonitorLoop
from lineops.services.data_plane import ClusterDataPlane, DataPlane, EmbeddedDataPlane
from lineops.services.data_plane_workload import WorkloadConfig, service_url
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler
from lineops.services.monitoring.line_monitor import LineMonitors
from lineops.services.serving import ServingService
from lineops.services.training import DataPlaneUrl, TrainingService
from lineops.services.training_policy import TrainingPolicy
from lineops.settings import Settings, load_settings


@kopf.on.startup()
async def configure(
    settings: kopf.OperatorSettings,
    memo: kopf.Memo,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **kwargs: Any,
) -> None:
    config: Settings = memo.get("config") or load_settings()
    # asyncio.to_thread's default pool is min(32, cores + 4): 6 threads on a 2-core node for
    # up to worker_limit concurrent reconciles, the monitoring loop and the in-process data
    # plane. Reconciles of new lines wait in a pool thread for the Feast writer (one registry
    # write for the group), and five such waits starved every other blocking call (profiled
    # at 300 lines, docs/benchmarks.md). A thread per concurrent reconcile, plus room for the
    # monitor and the data plane, keeps a wait from holding up the rest.
    # Once per process: kopf retries a failed start-up with the same memo, and a pool set
    # on every attempt would leave the earlier attempts' threads behind.
    if memo.get("executor") is None:
        memo["executor"] = ThreadPoolExecutor(
            max_workers=config.worker_limit + 8, thread_name_prefix="lineops"
        )
        asyncio.get_running_loop().set_default_executor(memo["executor"])
    # Our own names for everything kopf stores on objects, never kopf.zalando.org.
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # No kopf worker limit: it would also cap start-up indexing and hang the operator once
    # more objects exist than the limit (kopf #1243). Concurrency is bounded by our own
    # reconcile slots instead (Components.limited, LINEOPS_WORKER_LIMIT).
    settings.queueing.worker_limit = None
    # Watches are re-established well before proxies cut idle connections.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.peering.standalone = True
    # A stopped timer cancels its reconcile and returns (handlers.stopping); this is how long
    # kopf waits for that before it calls the timer orphaned and leaves it running.
    settings.background.instant_exit_timeout = 1.0
    # kopf turns object-log lines at this level into Events. At INFO every handler's and
    # timer's "succeeded" line became one: an Event POST per object per resync period (a
    # thousand objects: 33 POSTs a second of noise); at WARNING every retry of a reconcile
    # that waits on a backend ("failed temporarily", logged at ERROR) was one more Error
    # Event (a Deployment stuck pulling its image: about 17,000 a day per line). Our own
    # Events are posted explicitly (kopf.event), once per transition; what kopf logs stays
    # in the log, and the object's conditions say why it waits.
    settings.posting.level = logging.CRITICAL

    # Before any metric exists: series of deleted lines must be removable (see metrics_mode).
    if inherited := single_process():
        logger.warning(
            "ignoring %s: the operator keeps its metrics in single-process mode",
            ", ".join(f"{k}={v}" for k, v in inherited.items()),
        )
    metrics = OperatorMetrics()
    kube = KubeBackend(new_api_client(config.kubeconfig))
    data = Path(config.data_dir).resolve()
    probes = ProbeServer(metrics.registry, config.metrics_host, config.metrics_port)
    app: DataPlaneApp | None = None
    backend: TrainingBackend | None = None
    serving: ServingBackend | None = None
    try:
        token = read_token(Path(config.api_token_file)) if config.api_token_file else None
        if config.profile == "cluster":
            # Each line's data plane is a Deployment + Service (readings and MES records);
            # the monitors read a line's records from it over HTTP.
            reader: DataPlaneReader = HttpDataPlane(
                lambda line: service_url(line.namespace, line.name), token=token
            )
            monitors = LineMonitors(reader, MesMetrics(metrics.registry))
            plane: DataPlane = ClusterDataPlane(kube, WorkloadConfig.from_settings(config))
            data_url = f"http://{config.metrics_host}:{config.metrics_port}"
            # Pipeline pods read a line's training set from its data plane's Service.
            plane_url: DataPlaneUrl = service_url
            # A Deployment + Service (+ HPA, canary) per champion, from its bento image.
            serving = ClusterServingBackend(
                kube,
                ClusterServingConfig(
                    WorkloadSettings(
                        config.bento_image_repository,
                        config.bento_feast_config_map,
                        config.api_token_secret,
                        config.pull_secrets,
                        config.pod_user_ids,
                    ),
                    service_url,
                ),
                None
                if config.prometheus_url is None
                else PrometheusCanaryMetrics(config.prometheus_url),
            )
        else:
            # In-process: the same data-plane application `lineops dataplane serve` runs.
            # An outdated database schema stops the start-up here, with the command to run.
            app = await asyncio.to_thread(
                DataPlaneApp,
                data,
                config.db_url or embedded_url(data),
                metrics.registry,
                feast=FeastStore.local(data),
                host=config.metrics_host,
                port=config.ingest_port,
                token=token,
                offline_uri=config.offline_uri,
            )
            local = LocalDataPlane(app)
            monitors = LineMonitors(local, MesMetrics(metrics.registry))
            # Servers start last: a failure above leaves no port bound for kopf's retry.
            await app.start()
            plane = EmbeddedDataPlane(local)
            data_url = app.url
            # A bentoml serve process per champion, behind a stable loopback endpoint.
            serving = LocalServingBackend(
                LocalServingConfig(
                    data,
                    app.url,
                    token_file=str(config.api_token_file) if config.api_token_file else None,
                )
            )
            plane_url = partial(_same_url, app.url)  # every line: the in-process data plane
        await probes.start()
        backend = training_backend(config, data, logger)
        policy = TrainingPolicy.from_settings(config)
        training = None if backend is None else TrainingService(backend, policy, plane_url)
    except BaseException:
        # kopf retries a failed start-up: release what this attempt built first.
        await close_all(probes, app, backend, kube, serving)
        raise
    lines = LineReconciler(kube, monitors, plane, config.rule_labels)
    # kopf hands every handler the indices; these two are live views the loop keeps reading.
    loop = MonitorLoop(
        lines,
        monitors,
        kube,
        metrics,
        kwargs["line_bodies"],
        kwargs["qm_retrain_by_line"],
        config.monitor_seconds,
    )
    memo[COMPONENTS] = Components(
        settings=config,
        metrics=metrics,
        kube=kube,
        probes=probes,
        monitors=monitors,
        data_plane=plane,
        lines=lines,
        models=ModelReconciler(
            kube, training, None if serving is None else ServingService(serving, kube)
        ),
        training=backend,
        app=app,
        serving=serving,
        monitor_loop=loop,  # started by the first line reconcile (handlers.line)
        slots=asyncio.Semaphore(config.worker_limit),
    )
    logger.info(
        "lineops operator started: profile=%s data=%s metrics=http://%s:%d/metrics",
        config.profile,
        data_url,
        config.metrics_host,
        probes.port,
    )
    # What the process asked to run once start-up is done: `lineops operator run` freezes
    # the start-up heap out of the garbage collector's sight (lineops/cli/heap.py).
    after_startup = memo.get("after_startup")
    if after_startup is not None:
        after_startup()


def _same_url(url: str, _namespace: str, _line: str) -> str:
    return url


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
async def shutdown(
    memo: kopf.Memo, logger: logging.Logger | logging.LoggerAdapter[Any], **_: Any
) -> None:
    """After kopf stopped its watches, workers and timers: close everything within
    ``components.CLOSE_SECONDS`` (SIGTERM to exit stays within a 10 s grace period)."""
    started = time.monotonic()
    found = memo.get(COMPONENTS)
    if isinstance(found, Components):
        await found.close()
    logger.info("lineops operator stopped: closed in %.1f s", time.monotonic() - started)
