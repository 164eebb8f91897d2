"""Errors the CLI reports as one line and a non-zero exit instead of a traceback, and the
argument types shared by several commands (argparse reports their refusals the same way)."""

import argparse


class CliError(Exception):
    """A user-facing error: printed as ``lineops: error: <message>``, exit status 2."""


def http_url(text: str) -> str:
    """An http(s) base URL (argparse type): urllib's ValueError on anything else was a
    traceback, after the command had done its work."""
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text.rstrip("/")
