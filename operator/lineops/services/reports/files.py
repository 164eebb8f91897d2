"""Report files replaced whole: a reader (a browser on the file share, a mail client taking
the PNG) sees the old file or the new one, never a half-written one, and a failure while
drawing leaves the old file in place.

Each file is written to a temporary name in its own directory (so the rename stays on one
file system) and moved over the old one with ``os.replace``, which is atomic.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def replacing(path: Path) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` when the block ends without an exception."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    # 0o666 less the umask, as open() would create it: the folder is shared, and mkstemp's
    # 0o600 would hide the report from everyone but its writer.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_file(path: Path, content: str | bytes, *, skip_unchanged: bool = False) -> Path:
    """``content`` (text as UTF-8) as ``path``, replaced whole. With ``skip_unchanged`` an
    identical file is left alone (plotly.js: 4.8 MB that rarely changes)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if skip_unchanged and _holds(path, data):
        return path
    with replacing(path) as file:
        file.write(data)
    return path


def _holds(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:  # missing or unreadable: write it
        return False
