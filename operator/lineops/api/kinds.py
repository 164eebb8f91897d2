"""API group, version and the names under which each kind is served."""

from __future__ import annotations

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
)
QUALITY_MODEL: Final = ResourceInfo(
    kind="QualityModel",
    plural="qualitymodels",
    singular="qualitymodel",
    short_names=("qm",),
)
