"""Typed request and response bodies of the quality inspector (pydantic)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

Name = Field(min_length=1, max_length=253)


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
    """Rows of feature values, one time series in order (a backfill)."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(min_length=1, description="feature names, one per row value")
    rows: list[list[float]] = Field(min_length=1, description="feature values, in time order")
    lots: list[str | None] | None = Field(None, description="a lot per row (logged), optional")
    work_unit: str | None = Field(None, min_length=1, max_length=253)
