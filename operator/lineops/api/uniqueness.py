"""Duplicate detection for lists that the API server keys by name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def duplicate_names(names: Iterable[str]) -> Iterator[tuple[int, str]]:
    """``(index, name)`` of every item whose name already appeared earlier in the list.

    The index is the later item's, which is where the API server reports a duplicate too.
    """
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            yield index, name
        seen.add(name)
