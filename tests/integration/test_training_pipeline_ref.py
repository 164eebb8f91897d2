"""QualityModels that train with an ML engineer's own pipeline (spec.training.pipelineRef) on
the real API server: the example GBT pipeline from a ConfigMap trains end to end with
kfp.local; a pipeline that breaks the contract is refused with a condition naming what is
missing; a changed ConfigMap starts a new run. Every wait polls with a deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from lineops.backends.training.contract import digest

from tests.support import resources as res
from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, run_operator
from tests.support.pipelines import GBT_IR, write_fault_csv

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 240.0  # generous: CI shares two cores with the control plane
CONFIG_MAP = "gbt-pipeline"
# The operator's resync period is 60 s: a model woken sooner was woken by the ConfigMap watch.
WAKE_TIMEOUT = 45.0


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield {"LINEOPS_DATA_DIR": str(tmp_path / "data"), "LINEOPS_TRAINING_RETRY_SECONDS": "1"}


def _config_map(api: client.ApiClient, ns: str, ir: str, create: bool = True) -> None:
    body = {"metadata": {"name": CONFIG_MAP}, "data": {"pipeline.yaml": ir}}
    core = client.CoreV1Api(api)
    if create:
        core.create_namespaced_config_map(ns, body)
    else:
        core.patch_namespaced_config_map(CONFIG_MAP, ns, body)


def _model(name: str, dataset: Path) -> dict[str, Any]:
    body = res.example("qualitymodel.yaml")
    body["metadata"]["name"] = name
    body["spec"]["lineRef"] = "press-line-1"  # the example trains on te-line; this one on a file
    body["spec"]["training"] = {
        "pipelineRef": {"configMap": {"name": CONFIG_MAP}},
        "parameters": {"dataset": str(dataset), "max_iter": "30"},
        "cooldown": "1h",
    }
    body["spec"]["promotion"] = {"metric": "macro_f1", "minimum": "0.8"}
    return body


def _training(obj: dict[str, Any]) -> dict[str, Any]:
    return dict((obj.get("status") or {}).get("training") or {})


def _when(
    api: client.ApiClient, ns: str, name: str, check: Any, what: str, timeout: float = RUN_TIMEOUT
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = res.get(api, ns, "QualityModel", name)
        return obj if obj is not None and check(obj) else None

    return wait_for(probe, timeout=timeout, interval=0.5, what=what)


def _runs(data_dir: str) -> list[str]:
    runs = Path(data_dir) / "runs"
    return sorted(p.name for p in runs.iterdir()) if runs.is_dir() else []


def _variant(**description: str) -> str:
    """The example IR with another description: the same pipeline, a different digest."""
    spec = yaml.safe_load(GBT_IR.read_text())
    spec["pipelineInfo"].update(description)
    return yaml.safe_dump(spec, sort_keys=False)


def test_a_configmap_pipeline_trains_and_a_new_ir_starts_a_new_run(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    dataset = write_fault_csv(tmp_path / "faults.csv")
    res.create(api_client, namespace, res.example("productionline.yaml"))
    _config_map(api_client, namespace, GBT_IR.read_text())
    res.create(api_client, namespace, _model("gbt", dataset))
    with run_operator(operator_identity, namespace, extra_env=env):
        done = _when(
            api_client,
            namespace,
            "gbt",
            lambda o: res.has_condition(o, "Ready", "True", "Reconciled"),
            "the GBT pipeline's model to be trained and promoted",
        )
        first = _training(done)
        assert first["state"] == "Succeeded", first
        assert float(first["metrics"]["macro_f1"]) > 0.9
        assert done["status"]["champion"]["version"].startswith("gbt:")
        run_dir = Path(env["LINEOPS_DATA_DIR"]) / "runs" / first["runId"]
        # The run kept the very IR it ran; the worker ran it with kfp.local.
        assert (run_dir / "pipeline.yaml").read_text() == GBT_IR.read_text()
        assert "gbt-training" in (run_dir / "worker.log").read_text()

        # A new IR in the ConfigMap: a new spec hash, a new request, a new run.
        changed_at = time.monotonic()
        changed = _variant(description="second revision")
        _config_map(api_client, namespace, changed, create=False)
        woken = _when(
            api_client,
            namespace,
            "gbt",
            lambda o: _training(o).get("specHash") not in (None, first["specHash"]),
            "a new run for the changed ConfigMap",
            timeout=WAKE_TIMEOUT,
        )
        assert time.monotonic() - changed_at < WAKE_TIMEOUT
        second = _training(woken)
        assert second["requestName"] != first["requestName"]
        again = _when(
            api_client,
            namespace,
            "gbt",
            lambda o: (
                _training(o).get("runId") == second["runId"]
                and _training(o).get("state") == "Succeeded"
            ),
            "the second run to succeed",
        )
        assert float(_training(again)["metrics"]["macro_f1"]) > 0.9
        assert _runs(env["LINEOPS_DATA_DIR"]) == sorted([first["runId"], second["runId"]])
        # Each training request records which IR it was made for.
        digests = {
            json.loads(r.data["request.json"])["pipeline"]["digest"]
            for r in res.training_requests(api_client, namespace, "gbt")
        }
        assert digests == {digest(GBT_IR.read_text()), digest(changed)}


def test_a_pipeline_that_breaks_the_contract_is_refused_until_fixed(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    dataset = write_fault_csv(tmp_path / "faults.csv")
    res.create(api_client, namespace, res.example("productionline.yaml"))
    res.create(api_client, namespace, _model("gbt", dataset))
    broken = yaml.safe_load(GBT_IR.read_text())
    del broken["root"]["inputDefinitions"]["parameters"]["run_id"]
    broken["root"]["inputDefinitions"]["parameters"]["alpha"] = {"parameterType": "NUMBER_DOUBLE"}
    with run_operator(operator_identity, namespace, extra_env=env):
        missing = _when(
            api_client,
            namespace,
            "gbt",
            lambda o: res.has_condition(o, "Trained", "False", "PipelineNotFound"),
            "the missing ConfigMap to be reported",
        )
        message = res.condition(missing, "Trained")["message"]  # type: ignore[index]
        assert "spec.training.pipelineRef.configMap" in message and CONFIG_MAP in message

        _config_map(api_client, namespace, yaml.safe_dump(broken))
        refused = _when(
            api_client,
            namespace,
            "gbt",
            lambda o: res.has_condition(o, "Trained", "False", "PipelineInvalid"),
            "the broken pipeline to be refused",
            timeout=WAKE_TIMEOUT,
        )
        message = res.condition(refused, "Trained")["message"]  # type: ignore[index]
        assert "input 'run_id' is missing" in message
        assert "input 'alpha' has no default" in message
        assert res.has_condition(refused, "Ready", "False", "PipelineInvalid")
        assert _training(refused) == {}
        assert _runs(env["LINEOPS_DATA_DIR"]) == []  # nothing was submitted

        _config_map(api_client, namespace, GBT_IR.read_text(), create=False)
        fixed = _when(
            api_client,
            namespace,
            "gbt",
            lambda o: _training(o).get("state") == "Succeeded",
            "the fixed pipeline to train",
        )
        assert res.has_condition(fixed, "Trained", "True", "TrainingSucceeded")
        assert len(_runs(env["LINEOPS_DATA_DIR"])) == 1
