"""The operator's metrics stay in prometheus_client's single-process mode (issue 24, item 1):
Feast's import would switch the whole process to multi-process mode (it sets
PROMETHEUS_MULTIPROC_DIR for Gunicorn workers), where series cannot be removed, so a deleted
line's series stayed behind with its last OEE and control state. A real `lineops operator
run` process on the real control plane: a line gets series (conditions, SPC, OEE, ingestion,
MES records), is deleted, and every series naming it goes; another line's series stay, and
the log holds no prometheus_client multi-process warning, although the operator was started
with PROMETHEUS_MULTIPROC_DIR in its environment (inherited, as from a process that imported
Feast)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity
from tests.support.operator_process import operator_process, small_line

pytestmark = pytest.mark.integration

DOOMED, KEPT = "doomed-line-7f3a", "kept-line-2c9e"


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, Any] = json.loads(answer.read())
        return result


def _naming(text: str, value: str) -> list[str]:
    """Samples with ``value`` as a label value (any label: line, name, ...)."""
    return [s for s in text.splitlines() if not s.startswith("#") and f'="{value}"' in s]


def test_a_deleted_lines_series_all_go_from_the_operators_metrics(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    # Inherited from what started it (here: as a process that imported Feast would pass it).
    inherited = tmp_path / "inherited-multiproc"
    inherited.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(inherited)}
    with operator_process(operator_identity, namespace, tmp_path, **env) as op:
        for name in (DOOMED, KEPT):
            res.create(api_client, namespace, small_line(name))
        for name in (DOOMED, KEPT):
            wait_for(
                lambda n=name: res.has_condition(  # type: ignore[misc]
                    res.get(api_client, namespace, "ProductionLine", n), "Ready", "True"
                ),
                timeout=120,
                what=f"{name} Ready",
            )
        base = op.data_url
        now = datetime.now(UTC)
        stamp = lambda i: (now - timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        for name in (DOOMED, KEPT):
            line = f"{base}/v1/namespaces/{namespace}/lines/{name}"
            readings = [
                {
                    "work_unit": "press-01",
                    "sensor": "vibration_rms",
                    "timestamp": stamp(i),
                    "value": float(i % 5),
                }
                for i in range(20)
            ]
            assert _post(f"{line}/readings", {"readings": readings})["accepted"] == 20
            measurements = [
                {
                    "characteristic": "ring_diameter",
                    "value": 74.0 + (i % 3) * 0.001,
                    "timestamp": stamp(i),
                    "lot": "L1",
                }
                for i in range(10)
            ]
            assert _post(f"{line}/measurements", {"records": measurements})["accepted"] == 10

        def doomed_series() -> list[str]:
            return _naming(op.metrics(), DOOMED)

        # Its per-line series appear: conditions, SPC, ingestion and MES record counters.
        found = wait_for(
            lambda: (
                (s := doomed_series())
                and any(x.startswith("lineops_spc_") for x in s)
                and any(x.startswith("lineops_mes_records_total") for x in s)
                and s
            ),
            timeout=60,
            what=f"{DOOMED}'s series",
        )
        kept_before = _naming(op.metrics(), KEPT)
        assert kept_before and len(found) >= 5, found

        res.delete(api_client, namespace, "ProductionLine", DOOMED)
        wait_for(
            lambda: res.get(api_client, namespace, "ProductionLine", DOOMED) is None,
            timeout=60,
            what=f"{DOOMED} deleted (finalizer released)",
        )
        wait_for(
            lambda: not doomed_series(),
            timeout=30,
            interval=0.5,
            what=f"every series naming {DOOMED} to go; left: {doomed_series()}",
        )
        # The other line is untouched.
        kept_after = {s.split(" ")[0] for s in _naming(op.metrics(), KEPT)}
        assert {s.split(" ")[0] for s in kept_before} <= kept_after
        log = op.log()
        assert "multi-process mode" not in log, log[-3000:]
        assert "Removal of labels has not been implemented" not in log
        assert f"ignoring PROMETHEUS_MULTIPROC_DIR={inherited}" in log
        assert list(inherited.iterdir()) == []  # no value was written to files
