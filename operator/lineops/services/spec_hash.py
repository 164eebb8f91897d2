"""A canonical hash of the spec parts that define a training run (after sky-uk/kfp-operator).

The hash names the training request, so a restart or a resync that recomputes it finds the
request it already made instead of starting a duplicate. Defaults are filled in before
hashing, so writing a default explicitly does not count as a change; serving, promotion and
scheduling settings are left out because changing them must not retrain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from lineops.api.qualitymodel import DEFAULT_PIPELINE

HASH_LENGTH = 16  # hex chars: fits a label value, collisions negligible per model


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def training_spec_hash(
    spec: dict[str, Any], pipeline_identity: Mapping[str, str] | None = None
) -> str:
    """Hash of a QualityModel spec (camelCase, defaults applied) as far as training goes.

    ``pipeline_identity`` names an engineer's pipeline (spec.training.pipelineRef): the
    ConfigMap's IR digest, or the KFP pipeline and version, so a new IR is a new spec. A
    shipped pipeline hashes as it always did (the unset default counts as its name), so an
    upgrade does not retrain every model."""
    training = spec.get("training") or {}
    relevant: dict[str, Any] = {
        "task": spec.get("task"),
        "featureService": spec.get("featureService"),
        "label": spec.get("label"),
        "lineRef": spec.get("lineRef"),
        "pipeline": training.get("pipeline") or DEFAULT_PIPELINE,
        "parameters": training.get("parameters") or {},
        # How much of the line's history, sampled how often: what the line path trains on.
        "window": training.get("window"),
        "sampleEvery": training.get("sampleEvery"),
    }
    if training.get("pipelineRef"):
        relevant["pipeline"] = None
        relevant["pipelineRef"] = dict(pipeline_identity or training["pipelineRef"])
    return hashlib.sha256(canonical_json(relevant).encode()).hexdigest()[:HASH_LENGTH]
