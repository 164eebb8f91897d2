"""Feast without torch until torch is needed.

Feast 0.67 imports torch eagerly (``feast.torch_wrapper`` runs ``import torch`` at import,
reached from ``feast.infra.offline_stores.offline_store``), which maps torch and its CUDA
libraries into every process that uses Feast: about 550 MB of the operator's resident memory,
and seconds of its start-up, for tensor conversions lineops never asks Feast for. This module
puts a lazy stand-in for ``feast.torch_wrapper`` in ``sys.modules`` before Feast is imported:
``get_torch()`` imports torch on its first call, exactly as Feast's own would have returned it.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

NAME = "feast.torch_wrapper"


def _get_torch() -> Any:
    return importlib.import_module("torch")


def install() -> None:
    """Idempotent; a no-op when Feast's own wrapper was imported already."""
    if NAME in sys.modules:
        return
    shim = types.ModuleType(NAME, __doc__)
    shim.get_torch = _get_torch  # type: ignore[attr-defined]
    sys.modules[NAME] = shim
