"""Compile the pipelines to KFP IR YAML under ``pipelines/compiled/`` and check for drift."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

COMPILED_DIR = Path(__file__).resolve().parent.parent / "compiled"


def pipelines() -> dict[str, Callable[..., Any]]:
    from lineops_pipelines.pipelines.quality_training import PIPELINE_NAME, quality_training

    return {PIPELINE_NAME: quality_training}


def compile_to(directory: Path) -> dict[str, Path]:
    from kfp import compiler

    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, pipeline in pipelines().items():
        path = directory / f"{name}.yaml"
        compiler.Compiler().compile(pipeline, str(path))
        written[name] = path
    return written


def compile_all(directory: Path | None = None) -> dict[str, Path]:
    """Write ``<name>.yaml`` for every pipeline; returns the paths."""
    return compile_to(directory or COMPILED_DIR)


def drift(directory: Path | None = None) -> list[str]:
    """Names of pipelines whose committed IR differs from a fresh compile (or is missing)."""
    directory = directory or COMPILED_DIR
    changed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, fresh in compile_to(Path(tmp)).items():
            committed = directory / f"{name}.yaml"
            if not committed.is_file() or committed.read_text() != fresh.read_text():
                changed.append(name)
    return changed
