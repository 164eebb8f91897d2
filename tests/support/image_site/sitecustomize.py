"""A Python start-up hook for tests: this interpreter sees only the distributions of the
lineops image (requirements/operator.txt, lineops itself, and pip/setuptools/wheel, which
the image's virtualenv has), not the rest of the project's venv (torch, its CUDA wheels,
the data-only packages). Put this folder first on PYTHONPATH (tests/support/image_env.py).

Not a mock of torch: the venv's import and metadata finder is wrapped so that modules and
distribution metadata of the other distributions are not found, exactly as when they are
not installed (`import torch` raises ModuleNotFoundError, importlib.util.find_spec("torch")
is None, importlib.metadata.version("torch") raises PackageNotFoundError). Child processes
inherit PYTHONPATH and so the same view.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
from collections.abc import Iterable
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[3]
IMAGE_REQUIREMENTS = REPO / "requirements" / "operator.txt"
ALWAYS = {"lineops", "pip", "setuptools", "wheel"}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def image_distributions() -> set[str]:
    names = set(ALWAYS)
    for raw in IMAGE_REQUIREMENTS.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            names.add(_canonical(line.split("==")[0]))
    return names


IMAGE = image_distributions()
# Top-level modules that only distributions outside the image provide.
HIDDEN = {
    top
    for top, dists in md.packages_distributions().items()
    if not any(_canonical(d) in IMAGE for d in dists)
}


class ImagePathFinder:
    """sys.meta_path's PathFinder, blind to what the image does not install."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in HIDDEN:
            return None
        return PathFinder.find_spec(fullname, path, target)

    @classmethod
    def find_distributions(
        cls, context: md.DistributionFinder.Context | None = None
    ) -> Iterable[md.Distribution]:
        found = PathFinder.find_distributions(context or md.DistributionFinder.Context())
        return (d for d in found if _canonical(d.metadata["Name"] or "") in IMAGE)

    @classmethod
    def invalidate_caches(cls) -> None:
        PathFinder.invalidate_caches()


_loaded = sorted(name for name in sys.modules if name.partition(".")[0] in HIDDEN)
if _loaded:  # a .pth file imported one before this hook ran: the view would be a lie
    raise RuntimeError(f"image_site: already imported before the hook: {_loaded}")
sys.meta_path[:] = [ImagePathFinder if f is PathFinder else f for f in sys.meta_path]
