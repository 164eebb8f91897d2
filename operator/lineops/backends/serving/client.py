"""A small typed client of the quality inspector (``bentos/quality_inspector``), the service
the operator rolls out for each QualityModel's champion.

Standard library only (``urllib``), so a script on the line, a notebook or the CLI can use it
without the operator's dependencies; the types mirror the service's pydantic schemas and are
kept in step by the serving tests, which read real answers through this client::

    from lineops.backends.serving.client import InspectorClient
    client = InspectorClient("http://127.0.0.1:41234")
    prediction = client.predict("te-process", lot="lot-0001")
    print(prediction.label, prediction.model_tag)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final, TypeVar

DEFAULT_TIMEOUT: Final = 30.0
T = TypeVar("T")


class InspectorError(Exception):
    """The service refused the request (``status`` 4xx, ``message`` names the field) or could
    not be reached (``status`` None)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"{status} {message}" if status is not None else message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Result:
    """What the model says of one row; which fields are set depends on the task
    (fault-classification: label, raw_label, probabilities; anomaly-detection: score, alarm;
    failure-prediction: rul, score, alarm). All None while the model's window is not full."""

    label: str | None = None
    raw_label: str | None = None
    probabilities: dict[str, float] | None = None
    score: float | None = None
    alarm: bool | None = None
    rul: float | None = None


@dataclass(frozen=True)
class Prediction(Result):
    line: str = ""
    namespace: str = ""
    model: str = ""
    model_tag: str = ""
    task: str = ""
    work_unit: str = ""
    lot: str | None = None
    feature_service: str = ""
    feature_timestamp: str = ""  # RFC 3339 event time of the online features used
    feature_age_seconds: float = 0.0
    history_rows: int = 0
    rows_needed: int = 0


@dataclass(frozen=True)
class BatchResult:
    model_tag: str
    task: str
    rows: int
    results: list[Result] = field(default_factory=list)


@dataclass(frozen=True)
class Status:
    ready: bool
    model_tag: str
    line: str | None = None
    feature_service: str | None = None
    problem: str | None = None


def _build(cls: type[T], body: Mapping[str, Any]) -> T:
    """``cls`` from a JSON object; keys the client does not know (a newer service) ignored."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in body.items() if k in known})


class InspectorClient:
    """Calls one quality inspector endpoint (``status.serving.endpoint`` of a QualityModel)."""

    def __init__(
        self, endpoint: str, *, timeout: float = DEFAULT_TIMEOUT, token: str | None = None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self._token = token

    def predict(
        self,
        work_unit: str,
        *,
        lot: str | None = None,
        readings: Mapping[str, float] | None = None,
    ) -> Prediction:
        """Judge ``work_unit`` from its newest online features (logged with ``lot``)."""
        body: dict[str, Any] = {"work_unit": work_unit}
        if lot is not None:
            body["lot"] = lot
        if readings:
            body["readings"] = dict(readings)
        return _build(Prediction, self._post("/predict", body))

    def predict_batch(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[float]],
        *,
        lots: Sequence[str | None] | None = None,
        work_unit: str | None = None,
    ) -> BatchResult:
        """Score rows of feature values, one series in time order (a backfill)."""
        body: dict[str, Any] = {"columns": list(columns), "rows": [list(r) for r in rows]}
        if lots is not None:
            body["lots"] = list(lots)
        if work_unit is not None:
            body["work_unit"] = work_unit
        answer = self._post("/predict_batch", body)
        results = [_build(Result, r) for r in answer.get("results", [])]
        return BatchResult(answer["model_tag"], answer["task"], int(answer["rows"]), results)

    def ready(self) -> bool:
        """BentoML's ``/readyz``: true once model and feature store are loaded."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/readyz", timeout=self.timeout) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(
            self.endpoint + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise InspectorError(exc.code, _message(exc.read())) from None
        except (urllib.error.URLError, OSError) as exc:
            cause = getattr(exc, "reason", None) or exc
            raise InspectorError(None, f"cannot reach {self.endpoint}: {cause}") from None
        try:
            answer = json.loads(text)
        except ValueError:  # not the inspector answering (a proxy page, another service)
            raise InspectorError(
                None, f"{self.endpoint}{path} answered 200 with no JSON: {_message(text)[:200]}"
            ) from None
        if not isinstance(answer, dict):
            raise InspectorError(None, f"{self.endpoint}{path} answered 200 with {answer!r:.200}")
        return answer


def _message(body: bytes) -> str:
    """The service's refusals are ``[{"error": "<field>: ..."}]``; BentoML's validation
    answer is ``{"error": "1 validation error for ...", "detail": [{"loc": [...], "msg":
    ...}]}``, whose fields are in ``detail`` (they were dropped, leaving a message that named
    no field); anything else is shown as received."""
    text = body.decode(errors="replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        return text.strip()[:2000]
    items = parsed if isinstance(parsed, list) else [parsed]
    errors = [_error(i) for i in items if isinstance(i, dict) and "error" in i]
    return "; ".join(errors) if errors else text.strip()[:2000]


def _error(item: dict[str, Any]) -> str:
    details = item.get("detail")
    if not isinstance(details, list):
        return str(item["error"])
    named = [
        ".".join(str(part) for part in d.get("loc", ())) + f": {d.get('msg', '')}"
        for d in details
        if isinstance(d, dict)
    ]
    return f"{item['error']}: " + "; ".join(named) if named else str(item["error"])
