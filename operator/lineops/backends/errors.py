"""The two kinds of backend failure the reconcilers tell apart.

Every error a backend (Kubernetes, KFP or the local training runner, Feast, the data plane)
raises for a request it could not serve derives from one of two bases, so a reconcile catches
:class:`BackendError` once and lets the base decide what happens next
(``lineops.services.outcome.backend_failed``):

* :class:`TransientBackendError`: the backend is down, throttling, or refuses for a reason
  someone outside the object can fix (RBAC). Asking again later may work: ``Ready=False``
  with reason ``BackendError`` and a requeue after ``retry_after`` seconds.
* :class:`PermanentBackendError`: the backend understood the request and rejected it as
  invalid. The same request will fail the same way until the spec changes: ``Ready=False``
  with reason ``BackendRejected`` and no retry.
"""

from __future__ import annotations


class BackendError(Exception):
    """A backend could not serve a request; raise one of the two subclasses."""


class TransientBackendError(BackendError):
    """Worth retrying: the backend may answer later (down, throttling, RBAC not granted yet)."""

    def __init__(self, message: str, *, retry_after: float = 10.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentBackendError(BackendError):
    """Not worth retrying: the backend rejected the request itself."""
