"""The lineops image's view of the venv, for tests that cannot build the image (no Docker
engine here): an environment for a subprocess whose interpreter finds only the image's
distributions (requirements/operator.txt; see tests/support/image_site/sitecustomize.py),
so torch and the rest of what the image leaves out cannot be imported."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SITE = Path(__file__).resolve().parent / "image_site"


def image_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (default: this process's environment) plus ``extra``, with the image's
    start-up hook first on PYTHONPATH."""
    env = dict(os.environ if base is None else base, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SITE), env.get("PYTHONPATH")) if p)
    return env
