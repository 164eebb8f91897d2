"""Names shared by every layer: API coordinates, label and annotation keys, kopf settings.

Flat strings for call sites that want them (``kopf.on.create(GROUP, VERSION, PLURAL)``);
:mod:`lineops.api.kinds` holds the same coordinates grouped per kind.
"""

from __future__ import annotations

from typing import Final

from lineops.api.kinds import API_VERSION, CATEGORY, GROUP, PRODUCTION_LINE, QUALITY_MODEL, VERSION

__all__ = [
    "ANNOTATION_LINE_SEEN",
    "ANNOTATION_PIPELINE_SEEN",
    "ANNOTATION_RETRAIN_SIGNAL",
    "API_VERSION",
    "CATEGORY",
    "FINALIZER",
    "GROUP",
    "LABEL_COMPONENT",
    "LABEL_LINE",
    "LABEL_MANAGED_BY",
    "LABEL_MODEL",
    "LABEL_SPEC_HASH",
    "MANAGED_BY",
    "PREFIX",
    "PRODUCTION_LINE_KIND",
    "PRODUCTION_LINE_PLURAL",
    "QUALITY_MODEL_KIND",
    "QUALITY_MODEL_PLURAL",
    "VERSION",
]

PRODUCTION_LINE_KIND: Final = PRODUCTION_LINE.kind
PRODUCTION_LINE_PLURAL: Final = PRODUCTION_LINE.plural
QUALITY_MODEL_KIND: Final = QUALITY_MODEL.kind
QUALITY_MODEL_PLURAL: Final = QUALITY_MODEL.plural

# The operator's own prefix for kopf's annotations and finalizer instead of kopf.zalando.org,
# so that another kopf operator in the cluster never mistakes our state for its own.
PREFIX: Final = GROUP
FINALIZER: Final = f"{GROUP}/finalizer"

LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY: Final = "lineops"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_LINE: Final = f"{GROUP}/line"
LABEL_MODEL: Final = f"{GROUP}/model"
LABEL_SPEC_HASH: Final = f"{GROUP}/spec-hash"

ANNOTATION_LINE_SEEN: Final = f"line.{GROUP}/seen-uid"
"""On a QualityModel: uid of the ProductionLine that last woke it (changes when the line is
recreated, which touches the model so it reconciles at once). Deliberately outside the
``lineops.io/`` prefix: kopf ignores every annotation under its storage prefix when it
decides whether an object changed, and this one must count as a change."""

ANNOTATION_PIPELINE_SEEN: Final = f"pipeline.{GROUP}/seen-version"
"""On a QualityModel: ``<uid>/<resourceVersion>`` of the ConfigMap its
``spec.training.pipelineRef`` names, as last seen by the operator's ConfigMap watch; changing
it makes the model reconcile at once (a new IR is a new spec hash, hence a new run). Outside
the ``lineops.io/`` prefix for the same reason as ``ANNOTATION_LINE_SEEN``."""

ANNOTATION_RETRAIN_SIGNAL: Final = f"line.{GROUP}/retrain-signal"
"""On a QualityModel: ``<spc|drift> <time>`` when its line last saw one of the model's
``retrainOn`` triggers start to hold; changing it makes the model reconcile (and decide) at
once instead of at the next resync. Outside the ``lineops.io/`` prefix for the same reason as
``ANNOTATION_LINE_SEEN``."""
