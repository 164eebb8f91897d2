"""The BentoML model store: register a trained candidate, resolve a tag to its files.

The store lives under ``$BENTOML_HOME/models`` (default ``~/bentoml``). A registered model is
the lineops model directory (``model.json`` + ``weights.pt``) copied into the store, with
metadata (task, metrics, feature list, spec hash, data window, scoring threshold) and labels.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

os.environ.setdefault("BENTOML_DO_NOT_TRACK", "True")


def _plain(value: Any) -> Any:
    """JSON-compatible copy without None (BentoML metadata accepts str/int/float/bool/list/dict
    but not None): None entries of a dict are dropped, None in a list becomes ""."""

    def clean(item: Any) -> Any:
        if isinstance(item, dict):
            return {str(k): clean(v) for k, v in item.items() if v is not None}
        if isinstance(item, list):
            return ["" if v is None else clean(v) for v in item]
        return item

    return clean(json.loads(json.dumps(value, default=str)))


def store_dir() -> Path:
    """``$BENTOML_HOME/models`` as the environment says *now* (BentoML itself caches the home
    of the first use per process, which would pin tests and embedded runs to one store)."""
    home = os.environ.get("BENTOML_HOME") or str(Path("~/bentoml").expanduser())
    return Path(os.path.expandvars(home)).expanduser() / "models"


def _store() -> Any:
    from bentoml._internal.models import ModelStore

    path = store_dir()
    path.mkdir(parents=True, exist_ok=True)
    return ModelStore(str(path))


def register(
    model_dir: str | Path,
    name: str,
    metadata: dict[str, Any],
    labels: dict[str, str] | None = None,
) -> str:
    """Copy ``model_dir`` into the BentoML model store; returns the tag ``name:version``."""
    import bentoml

    source = Path(model_dir)
    with bentoml.models.create(
        name, labels=labels or {}, metadata=_plain(metadata), _model_store=_store()
    ) as model:
        for item in source.iterdir():
            if item.is_file():
                shutil.copy2(item, model.path_of(item.name))
    return str(model.tag)


def model_path(tag: str) -> Path:
    """Directory holding the files of a stored model; ModelNotFoundError if the tag is unknown."""
    import bentoml
    from bentoml.exceptions import BentoMLException

    from lineops_pipelines.models.scoring import ModelNotFoundError

    try:
        return Path(bentoml.models.get(tag, _model_store=_store()).path)
    except (BentoMLException, ValueError) as exc:
        raise ModelNotFoundError(f"{tag}: no such model directory or BentoML model tag") from exc


def info(tag: str) -> tuple[dict[str, Any], dict[str, str]]:
    """(metadata, labels) of a stored model."""
    import bentoml

    stored = bentoml.models.get(tag, _model_store=_store()).info
    return dict(stored.metadata), dict(stored.labels)
