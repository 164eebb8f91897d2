"""Resolve a QualityModel's ``spec.training.pipelineRef`` (an ML engineer's own pipeline) and
check it against the training-pipeline contract before anything is submitted.

Read on every reconcile, so a changed ConfigMap is a new IR digest, hence a new spec hash and a
new run. A reference that cannot be used is a ``PipelineProblem``: the reconciler reports it in
status (naming the field and every problem) and submits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lineops.api import reasons as R
from lineops.api.qualitymodel import QualityModelSpec
from lineops.backends.kube import KubeBackend
from lineops.backends.training.contract import UploadedPipelines, check

FIELD = "spec.training.pipelineRef"


@dataclass(frozen=True)
class ResolvedPipeline:
    """An engineer's pipeline that keeps the contract; ``identity`` goes into the spec hash."""

    name: str
    identity: dict[str, str]
    ir: str = ""  # the IR YAML of a ConfigMap reference
    kfp_pipeline: str = ""
    kfp_version: str = ""


@dataclass(frozen=True)
class PipelineProblem:
    reason: str
    message: str
    problems: list[str] = field(default_factory=list)


async def resolve(
    kube: KubeBackend,
    namespace: str,
    spec: QualityModelSpec,
    backend: object | None,
) -> ResolvedPipeline | PipelineProblem | None:
    """None for a shipped pipeline. ``backend`` is the training backend (None when training
    is off: a KFP reference is then only named, not fetched). Raises ``BackendError`` when the
    API server or KFP cannot be asked (retried like any backend error)."""
    ref = spec.training.pipeline_ref
    if ref is None:
        return None
    params = list(spec.training.parameters)
    has_label, has_minimum = spec.label is not None, spec.promotion.minimum is not None
    if ref.config_map is not None:
        name, key = ref.config_map.name, ref.config_map.key
        where = f"{FIELD}.configMap: ConfigMap {name!r}"
        config_map = await kube.get_config_map(namespace, name)
        if config_map is None:
            return PipelineProblem(
                R.PIPELINE_NOT_FOUND, f"{where} not found in namespace {namespace!r}"
            )
        text = (config_map.get("data") or {}).get(key)
        if text is None:
            keys = ", ".join(sorted(config_map.get("data") or {})) or "none"
            return PipelineProblem(
                R.PIPELINE_NOT_FOUND, f"{where} has no key {key!r} (its keys: {keys})"
            )
        report = check(text, params, label=has_label, minimum=has_minimum)
        if not report.ok or report.pipeline is None:
            return _invalid(f"{where} key {key!r}", report.problems)
        identity = {"configMap": name, "key": key, "digest": report.pipeline.digest}
        return ResolvedPipeline(report.pipeline.name, identity, ir=text)
    assert ref.kfp is not None  # the API enforces exactly one of configMap and kfp
    pipeline, version = ref.kfp.pipeline, ref.kfp.version
    where = f"{FIELD}.kfp: pipeline {pipeline!r} version {version!r}"
    identity = {"kfpPipeline": pipeline, "kfpVersion": version}
    resolved = ResolvedPipeline(pipeline, identity, kfp_pipeline=pipeline, kfp_version=version)
    if backend is None:
        return resolved
    if not isinstance(backend, UploadedPipelines):
        return PipelineProblem(
            R.PIPELINE_UNSUPPORTED,
            f"{where}: this operator's training backend (the embedded profile, kfp.local) "
            f"cannot run pipelines uploaded to KFP; put the compiled IR in a ConfigMap and "
            f"reference it with {FIELD}.configMap",
        )
    text = await backend.uploaded_pipeline(pipeline, version)
    if text is None:
        return PipelineProblem(R.PIPELINE_NOT_FOUND, f"{where} not found in KFP")
    report = check(text, params, label=has_label, minimum=has_minimum)
    if not report.ok:
        return _invalid(where, report.problems)
    return resolved


def _invalid(where: str, problems: list[str]) -> PipelineProblem:
    listed = "; ".join(problems)
    return PipelineProblem(
        R.PIPELINE_INVALID,
        f"{where} breaks the training-pipeline contract (docs/pipelines.md): {listed}",
        problems,
    )
