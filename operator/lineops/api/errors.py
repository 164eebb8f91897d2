"""Validation problems and their Kubernetes-style description (``spec.a[1].b: message``).

A spec that the API server accepted can still fail the models (an older CRD installed, a
rule that CEL cannot express); the operator then reports the message from
:func:`describe_validation_error` in a ``Ready=False`` condition instead of crashing.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

PathPart = str | int


class SpecProblem(ValueError):
    """A cross-field rule failed; ``path`` points from the validated model to the culprit.

    Raised from model validators, where pydantic only knows the location of the model
    itself; :func:`describe_validation_error` appends ``path`` to that location.
    """

    def __init__(self, message: str, *path: PathPart) -> None:
        super().__init__(message)
        self.message = message
        self.path: tuple[PathPart, ...] = path


def format_path(parts: Sequence[PathPart], root: str = "") -> str:
    """``("workUnits", 1, "sensors")`` -> ``"spec.workUnits[1].sensors"`` for root "spec"."""
    text = root
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = part
    return text


def _describe_one(error: ErrorDetails, root: str) -> str:
    loc: list[PathPart] = list(error["loc"])
    message = error["msg"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, SpecProblem):
        loc.extend(cause.path)
        message = cause.message
    elif error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required value"
    else:
        message = message.removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    path = format_path(loc, root)
    return f"{path}: {message}" if path else message


def describe_validation_error(exc: ValidationError, root: str = "spec") -> str:
    """One line per problem, joined with ``"; "``, each naming the field path.

    ``root`` is the path of whatever was validated: ``"spec"`` when a spec model was
    validated, ``""`` when a whole object (whose locations already start at ``spec``) was.
    """
    seen: dict[str, None] = {}
    for error in exc.errors(include_url=False):
        seen.setdefault(_describe_one(error, root), None)
    return "; ".join(seen)
