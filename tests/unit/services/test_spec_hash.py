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
