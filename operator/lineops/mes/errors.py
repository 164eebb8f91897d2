"""The one exception the MES analytics raise for bad input."""

from __future__ import annotations


class MesInputError(ValueError):
    """Input the analytics cannot use; the message names the offending row or field.

    ``row`` is the 0-based index of the offending row in the input sequence, ``field`` the
    offending field or column. Callers that read files (the CLI) use them to point at the
    line of the file instead of the position in the array.
    """

    def __init__(self, message: str, *, row: int | None = None, field: str | None = None) -> None:
        self.detail = message
        self.row = row
        self.field = field
        super().__init__(self._render(row))

    def _render(self, row: int | None) -> str:
        where = []
        if row is not None:
            where.append(f"row {row}")
        if self.field is not None:
            where.append(f"column '{self.field}'")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail

    def located(self, row_label: str) -> str:
        """The message with the row named by the caller (e.g. a file line) instead of index."""
        where = [row_label] if self.row is not None else []
        if self.field is not None:
            where.append(f"column '{self.field}'")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail
