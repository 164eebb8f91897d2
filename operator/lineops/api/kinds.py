"""API group, version and the names under which each kind is served."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

GROUP: Final = "lineops.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = "lineops.io/v1alpha1"  # f"{GROUP}/{VERSION}", spelled out for Literal types
CATEGORY: Final = "lineops"
"""``kubectl get lineops`` lists every lineops resource."""


@dataclass(frozen=True)
class ResourceInfo:
    """How one kind is addressed: by handlers (group/version/plural) and by kubectl."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    max_name: int
    """The longest metadata.name whose child objects' names are still valid (see below)."""
    group: str = GROUP
    version: str = VERSION

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"


PRODUCTION_LINE: Final = ResourceInfo(
    kind="ProductionLine",
    plural="productionlines",
    singular="productionline",
    short_names=("pl",),
    # The cluster profile's Service "<line>-ingest" needs a DNS-1035 label of at most 63.
    max_name=63 - len("-ingest"),
)
QUALITY_MODEL: Final = ResourceInfo(
    kind="QualityModel",
    plural="qualitymodels",
    singular="qualitymodel",
    short_names=("qm",),
    # The canary's Service "<model>-serving-canary" needs a DNS-1035 label of at most 63.
    max_name=63 - len("-serving-canary"),
)


# Kubernetes' DNS-1035 label (Service names): a lower-case letter first, then lower-case
# letters, digits and '-', not ending in '-'. A custom resource's own name may be any DNS
# subdomain; the names of the objects made for it may not.
DNS_1035_PATTERN: Final = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"


def name_problem(info: ResourceInfo, name: str) -> str | None:
    """Why ``name`` cannot name an object of kind ``info`` (its child objects could not be
    named after it), or None."""
    if len(name) <= info.max_name and re.fullmatch(DNS_1035_PATTERN, name):
        return None
    return f"metadata.name: {name!r} cannot name a {info.kind}: {name_rule(info)}"


def name_rule(info: ResourceInfo) -> str:
    """The rule of :func:`name_problem` in words (also the CRD's message)."""
    return (
        "the objects made for it are named after it, which needs a lower-case letter first, "
        "then lower-case letters, digits or '-' (no '.'), not ending in '-', at most "
        f"{info.max_name} characters"
    )
