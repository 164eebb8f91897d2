"""The canary's metrics source (lineops.backends.serving.canary_metrics) against a real
Prometheus (Debian package, tests/support/prometheus.py) scraping two exporters on loopback
that stand in for a canary Pod and a stable Pod of the same model: the operator's queries
return the canary's own 5xx share and p99 latency, not the stable Pod's; an unreachable
Prometheus raises MetricsUnavailable. The exporters are stand-ins for the serving Pods (no
container runs here) and expose the series names the quality inspector and BentoML expose;
each scrape adds a fixed number of requests, so the expected values are known."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from lineops.backends.serving.canary_metrics import MetricsUnavailable, PrometheusCanaryMetrics

from tests.support.kube import wait_for
from tests.support.loopback_http import serving_get
from tests.support.operator import free_port
from tests.support.prometheus import query, running_prometheus

pytestmark = pytest.mark.integration

NAMESPACE = "plant-a"
TAG = "press-fault:v2"
BUCKETS = (0.05, 0.5, 1.0)
SERIES = "bentoml_service_request_total"


class Exporter:
    """Each scrape: ``ok`` requests answered 200 in under 50 ms and ``failed`` answered 500
    taking 0.5-1 s (histogram buckets cumulative, like prometheus_client's)."""

    def __init__(self, ok: int, failed: int) -> None:
        self.ok, self.failed, self.scrapes = ok, failed, 0
        self.lock = threading.Lock()

    def text(self) -> str:
        with self.lock:
            self.scrapes += 1
            n = self.scrapes
        ok, bad = self.ok * n, self.failed * n
        lines = [
            "# TYPE bentoml_service_request_total counter",
            f'bentoml_service_request_total{{endpoint="/predict",http_response_code="200"}} {ok}',
            f'bentoml_service_request_total{{endpoint="/predict",http_response_code="500"}} {bad}',
            "# TYPE lineops_serving_latency_seconds histogram",
        ]
        labels = f'model_tag="{TAG}",endpoint="predict"'
        for le in BUCKETS:
            count = ok + (bad if le >= 1.0 else 0)
            lines.append(f'lineops_serving_latency_seconds_bucket{{{labels},le="{le}"}} {count}')
        lines.append(f'lineops_serving_latency_seconds_bucket{{{labels},le="+Inf"}} {ok + bad}')
        lines.append(f"lineops_serving_latency_seconds_count{{{labels}}} {ok + bad}")
        lines.append(f"lineops_serving_latency_seconds_sum{{{labels}}} {0.01 * ok + 0.8 * bad}")
        return "\n".join(lines) + "\n"


@contextmanager
def exporters(paths: dict[str, Exporter]) -> Iterator[str]:
    """Each exporter's text at /<name> on one loopback server; yields host:port."""
    with serving_get(
        lambda path: ("text/plain; version=0.0.4", paths[path.strip("/")].text().encode()),
        "exporters",
    ) as address:
        yield address


def _job(name: str, target: str, pod: str) -> dict[str, Any]:
    return {
        "job_name": name,
        "scrape_interval": "1s",
        "metrics_path": f"/{name}",
        "static_configs": [{"targets": [target], "labels": {"namespace": NAMESPACE, "pod": pod}}],
    }


def _measure(url: str, window: float) -> Any:
    """The canary's measurement through the operator's source, its session closed."""
    source = PrometheusCanaryMetrics(url)

    async def measure() -> Any:
        try:
            return await source.measure(NAMESPACE, "press-fault-serving-canary", TAG, window)
        finally:
            await source.close()

    return asyncio.run(measure())


def _scraped(url: str, series: int) -> None:
    """Wait for three scrapes of every request series (a rate needs two samples)."""
    wait_for(
        lambda: len(query(url, f"count_over_time({SERIES}[1m]) >= 3")) == series,
        timeout=30,
        interval=0.5,
        what=f"three scrapes of {series} series",
    )


def test_the_canary_queries_measure_the_canary_pods_only() -> None:
    # Canary: 10 % errors, and those slow (p99 in the 0.5-1 s bucket). Stable: no errors.
    paths = {"canary": Exporter(ok=9, failed=1), "stable": Exporter(ok=90, failed=0)}
    with exporters(paths) as target:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                _job("canary", target, "press-fault-serving-canary-6d5f7c9b8-x2k4q"),
                _job("stable", target, "press-fault-serving-7c9d8f6b5-p9l3m"),
            ],
        }
        with running_prometheus(config, {}) as prometheus:
            _scraped(prometheus, 4)
            measured = _measure(prometheus, 30)
    assert measured.error_rate == pytest.approx(0.1, rel=1e-6)  # the stable Pod's 0 % not mixed in
    assert measured.latency_p99 is not None and 0.5 < measured.latency_p99 <= 1.0
    assert measured.window == 30


def test_no_requests_from_the_canary_is_nothing_to_judge() -> None:
    """Scraped, but no request in the window: 0/0, nothing to judge (the canary is then
    promoted on the period alone, as the status says)."""
    paths = {"canary": Exporter(ok=0, failed=0)}
    with exporters(paths) as target:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                _job("canary", target, "press-fault-serving-canary-6d5f7c9b8-x2k4q")
            ],
        }
        with running_prometheus(config, {}) as url:
            _scraped(url, 2)
            measured = _measure(url, 60)
    assert (measured.error_rate, measured.latency_p99) == (None, None)


def test_no_series_of_the_canary_is_unavailable_not_a_promotion() -> None:
    """No series at all for the canary's Pods: Prometheus does not scrape them (the served
    Pods have their request series from their start), which was read as "no requests" and
    promoted the canary unmeasured."""
    empty = {"global": {"scrape_interval": "1s"}, "scrape_configs": []}
    with (
        running_prometheus(empty, {}) as url,
        pytest.raises(MetricsUnavailable, match="no request series of press-fault-serving"),
    ):
        _measure(url, 60)


def test_an_unreachable_prometheus_is_unavailable_not_a_verdict() -> None:
    with pytest.raises(MetricsUnavailable, match=r"Prometheus http://127\.0\.0\.1"):
        _measure(f"http://127.0.0.1:{free_port()}", 60)
