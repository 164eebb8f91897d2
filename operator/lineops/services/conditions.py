"""The conditions one reconcile accumulates, on top of lineops.api.conditions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from lineops.api.conditions import Condition, ConditionStatus, find_condition, set_condition


def parse(raw: Sequence[dict[str, Any]] | None) -> list[Condition]:
    """Existing conditions; entries that no longer parse are dropped and rewritten by us."""
    parsed = []
    for item in raw or ():
        try:
            parsed.append(Condition.read(item))
        except ValidationError:
            continue
    return parsed


class ConditionSet:
    """Accumulates condition changes for one reconcile of one object generation."""

    def __init__(self, raw: Sequence[dict[str, Any]] | None, generation: int | None) -> None:
        self._before = parse(raw)
        self._items = list(self._before)
        self._generation = generation

    def set(self, type_: str, status: ConditionStatus, reason: str, message: str = "") -> None:
        self._items = set_condition(
            self._items, type_, status, reason, message, observed_generation=self._generation
        )

    def get(self, type_: str) -> Condition | None:
        return find_condition(self._items, type_)

    def transitioned(self, type_: str) -> bool:
        """True when the status of ``type_`` differs from what the object had before."""
        before, after = find_condition(self._before, type_), find_condition(self._items, type_)
        return (before.status if before else None) != (after.status if after else None)

    @property
    def current(self) -> list[Condition]:
        """The conditions as they are now: what ``status.conditions`` is written as."""
        return list(self._items)

    def dump(self) -> list[dict[str, Any]]:
        return [c.model_dump(by_alias=True, exclude_none=True) for c in self._items]
