"""Where a canary's error rate and latency come from: the ``CanaryMetrics`` interface and its
production implementation on Prometheus's HTTP API (``LINEOPS_PROMETHEUS_URL``).

The queries read what the serving Pods expose on ``/metrics`` (docs/serving.md), as scraped
with the usual ``namespace`` and ``pod`` target labels (a ServiceMonitor, or the
kubernetes_sd relabelling of docs/monitoring.md):

* error rate: the share of BentoML's requests answered 5xx by the canary's Pods,
  ``bentoml_service_request_total{http_response_code=~"5.."}`` over all of them;
* p99 latency: ``histogram_quantile(0.99, …)`` of the service's own
  ``lineops_serving_latency_seconds`` for the canary's model tag.

Both over the window the canary has been Available; no requests in it gives None (nothing
to judge), a failed query raises ``MetricsUnavailable``.
"""

from __future__ import annotations

import re
from typing import Any, Final, Protocol

import aiohttp

from lineops.backends.errors import TransientBackendError
from lineops.backends.serving.canary import Measurement

_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)


class MetricsUnavailable(TransientBackendError):
    """The metrics source did not answer (or answered something that is not a result)."""


class CanaryMetrics(Protocol):
    async def measure(
        self, namespace: str, deployment: str, tag: str, window: float
    ) -> Measurement:
        """The 5xx share and p99 latency of ``deployment``'s Pods serving ``tag`` over the
        last ``window`` seconds."""

    async def close(self) -> None: ...


def _quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Kubernetes cuts a Pod's generated name base to 58 characters before the 5 random ones: a
# canary of a model name of 32 characters or more has Pods named <deployment>-<part of the
# hash><random>, which "<deployment>-<hash>-<id>" did not match (no series: promoted as "no
# requests measured").
POD_NAME_BASE: Final = 58


def pod_pattern(deployment: str) -> str:
    """A regex of the names of ``deployment``'s Pods (``<deployment>-<hash>-<id>``, cut as
    Kubernetes cuts them)."""
    base = f"{deployment}-"
    if len(base) <= POD_NAME_BASE:
        return re.escape(base) + "[a-z0-9-]+"
    return re.escape(base[:POD_NAME_BASE]) + "[a-z0-9]{5}"


def queries(namespace: str, deployment: str, tag: str, window: float) -> tuple[str, str]:
    """(error-rate, p99) PromQL for the canary's Pods (``<deployment>-<hash>-<id>``)."""
    pods = _quote(pod_pattern(deployment))
    ns = _quote(namespace)
    w = f"{max(int(window), 1)}s"
    base = f"namespace={ns},pod=~{pods}"
    errors = (
        f'sum(rate(bentoml_service_request_total{{{base},http_response_code=~"5.."}}[{w}]))'
        f" / sum(rate(bentoml_service_request_total{{{base}}}[{w}]))"
    )
    p99 = (
        "histogram_quantile(0.99, sum by (le) (rate(lineops_serving_latency_seconds_bucket"
        f"{{{base},model_tag={_quote(tag)}}}[{w}])))"
    )
    return errors, p99


class PrometheusCanaryMetrics:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def measure(
        self, namespace: str, deployment: str, tag: str, window: float
    ) -> Measurement:
        errors, p99 = queries(namespace, deployment, tag, window)
        error_rate = await self._scalar(errors, missing=f"no request series of {deployment}")
        return Measurement(error_rate, await self._scalar(p99), window)

    async def _scalar(self, expr: str, missing: str | None = None) -> float | None:
        """The query's value; None for NaN (0/0: no requests in the window). No result at
        all: None, or with ``missing`` MetricsUnavailable (the served Pods have their
        request series from their start, so none means Prometheus does not scrape them,
        which a canary promoted as "no requests measured")."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        try:
            async with self._session.get(
                f"{self.url}/api/v1/query", params={"query": expr}
            ) as answer:
                body: Any = await answer.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MetricsUnavailable(f"Prometheus {self.url}: {exc}") from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else body
            raise MetricsUnavailable(f"Prometheus {self.url} refused the query: {error}")
        result = body.get("data", {}).get("result") or []
        if not result:
            if missing is not None:
                raise MetricsUnavailable(
                    f"Prometheus {self.url} has {missing} (are its Pods scraped?)"
                )
            return None
        value = float(result[0]["value"][1])
        return None if value != value else value  # NaN: 0/0, no requests in the window

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
