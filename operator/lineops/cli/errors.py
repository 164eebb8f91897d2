"""Errors the CLI reports as one line and a non-zero exit instead of a traceback, and the
argument types shared by several commands (argparse reports their refusals the same way)."""

import argparse
from collections.abc import Callable
from typing import Final

# Lines SQLAlchemy adds to a driver's message: the statement, its parameters, a link.
_SQLALCHEMY_EXTRAS: Final = ("[SQL:", "[parameters:", "(Background on this error at:")


class CliError(Exception):
    """A user-facing error: printed as ``lineops: error: <message>``, exit status 2."""


def http_url(text: str) -> str:
    """An http(s) base URL (argparse type): urllib's ValueError on anything else was a
    traceback, after the command had done its work."""
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text.rstrip("/")


def number_in(low: float, high: float, *, or_zero: bool = False) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high`` (or 0, with ``or_zero``). NaN,
    infinities and values a sleep or a timeout cannot take are refused by the option."""
    allowed = ("0 or " if or_zero else "") + f"{low:g}..{high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not ((or_zero and value == 0) or low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text!r} is not {allowed}")
        return value

    return parse


def integer_in(low: int, high: int, what: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (``what`` names the unit in
    the refusal, e.g. "rows"). Unbounded ints were a traceback (a port of 70000), or meant
    something else (SQLite reads LIMIT -1 as no limit)."""
    allowed = f"{low}..{high}" + (f" {what}" if what else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not {allowed}")
        return value

    return parse


def one_line(exc: BaseException) -> str:
    """An exception's message as one line: SQLAlchemy puts the statement, its parameters
    and a link on lines of their own (dropped), psycopg a hint on a second line (kept)."""
    lines = (line.strip() for line in str(exc).splitlines())
    return " ".join(line for line in lines if line and not line.startswith(_SQLALCHEMY_EXTRAS))


def cannot_draw(what: str, exc: Exception) -> CliError:
    """A renderer's error (matplotlib, plotly raise whatever they raise) as one line naming
    its type, instead of a traceback."""
    return CliError(f"{what}: {type(exc).__name__}: {one_line(exc) or 'no details'}")


def yaml_problem(exc: Exception) -> str:
    """PyYAML's multi-line message as one line with the 1-based line and column."""
    problem = getattr(exc, "problem", None) or one_line(exc)
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
