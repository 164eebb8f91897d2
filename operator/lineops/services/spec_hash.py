"""A canonical hash of the spec parts that define a training run (after sky-uk/kfp-operator).

The hash names the training request, so a restart or a resync that recomputes it finds the
request it already made instead of starting a duplicate. Defaults are filled in before
hashing, so writing a default explicitly does not count as a change; serving, promotion and
scheduling settings are left out because changing them must not retrain.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

HASH_LENGTH = 16  # hex chars: fits a label value, collisions negligible per model


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def training_spec_hash(spec: dict[str, Any]) -> str:
    """Hash of a QualityModel spec (camelCase, defaults applied) as far as training goes."""
    training = spec.get("training") or {}
    relevant = {
        "task": spec.get("task"),
        "featureService": spec.get("featureService"),
        "label": spec.get("label"),
        "lineRef": spec.get("lineRef"),
        "pipeline": training.get("pipeline"),
        "parameters": training.get("parameters") or {},
    }
    return hashlib.sha256(canonical_json(relevant).encode()).hexdigest()[:HASH_LENGTH]
