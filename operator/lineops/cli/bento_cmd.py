"""`lineops model bento`: pack a champion into a bento, the unit `bentoml containerize` turns
into the serving image the cluster profile deploys.

The bento holds the quality inspector (``bentos/quality_inspector``), the ``lineops`` and
``lineops_pipelines`` sources it imports (the scoring path shared with `lineops model score`),
the model (by tag: `bentoml containerize` copies it from the store), and the pinned
requirements (``requirements/lock.txt``, not re-resolved: the image gets the set the tests
ran with). It is named and versioned like the model (``<name>:<version>``), so its image is
``<repository>/<name>:<version>``, the reference the operator's ClusterServingBackend derives
from ``status.champion.version``.

Building needs no Docker engine; containerizing does, so that step runs in an image-building
CI and is printed, not run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

import yaml

from lineops.backends.serving.manifests import image
from lineops.cli.errors import CliError

REPO: Final = Path(__file__).resolve().parents[3]
SERVICE: Final = "quality_inspector.service:QualityInspector"
# Sources the service imports, copied next to it (the bento's src is on its sys.path).
SOURCES: Final = {
    "quality_inspector": REPO / "bentos" / "quality_inspector",
    "lineops": REPO / "operator" / "lineops",
    "lineops_pipelines": REPO / "pipelines" / "lineops_pipelines",
}
LOCK: Final = REPO / "requirements" / "lock.txt"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "bento",
        help="pack a model store tag into a bento (the serving image's content)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True, metavar="NAME:VERSION", help="model store tag")
    p.add_argument(
        "--repository",
        default="ghcr.io/lineops/bentos",
        metavar="REPO",
        help="image repository (LINEOPS_BENTO_IMAGE_REPOSITORY of the operator)",
    )
    p.add_argument("--json", action="store_true", help="print bento tag and image as JSON")
    p.set_defaults(func=run_bento)


def bentofile(tag: str) -> dict[str, Any]:
    name = tag.partition(":")[0]
    return {
        "service": SERVICE,
        "name": name,
        "description": f"lineops quality inspector serving {tag}",
        "labels": {"app.kubernetes.io/part-of": "lineops", "lineops.io/model-tag": tag},
        "include": [f"{package}/**/*.py" for package in SOURCES],
        "exclude": ["**/__pycache__"],
        "models": [tag],
        "python": {"requirements_txt": "requirements.txt", "lock_packages": False},
        "docker": {"python_version": "3.11"},
        # The operator sets these too; baked in so the image also runs on its own.
        "envs": [
            {"name": "LINEOPS_SERVING_MODEL_TAG", "value": tag},
            {"name": "LINEOPS_SERVING_MODEL_NAME", "value": name},
        ],
    }


def run_bento(args: argparse.Namespace) -> int:
    tag: str = args.model
    try:
        reference = image(args.repository, tag)
    except ValueError as exc:
        raise CliError(f"--model: {exc}") from None
    missing = [str(p) for p in (*SOURCES.values(), LOCK) if not p.exists()]
    if missing:
        raise CliError(f"packing a bento needs a source checkout: {', '.join(missing)} not found")
    name, _, version = tag.partition(":")
    with tempfile.TemporaryDirectory(prefix="lineops-bento-") as tmp:
        context = Path(tmp)
        for package, source in SOURCES.items():
            shutil.copytree(source, context / package, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(LOCK, context / "requirements.txt")
        (context / "bentofile.yaml").write_text(yaml.safe_dump(bentofile(tag), sort_keys=False))
        command = [str(Path(sys.executable).parent / "bentoml"), "build", "."]
        command += ["--version", version, "--output", "tag"]
        env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True"}
        # BentoML reads the bentofile only from below the working directory.
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=context, check=False
        )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        why = next((line for line in reversed(detail) if "rror" in line), "")
        home = os.environ.get("BENTOML_HOME", "~/bentoml")
        raise CliError(
            f"bentoml build of {tag} failed ({why or 'see its output'}); is {tag} in the "
            f"model store at {home}?\n" + "\n".join(detail[-15:])
        )
    bento = _built_tag(done.stdout) or f"{name}:{version}"
    containerize = f"bentoml containerize {bento} -t {reference}"
    if args.json:
        print(json.dumps({"bento": bento, "image": reference, "containerize": containerize}))
    else:
        print(f"bento {bento} (model {tag})")
        print(f"  image: {reference}")
        print(f"  build it where a Docker engine runs: {containerize}")
    return 0


def _built_tag(stdout: str) -> str | None:
    """``--output tag`` prints ``__tag__:<name>:<version>`` among BentoML's log lines."""
    for line in stdout.splitlines():
        if line.startswith("__tag__:"):
            return line.removeprefix("__tag__:").strip()
    return None
