"""A Prometheus scrape configuration generated from ServiceMonitors, the way the Prometheus
Operator would build it, so a plain `prometheus` in a test scrapes exactly what the chart's
ServiceMonitors select.

There is no Kubernetes service discovery on loopback: each selected Service's port is given
an address (``127.0.0.1:PORT`` of the process that plays it) and becomes a static target
with the labels the Prometheus Operator would attach: ``job`` (the Service's name, which
the chart's alerts select by), ``namespace``, ``service``, ``endpoint`` (the port's name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# (namespace, Service name, port name) -> "host:port" of whatever serves it in the test.
Addresses = Mapping[tuple[str, str, str], str]


class UnmappedTarget(LookupError):
    """A ServiceMonitor selects a Service port that the test gave no address."""


def _selects(monitor: Mapping[str, Any], service: Mapping[str, Any]) -> bool:
    spec = monitor["spec"]
    namespaces = spec.get("namespaceSelector") or {}
    service_ns = service["metadata"]["namespace"]
    if not namespaces.get("any"):
        allowed = namespaces.get("matchNames") or [monitor["metadata"]["namespace"]]
        if service_ns not in allowed:
            return False
    wanted = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = service["metadata"].get("labels") or {}
    # matchExpressions are not used by the chart; refuse rather than ignore them.
    assert not (spec.get("selector") or {}).get("matchExpressions"), "matchExpressions unsupported"
    return all(labels.get(k) == v for k, v in wanted.items())


def scrape_configs(
    monitors: Iterable[Mapping[str, Any]],
    services: Iterable[Mapping[str, Any]],
    addresses: Addresses,
    *,
    interval: str | None = None,
) -> list[dict[str, Any]]:
    """One scrape job per ServiceMonitor endpoint (named as the Prometheus Operator names
    it, ``serviceMonitor/<ns>/<name>/<index>``), with a static target per selected Service.

    ``interval`` overrides the endpoints' own interval (tests scrape every second). Raises
    UnmappedTarget naming the Service port when a selected port has no address: a target
    the chart would scrape must not silently go unscraped in the test."""
    services = list(services)
    jobs = []
    for monitor in monitors:
        meta = monitor["metadata"]
        for index, endpoint in enumerate(monitor["spec"]["endpoints"]):
            targets = []
            for service in services:
                if not _selects(monitor, service):
                    continue
                ports = {p.get("name") for p in service["spec"]["ports"]}
                if endpoint["port"] not in ports:
                    continue
                key = (
                    service["metadata"]["namespace"],
                    service["metadata"]["name"],
                    endpoint["port"],
                )
                if key not in addresses:
                    raise UnmappedTarget(f"no address for Service port {'/'.join(key)}")
                targets.append(
                    {
                        "targets": [addresses[key]],
                        "labels": {
                            "job": key[1],
                            "namespace": key[0],
                            "service": key[1],
                            "endpoint": key[2],
                        },
                    }
                )
            jobs.append(
                {
                    "job_name": f"serviceMonitor/{meta['namespace']}/{meta['name']}/{index}",
                    "metrics_path": endpoint.get("path", "/metrics"),
                    "scrape_interval": interval or endpoint.get("interval", "30s"),
                    "honor_labels": bool(endpoint.get("honorLabels", False)),
                    "static_configs": targets,
                }
            )
    return jobs


def rule_groups(prometheus_rules: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A rule file holding the groups of PrometheusRule objects (what the Prometheus Operator
    mounts into Prometheus)."""
    return {"groups": [g for rule in prometheus_rules for g in rule["spec"]["groups"]]}
