"""Errors of the data plane that reject a whole payload (nothing of it is stored), for
readings and MES records alike."""

from __future__ import annotations


class PayloadError(ValueError):
    """A malformed payload. ``field`` names where, e.g. ``readings[3].timestamp``.

    ``status`` is the HTTP status the server answers with: 400 when the body cannot be
    decoded at all (not JSON, not CSV/Parquet), 422 when it decodes but has the wrong shape,
    413 when it is too large."""

    def __init__(self, field: str, problem: str, status: int = 422) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.status = status


class UnknownLine(LookupError):
    """No ProductionLine of that name is configured for ingestion."""


class IngestionDisabled(PermissionError):
    """The line exists but does not accept readings from this source (e.g. http disabled)."""


class LineConflict(ValueError):
    """A line name already served for another namespace (stores are keyed by name)."""

    def __init__(self, line: str, owner: str) -> None:
        super().__init__(
            f"metadata.name: line {line!r} is already served for namespace {owner!r}; "
            "line names must be unique across namespaces"
        )


def plus_hint(text: str) -> str:
    """What to add to a refused query time that holds a space: an unencoded '+' of its UTC
    offset, which a URL query reads as a space (so '…+01:00' arrived as '… 01:00')."""
    return " (a '+' in a URL query is a space: write the offset as %2B01:00)" if " " in text else ""
