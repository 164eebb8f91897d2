"""The operator's components as one typed object: what start-up builds, what the handlers
use and what shutdown closes. kopf's memo holds it under one key (``components``), so a
renamed component is a type error rather than a KeyError at run time."""

from __future__ import annotations

from dataclasses import dataclass

import kopf

from lineops.backends.kube import KubeBackend
from lineops.backends.metrics import OperatorMetrics
from lineops.backends.probes import ProbeServer
from lineops.backends.serving.protocol import ServingBackend
from lineops.backends.training.runs import TrainingBackend
from lineops.dataplane.app import DataPlaneApp
from lineops.services.data_plane import DataPlane
from lineops.services.line import LineReconciler
from lineops.services.model import ModelReconciler
from lineops.services.monitoring.line_monitor import LineMonitors
from lineops.settings import Settings

KEY = "components"


@dataclass
class Components:
    settings: Settings
    metrics: OperatorMetrics
    kube: KubeBackend
    probes: ProbeServer
    monitors: LineMonitors
    data_plane: DataPlane
    lines: LineReconciler
    models: ModelReconciler
    training: TrainingBackend | None
    app: DataPlaneApp | None = None  # embedded profile: the data plane in this process
    serving: ServingBackend | None = None  # embedded profile: bentoml serve per champion

    async def close(self) -> None:
        await close_all(self.probes, self.app, self.training, self.kube, self.serving)


async def close_all(
    probes: ProbeServer | None,
    app: DataPlaneApp | None,
    training: TrainingBackend | None,
    kube: KubeBackend | None,
    serving: ServingBackend | None = None,
) -> None:
    """In dependency order, each only if it was built (start-up may have failed half-way).
    Serving stops before the data plane its processes log predictions to."""
    if probes is not None:
        await probes.stop()
    if serving is not None:
        await serving.close()
    if app is not None:
        await app.stop()
    if training is not None:
        await training.close()
    if kube is not None:
        kube.close()


def components(memo: kopf.Memo) -> Components:
    found = memo.get(KEY)
    if not isinstance(found, Components):
        # A handler ran before start-up finished (or after it failed): retry later.
        raise kopf.TemporaryError("operator components are not ready yet", delay=5)
    return found
