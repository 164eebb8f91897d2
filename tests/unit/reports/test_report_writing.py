"""Report files are replaced whole: a reader holding the old file keeps it complete, a failure
while writing leaves it, and the plotly.js bundle is not rewritten when it is unchanged."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from lineops.mes.data import ChartData
from lineops.services.reports import prepare, write_control_chart, write_index
from lineops.services.reports.content import control_chart_content
from lineops.services.reports.files import write_file
from lineops.services.reports.pages import PLOTLY_JS
from matplotlib.figure import Figure
from plotly.offline import get_plotlyjs


def _chart(values: list[float]) -> Any:
    return control_chart_content("imr", ChartData.individuals(values), ["weco-1"], title="d")


def test_a_reader_of_the_old_files_keeps_them_whole(tmp_path: Path) -> None:
    first = write_control_chart(_chart([1.0, 2.0, 1.5, 2.5]), tmp_path, "d")
    index = write_index(tmp_path, "first", [first])
    paths = (first.png, first.html, index)
    old = {path: path.read_bytes() for path in paths}
    held = {path: path.open("rb") for path in paths}  # a browser, a mail client reading them
    try:
        second = write_control_chart(_chart([10.0, 20.0, 15.0, 30.0, 12.0]), tmp_path, "d")
        write_index(tmp_path, "second", [second])
        for path in paths:
            assert path.read_bytes() != old[path]
            assert held[path].read() == old[path]  # not truncated or overwritten in place
    finally:
        for file in held.values():
            file.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_a_failure_while_writing_a_png_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_control_chart(_chart([1.0, 2.0, 1.5, 2.5]), tmp_path, "d")
    old = first.png.read_bytes()

    def disk_full(self: Figure, target: Any, **kwargs: Any) -> None:
        if isinstance(target, str | os.PathLike):
            Path(target).write_bytes(b"\x89PNG half")
        else:
            target.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_control_chart(_chart([5.0, 6.0, 7.0]), tmp_path, "d")
    assert first.png.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.png.name, first.html.name])


def test_an_unchanged_plotly_bundle_is_not_rewritten(tmp_path: Path) -> None:
    prepare(tmp_path)
    bundle = tmp_path / PLOTLY_JS
    os.utime(bundle, ns=(1_000_000_000, 1_000_000_000))  # a mark a rewrite would move
    prepare(tmp_path)
    assert bundle.stat().st_mtime_ns == 1_000_000_000
    bundle.write_text("stale", encoding="utf-8")  # another plotly version, a broken copy
    prepare(tmp_path)
    assert bundle.read_text(encoding="utf-8") == get_plotlyjs()


def test_written_files_are_readable_as_open_would_create_them(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = write_file(tmp_path / "page.html", "<p>x</p>")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0o600
    assert path.read_text(encoding="utf-8") == "<p>x</p>"
