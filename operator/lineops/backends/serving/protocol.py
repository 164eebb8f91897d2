"""What the operator asks a serving backend for, and what it reports back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from lineops.api.qualitymodel import QualityModelSpec
from lineops.backends.errors import TransientBackendError

# Canary: the cluster profile's new champion taking a share of the Pods (CanaryState says
# which step it is at); the embedded profile never reports it.
Phase = Literal["Starting", "Serving", "Restarting", "Failed", "Stopped", "Canary"]
PHASES: Final[tuple[Phase, ...]] = (
    "Starting",
    "Serving",
    "Restarting",
    "Failed",
    "Stopped",
    "Canary",
)


class ServingBackendError(TransientBackendError):
    """The backend could not be asked (no port to bind, a process that cannot be spawned)."""


@dataclass(frozen=True)
class ServeRequest:
    """Serve ``tag`` (a BentoML model store tag, the champion) for one QualityModel."""

    namespace: str
    model: str
    tag: str
    # What a backend that renders workloads needs (the cluster profile): the QualityModel
    # (owner of what is created) and its spec. Not compared: a new resourceVersion of the
    # same model is the same request.
    owner: Mapping[str, Any] | None = field(default=None, compare=False)
    spec: QualityModelSpec | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CanaryState:
    """The latest canary of a model: ``state`` Progressing, Promoted or RolledBack; ``step``
    (Progressing) WaitingForAvailable, Analysing or Promoting; ``since`` RFC 3339 time it
    entered that state; ``reason`` why (or what it waits for)."""

    state: str
    tag: str
    since: str
    reason: str
    step: str | None = None


@dataclass(frozen=True)
class ServingState:
    """What the backend is doing for one model right now.

    ``serving``: the tag answering on ``endpoint`` (None while nothing answers);
    ``pending``: a tag being started to replace it (or to serve at all). ``since``: RFC 3339
    time of the last change of phase or served tag. ``last_exit`` and ``next_attempt`` say why
    and when a process that died or never became ready is tried again."""

    phase: Phase
    endpoint: str | None = None
    serving: str | None = None
    pending: str | None = None
    since: str = ""
    message: str = ""
    failures: int = 0
    last_exit: str | None = None
    next_attempt: str | None = None
    waiting: str | None = None  # Starting: what it waits for (None: the process's /readyz)
    canary: CanaryState | None = None


ChangeListener = Callable[[str, str], None]
"""Called with (namespace, model) after the backend's state for that model changed on its own
(a process became ready, died, or is tried again), so the operator can reconcile at once."""


class ServingBackend(Protocol):
    def subscribe(self, listener: ChangeListener) -> None:
        """Be told when a model's state changes outside a call."""

    async def ensure(self, request: ServeRequest) -> ServingState:
        """Serve ``request.tag`` for the model (idempotent); a different tag replaces the one
        served once it is ready. Returns the state at once, never waits for readiness."""

    def state(self, namespace: str, model: str) -> ServingState | None:
        """The model's state, None when nothing is served or starting for it."""

    async def stop(self, namespace: str, model: str) -> None:
        """Stop serving the model and wait until its processes are gone (idempotent)."""

    async def suspend(self, namespace: str, model: str) -> None:
        """``spec.serving.replicas`` 0: serve nothing, but keep what serving again needs
        (the cluster profile keeps the stable Deployment at 0 Pods: the tag it ran and its
        last canary's outcome, so a tag rolled back is not rolled out when scaled up)."""

    async def close(self) -> None:
        """Stop serving every model (operator shutdown)."""
