"""The QualityModel custom resource: a model trained, promoted and served for one line."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from lineops.api.base import (
    ApiModel,
    DnsLabel,
    DnsSubdomain,
    Identifier,
    LongText,
    ShortText,
    SpecModel,
    StatusModel,
    cel,
    validations,
)
from lineops.api.conditions import Conditions, Timestamp
from lineops.api.cron import CronExpression, check_cron
from lineops.api.errors import SpecProblem
from lineops.api.kinds import API_VERSION, QUALITY_MODEL, ResourceInfo
from lineops.api.meta import ObjectMeta
from lineops.api.quantities import (
    Decimal,
    Duration,
    Fraction,
    NonNegativeDecimal,
    PositiveDuration,
    optional_decimal,
    parse_decimal,
    parse_duration,
)

MAX_PARAMETERS: Final = 64
MAX_REPLICAS: Final = 20
MAX_METRICS: Final = 32

ParameterName = Annotated[str, StringConstraints(max_length=63)]
# Pipeline inputs the operator sets from the object (with '-' for '_' too, as parameters are
# matched): a parameter of the same name silently replaced them, so a run could register
# under another model's name or train for another task. ``dataset`` stays a parameter.
RESERVED_PARAMETERS: Final = {
    "task": "from spec.task",
    "model_name": "from metadata.name",
    "feature_service": "from spec.featureService",
    "label": "from spec.label",
    "promotion_metric": "from spec.promotion.metric",
    "promotion_minimum": "from spec.promotion.minimum",
    "must_beat_by": "from spec.promotion.mustBeatChampionBy",
    "run_id": "(one per training trigger)",
    "spec_hash": "(the hash of the spec)",
    "champion_metrics": "(the serving champion's metrics)",
    "champion_tag": "(the serving champion's tag)",
}
_RESERVED_SPELLINGS: Final = sorted(
    {n for k in RESERVED_PARAMETERS for n in (k, k.replace("_", "-"))}
)
ParameterValue = Annotated[str, StringConstraints(max_length=1024)]
MetricName = Annotated[str, StringConstraints(max_length=63)]
Metrics = Annotated[
    dict[MetricName, ShortText],
    Field(max_length=MAX_METRICS),
]


class Task(StrEnum):
    """What the model predicts."""

    FAULT_CLASSIFICATION = "fault-classification"
    ANOMALY_DETECTION = "anomaly-detection"
    FAILURE_PREDICTION = "failure-prediction"


class PromotionMetric(StrEnum):
    """Evaluation metric that decides promotion."""

    MACRO_F1 = "macro_f1"
    ACCURACY = "accuracy"
    DETECTION_RATE = "detection_rate"
    AUC = "auc"
    RMSE = "rmse"

    @property
    def higher_is_better(self) -> bool:
        return self is not PromotionMetric.RMSE


# What the data plane serves a model: its feature services (online at serving time, and the
# training set's columns on the line path) and, on the line path (no dataset parameter), the
# label sources per task. lineops.dataplane keeps its own tables equal to these (tested).
FEATURE_SERVICES: Final = ("sensor_window_v1", "sensor_last_v1")
LINE_LABELS: Final = {
    Task.FAULT_CLASSIFICATION: ("fault",),
    Task.ANOMALY_DETECTION: ("fault",),
    Task.FAILURE_PREDICTION: ("failure",),
}


# The metrics each task's runs report (the shipped pipelines; an engineer's own pipeline must
# report the chosen one under the same name), the task's default first. A metric the task
# never reports blocked every promotion ("the run reported no macro_f1"), and macro_f1 was
# the default for every task.
TASK_METRICS: Final = {
    Task.FAULT_CLASSIFICATION: (PromotionMetric.MACRO_F1, PromotionMetric.ACCURACY),
    Task.ANOMALY_DETECTION: (PromotionMetric.DETECTION_RATE, PromotionMetric.AUC),
    Task.FAILURE_PREDICTION: (PromotionMetric.RMSE,),
}


class RetrainOn(SpecModel):
    """Events that trigger retraining outside the schedule."""

    spc_alert: bool = Field(
        default=False, description="Retrain when a run rule fires on the referenced line."
    )
    drift_psi: NonNegativeDecimal | None = Field(
        default=None,
        description="Retrain when a feature's population stability index exceeds this value.",
    )

    @property
    def drift_psi_value(self) -> float | None:
        return optional_decimal(self.drift_psi)


DEFAULT_PIPELINE: Final = "quality-training"
ConfigMapKey = Annotated[
    str, StringConstraints(pattern=r"^[-._a-zA-Z0-9]+$", min_length=1, max_length=253)
]


class ConfigMapPipeline(SpecModel):
    """A compiled pipeline (KFP IR YAML) held in a ConfigMap of the model's namespace."""

    name: DnsSubdomain = Field(description="Name of the ConfigMap.")
    key: ConfigMapKey = Field(
        default="pipeline.yaml", description="Key of the ConfigMap's data holding the IR YAML."
    )


class KfpPipeline(SpecModel):
    """A pipeline version already uploaded to the KFP API server (cluster profile only)."""

    pipeline: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="Display name of the pipeline in KFP."
    )
    version: Annotated[str, StringConstraints(min_length=1, max_length=256)] = Field(
        description="Display name of the pipeline version in KFP."
    )


class PipelineRef(SpecModel):
    """An ML engineer's own compiled pipeline; it must keep the training-pipeline contract
    (docs/pipelines.md), which the operator checks before it submits a run."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.configMap) != has(self.kfp)",
                "set exactly one of configMap or kfp",
                reason="FieldValueInvalid",
            )
        )
    )

    config_map: ConfigMapPipeline | None = Field(
        default=None, description="The IR YAML in a ConfigMap of the model's namespace."
    )
    kfp: KfpPipeline | None = Field(
        default=None,
        description="A pipeline version uploaded to KFP (cluster profile; the embedded profile "
        "reports it unsupported in status).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.config_map is None) == (self.kfp is None):
            raise SpecProblem("set exactly one of configMap or kfp")
        return self


class Training(SpecModel):
    """How and when the model is (re)trained in Kubeflow Pipelines."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "!has(self.pipeline) || !has(self.pipelineRef)",
                "set either pipeline (shipped with lineops) or pipelineRef (your own), not both",
                field_path=".pipelineRef",
                reason="FieldValueForbidden",
            ),
            cel(
                "!has(self.parameters) || !self.parameters.exists(k, k in "
                + "["
                + ", ".join(f"'{n}'" for n in _RESERVED_SPELLINGS)
                + "])",
                "parameters: "
                + ", ".join(sorted(RESERVED_PARAMETERS))
                + " are set by the operator from the object (e.g. task from spec.task, "
                "model_name from metadata.name), not from parameters",
                field_path=".parameters",
                reason="FieldValueForbidden",
            ),
        )
    )

    pipeline: DnsLabel | None = Field(
        default=None,
        description="Name of a compiled pipeline shipped with lineops (pipelines/compiled/); "
        f"{DEFAULT_PIPELINE} when neither this nor pipelineRef is set.",
    )
    pipeline_ref: PipelineRef | None = Field(
        default=None,
        description="An ML engineer's own compiled pipeline instead of a shipped one.",
    )
    parameters: dict[ParameterName, ParameterValue] = Field(
        default_factory=dict,
        max_length=MAX_PARAMETERS,
        description='Pipeline parameters, as strings; e.g. epochs: "20".',
    )
    schedule: CronExpression | None = Field(
        default=None,
        description='Five-field cron schedule for retraining, e.g. "0 3 * * *", in the time '
        "zone of the line (spec.schedule.timezone, UTC by default); omit to train only on spec "
        "changes and retrainOn events.",
    )
    retrain_on: RetrainOn = Field(
        default_factory=RetrainOn, description="Events that trigger retraining."
    )
    cooldown: Duration = Field(
        default="1h", description="Minimum time between two event-triggered trainings."
    )
    window: PositiveDuration = Field(
        default="30d",
        description="How much of the line's history a run trains on: the window ends at the "
        "line's newest reading when the run starts, so each retraining moves it forward. "
        'Ignored when parameters name a dataset (e.g. dataset: "te").',
    )
    sample_every: Duration = Field(
        default="0s",
        description="One training row per work unit per interval (0s: one per reading time); "
        "raise it for lines that report many times per second.",
    )

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            check_cron(value)
        return value

    @model_validator(mode="after")
    def _no_reserved_parameters(self) -> Self:
        for name in self.parameters:
            source = RESERVED_PARAMETERS.get(name.replace("-", "_"))
            if source is not None:
                raise SpecProblem(
                    f"set by the operator {source}, not from parameters", "parameters", name
                )
        return self

    @model_validator(mode="after")
    def _one_pipeline(self) -> Self:
        if self.pipeline is not None and self.pipeline_ref is not None:
            raise SpecProblem(
                "set either pipeline (shipped with lineops) or pipelineRef (your own), not both",
                "pipelineRef",
            )
        return self

    @property
    def cooldown_seconds(self) -> float:
        return parse_duration(self.cooldown)

    @property
    def shipped_pipeline(self) -> str | None:
        """The shipped pipeline this model trains with; None when it references its own."""
        if self.pipeline_ref is not None:
            return None
        return self.pipeline or DEFAULT_PIPELINE


class Promotion(SpecModel):
    """When a newly trained challenger replaces the serving champion."""

    metric: PromotionMetric | None = Field(
        default=None,
        description="Metric compared; rmse is lower-is-better, the others higher-is-better. "
        "One the task reports: macro_f1 (default) or accuracy for fault-classification, "
        "detection_rate (default) or auc for anomaly-detection, rmse for failure-prediction.",
    )
    minimum: Decimal | None = Field(
        default=None,
        description="The challenger needs at least this value (at most, for rmse) to be promoted.",
    )
    must_beat_champion_by: NonNegativeDecimal = Field(
        default="0", description="Margin by which the challenger must beat the champion."
    )

    @property
    def chosen_metric(self) -> PromotionMetric:
        """The metric, once the QualityModelSpec has filled in its task's default."""
        if self.metric is None:
            raise ValueError("promotion.metric is unset: validate it within a QualityModelSpec")
        return self.metric

    @property
    def minimum_value(self) -> float | None:
        return optional_decimal(self.minimum)

    @property
    def margin_value(self) -> float:
        return parse_decimal(self.must_beat_champion_by)


QUANTITY_PATTERN: Final = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
Quantity = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN, max_length=32)]


class ResourceAmounts(SpecModel):
    """CPU and memory as Kubernetes quantities (e.g. cpu: 500m, memory: 1Gi)."""

    cpu: Quantity | None = Field(default=None, description='CPU, e.g. "500m" or "2".')
    memory: Quantity | None = Field(default=None, description='Memory, e.g. "512Mi" or "2Gi".')

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("cpu", self.cpu), ("memory", self.memory)) if v is not None}


# Defaults per amount, not only for the whole object: setting only the memory request used
# to drop the CPU request (the HPA, whose target is a share of it, could then never scale).
class RequestAmounts(ResourceAmounts):
    """Resources reserved per Pod; an amount left out keeps its default."""

    cpu: Quantity | None = Field(default="250m", description='CPU, e.g. "500m" or "2".')
    memory: Quantity | None = Field(default="512Mi", description='Memory, e.g. "512Mi" or "2Gi".')


class LimitAmounts(ResourceAmounts):
    """Upper bounds per Pod; an amount left out keeps its default (no CPU limit)."""

    memory: Quantity | None = Field(default="2Gi", description='Memory, e.g. "512Mi" or "2Gi".')


_QUANTITY_FACTORS: Final = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def parse_quantity(text: str) -> float:
    """A Kubernetes quantity of QUANTITY_PATTERN's form as a number (cores or bytes)."""
    match = re.match(QUANTITY_PATTERN, text)
    if match is None:
        raise ValueError(f"not a quantity: {text!r}")
    suffix = match.group(2) or ""
    return float(text[: len(text) - len(suffix)]) * _QUANTITY_FACTORS[suffix]


class ServingResources(SpecModel):
    """Requests and limits of each serving container (cluster profile)."""

    # Instances, not factories: the CRD's defaults come from the JSON schema's `default`.
    requests: RequestAmounts = Field(
        default=RequestAmounts(),
        description="Resources the scheduler reserves per Pod (the HPA's CPU target is a share "
        "of the CPU request).",
    )
    limits: LimitAmounts = Field(
        default=LimitAmounts(),
        json_schema_extra={"default": {"memory": "2Gi"}},  # no `cpu: null` in the CRD
        description="Upper bounds per Pod; no CPU limit by default (throttling makes the "
        "latency tail worse than sharing).",
    )

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        # The API server refused such a Deployment, and the status named the child object;
        # a memory of "512m" (thousandths of a byte) is never what was meant.
        for part, amounts in (("requests", self.requests), ("limits", self.limits)):
            if amounts.memory is not None and amounts.memory.endswith("m"):
                raise SpecProblem(
                    f"{amounts.memory} is thousandths of a byte; write e.g. "
                    f"{amounts.memory[:-1]}Mi",
                    part,
                    "memory",
                )
        for name in ("cpu", "memory"):
            request, limit = getattr(self.requests, name), getattr(self.limits, name)
            if request and limit and parse_quantity(request) > parse_quantity(limit):
                raise SpecProblem(
                    f"{request} is more than the limit {limit} (limits.{name})", "requests", name
                )
        return self


class CanaryAnalysis(SpecModel):
    """When a canary is good enough to be promoted (cluster profile)."""

    period: Duration = Field(
        default="5m",
        description="How long the canary is held once Available, its error rate and latency "
        "within the limits the whole time, before it is promoted.",
    )
    max_error_rate: Fraction = Field(
        default="0.01",
        description="Largest share of the canary's requests answered 5xx (0..1) over the "
        "period; above it the canary is rolled back.",
    )
    max_latency_p99_seconds: NonNegativeDecimal = Field(
        default="0.5",
        description="Largest 99th percentile of the canary's prediction latency, in seconds; "
        "above it the canary is rolled back.",
    )

    @property
    def period_seconds(self) -> float:
        return parse_duration(self.period)

    @property
    def max_error_rate_value(self) -> float:
        return parse_decimal(self.max_error_rate)

    @property
    def max_latency_p99_value(self) -> float:
        return parse_decimal(self.max_latency_p99_seconds)


class Serving(SpecModel):
    """How the champion (and a canary challenger) are served."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                # has(): the API server also checks this rule against the `{}` default.
                "!has(self.canaryPercent) || self.canaryPercent == 0"
                " || !has(self.replicas) || self.replicas > 0",
                "a canary needs replicas above 0",
                field_path=".canaryPercent",
            ),
            cel(
                "!has(self.maxReplicas) || self.maxReplicas >= (has(self.replicas) ? "
                "self.replicas : 1)",
                "maxReplicas must be at least replicas",
                field_path=".maxReplicas",
            ),
        )
    )

    replicas: int = Field(
        default=1, ge=0, le=MAX_REPLICAS, description="Champion replicas; 0 stops serving."
    )
    canary_percent: int = Field(
        default=0,
        ge=0,
        le=100,
        description="Share of requests sent to a new champion before it replaces the old one "
        "(0..100). Cluster profile: approximated by the share of Pods behind the model's "
        "Service; 0 rolls a new champion out directly. The embedded profile switches at once "
        "once the new one is ready.",
    )
    max_replicas: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPLICAS,
        description="Cluster profile: above replicas, a HorizontalPodAutoscaler scales the "
        "champion between replicas and this on CPU.",
    )
    target_cpu_utilization_percent: int = Field(
        default=80,
        ge=1,
        le=100,
        description="Cluster profile: the HorizontalPodAutoscaler's CPU target (share of the "
        "CPU request).",
    )
    resources: ServingResources = Field(
        default_factory=ServingResources,
        description="Cluster profile: requests and limits of each serving Pod.",
    )
    canary_analysis: CanaryAnalysis = Field(
        default_factory=CanaryAnalysis,
        description="Cluster profile: how long a canary is held and the limits it must keep.",
    )

    @model_validator(mode="after")
    def _autoscaling_needs_a_cpu_request(self) -> Self:
        scales = self.max_replicas is not None and self.max_replicas > self.replicas
        if scales and self.resources.requests.cpu is None:
            raise SpecProblem(
                "required when maxReplicas is above replicas: the autoscaler's target is a "
                "share of it",
                "resources",
                "requests",
                "cpu",
            )
        return self

    @model_validator(mode="after")
    def _canary_needs_replicas(self) -> Self:
        if self.canary_percent > 0 and self.replicas == 0:
            raise SpecProblem("a canary needs replicas above 0", "canaryPercent")
        if self.max_replicas is not None and self.max_replicas < max(self.replicas, 1):
            raise SpecProblem("maxReplicas must be at least replicas", "maxReplicas")
        return self

    @property
    def autoscaled(self) -> bool:
        """An HPA scales the champion (maxReplicas above replicas)."""
        return self.max_replicas is not None and self.max_replicas > self.replicas > 0


class QualityModelSpec(SpecModel):
    """Desired state of a quality model."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.task != 'fault-classification' || has(self.label)",
                "label is required when task is fault-classification",
                field_path=".label",
                reason="FieldValueRequired",
            ),
            cel(
                "self.featureService in [" + ", ".join(f"'{n}'" for n in FEATURE_SERVICES) + "]",
                "featureService must be one the data plane serves: " + ", ".join(FEATURE_SERVICES),
                field_path=".featureService",
                reason="FieldValueInvalid",
            ),
            cel(
                "!has(self.promotion) || !has(self.promotion.metric) || "
                + " || ".join(
                    f"(self.task == '{task.value}' && self.promotion.metric in ["
                    + ", ".join(f"'{m.value}'" for m in metrics)
                    + "])"
                    for task, metrics in TASK_METRICS.items()
                ),
                "promotion.metric must be one the task reports: "
                + "; ".join(
                    f"{task.value}: " + " or ".join(m.value for m in metrics)
                    for task, metrics in TASK_METRICS.items()
                ),
                field_path=".promotion.metric",
                reason="FieldValueInvalid",
            ),
        )
    )

    line_ref: DnsSubdomain = Field(
        description="Name of the ProductionLine in the same namespace whose data trains the model."
    )
    task: Task = Field(description="What the model predicts.")
    feature_service: Identifier = Field(
        description="Feast feature service providing the model's inputs, e.g. sensor_window_v1."
    )
    label: Identifier | None = Field(
        default=None,
        description="Label column to predict; required for fault-classification.",
    )
    training: Training = Field(default_factory=Training, description="Training pipeline.")
    promotion: Promotion = Field(default_factory=Promotion, description="Promotion policy.")
    serving: Serving = Field(default_factory=Serving, description="Serving settings.")

    @model_validator(mode="after")
    def _label_for_classification(self) -> Self:
        if self.task is Task.FAULT_CLASSIFICATION and self.label is None:
            raise SpecProblem("label is required when task is fault-classification", "label")
        return self

    @model_validator(mode="after")
    def _served_features_and_label(self) -> Self:
        # Checked at run time only, before: the run was submitted and retried max_attempts
        # times before the data plane refused it.
        if self.feature_service not in FEATURE_SERVICES:
            raise SpecProblem(
                f"{self.feature_service!r} is not a feature service of the data plane; use "
                + " or ".join(FEATURE_SERVICES),
                "featureService",
            )
        sources = LINE_LABELS[self.task]
        on_the_line = "dataset" not in self.training.parameters
        if on_the_line and self.label is not None and self.label not in sources:
            raise SpecProblem(
                f"{self.label!r} is not a label source for {self.task.value} on the line's "
                f"data; use {' or '.join(sources)} (or name a dataset in "
                "spec.training.parameters, whose own column it then is)",
                "label",
            )
        return self

    @model_validator(mode="after")
    def _metric_for_task(self) -> Self:
        reported = TASK_METRICS[self.task]
        if self.promotion.metric is None:
            self.promotion.metric = reported[0]
        elif self.promotion.metric not in reported:
            raise SpecProblem(
                f"{self.promotion.metric.value} is not reported for {self.task.value}; use "
                + " or ".join(m.value for m in reported),
                "promotion",
                "metric",
            )
        return self


class TrainingStatus(StatusModel):
    """The latest training run."""

    run_id: ShortText | None = Field(default=None, description="Pipeline run id.")
    state: ShortText | None = Field(
        default=None, description="Pending, Running, Succeeded or Failed."
    )
    spec_hash: ShortText | None = Field(
        default=None, description="Canonical hash of the spec that requested the run."
    )
    request_name: ShortText | None = Field(
        default=None, description="Idempotency name of the run request, derived from specHash."
    )
    started_at: Timestamp | None = Field(default=None, description="RFC 3339 start time.")
    finished_at: Timestamp | None = Field(default=None, description="RFC 3339 end time.")
    message: LongText | None = Field(default=None, description="Details of the last outcome.")
    metrics: Metrics = Field(
        default_factory=dict, description="Evaluation metrics of the run, as decimal strings."
    )


class ChampionStatus(StatusModel):
    """The model version currently served."""

    version: ShortText | None = Field(default=None, description="Model version (tag).")
    metrics: Metrics = Field(
        default_factory=dict, description="Evaluation metrics, as decimal strings."
    )
    score: ShortText | None = Field(
        default=None, description="Value of spec.promotion.metric for this version."
    )
    served_since: Timestamp | None = Field(default=None, description="RFC 3339 time of promotion.")


class ChallengerStatus(StatusModel):
    """The latest trained version that is not (yet) the champion."""

    version: ShortText | None = Field(default=None, description="Model version (tag).")
    metrics: Metrics = Field(
        default_factory=dict, description="Evaluation metrics, as decimal strings."
    )
    score: ShortText | None = Field(
        default=None, description="Value of spec.promotion.metric for this version."
    )
    spec_hash: ShortText | None = Field(
        default=None,
        description="Training spec hash the version was trained for; a challenger of an "
        "earlier spec is dropped, not promoted by a later change of spec.promotion.",
    )


class CanaryStatus(StatusModel):
    """A new champion taking a share of the requests before it replaces the old one."""

    state: ShortText | None = Field(
        default=None, description="Progressing, Promoted or RolledBack."
    )
    step: ShortText | None = Field(
        default=None,
        description="Progressing: WaitingForAvailable, Analysing or Promoting.",
    )
    tag: ShortText | None = Field(default=None, description="Model tag of the canary.")
    since: Timestamp | None = Field(
        default=None, description="RFC 3339 time the canary entered this state."
    )
    reason: LongText | None = Field(
        default=None,
        description="The step it is at (Progressing), or why it was promoted or rolled back.",
    )


class ServingStatus(StatusModel):
    """What answers on the model's endpoint (see the Serving condition for why not)."""

    endpoint: Annotated[str, StringConstraints(max_length=2048)] | None = Field(
        default=None,
        description="Stable URL of the prediction endpoint; it does not change when a new "
        "champion replaces the old one.",
    )
    champion: ShortText | None = Field(
        default=None, description="Model tag answering on the endpoint now."
    )
    challenger: ShortText | None = Field(
        default=None,
        description="Model tag being started to replace it (or taking a canary's share).",
    )
    state: ShortText | None = Field(
        default=None,
        description="Serving, Starting, Restarting, Failed, Disabled or NoChampion; cluster "
        "profile: also Canary (a new champion's canary is analysed).",
    )
    since: Timestamp | None = Field(
        default=None, description="RFC 3339 time the state or the tag served last changed."
    )
    message: LongText | None = Field(default=None, description="Details of the state.")
    canary: CanaryStatus | None = Field(
        default=None,
        description="Cluster profile: the latest canary of a new champion (kept after it was "
        "promoted or rolled back, until the next one).",
    )


class QualityModelStatus(StatusModel):
    """Observed state of a quality model, written by the operator."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation this status was computed from."
    )
    conditions: Conditions = Field(
        default_factory=list, description="Ready, Trained, Serving, PromotionBlocked conditions."
    )
    training: TrainingStatus | None = Field(default=None, description="Latest training run.")
    champion: ChampionStatus | None = Field(default=None, description="Served model version.")
    challenger: ChallengerStatus | None = Field(
        default=None, description="Latest candidate version."
    )
    endpoint: Annotated[str, StringConstraints(max_length=2048)] | None = Field(
        default=None, description="URL of the prediction endpoint."
    )
    serving: ServingStatus | None = Field(
        default=None, description="The champion's serving: endpoint, tags, state."
    )


class QualityModel(ApiModel):
    """A model trained on a line's features, promoted by policy and served."""

    api_version: Literal["lineops.io/v1alpha1"] = Field(default=API_VERSION)
    kind: Literal["QualityModel"] = Field(default="QualityModel")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: QualityModelSpec
    status: QualityModelStatus = Field(default_factory=QualityModelStatus)

    @field_validator("status", mode="before")
    @classmethod
    def _read_status(cls, value: Any) -> Any:
        # Status comes from the cluster, maybe from a newer operator: unknown fields ignored.
        return QualityModelStatus.read(value) if isinstance(value, dict) else value

    RESOURCE: ClassVar[ResourceInfo] = QUALITY_MODEL
