"""Configuration by environment, so the operator can start the service as ``bentoml serve``
with env vars (embedded profile: a process per model; cluster profile: a Deployment)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from lineops.api.quantities import parse_duration

PREFIX: Final = "LINEOPS_SERVING_"


class ConfigError(ValueError):
    """A variable is missing or does not parse; the message names it."""


def _get(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(PREFIX + name, "").strip()
    return value or default


def _seconds(name: str, default: str) -> float:
    text = _get(name, default) or default
    try:
        return float(parse_duration(text))
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name}: {exc}") from None


def _int(name: str, default: int, low: int) -> int:
    text = _get(name, str(default)) or str(default)
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}: {text!r} is not an integer") from None
    if value < low:
        raise ConfigError(f"{PREFIX}{name}: {value} is below {low}")
    return value


def _switch(name: str, default: bool) -> bool:
    text = (_get(name) or ("on" if default else "off")).strip().lower()
    if text not in ("on", "off", "true", "false"):
        raise ConfigError(f"{PREFIX}{name}: {text!r} is not one of on, off")
    return text in ("on", "true")


@dataclass(frozen=True)
class ServingConfig:
    model_tag: str  # BentoML model store tag of the champion (status.champion)
    model_name: str  # the QualityModel's name: a metrics label
    # Line, namespace and feature service default to the model card's training set.
    line: str | None
    namespace: str | None
    feature_service: str | None
    feast_repo: Path | None  # a Feast repo (feature_store.yaml): the cluster profile
    data_dir: Path | None  # the embedded profile's data directory (its feast/ store)
    dataplane_url: str | None  # where predictions are logged; None logs nowhere (warned)
    dataplane_token_file: Path | None
    max_feature_age_s: float  # features older than this are stale: 409
    max_batch_rows: int
    history_rows: int  # rows of online features kept per work unit (models with a window)
    # How long a unit's online row is reused from the cache when the online store has no
    # change counter (Redis); the SQLite store's rows are re-read exactly when it changed.
    feature_cache_ttl_s: float
    # Reuse a unit's answer while its online rows are unchanged (the same series scores the
    # same); off: the model runs on every request (what benchmarks/serving.py compares).
    answer_cache: bool = True

    @classmethod
    def from_env(cls) -> ServingConfig:
        tag = _get("MODEL_TAG")
        if tag is None:
            raise ConfigError(f"{PREFIX}MODEL_TAG: missing (the champion's model store tag)")
        repo, data = _get("FEAST_REPO"), _get("DATA_DIR")
        if repo is None and data is None:
            raise ConfigError(
                f"{PREFIX}FEAST_REPO or {PREFIX}DATA_DIR: one is needed to read online features"
            )
        token = _get("DATAPLANE_TOKEN_FILE")
        return cls(
            model_tag=tag,
            model_name=_get("MODEL_NAME", tag.split(":", 1)[0]) or tag,
            line=_get("LINE"),
            namespace=_get("NAMESPACE"),
            feature_service=_get("FEATURE_SERVICE"),
            feast_repo=None if repo is None else Path(repo),
            data_dir=None if data is None else Path(data),
            dataplane_url=(_get("DATAPLANE_URL") or "").rstrip("/") or None,
            dataplane_token_file=None if token is None else Path(token),
            max_feature_age_s=_seconds("MAX_FEATURE_AGE", "15m"),
            max_batch_rows=_int("MAX_BATCH_ROWS", 100_000, 1),
            history_rows=_int("HISTORY_ROWS", 64, 1),
            feature_cache_ttl_s=_seconds("FEATURE_CACHE_TTL", "1s"),
            answer_cache=_switch("ANSWER_CACHE", True),
        )
