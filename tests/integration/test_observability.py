"""Observability with real servers: a real Prometheus scrapes the embedded profile through a
scrape configuration generated from the chart's ServiceMonitors, evaluates the chart's and
the line's generated rules, and a real Alertmanager delivers the SPC alert an injected
violation raises to a webhook receiver in this test.

Loopback only; intervals of one second so that scrapes, rule evaluations and notifications
happen within seconds; every wait polls with a deadline.

Serving metrics (bentos/quality_inspector) are scraped by a real Prometheus through the
chart's serving ServiceMonitor in tests/integration/serving/test_quality_inspector.py (a real
`bentoml serve` process plays the Service the cluster serving backend builds).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from kubernetes import client
from lineops.api.productionline import ProductionLineSpec
from lineops.cli.demo_data import ring_measurements
from lineops.services.data_plane_workload import ingestion_workload
from lineops.services.prometheus_rules import rule_file_for_line

from tests.support import resources as res
from tests.support.chart import MONITORING, NAMESPACE, RELEASE, of_kind, render
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator
from tests.support.prometheus import (
    query,
    running_alertmanager,
    running_prometheus,
    webhook_receiver,
)
from tests.support.scrape_config import rule_groups, scrape_configs

pytestmark = pytest.mark.integration

METRICS_JOB = f"{RELEASE}-metrics"  # the chart's metrics Service: the job its alerts name


def _host_port(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _post_measurements(base: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    request = urllib.request.Request(
        base + "/measurements",
        data=json.dumps({"records": records}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def _alertmanager_config(webhook: str) -> dict[str, Any]:
    return {
        "route": {
            "receiver": "webhook",
            "group_by": ["alertname", "namespace", "line"],
            # Deliver at once: the test waits for the first notification.
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "webhook", "webhook_configs": [{"url": webhook}]}],
    }


def test_prometheus_scrapes_the_embedded_profile_and_an_spc_alert_reaches_the_receiver(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity, tmp_path: Any
) -> None:
    chart = render(MONITORING)
    monitors = of_kind(chart, "ServiceMonitor")
    # The serving ServiceMonitor selects the cluster serving Services, which the embedded
    # profile has none of (test_helm checks it selects what the serving backend creates).
    assert {m["metadata"]["name"] for m in monitors} == {
        RELEASE,
        f"{RELEASE}-dataplane",
        f"{RELEASE}-serving",
    }
    env = {
        "LINEOPS_DATA_DIR": str(tmp_path),
        "LINEOPS_MONITOR_SECONDS": "1",
        "LINEOPS_TRAINING": "off",
    }
    with (
        webhook_receiver() as hook,
        running_alertmanager(_alertmanager_config(hook.url)) as alertmanager,
        run_operator(operator_identity, namespace, extra_env=env) as op,
    ):
        manifest = res.example("productionline.yaml")
        line = res.create(api_client, namespace, manifest)
        name = line["metadata"]["name"]
        # The Services the ServiceMonitors select: the chart's metrics Service, and the data
        # plane's Service the operator creates per line in the cluster profile (built by the
        # same code); each played on loopback by the embedded operator's two ports.
        _, dataplane_service = ingestion_workload(line, f"{name}-config", "")
        services = [*of_kind(chart, "Service"), dataplane_service]
        addresses = {
            (NAMESPACE, METRICS_JOB, "metrics"): _host_port(op.metrics_url),
            (namespace, dataplane_service["metadata"]["name"], "http"): _host_port(op.data_url),
        }
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": scrape_configs(monitors, services, addresses, interval="1s"),
            "alerting": {
                "alertmanagers": [{"static_configs": [{"targets": [_host_port(alertmanager)]}]}]
            },
        }
        spec = ProductionLineSpec.model_validate(manifest["spec"])
        rules = {
            "chart.yaml": rule_groups(of_kind(chart, "PrometheusRule")),
            "line.yaml": rule_file_for_line(namespace, name, spec),
        }
        with running_prometheus(config, rules) as prometheus:
            dataplane_job = dataplane_service["metadata"]["name"]
            for job in (METRICS_JOB, dataplane_job):
                wait_for(
                    lambda job=job: query(prometheus, f'up{{job="{job}"}} == 1'),
                    timeout=60,
                    what=f"Prometheus scraping {job}",
                )
            line_sel = f'namespace="{namespace}",line="{name}"'
            # The operator's own series, and the line's violation counters at 0 (increase()
            # needs a sample before the first violation).
            wait_for(
                lambda: query(prometheus, f'lineops_reconcile_total{{job="{METRICS_JOB}"}}'),
                timeout=60,
                what="the operator's reconcile counter",
            )
            wait_for(
                lambda: query(
                    prometheus,
                    f'lineops_spc_violations_total{{job="{METRICS_JOB}",{line_sel},'
                    f'characteristic="ring_diameter"}} == 0',
                ),
                timeout=60,
                what="the line's violation counters scraped at 0",
            )
            records, _ = ring_measurements()
            answer = _post_measurements(
                f"{op.data_url}/v1/namespaces/{namespace}/lines/{name}", records
            )
            assert answer["accepted"] == len(records), answer
            # The data plane's series, from the data plane's target.
            wait_for(
                lambda: query(
                    prometheus,
                    f'lineops_mes_records_total{{job="{dataplane_job}",{line_sel},'
                    f'kind="measurements",outcome="accepted"}} == {len(records)}',
                ),
                timeout=60,
                what="the data plane's record counter",
            )
            fired = wait_for(
                lambda: query(
                    prometheus,
                    f'lineops_spc_violations_total{{job="{METRICS_JOB}",{line_sel}}} > 0',
                ),
                timeout=60,
                what="an SPC violation counted",
            )
            fired_rules = {s["metric"]["rule"] for s in fired}
            wait_for(
                lambda: query(
                    prometheus,
                    f'ALERTS{{alertname="LineopsSpcRuleViolation",alertstate="firing",{line_sel}}}',
                ),
                timeout=60,
                what="LineopsSpcRuleViolation firing in Prometheus",
            )

            def delivered() -> list[dict[str, Any]]:
                return [
                    a
                    for a in hook.alerts()
                    if a["labels"].get("alertname") == "LineopsSpcRuleViolation"
                    and a["labels"].get("namespace") == namespace
                    and a["status"] == "firing"
                ]

            alerts = wait_for(delivered, timeout=60, what="the alert at the webhook receiver")
            alert = alerts[0]
            assert alert["labels"]["line"] == name
            assert alert["labels"]["characteristic"] == "ring_diameter"
            assert alert["labels"]["rule"] in fired_rules
            assert alert["labels"]["site"] == "plant-a" and alert["labels"]["area"] == "stamping"
            assert "ring_diameter" in alert["annotations"]["summary"]
            # The operator's health alerts are loaded and quiet (it is up and reconciling).
            groups = {g["name"] for g in _rule_groups(prometheus)}
            assert "lineops-operator" in groups
            assert not query(prometheus, 'ALERTS{alertname="LineopsOperatorDown"}')


def _rule_groups(prometheus: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=10) as response:
        groups: list[dict[str, Any]] = json.loads(response.read())["data"]["groups"]
    return groups
