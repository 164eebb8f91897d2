from __future__ import annotations

import copy
from typing import Any

from lineops.services.spec_hash import HASH_LENGTH, canonical_json, training_spec_hash

SPEC: dict[str, Any] = {
    "lineRef": "press-line-1",
    "task": "fault-classification",
    "featureService": "sensor_window_v1",
    "label": "fault",
    "training": {
        "pipeline": "quality-training",
        "parameters": {"epochs": "20", "lr": "0.001"},
        "schedule": "0 3 * * *",
        "cooldown": "1h",
    },
    "promotion": {"metric": "macro_f1", "minimum": "0.90"},
    "serving": {"replicas": 1, "canaryPercent": 10},
}


def test_hash_is_stable_and_label_sized() -> None:
    h = training_spec_hash(SPEC)
    assert h == training_spec_hash(copy.deepcopy(SPEC))
    assert len(h) == HASH_LENGTH
    assert all(c in "0123456789abcdef" for c in h)


def test_key_order_does_not_matter() -> None:
    reordered = copy.deepcopy(SPEC)
    reordered["training"]["parameters"] = {"lr": "0.001", "epochs": "20"}
    assert training_spec_hash(reordered) == training_spec_hash(SPEC)


def test_training_inputs_change_the_hash() -> None:
    for path, value in [
        (("task",), "anomaly-detection"),
        (("featureService",), "sensor_window_v2"),
        (("label",), "defect"),
        (("lineRef",), "press-line-2"),
        (("training", "pipeline"), "other"),
        (("training", "parameters", "epochs"), "21"),
    ]:
        changed = copy.deepcopy(SPEC)
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        assert training_spec_hash(changed) != training_spec_hash(SPEC), path


def test_serving_promotion_and_schedule_do_not_retrain() -> None:
    changed = copy.deepcopy(SPEC)
    changed["serving"]["replicas"] = 3
    changed["promotion"]["minimum"] = "0.95"
    changed["training"]["schedule"] = "0 4 * * *"
    changed["training"]["cooldown"] = "2h"
    assert training_spec_hash(changed) == training_spec_hash(SPEC)


def test_canonical_json_is_compact_and_sorted() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == '{"a":[1,{"c":3,"d":2}],"b":1}'


def test_an_unset_pipeline_hashes_as_the_shipped_default() -> None:
    """Models created before pipelineRef existed keep their hash: no retraining on upgrade."""
    unset = copy.deepcopy(SPEC)
    unset["training"]["pipeline"] = None
    assert training_spec_hash(unset) == training_spec_hash(SPEC)


def test_an_engineers_pipeline_hashes_by_its_identity() -> None:
    ref = copy.deepcopy(SPEC)
    ref["training"]["pipeline"] = None
    ref["training"]["pipelineRef"] = {"configMap": {"name": "gbt", "key": "pipeline.yaml"}}
    first = {"configMap": "gbt", "key": "pipeline.yaml", "digest": "sha256:aa"}
    second = {**first, "digest": "sha256:bb"}
    hashes = {
        training_spec_hash(SPEC),
        training_spec_hash(ref, first),
        training_spec_hash(ref, second),
        training_spec_hash(ref, {"kfpPipeline": "gbt", "kfpVersion": "v1"}),
        training_spec_hash(ref, {"kfpPipeline": "gbt", "kfpVersion": "v2"}),
    }
    assert len(hashes) == 5
    assert training_spec_hash(ref, first) == training_spec_hash(copy.deepcopy(ref), dict(first))
