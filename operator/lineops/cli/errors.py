"""Errors the CLI reports as one line and a non-zero exit instead of a traceback."""


class CliError(Exception):
    """A user-facing error: printed as ``lineops: error: <message>``, exit status 2."""
