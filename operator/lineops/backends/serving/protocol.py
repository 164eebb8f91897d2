"""What the operator asks a serving backend for, and what it reports back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from lineops.backends.errors import TransientBackendError

Phase = Literal["Starting", "Serving", "Restarting", "Failed", "Stopped"]
PHASES: Final[tuple[Phase, ...]] = ("Starting", "Serving", "Restarting", "Failed", "Stopped")


class ServingBackendError(TransientBackendError):
    """The backend could not be asked (no port to bind, a process that cannot be spawned)."""


@dataclass(frozen=True)
class ServeRequest:
    """Serve ``tag`` (a BentoML model store tag, the champion) for one QualityModel."""

    namespace: str
    model: str
    tag: str


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

    async def close(self) -> None:
        """Stop serving every model (operator shutdown)."""
