"""The custom resources as pydantic models: the single source of truth for the CRDs.

Pure: imports nothing from handlers, services, backends or cli.
"""

from lineops.api.conditions import Condition, ConditionStatus, find_condition, set_condition
from lineops.api.errors import SpecProblem, describe_validation_error
from lineops.api.kinds import (
    API_VERSION,
    CATEGORY,
    GROUP,
    PRODUCTION_LINE,
    QUALITY_MODEL,
    VERSION,
    ResourceInfo,
)
from lineops.api.meta import ObjectMeta
from lineops.api.productionline import (
    Features,
    Ingestion,
    Kpis,
    Monitoring,
    ProductionLine,
    ProductionLineSpec,
    ProductionLineStatus,
    QualityCharacteristic,
    RunRule,
    Schedule,
    Sensor,
    Shift,
    SpcStatus,
    WorkUnit,
)
from lineops.api.qualitymodel import (
    ChallengerStatus,
    ChampionStatus,
    Promotion,
    PromotionMetric,
    QualityModel,
    QualityModelSpec,
    QualityModelStatus,
    RetrainOn,
    Serving,
    Task,
    Training,
    TrainingStatus,
)
from lineops.api.quantities import parse_decimal, parse_duration
from lineops.mes.kinds import ChartKind

__all__ = [
    "API_VERSION",
    "CATEGORY",
    "GROUP",
    "PRODUCTION_LINE",
    "QUALITY_MODEL",
    "VERSION",
    "ChallengerStatus",
    "ChampionStatus",
    "ChartKind",
    "Condition",
    "ConditionStatus",
    "Features",
    "Ingestion",
    "Kpis",
    "Monitoring",
    "ObjectMeta",
    "ProductionLine",
    "ProductionLineSpec",
    "ProductionLineStatus",
    "Promotion",
    "PromotionMetric",
    "QualityCharacteristic",
    "QualityModel",
    "QualityModelSpec",
    "QualityModelStatus",
    "ResourceInfo",
    "RetrainOn",
    "RunRule",
    "Schedule",
    "Sensor",
    "Serving",
    "Shift",
    "SpcStatus",
    "SpecProblem",
    "Task",
    "Training",
    "TrainingStatus",
    "WorkUnit",
    "describe_validation_error",
    "find_condition",
    "parse_decimal",
    "parse_duration",
    "set_condition",
]
