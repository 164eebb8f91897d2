"""The quality inspector reuses a unit's answer while its online rows are unchanged, and with
``LINEOPS_SERVING_ANSWER_CACHE=off`` runs the model on every request (what
benchmarks/serving.py measures as "model per request"). In process: the inspector core with
the real champion of the serving tests, the online row given as the feature cache would."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.support.serving_model import FEATURES

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def inspector_module(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.syspath_prepend(str(ROOT / "bentos"))
    import quality_inspector.inspector as module

    yield module


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, inspector_module: Any) -> Any:
    from quality_inspector.config import ServingConfig

    monkeypatch.setenv("LINEOPS_SERVING_MODEL_TAG", "press-fault:x")
    monkeypatch.setenv("LINEOPS_SERVING_DATA_DIR", "/nonexistent")
    return ServingConfig.from_env()


def test_the_switch_reads_on_and_off_and_names_a_bad_value(
    monkeypatch: pytest.MonkeyPatch, config: Any
) -> None:
    from quality_inspector.config import ConfigError, ServingConfig

    assert config.answer_cache is True  # the default
    monkeypatch.setenv("LINEOPS_SERVING_ANSWER_CACHE", "off")
    assert ServingConfig.from_env().answer_cache is False
    monkeypatch.setenv("LINEOPS_SERVING_ANSWER_CACHE", "sometimes")
    with pytest.raises(ConfigError, match="LINEOPS_SERVING_ANSWER_CACHE: 'sometimes'"):
        ServingConfig.from_env()


@pytest.mark.parametrize("cache", [True, False])
def test_the_model_runs_once_per_new_row_with_the_cache_and_per_request_without(
    cache: bool,
    model_store: tuple[Path, str],
    config: Any,
    inspector_module: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from quality_inspector.features import OnlineRow

    runs: list[int] = []
    real = inspector_module.score_rows

    def counted(model: Any, series: Any) -> Any:  # the real scoring, counted
        runs.append(len(series))
        return real(model, series)

    monkeypatch.setattr(inspector_module, "score_rows", counted)
    champion = inspector_module.Champion.load(model_store[1])
    settings = dataclasses.replace(config, answer_cache=cache)
    inspector = inspector_module.Inspector(settings, champion, features=None)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    values: dict[str, float | None] = {n: 1800.0 if "force" in n else 3.0 for n in FEATURES}
    answers = []
    for when, repeats in ((now - pd.Timedelta(seconds=30), 1), (now, 3)):
        for _ in range(repeats):
            answer, _used = inspector.predict("press-01", now, OnlineRow(values, when))
            answers.append(answer)
    # Four requests over two rows: with the cache, one model run per new row; without it,
    # one per request, each on the unit's whole series. The answers are the same either way.
    assert runs == ([1, 2] if cache else [1, 2, 2, 2])
    assert [a["label"] for a in answers] == [None, "1", "1", "1"]
    assert [a["history_rows"] for a in answers] == [1, 2, 2, 2]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), 1e39])
def test_a_feature_value_the_model_cannot_use_is_refused_and_kept_out_of_the_window(
    bad: float, model_store: tuple[Path, str], config: Any, inspector_module: Any
) -> None:
    from quality_inspector.errors import RequestProblem
    from quality_inspector.features import OnlineRow

    champion = inspector_module.Champion.load(model_store[1])
    inspector = inspector_module.Inspector(config, champion, features=None)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    good: dict[str, float | None] = {n: 1800.0 if "force" in n else 3.0 for n in FEATURES}
    inspector.predict("press-01", now, OnlineRow(good, now - pd.Timedelta(seconds=30)))
    spoiled = {**good, FEATURES[0]: bad}

    with pytest.raises(RequestProblem) as refused:
        inspector.predict("press-01", now, OnlineRow(spoiled, now - pd.Timedelta(seconds=20)))

    assert refused.value.error_code.value == 422
    assert f"{FEATURES[0]}={bad!r}" in str(refused.value)
    answer, _used = inspector.predict("press-01", now, OnlineRow(good, now))
    assert answer["history_rows"] == 2  # the refused row is not in the unit's window
