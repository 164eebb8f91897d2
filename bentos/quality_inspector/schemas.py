"""Typed request and response bodies of the quality inspector (pydantic)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Name = Field(min_length=1, max_length=253)
# What the data plane stores of a name (at most 253 characters, no control character such as
# NUL): one it would refuse was answered 200 here and its prediction then quarantined there.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
WorkUnit = Annotated[
    str, Field(min_length=1, max_length=253, pattern=NAME_PATTERN, description="a work unit")
]
Lot = Annotated[str, Field(min_length=1, max_length=253, pattern=NAME_PATTERN)]
# The data plane's bound for a measured value (lineops.mes.data.MAX_VALUE); strict: "12.5"
# and true were coerced to numbers, NaN and infinities logged as null.
Reading = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1e100, le=1e100)]
SensorName = Annotated[str, Field(min_length=1, max_length=253, pattern=NAME_PATTERN)]
MAX_READINGS = 1000


class PredictRequest(BaseModel):
    """``predict``'s body. Unknown fields are refused: ``lots`` for ``lot`` was ignored, and
    the lot silently missing from the log."""

    model_config = ConfigDict(extra="forbid")

    work_unit: WorkUnit
    lot: Lot | None = None
    readings: dict[SensorName, Reading] | None = Field(
        None, max_length=MAX_READINGS, description="raw readings logged with the prediction"
    )


class Result(BaseModel):
    """What the model says of one row; which fields are set depends on the task.

    fault-classification: ``label`` (what a plant acts on: classes the model cannot tell from
    normal are reported as normal), ``raw_label`` (the most probable class), ``probabilities``;
    anomaly-detection: ``score`` and ``alarm`` (score above the model's threshold);
    failure-prediction: ``rul`` (hours), ``score`` (failure risk) and ``alarm``. All null
    while the model's window is not yet full."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    raw_label: str | None = None
    probabilities: dict[str, float] | None = None
    score: float | None = None
    alarm: bool | None = None
    rul: float | None = None


class Prediction(Result):
    line: str
    namespace: str
    model: str
    model_tag: str
    task: str
    work_unit: str
    lot: str | None
    feature_service: str
    feature_timestamp: datetime  # event time (window end) of the online features used
    feature_age_seconds: float
    history_rows: int  # rows of online features this process has seen for the unit
    rows_needed: int  # rows the model's window needs before it answers


class BatchResult(BaseModel):
    model_tag: str
    task: str
    rows: int
    results: list[Result]


class Status(BaseModel):
    ready: bool
    model_tag: str
    line: str | None
    feature_service: str | None
    problem: str | None  # why the service is not ready (loading, a missing store, ...)


class BatchRequest(BaseModel):
    """``predict_batch``'s body: rows of feature values, one time series in order (a
    backfill). An empty ``rows`` was a 500."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(min_length=1, description="feature names, one per row value")
    rows: list[list[float]] = Field(min_length=1, description="feature values, in time order")
    lots: list[Lot | None] | None = Field(None, description="a lot per row (logged), optional")
    work_unit: WorkUnit | None = None
