"""Status as the ``lineops.api`` models: read from the object, written as a JSON merge patch.

The reconcilers build every status field from ``ProductionLineStatus``/``QualityModelStatus``
and their parts (``TrainingStatus``, ``Kpis``, ...), never from camelCase dicts, so a field
renamed in the models is a type error in the code that writes it, not a key the API server
silently prunes.

kopf sends the status as a JSON merge patch (RFC 7386), so what a reconcile *sets* is what it
writes. :func:`merge_patch` dumps exactly that:

* a field is written when it was set, by a constructor argument or an assignment; fields left
  at their defaults are not (``model_dump(exclude_unset=True)``);
* ``None`` inside a part that is filled in field by field (``training``, ``kpis``,
  ``drift``) means "not known": it is left out, so the stored value stays;
* a part that is one value (``champion``, ``challenger``: a model version with its metrics and
  score; ``serving``; a line's ``plan`` and ``spc``) is written whole, a ``None`` field as
  ``null``, so nothing of the previous value stays;
* a top-level field assigned ``None`` (``status.challenger = None``) is written as ``null``,
  which removes it from the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

from lineops.api.base import StatusModel
from lineops.api.productionline import PlanStatus, SpcStatus
from lineops.api.qualitymodel import ChallengerStatus, ChampionStatus, ServingStatus

ModelT = TypeVar("ModelT", bound=StatusModel)

WRITTEN_WHOLE: Final[tuple[type[BaseModel], ...]] = (
    ChampionStatus,
    ChallengerStatus,
    ServingStatus,
    PlanStatus,  # a plan without a next maintenance window clears the old one
    SpcStatus,  # an inControl no longer known is removed, not kept
)


def merge_patch(status: BaseModel) -> dict[str, Any]:
    """The merge patch that writes what was set on ``status`` (see the module docstring)."""
    patch: dict[str, Any] = status.model_dump(
        mode="json", by_alias=True, exclude_unset=True, exclude_none=True
    )
    fields = type(status).model_fields
    for name in status.model_fields_set:
        value = getattr(status, name)
        alias = fields[name].alias or name
        if value is None:
            patch[alias] = None
        elif isinstance(value, WRITTEN_WHOLE):
            patch[alias] = value.model_dump(mode="json", by_alias=True)
    return patch


def read_status(model: type[ModelT], raw: Mapping[str, Any] | None) -> ModelT:
    """The object's status (or a part of it) as ``model``. Fields it does not know are
    ignored; a top-level field that does not validate (written by another version of the
    operator) is left out too, and the reconcile rewrites it."""
    data = dict(raw or {})
    try:
        return model.read(data)
    except ValidationError as exc:
        bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return model.read({k: v for k, v in data.items() if k not in bad})


def changed_fields(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level fields of the merge patch ``patch`` that would change ``current`` (the
    object's status). Compared as the API server applies it (RFC 7386), not as written: a part
    written whole names its unset fields as ``null``, which the stored object does not hold,
    so comparing the patch itself found a change on every reconcile (a status PATCH per model
    reconcile that changed nothing)."""
    changed: dict[str, Any] = {}
    for key, value in patch.items():
        if value is None:
            if key in current:
                changed[key] = value
        elif _apply(current.get(key), value) != current.get(key):
            changed[key] = value
    return changed


def _apply(target: Any, patch: Any) -> Any:
    """RFC 7386 MergePatch(target, patch)."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _apply(result.get(key), value)
    return result
