"""Why a request cannot be answered: 4xx errors that name the problem, and 503 when the
service cannot answer now (never a 500)."""

from __future__ import annotations

from http import HTTPStatus

from bentoml.exceptions import BentoMLException


class RequestProblem(BentoMLException):
    """BentoML answers a BentoMLException below 500 with its message and status."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message, error_code=status)


def unknown_work_unit(unit: str, service: str, line: str) -> RequestProblem:
    return RequestProblem(
        HTTPStatus.NOT_FOUND,
        f"work_unit: {unit!r} has no features in feature service {service} of line {line} "
        "(not a work unit of the line, or it never reported)",
    )


def missing_features(unit: str, names: list[str]) -> RequestProblem:
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return RequestProblem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f"work_unit: {unit!r} lacks features the model needs: {shown}",
    )


def unusable_features(unit: str, values: list[str], limit: float) -> RequestProblem:
    shown = ", ".join(values[:10]) + (f" and {len(values) - 10} more" if len(values) > 10 else "")
    return RequestProblem(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f"work_unit: {unit!r} has feature values the model cannot use (not finite, or "
        f"beyond ±{limit:.3g}): {shown}",
    )


def stale(unit: str, age_s: float, limit_s: float, timestamp: str) -> RequestProblem:
    return RequestProblem(
        HTTPStatus.CONFLICT,
        f"work_unit: {unit!r} features are stale: window ended {timestamp}, {age_s:.0f} s ago "
        f"(limit {limit_s:.0f} s); is the line still sending readings?",
    )


def bad_field(field: str, message: str) -> RequestProblem:
    return RequestProblem(HTTPStatus.BAD_REQUEST, f"{field}: {message}")


def too_large(rows: int, limit: int) -> RequestProblem:
    return RequestProblem(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"rows: {rows} rows is more than {limit} in one batch; send smaller batches",
    )


class Unavailable(Exception):
    """The service cannot answer now (still loading, the feature store unreachable or holding
    garbage): answered 503 with this message as a Response, since BentoML replaces the message
    of any error of status 500 or more with a generic one (so a 503 never said why)."""


def not_ready(problem: str) -> Unavailable:
    return Unavailable(f"not ready: {problem}")


def store_failed(work_unit: str, exc: Exception) -> Unavailable:
    return Unavailable(
        f"feature store: reading work_unit {work_unit!r} failed: "
        f"{type(exc).__name__}: {str(exc)[:300]}"
    )
