"""Why a request cannot be answered: 4xx errors that name the problem (never a 500)."""

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


def not_ready(problem: str) -> RequestProblem:
    return RequestProblem(HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {problem}")
