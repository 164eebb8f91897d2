"""Live MES monitoring: records posted to the operator's endpoint become charts, KPIs,
conditions and Prometheus series on the line (real operator, real kube-apiserver)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator
from tests.unit.mes.conftest import piston_ring_array

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.integration


def _post(base: str, path: str, records: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps({"records": records}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _ring_records(rows: Any, start_hour: int = 6) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            minute = (i * 5 + j) % 60
            hour = start_hour + (i * 5 + j) // 60
            out.append(
                {
                    "characteristic": "ring_diameter",
                    "value": round(float(value), 4),
                    "timestamp": f"2026-11-20T{hour:02d}:{minute:02d}:00Z",
                    "lot": f"L{i}",
                }
            )
    return out


def test_measurements_events_and_counts_drive_status_and_metrics(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity, tmp_path: Any
) -> None:
    env = {
        "LINEOPS_DATA_DIR": str(tmp_path),
        "LINEOPS_MONITOR_SECONDS": "1",
        "LINEOPS_TRAINING": "off",
    }
    # The monitoring loop reads MONITOR_SECONDS at start-up: the records posted below reach
    # the status within about a second, without a spec change.
    with run_operator(operator_identity, namespace, extra_env=env) as op:
        base = f"{op.data_url}/v1/namespaces/{namespace}/lines/press-line-1"
        line = res.create(api_client, namespace, res.example("productionline.yaml"))
        name = line["metadata"]["name"]
        wait_for(
            lambda: res.has_condition(
                res.get(api_client, namespace, "ProductionLine", name), "Ready", "True"
            ),
            what="line Ready",
        )
        waiting = res.condition(
            res.get(api_client, namespace, "ProductionLine", name), "MonitoringReady"
        )
        assert waiting and waiting["reason"] == "NoData", waiting

        # Phase I: Montgomery's 25 in-control piston-ring subgroups, plus junk that must be
        # quarantined and counted, not dropped.
        rings = piston_ring_array()
        junk = [
            {
                "characteristic": "ring_diameter",
                "value": "Inp OutRange",
                "timestamp": "2026-11-20T05:00:00Z",
            },
            {"characteristic": "bore_depth", "value": 1.0, "timestamp": "2026-11-20T05:00:00Z"},
            {"characteristic": "ring_diameter", "value": 74.0},
        ]
        status, body = _post(base, "/measurements", _ring_records(rings) + junk)
        assert status == 200, body
        assert (body["received"], body["accepted"], body["quarantined"]) == (128, 125, 3)
        assert body["reasons"] == {
            "non_numeric": 1,
            "unknown_characteristic": 1,
            "missing_field": 1,
        }
        assert "records[127].timestamp: missing" in [r["detail"] for r in body["rejected"]]

        def in_control() -> dict[str, Any] | None:
            obj = res.get(api_client, namespace, "ProductionLine", name)
            return (
                obj
                if res.condition(obj, "InControl")
                and res.condition(obj, "InControl")["status"] == "True"
                else None
            )  # type: ignore[index]

        obj = wait_for(in_control, timeout=60, what="InControl=True after Phase I")
        spc = obj["status"]["spc"]
        assert (spc["inControl"], spc["violations"]) == (True, 0)
        # the subgroups whose violations are counted, kept for a restarted operator
        assert spc["counted"]["ring_diameter"] >= 25

        # Phase II: a constructed +0.02 mm shift of the mean: beyond the 3-sigma limits.
        shifted = rings[:10] + 0.02
        _post(base, "/measurements", _ring_records(shifted, start_hour=9))

        def violated() -> dict[str, Any] | None:
            obj = res.get(api_client, namespace, "ProductionLine", name)
            cond = res.condition(obj, "InControl")
            return obj if cond and cond["reason"] == "RuleViolation" else None

        obj = wait_for(violated, timeout=60, what="a rule violation on ring_diameter")
        message = res.condition(obj, "InControl")["message"]  # type: ignore[index]
        assert "ring_diameter: nelson-1 on xbar" in message
        assert obj["status"]["spc"]["inControl"] is False
        assert obj["status"]["spc"]["violations"] >= 1
        assert obj["status"]["spc"]["counted"]["ring_diameter"] > spc["counted"]["ring_diameter"]

        # OEE: press-01 runs 06:00-14:00 with a 30 min breakdown; 20,000 parts, 19,600 good
        # at an ideal cycle time of 1.2 s.
        events = [
            {"workUnit": "press-01", "timestamp": "2026-11-20T06:00:00Z", "state": "running"},
            {
                "workUnit": "press-01",
                "timestamp": "2026-11-20T09:00:00Z",
                "state": "down",
                "reason": "die-change",
            },
            {"workUnit": "press-01", "timestamp": "2026-11-20T09:30:00Z", "state": "running"},
            {"workUnit": "press-01", "timestamp": "2026-11-20T14:00:00Z", "state": "planned-stop"},
            {"workUnit": "press-01", "timestamp": "2026-11-20T14:00:00Z", "state": "flying"},
        ]
        status, body = _post(base, "/events", events)
        assert (status, body["accepted"], body["quarantined"]) == (200, 4, 1)
        counts = [
            {
                "workUnit": "press-01",
                "timestamp": "2026-11-20T13:00:00Z",
                "total": 20000,
                "good": 19600,
            },
            {"workUnit": "press-01", "timestamp": "2026-11-20T13:00:00Z", "total": 5, "good": 6},
        ]
        status, body = _post(base, "/counts", counts)
        assert (status, body["accepted"], body["reasons"]) == (200, 1, {"bad_count": 1})

        def kpis() -> dict[str, Any] | None:
            obj = res.get(api_client, namespace, "ProductionLine", name)
            k = (obj.get("status") or {}).get("kpis")  # type: ignore[union-attr]
            # KPIs computed between the two POSTs (events, no counts yet) have no quality:
            # wait for the ones that include the counts.
            return k if k and k.get("quality") is not None else None

        k = wait_for(kpis, timeout=60, what="status.kpis with the counts' quality")
        # Planned 8 h, run 7.5 h: A = 0.9375; P = 1.2 s x 20000 / 27000 s = 0.889; Q = 0.98.
        assert k == {
            "availability": "0.938",
            "performance": "0.889",
            "quality": "0.980",
            "oee": "0.817",
        }

        text = op.metrics()
        assert (
            f'lineops_oee_ratio{{component="availability",line="{name}",'
            f'namespace="{namespace}",work_unit="press-01"}} 0.9375'
        ) in text
        assert 'lineops_spc_violations_total{characteristic="ring_diameter",chart="xbar"' in text
        assert 'lineops_capability_cpk{characteristic="ring_diameter"' in text
        assert (
            f'lineops_mes_records_total{{kind="measurements",line="{name}",'
            f'namespace="{namespace}",outcome="quarantined"}} 3.0'
        ) in text

        # Per planned shift (examples/productionline.yaml: Europe/Berlin, early 06:00-14:00
        # CET = 05:00-13:00 UTC). The clock is the newest record, 14:00 UTC: early is the
        # previous shift, late (13:00-21:00 UTC) the current one, so far.
        # Early: press-01 reports from 06:00 UTC, so 7 h = 25,200 s planned busy time and
        # 7 h - 0.5 h down = 23,400 s run: A = 23,400 / 25,200 = 0.929; the counts come at
        # 13:00 UTC, in the late shift: no performance or quality for early.
        # Late so far, 13:00-14:00: A = 3,600 / 3,600 = 1; P = 1.2 s x 20,000 / 3,600 s = 6.667
        # (the counts of the day booked in its first hour); Q = 0.98; OEE = 6.533.
        def shifts() -> dict[str, Any] | None:
            obj = res.get(api_client, namespace, "ProductionLine", name)
            found = (obj.get("status") or {}).get("shifts")  # type: ignore[union-attr]
            return found if found and found.get("previous") else None

        s = wait_for(shifts, timeout=60, what="status.shifts")
        previous, current = s["previous"], s["current"]
        assert (previous["name"], previous["start"], previous["end"]) == (
            "early",
            "2026-11-20T05:00:00+00:00",
            "2026-11-20T13:00:00+00:00",
        )
        assert previous["availability"] == "0.929" and previous.get("oee") is None
        assert (current["name"], current["availability"], current["performance"]) == (
            "late",
            "1.000",
            "6.667",
        )
        assert (current["quality"], current["oee"]) == ("0.980", "6.533")
        text = op.metrics()
        assert (
            f'lineops_shift_oee_ratio{{component="availability",line="{name}",'
            f'namespace="{namespace}",shift="previous"}} 0.9285714285714286'
        ) in text
        assert f'lineops_shift_oee_ratio{{component="oee",line="{name}"' in text
        history = json.loads(urllib.request.urlopen(f"{base}/shifts", timeout=10).read())["records"]
        assert [(r["shift"], r["runSeconds"]) for r in history] == [("early", 23_400.0)]

        # Unknown line: 404 naming it; bad JSON: 400.
        status, body = _post(base.replace("press-line-1", "nope"), "/measurements", [])
        assert status == 404 and "nope" in body["detail"] and body["field"] == "path.line"


def test_prometheus_rule_is_applied_owned_and_valid_for_promtool(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Any,
) -> None:
    import shutil
    import subprocess
    from pathlib import Path

    import yaml

    from tests.support.controlplane import in_ci
    from tests.support.kube import install_crds

    install_crds(
        api_client,
        Path(__file__).resolve().parents[1] / "support",
        pattern="prometheusrule_crd.yaml",
    )
    custom = client.CustomObjectsApi(api_client)
    with run_operator(
        operator_identity,
        namespace,
        extra_env={"LINEOPS_DATA_DIR": str(tmp_path), "LINEOPS_TRAINING": "off"},
    ):
        line = res.create(api_client, namespace, res.example("productionline.yaml"))

        def rule() -> dict[str, Any] | None:
            try:
                obj: dict[str, Any] = custom.get_namespaced_custom_object(
                    "monitoring.coreos.com",
                    "v1",
                    namespace,
                    "prometheusrules",
                    "press-line-1-lineops",
                )
            except client.ApiException:
                return None
            return obj

        applied = wait_for(rule, timeout=60, what="the PrometheusRule")
        owner = applied["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["uid"]) == ("ProductionLine", line["metadata"]["uid"])
        ready = wait_for(
            lambda: res.condition(
                res.get(api_client, namespace, "ProductionLine", "press-line-1"), "Ready"
            ),
            what="Ready",
        )
        assert "PrometheusRule press-line-1-lineops" in ready["message"]
        # Deleting the line (the operator releases its finalizer) lets the GC take the rule.
        res.delete(api_client, namespace, "ProductionLine", "press-line-1")
        wait_for(lambda: rule() is None, timeout=60, what="the GC to delete the PrometheusRule")

    promtool = shutil.which("promtool")
    if promtool is None:
        assert not in_ci(), "promtool (Debian package prometheus) is required in CI"
        pytest.skip("promtool not installed")
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": applied["spec"]["groups"]}))
    check = subprocess.run(
        [promtool, "check", "rules", str(rule_file)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout


def test_a_deleted_lines_series_are_gone(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity, tmp_path: Any
) -> None:
    """The operator stays in prometheus_client's single-process mode (Feast's import would
    switch it to multi-process mode, where series cannot be removed), so deleting a line
    removes its series instead of leaving its last OEE and control state behind."""
    import os

    env = {"LINEOPS_DATA_DIR": str(tmp_path), "LINEOPS_TRAINING": "off"}
    with run_operator(operator_identity, namespace, extra_env=env) as op:
        line = res.create(api_client, namespace, res.example("productionline.yaml"))
        name = line["metadata"]["name"]
        wait_for(
            lambda: res.has_condition(
                res.get(api_client, namespace, "ProductionLine", name), "Ready", "True"
            ),
            what="line Ready",
        )
        assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # Feast is loaded by now
        ours = f'line="{name}",namespace="{namespace}"'

        def series() -> list[str]:
            return [
                s
                for s in op.metrics().splitlines()
                if s.startswith("lineops_spc_violations_total{") and ours in s
            ]

        assert wait_for(series, what="the line's SPC series")
        res.delete(api_client, namespace, "ProductionLine", name)
        wait_for(lambda: not series() or None, what="the deleted line's series to go")


def test_the_current_plan_shows_in_status_and_metrics(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity, tmp_path: Any
) -> None:
    """A plan stored through the data plane (what `lineops plan --json` prints) becomes the
    line's status.plan: orders, late orders and the next maintenance window, also as series."""
    import subprocess
    import sys

    planned = subprocess.run(
        [
            sys.executable,
            "-m",
            "lineops.cli.main",
            "plan",
            "--orders",
            str(EXAMPLES / "orders.yaml"),
            "--line-file",
            str(EXAMPLES / "productionline.yaml"),
            "--time-limit",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    document = json.loads(planned.stdout)
    env = {
        "LINEOPS_DATA_DIR": str(tmp_path),
        "LINEOPS_TRAINING": "off",
        "LINEOPS_MONITOR_SECONDS": "1",
    }
    with run_operator(operator_identity, namespace, extra_env=env) as op:
        line = res.create(api_client, namespace, res.example("productionline.yaml"))
        name = line["metadata"]["name"]
        wait_for(
            lambda: res.has_condition(
                res.get(api_client, namespace, "ProductionLine", name), "Ready", "True"
            ),
            what="line Ready",
        )
        request = urllib.request.Request(
            f"{op.data_url}/v1/namespaces/{namespace}/lines/{name}/plans",
            data=json.dumps(document).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            plan_id = json.loads(answer.read())["id"]

        def plan() -> dict[str, Any] | None:
            obj = res.get(api_client, namespace, "ProductionLine", name) or {}
            found = (obj.get("status") or {}).get("plan")
            return found if found and found.get("planId") == plan_id else None

        status = wait_for(plan, what="status.plan of the stored plan")
        assert status["orders"] == len(document["tardiness"])
        assert status["ordersLate"] == len(document["lateOrders"])
        first = min(document["blocked"], key=lambda b: b["start"])
        assert status["nextMaintenance"]["workUnit"] == first["workUnit"]
        assert status["nextMaintenance"]["reason"] == first["reason"]
        ours = f'line="{name}",namespace="{namespace}"'
        text = op.metrics()
        assert f"lineops_plan_orders{{{ours}}} {float(len(document['tardiness']))}" in text
        assert "lineops_plan_next_maintenance_timestamp_seconds{" in text
