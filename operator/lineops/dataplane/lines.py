"""How the data plane names a line: its namespace and its name, never one joined string."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class LineRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> LineRef:
        """``namespace/name`` as printed by ``str()`` and typed on the command line."""
        namespace, sep, name = text.partition("/")
        if not sep or not namespace or not name or "/" in name:
            raise ValueError(f"line: {text!r} is not namespace/name")
        return cls(namespace, name)
