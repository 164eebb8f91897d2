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
    """JSON-compatible copy (BentoML metadata accepts str/int/float/bool/list/dict)."""
    return json.loads(json.dumps(value, default=str))


def register(
    model_dir: str | Path,
    name: str,
    metadata: dict[str, Any],
    labels: dict[str, str] | None = None,
) -> str:
    """Copy ``model_dir`` into the BentoML model store; returns the tag ``name:version``."""
    import bentoml

    source = Path(model_dir)
    with bentoml.models.create(name, labels=labels or {}, metadata=_plain(metadata)) as model:
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
        return Path(bentoml.models.get(tag).path)
    except (BentoMLException, ValueError) as exc:
        raise ModelNotFoundError(f"{tag}: no such model directory or BentoML model tag") from exc


def metadata(tag: str) -> dict[str, Any]:
    import bentoml

    return dict(bentoml.models.get(tag).info.metadata)
