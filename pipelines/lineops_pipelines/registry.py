"""The BentoML model store: register a trained candidate, resolve a tag to its files.

The store lives under ``$BENTOML_HOME/models`` (default ``~/bentoml``). A registered model is
the lineops model directory (``model.json`` + ``weights.pt``) copied into the store, with
metadata (task, metrics, feature list, spec hash, data window, scoring threshold) and labels
(``task``, ``stage``, ``spec-hash``, ``run-id``). The cluster-profile operator finds a finished
run's model by its ``run-id`` label (:func:`find_by_label`), in the store the pipeline pods and
the operator both mount. Label values are stored verbatim: BentoML 1.4 only requires label keys
and values to be strings (``bentoml._internal.utils.validate_labels``) and ``model.yaml`` holds
any string, so a DNS-subdomain-like run id of up to 253 characters is a valid label value.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
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


def store_dir(home: str | Path | None = None) -> Path:
    """``<home>/models``; without ``home``, ``$BENTOML_HOME/models`` as the environment says
    *now* (BentoML itself caches the home of the first use per process, which would pin tests
    and embedded runs to one store)."""
    if home is None:
        home = os.environ.get("BENTOML_HOME") or str(Path("~/bentoml").expanduser())
    return Path(os.path.expandvars(str(home))).expanduser() / "models"


def _store(home: str | Path | None = None) -> Any:
    from bentoml._internal.models import ModelStore

    path = store_dir(home)
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


@dataclass(frozen=True)
class StoredModel:
    tag: str
    metadata: dict[str, Any]
    labels: dict[str, str]
    created: datetime


def find_by_label(key: str, value: str, home: str | Path | None = None) -> StoredModel | None:
    """The newest stored model whose label ``key`` is ``value``; None when no model has it.

    ``home`` is the BENTOML_HOME to read (default: ``$BENTOML_HOME``); a store that does not
    exist holds no model (it is not created: the reader may mount it read-only). Every model's
    ``model.yaml`` is read through the ModelStore; a model another process is still copying in
    (BentoML creates the version directory before it writes ``model.yaml``) or a damaged one is
    skipped, so one bad entry cannot hide the others.
    """
    from bentoml._internal.models import ModelStore

    path = store_dir(home)
    if not path.is_dir():
        return None
    store = ModelStore(str(path))
    found: list[StoredModel] = []
    for name in sorted(p.name for p in path.iterdir() if p.is_dir()):
        for version in sorted(p.name for p in (path / name).iterdir() if p.is_dir()):
            try:
                stored = store.get(f"{name}:{version}")
                info = stored.info
                labels = dict(info.labels)
            except Exception:  # half-written or damaged entry: not the model we look for
                continue
            if labels.get(key) == value:
                found.append(
                    StoredModel(str(stored.tag), dict(info.metadata), labels, info.creation_time)
                )
    if not found:
        return None
    return max(found, key=lambda m: (m.created, m.tag))
