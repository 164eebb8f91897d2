"""`lineops model bento` packs a real champion into a real bento with `bentoml build` (no
Docker engine needed for that step): named and versioned like the model, holding the model,
the service and the sources it imports, and announcing the image reference the cluster
serving backend derives from the same tag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from lineops.backends.serving.manifests import image

pytestmark = pytest.mark.integration


def _lineops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    command = [sys.executable, "-m", "lineops.cli.main", "model", "bento", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def test_a_champion_is_packed_into_a_bento_named_like_the_model(
    model_store: tuple[Path, str],
) -> None:
    home, tag = model_store
    done = _lineops(home, "--model", tag, "--repository", "registry.test/bentos", "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["bento"] == tag  # <model name>:<model version>
    assert answer["image"] == image("registry.test/bentos", tag)
    assert answer["containerize"] == f"bentoml containerize {tag} -t {answer['image']}"

    name, _, version = tag.partition(":")
    bento = home / "bentos" / name / version
    manifest = yaml.safe_load((bento / "bento.yaml").read_text())
    assert (manifest["name"], manifest["version"]) == (name, version)
    # The model is referenced by tag; `bentoml containerize` copies it from the store.
    assert [m["tag"] for m in manifest["models"]] == [tag]
    assert {e["name"]: e["value"] for e in manifest["envs"]}["LINEOPS_SERVING_MODEL_TAG"] == tag
    assert (bento / "src" / "quality_inspector" / "service.py").is_file()
    assert (bento / "src" / "lineops" / "backends" / "feast_store.py").is_file()
    assert (bento / "src" / "lineops_pipelines" / "models" / "scoring.py").is_file()
    assert not list((bento / "src").rglob("__pycache__"))
    # The pinned set is its requirements, not re-resolved.
    requirements = (bento / "env" / "python" / "requirements.txt").read_text()
    assert "torch==" in requirements and "bentoml==" in requirements


def test_a_tag_not_in_the_store_is_a_clear_error(model_store: tuple[Path, str]) -> None:
    home, _ = model_store
    done = _lineops(home, "--model", "ghost-model:abc123")
    assert done.returncode == 2
    assert "bentoml build of ghost-model:abc123 failed" in done.stderr
    assert "could not be found" in done.stderr
    bad = _lineops(home, "--model", "no-version")
    assert bad.returncode == 2 and "--model: model tag 'no-version'" in bad.stderr
