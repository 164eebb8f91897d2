"""The test control plane, started through the same code as `tools/controlplane/up`."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "controlplane" / "cplane.py"


def load_cplane() -> ModuleType:
    """Import tools/controlplane/cplane.py (a script, not a package) as a module."""
    if "lineops_cplane" in sys.modules:
        return sys.modules["lineops_cplane"]
    spec = importlib.util.spec_from_file_location("lineops_cplane", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["lineops_cplane"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def in_ci() -> bool:
    """CI sets CI=true; there a missing control plane fails the run instead of skipping."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
