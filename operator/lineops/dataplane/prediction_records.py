"""Validate predictions sent to a line's log: what a served model answered, for which work
unit and lot, from which features. Like MES records, a prediction that cannot be stored is
returned as a rejection with the reason and the field (for the quarantine), never dropped.

A record, as the serving process posts it (camelCase, like the MES records)::

    {"modelTag": "te-fault:3x7...", "workUnit": "te-process", "lot": "L-17",
     "timestamp": "2026-11-29T10:00:00+00:00", "featureTimestamp": "2026-11-29T09:59:30Z",
     "features": {"xmeas_01__last": 0.25}, "result": {"label": "normal", ...}}

``workUnit``, ``lot`` and ``featureTimestamp`` are optional (a backfill scores rows of
feature values that need not name a unit); ``features`` holds finite numbers and ``result``
any JSON object (its shape depends on the model's task).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.ingestion.reasons import RecordReason as R
from lineops.dataplane.json_paths import non_finite_path
from lineops.dataplane.records import (
    MAX_NAME,
    Parsed,
    _Reject,
    _storable,
    _text,
    _timestamp,
    _work_unit,
    parse_envelope,
)
from lineops.dataplane.repositories.predictions import Prediction

KIND: Final = "predictions"  # the quarantine's kind of a refused prediction
MAX_FEATURES: Final = 10_000  # features of one prediction: far above any feature service
MAX_RESULT: Final = 64 * 1024  # characters of one result as JSON


def _optional_text(record: Mapping[str, Any], key: str, where: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Reject(R.WRONG_TYPE, f"{where}.{key}: must be a string, got {type(value).__name__}")
    return _storable(value, key, where)


def _features(record: Mapping[str, Any], where: str) -> dict[str, float]:
    features = record.get("features")
    if features is None:
        raise _Reject(R.MISSING_FIELD, f"{where}.features: missing")
    if not isinstance(features, Mapping):
        raise _Reject(R.WRONG_TYPE, f"{where}.features: must be an object of feature values")
    if len(features) > MAX_FEATURES:
        raise _Reject(R.WRONG_TYPE, f"{where}.features: more than {MAX_FEATURES} features")
    values: dict[str, float] = {}
    for name, value in features.items():
        _storable(str(name), "features", where)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Reject(R.NON_NUMERIC, f"{where}.features.{name}: {value!r:.80} is not a number")
        try:
            number = float(value)  # an int beyond a float raises: not finite either
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise _Reject(R.NON_NUMERIC, f"{where}.features.{name}: {value!r:.80} is not finite")
        values[str(name)] = number
    return values


def _result(record: Mapping[str, Any], where: str) -> str:
    result = record.get("result")
    if result is None:
        raise _Reject(R.MISSING_FIELD, f"{where}.result: missing")
    if not isinstance(result, Mapping):
        raise _Reject(R.WRONG_TYPE, f"{where}.result: must be an object")
    # allow_nan=False: a NaN would be stored as text no JSON reader takes back.
    try:
        text = json.dumps(result, allow_nan=False, ensure_ascii=True, sort_keys=True)
    except ValueError:
        path = non_finite_path(result, f"{where}.result")
        problem = f"{path}: not a finite number" if path else f"{where}.result: not storable JSON"
        raise _Reject(R.NON_NUMERIC, problem) from None
    if len(text) > MAX_RESULT:
        raise _Reject(R.WRONG_TYPE, f"{where}.result: longer than {MAX_RESULT} characters as JSON")
    return text


def head(
    spec: ProductionLineSpec, record: Mapping[str, Any], where: str
) -> tuple[str, str | None, str, str | None]:
    """(model tag, work unit, timestamp, feature timestamp) of a record (or of a columnar
    batch, where they are the same for every row: prediction_batches.py)."""
    tag = _storable(_text(record, "modelTag", where), "modelTag", where, MAX_NAME)
    unit = None if record.get("workUnit") is None else _work_unit(spec, record, where)
    timestamp = _timestamp(record, where)
    feature_ts = None
    if record.get("featureTimestamp") is not None:
        try:
            feature_ts = _timestamp({"timestamp": record["featureTimestamp"]}, where)
        except _Reject as exc:  # the same checks, reported under this field's name
            detail = exc.detail.replace(f"{where}.timestamp", f"{where}.featureTimestamp", 1)
            raise _Reject(exc.reason, detail) from None
    return tag, unit, timestamp, feature_ts


PREDICTION_FIELDS: Final = (
    "modelTag",
    "workUnit",
    "lot",
    "timestamp",
    "featureTimestamp",
    "features",
    "result",
)


def _prediction(spec: ProductionLineSpec, record: Mapping[str, Any], where: str) -> Prediction:
    tag, unit, timestamp, feature_ts = head(spec, record, where)
    return Prediction(
        model_tag=tag,
        work_unit=unit,
        lot=_optional_text(record, "lot", where),
        timestamp=timestamp,
        feature_timestamp=feature_ts,
        features=json.dumps(_features(record, where), sort_keys=True),
        result=_result(record, where),
    )


def parse_predictions(spec: ProductionLineSpec, payload: Any) -> Parsed[Prediction]:
    """Validate ``{"records": [...]}``; every record ends up accepted or rejected."""
    return parse_envelope(spec, payload, _prediction, PREDICTION_FIELDS)
