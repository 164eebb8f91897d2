"""An ML engineer's pipeline in the cluster profile, against the KFP API stand-in of
test_kfp_client: ConfigMap IR is submitted as a pipeline package, an uploaded pipeline version
is run by reference, and both are checked against the contract before anything is created."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from lineops.api import reasons as R
from lineops.api.qualitymodel import QualityModelSpec
from lineops.backends.training.contract import check
from lineops.backends.training.kfp_client import KfpSettings, KfpTrainingBackend
from lineops.backends.training.local import LocalTrainingBackend
from lineops.backends.training.runs import RunRequest
from lineops.services.pipeline_ref import PipelineProblem, ResolvedPipeline, resolve

from tests.support.pipelines import GBT_IR
from tests.unit.training.test_kfp_client import PIPELINES, StandIn, stand_in

__all__ = ["stand_in"]  # the fixture, shared with test_kfp_client

GBT = GBT_IR.read_text()


def _request(run_id: str, **fields: Any) -> RunRequest:
    return RunRequest(
        run_id,
        "gbt-training",
        "fault-classification",
        "/data/faults.csv",
        {"max_iter": "30"},
        label="fault",
        model="press-gbt",
        **fields,
    )


def _spec(**ref: Any) -> QualityModelSpec:
    return QualityModelSpec.model_validate(
        {
            "lineRef": "press-line-1",
            "task": "fault-classification",
            "featureService": "sensor_window_v1",
            "label": "fault",
            "training": {"pipelineRef": ref, "parameters": {"max_iter": "30"}},
        }
    )


def test_configmap_ir_is_submitted_as_a_package(stand_in: tuple[StandIn, str]) -> None:
    server, host = stand_in
    backend = KfpTrainingBackend(KfpSettings(host=host), PIPELINES)
    state = asyncio.run(backend.submit("gbt-train-1", _request("gbt-train-1", pipeline_ir=GBT)))
    assert state.state == "Pending" and server.creates == 1
    (run,) = server.runs.values()
    assert run["pipeline_spec"]["pipelineInfo"]["name"] == "gbt-training"
    params = run["runtime_config"]["parameters"]
    assert params["run_id"] == "gbt-train-1" and params["dataset"] == "/data/faults.csv"
    assert params["max_iter"] == 30 and params["label"] == "fault"


def test_an_uploaded_version_is_checked_and_run_by_reference(
    stand_in: tuple[StandIn, str],
) -> None:
    server, host = stand_in
    version_id = server.upload("gbt", "v1", yaml.safe_load(GBT))
    backend = KfpTrainingBackend(KfpSettings(host=host), PIPELINES)

    fetched = asyncio.run(backend.uploaded_pipeline("gbt", "v1"))
    assert fetched is not None and check(fetched, ["max_iter"]).ok
    assert asyncio.run(backend.uploaded_pipeline("gbt", "v2")) is None
    assert asyncio.run(backend.uploaded_pipeline("other", "v1")) is None

    request = _request("gbt-train-2", kfp_pipeline="gbt", kfp_version="v1")
    state = asyncio.run(backend.submit("gbt-train-2", request))
    assert state.state == "Pending" and server.creates == 1
    (run,) = server.runs.values()
    assert run["pipeline_version_reference"]["pipeline_version_id"] == version_id
    assert run["runtime_config"]["parameters"]["run_id"] == "gbt-train-2"
    # Idempotent by run name, like every submit.
    assert asyncio.run(backend.submit("gbt-train-2", request)).state == "Pending"
    assert server.creates == 1

    missing = replace(request, run_id="gbt-train-3", kfp_version="v9")
    failed = asyncio.run(backend.submit("gbt-train-3", missing))
    assert failed.state == "Failed" and "version 'v9'" in failed.message
    assert server.creates == 1


def test_a_kfp_reference_is_resolved_through_the_backend(
    stand_in: tuple[StandIn, str], tmp_path: Path
) -> None:
    server, host = stand_in
    broken = yaml.safe_load(GBT)
    del broken["root"]["inputDefinitions"]["parameters"]["dataset"]
    server.upload("gbt", "v1", yaml.safe_load(GBT))
    server.upload("gbt", "broken", broken)
    kfp = KfpTrainingBackend(KfpSettings(host=host), PIPELINES)

    def run(version: str, backend: Any) -> ResolvedPipeline | PipelineProblem | None:
        spec = _spec(kfp={"pipeline": "gbt", "version": version})
        return asyncio.run(resolve(None, "ns", spec, backend))  # type: ignore[arg-type]

    good = run("v1", kfp)
    assert isinstance(good, ResolvedPipeline)
    assert good.identity == {"kfpPipeline": "gbt", "kfpVersion": "v1"}
    assert (good.kfp_pipeline, good.kfp_version, good.ir) == ("gbt", "v1", "")

    bad = run("broken", kfp)
    assert isinstance(bad, PipelineProblem) and bad.reason == R.PIPELINE_INVALID
    assert "spec.training.pipelineRef.kfp" in bad.message
    assert "input 'dataset' is missing" in bad.message

    gone = run("v7", kfp)
    assert isinstance(gone, PipelineProblem) and gone.reason == R.PIPELINE_NOT_FOUND

    local = LocalTrainingBackend(tmp_path, PIPELINES)
    unsupported = run("v1", local)
    assert isinstance(unsupported, PipelineProblem)
    assert unsupported.reason == R.PIPELINE_UNSUPPORTED
    assert "pipelineRef.configMap" in unsupported.message
    # Training off: the reference is only named (and hashed), not fetched.
    assert isinstance(run("v1", None), ResolvedPipeline)
