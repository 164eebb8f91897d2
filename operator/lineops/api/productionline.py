"""The ProductionLine custom resource: an ISA-95 line, its sensors, quality and monitoring."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from lineops.api.base import (
    NAME_KEYED_LIST,
    ApiModel,
    DnsLabel,
    Identifier,
    LongText,
    ShortText,
    SpecModel,
    StatusModel,
    cel,
    validations,
)
from lineops.api.conditions import Conditions, Timestamp
from lineops.api.errors import SpecProblem
from lineops.api.kinds import API_VERSION, PRODUCTION_LINE, ResourceInfo
from lineops.api.meta import ObjectMeta
from lineops.api.quantities import (
    Decimal,
    Fraction,
    NonNegativeDecimal,
    PositiveDuration,
    optional_decimal,
    parse_decimal,
    parse_duration,
)
from lineops.api.uniqueness import duplicate_names
from lineops.mes.kinds import SUBGROUP_CHARTS, ChartKind
from lineops.mes.rules import RULES, ZONE_KINDS

MAX_WORK_UNITS: Final = 100
MAX_SENSORS: Final = 200
MAX_QUALITY_CHARACTERISTICS: Final = 100
MAX_SHIFTS: Final = 12
MAX_SUBGROUP_SIZE: Final = 25

CLOCK_PATTERN: Final = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
TIMEZONE_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
# host:port with a port of 1..65535 (0 or 99999 were accepted and failed in the subscriber).
PORT_PATTERN: Final = (
    r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
)
BROKER_PATTERN: Final = rf"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:{PORT_PATTERN}$"
# The group goes into "$share/<group>/<topic>": '/', '+' and '#' would change the filter.
MQTT_GROUP_PATTERN: Final = r"^[A-Za-z0-9][-A-Za-z0-9_.]*$"

Clock = Annotated[str, StringConstraints(pattern=CLOCK_PATTERN, max_length=5)]
Unit = Annotated[str, StringConstraints(max_length=32)]

ATTRIBUTE_CHARTS: Final = frozenset({ChartKind.P, ChartKind.NP, ChartKind.C, ChartKind.U})
# Rules an attribute chart does not evaluate (lineops.mes.rules.applies).
ZONE_RULES: Final = frozenset(r for r, spec in RULES.items() if spec.kind in ZONE_KINDS)


class RunRule(StrEnum):
    """Nelson (8) and Western Electric (4) run rules evaluated on a control chart."""

    NELSON_1 = "nelson-1"
    NELSON_2 = "nelson-2"
    NELSON_3 = "nelson-3"
    NELSON_4 = "nelson-4"
    NELSON_5 = "nelson-5"
    NELSON_6 = "nelson-6"
    NELSON_7 = "nelson-7"
    NELSON_8 = "nelson-8"
    WECO_1 = "weco-1"
    WECO_2 = "weco-2"
    WECO_3 = "weco-3"
    WECO_4 = "weco-4"


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Shift(SpecModel):
    """A recurring shift; an end before the start means the shift crosses midnight."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel("self.start != self.end", "start and end must differ", field_path=".end")
        )
    )

    name: DnsLabel = Field(description="Shift name, unique within the schedule.")
    start: Clock = Field(description='Local start time, "HH:MM" (24-hour clock).')
    end: Clock = Field(description='Local end time, "HH:MM"; earlier than start crosses midnight.')

    @model_validator(mode="after")
    def _start_differs_from_end(self) -> Self:
        if self.start == self.end:
            raise SpecProblem("start and end must differ", "end")
        return self

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    @property
    def duration_seconds(self) -> float:
        """Planned length of the shift in seconds."""
        minutes = (_minutes(self.end) - _minutes(self.start)) % (24 * 60)
        return minutes * 60.0


class Schedule(SpecModel):
    """When the line is planned to produce; the basis of OEE availability."""

    timezone: Annotated[str, StringConstraints(pattern=TIMEZONE_PATTERN, max_length=64)] = Field(
        default="UTC", description="IANA time zone of the shift times, e.g. Europe/Berlin."
    )
    shifts: list[Shift] = Field(
        default_factory=list,
        max_length=MAX_SHIFTS,
        description="Shifts, unique by name and not overlapping; no shifts means the line is "
        "planned around the clock.",
        json_schema_extra=NAME_KEYED_LIST,
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # The pattern only checks the shape: an unknown zone raised a KeyError out of the
        # OEE computation on every reconcile, with no word in the status.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _unique_shift_names(self) -> Self:
        for index, name in duplicate_names(shift.name for shift in self.shifts):
            raise SpecProblem(f"duplicate name {name!r}", "shifts", index, "name")
        return self

    @model_validator(mode="after")
    def _shifts_do_not_overlap(self) -> Self:
        # One hour of the day belongs to one shift: overlapping shifts counted that time
        # twice in the line's OEE, and the shift history replaced one with the other.
        taken: list[tuple[int, int, int]] = []  # (from, to) minutes of the day, shift index
        for index, shift in enumerate(self.shifts):
            lo, hi = _minutes(shift.start), _minutes(shift.end)
            spans = [(lo, hi)] if lo < hi else [(lo, 24 * 60), (0, hi)]
            for a, b in spans:
                for c, d, other in taken:
                    if a < d and c < b:
                        raise SpecProblem(
                            f"{shift.name!r} ({shift.start}-{shift.end}) overlaps "
                            f"{self.shifts[other].name!r} ({self.shifts[other].start}-"
                            f"{self.shifts[other].end}); shifts must not overlap",
                            "shifts",
                            index,
                        )
            taken.extend((a, b, index) for a, b in spans)
        return self


class Sensor(SpecModel):
    """A measured signal of a work unit."""

    name: Identifier = Field(
        description="Signal name (lower snake case), unique within the work unit; used as the "
        "feature column and metric label."
    )
    unit: Unit = Field(description="Engineering unit, e.g. mm/s, degC, bar, A.")
    valid_range: (
        Annotated[
            list[Decimal],
            Field(
                min_length=2,
                max_length=2,
                json_schema_extra=validations(
                    cel("double(self[0]) < double(self[1])", "min must be below max")
                ),
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="[min, max] of physically plausible readings; readings outside are dropped "
        "as sensor faults. Omit to accept every reading.",
    )

    @field_validator("valid_range")
    @classmethod
    def _min_below_max(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not parse_decimal(value[0]) < parse_decimal(value[1]):
            raise ValueError("min must be below max")
        return value

    @property
    def valid_min(self) -> float | None:
        return None if self.valid_range is None else parse_decimal(self.valid_range[0])

    @property
    def valid_max(self) -> float | None:
        return None if self.valid_range is None else parse_decimal(self.valid_range[1])


class WorkUnit(SpecModel):
    """An ISA-95 work unit: one machine or station of the line."""

    name: DnsLabel = Field(description="Work-unit name (DNS label), unique within the line.")
    ideal_cycle_time: PositiveDuration = Field(
        description="Ideal (nameplate) time to produce one unit, e.g. 1.2s; the basis of OEE "
        "performance."
    )
    sensors: list[Sensor] = Field(
        default_factory=list,
        max_length=MAX_SENSORS,
        description="Sensors of this work unit, unique by name.",
        json_schema_extra=NAME_KEYED_LIST,
    )

    @model_validator(mode="after")
    def _unique_sensor_names(self) -> Self:
        for index, name in duplicate_names(sensor.name for sensor in self.sensors):
            raise SpecProblem(f"duplicate name {name!r}", "sensors", index, "name")
        return self

    @property
    def ideal_cycle_seconds(self) -> float:
        return parse_duration(self.ideal_cycle_time)


class QualityCharacteristic(SpecModel):
    """A measured product property watched with a control chart and capability indices."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.lsl) || has(self.usl)",
                "at least one of lsl and usl is required",
                reason="FieldValueRequired",
            ),
            cel(
                "!has(self.lsl) || !has(self.usl) || double(self.lsl) < double(self.usl)",
                "lsl must be below usl",
                field_path=".lsl",
            ),
            cel(
                "!has(self.lsl) || double(self.lsl) < double(self.target)",
                "target must be above lsl",
                field_path=".target",
            ),
            cel(
                "!has(self.usl) || double(self.target) < double(self.usl)",
                "target must be below usl",
                field_path=".target",
            ),
            cel(
                "!(self.chart in ['xbar-r', 'xbar-s']) || self.subgroupSize >= 2",
                "xbar-r and xbar-s charts need subgroupSize between 2 and 25",
                field_path=".subgroupSize",
            ),
            cel(
                "self.chart != 'imr' || self.subgroupSize == 1",
                "imr charts need subgroupSize 1",
                field_path=".subgroupSize",
            ),
        )
    )

    name: Identifier = Field(
        description="Characteristic name (lower snake case), unique within the line."
    )
    unit: Unit = Field(
        description="Engineering unit of the measurements, e.g. mm; for attribute charts "
        "(p, np, c, u) the counted item, e.g. defects."
    )
    target: Decimal = Field(description="Nominal value, strictly between lsl and usl.")
    lsl: Decimal | None = Field(
        default=None, description="Lower specification limit; lsl or usl (or both) is required."
    )
    usl: Decimal | None = Field(
        default=None, description="Upper specification limit; lsl or usl (or both) is required."
    )
    subgroup_size: int = Field(
        default=5,
        ge=1,
        le=MAX_SUBGROUP_SIZE,
        description="Measurements per rational subgroup (sample size n): 2..25 for xbar-r and "
        "xbar-s, 1 for imr; the inspected sample size for attribute charts.",
    )
    chart: ChartKind = Field(default=ChartKind.XBAR_R, description="Control chart type.")
    rules: list[RunRule] = Field(
        default=[RunRule.NELSON_1],
        max_length=len(RunRule),
        json_schema_extra={"x-kubernetes-list-type": "set"},
        description="Run rules that flag an out-of-control signal.",
    )

    @model_validator(mode="after")
    def _limits_and_chart(self) -> Self:
        lsl, usl, target = self.lsl_value, self.usl_value, self.target_value
        if lsl is None and usl is None:
            raise SpecProblem("at least one of lsl and usl is required")
        if lsl is not None and usl is not None and not lsl < usl:
            raise SpecProblem("lsl must be below usl", "lsl")
        if lsl is not None and not lsl < target:
            raise SpecProblem("target must be above lsl", "target")
        if usl is not None and not target < usl:
            raise SpecProblem("target must be below usl", "target")
        if self.chart in SUBGROUP_CHARTS and self.subgroup_size < 2:
            raise SpecProblem(
                "xbar-r and xbar-s charts need subgroupSize between 2 and 25", "subgroupSize"
            )
        if self.chart is ChartKind.IMR and self.subgroup_size != 1:
            raise SpecProblem("imr charts need subgroupSize 1", "subgroupSize")
        for index, name in duplicate_names(rule.value for rule in self.rules):
            raise SpecProblem(f"duplicate rule {name!r}", "rules", index)
        if self.chart in ATTRIBUTE_CHARTS:
            for index, rule in enumerate(self.rules):
                if rule.value in ZONE_RULES:
                    raise SpecProblem(
                        f"{rule.value} reads the 1- and 2-sigma zones, which assume normally "
                        "distributed points; on p, np, c and u charts use nelson-1..4, weco-1 "
                        "or weco-4",
                        "rules",
                        index,
                    )
        return self

    @property
    def target_value(self) -> float:
        return parse_decimal(self.target)

    @property
    def lsl_value(self) -> float | None:
        return optional_decimal(self.lsl)

    @property
    def usl_value(self) -> float | None:
        return optional_decimal(self.usl)


class HttpIngestion(SpecModel):
    """Readings pushed to the operator's HTTP ingestion endpoint."""

    enabled: bool = Field(default=True, description="Accept readings over HTTP.")


class MqttIngestion(SpecModel):
    """Readings consumed from an MQTT broker."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                # has(): the API server also checks this rule against the `{}` default.
                "!has(self.enabled) || !self.enabled || has(self.broker)",
                "broker is required when mqtt is enabled",
                field_path=".broker",
                reason="FieldValueRequired",
            )
        )
    )

    enabled: bool = Field(default=False, description="Subscribe to the broker.")
    broker: Annotated[str, StringConstraints(pattern=BROKER_PATTERN, max_length=260)] | None = (
        Field(default=None, description='Broker address "host:port"; required when enabled.')
    )
    group: Annotated[str, StringConstraints(pattern=MQTT_GROUP_PATTERN, max_length=63)] | None = (
        Field(
            default=None,
            description="Shared-subscription group, so that operator replicas split the stream "
            "(letters, digits, '-', '_', '.').",
        )
    )

    @model_validator(mode="after")
    def _broker_when_enabled(self) -> Self:
        if self.enabled and self.broker is None:
            raise SpecProblem("broker is required when mqtt is enabled", "broker")
        return self


class Ingestion(SpecModel):
    """How sensor readings reach the line."""

    http: HttpIngestion = Field(default_factory=HttpIngestion, description="HTTP push ingestion.")
    mqtt: MqttIngestion = Field(default_factory=MqttIngestion, description="MQTT ingestion.")


# Online features stay readable for this many windows after their last update; after that a
# work unit that stopped reporting has no features rather than stale ones.
FEATURE_TTL_WINDOWS: Final = 12
# The ingestion service's materialisation tick: a shorter materializeEvery cannot be kept.
MATERIALIZE_TICK: Final = "100ms"


class Features(SpecModel):
    """Sensor-window features materialised into the Feast online store."""

    window: PositiveDuration = Field(
        default="5m", description="Aggregation window of sensor features."
    )
    materialize_every: PositiveDuration = Field(
        default="1m", description="How often features are materialised to the online store."
    )

    @model_validator(mode="after")
    def _kept_fresh(self) -> Self:
        every = self.materialize_every_seconds
        if every < parse_duration(MATERIALIZE_TICK):
            raise SpecProblem(
                f"shorter than {MATERIALIZE_TICK}, the materialisation tick", "materializeEvery"
            )
        if every > FEATURE_TTL_WINDOWS * self.window_seconds:
            raise SpecProblem(
                f"longer than {FEATURE_TTL_WINDOWS} windows ({FEATURE_TTL_WINDOWS} x "
                f"{self.window}), after which online features expire: they would go missing "
                "between two materialisations",
                "materializeEvery",
            )
        return self

    @property
    def window_seconds(self) -> float:
        return parse_duration(self.window)

    @property
    def materialize_every_seconds(self) -> float:
        return parse_duration(self.materialize_every)


class Monitoring(SpecModel):
    """What the operator computes and exports for the line, and the alert thresholds."""

    oee: bool = Field(default=True, description="Compute and export OEE (ISO 22400-2).")
    spc: bool = Field(default=True, description="Evaluate control charts and run rules.")
    prometheus_rule: bool = Field(
        default=True, description="Create a PrometheusRule with the line's alerts."
    )
    oee_target: Fraction = Field(
        default="0.85", description="OEE below this fraction (0..1) raises an alert."
    )
    cpk_target: NonNegativeDecimal = Field(
        default="1.33", description="Cpk below this value raises a capability alert."
    )
    drift_psi: NonNegativeDecimal = Field(
        default="0.25",
        description="Population stability index above which a sensor is reported as drifting.",
    )

    @property
    def oee_target_value(self) -> float:
        return parse_decimal(self.oee_target)

    @property
    def cpk_target_value(self) -> float:
        return parse_decimal(self.cpk_target)

    @property
    def drift_psi_value(self) -> float:
        return parse_decimal(self.drift_psi)


class ProductionLineSpec(SpecModel):
    """Desired state of a production line."""

    site: DnsLabel = Field(description="ISA-95 site (plant) the line belongs to (DNS label).")
    area: Annotated[str, StringConstraints(min_length=1, max_length=63)] = Field(
        description="ISA-95 area within the site, e.g. stamping."
    )
    schedule: Schedule | None = Field(
        default=None, description="Planned production time; omit for around the clock in UTC."
    )
    work_units: list[WorkUnit] = Field(
        min_length=1,
        max_length=MAX_WORK_UNITS,
        description="Machines and stations of the line, unique by name.",
        json_schema_extra=NAME_KEYED_LIST,
    )
    quality_characteristics: list[QualityCharacteristic] = Field(
        default_factory=list,
        max_length=MAX_QUALITY_CHARACTERISTICS,
        description="Product characteristics under statistical process control, unique by name.",
        json_schema_extra=NAME_KEYED_LIST,
    )
    ingestion: Ingestion = Field(
        default_factory=Ingestion, description="How sensor readings reach the line."
    )
    features: Features = Field(default_factory=Features, description="Feature computation.")
    monitoring: Monitoring = Field(
        default_factory=Monitoring, description="KPIs, control charts and alerts."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        for index, name in duplicate_names(unit.name for unit in self.work_units):
            raise SpecProblem(f"duplicate name {name!r}", "workUnits", index, "name")
        for index, name in duplicate_names(qc.name for qc in self.quality_characteristics):
            raise SpecProblem(f"duplicate name {name!r}", "qualityCharacteristics", index, "name")
        return self

    def work_unit(self, name: str) -> WorkUnit | None:
        return next((unit for unit in self.work_units if unit.name == name), None)

    def quality_characteristic(self, name: str) -> QualityCharacteristic | None:
        return next((qc for qc in self.quality_characteristics if qc.name == name), None)


class Kpis(StatusModel):
    """Latest OEE figures of the line (ISO 22400-2), as fractions 0..1."""

    oee: Decimal | None = Field(default=None, description="Availability x Performance x Quality.")
    availability: Decimal | None = Field(
        default=None, description="Run time / planned production time."
    )
    performance: Decimal | None = Field(
        default=None, description="Ideal cycle time x total count / run time."
    )
    quality: Decimal | None = Field(default=None, description="Good count / total count.")


class SpcStatus(StatusModel):
    """Summary of the line's control charts."""

    in_control: bool | None = Field(
        default=None, description="No run rule fires on any quality characteristic."
    )
    violations: int = Field(default=0, ge=0, description="Run-rule violations currently open.")
    counted: dict[ShortText, Annotated[int, Field(ge=0)]] | None = Field(
        default=None,
        max_length=MAX_QUALITY_CHARACTERISTICS,
        description="Per quality characteristic, the subgroups whose run-rule violations "
        "are counted in lineops_spc_violations_total; a restarted operator starts from "
        "here, so the violations it re-reads do not count (and alert) again.",
    )


class DriftStatus(StatusModel):
    """Largest population stability index of the line's sensors, recent vs reference."""

    max_psi: Decimal | None = Field(
        default=None, description="Largest PSI over the sensors with enough readings."
    )
    feature: Annotated[str, StringConstraints(max_length=253)] | None = Field(
        default=None, description="The sensor with that PSI, as <workUnit>/<sensor>."
    )
    band: Literal["stable", "moderate", "significant"] | None = Field(
        default=None, description="PSI band: below 0.10, 0.10 to 0.25, above 0.25."
    )
    drifting: int = Field(
        default=0, ge=0, description="Sensors whose PSI is above spec.monitoring.driftPsi."
    )


class MaintenanceWindow(StatusModel):
    """A maintenance window the current plan schedules around."""

    work_unit: ShortText | None = Field(default=None, description="The work unit it blocks.")
    start: Timestamp | None = Field(default=None, description="RFC 3339 start.")
    end: Timestamp | None = Field(default=None, description="RFC 3339 end.")
    reason: LongText | None = Field(
        default=None, description="Why: planned, or predicted by a failure-prediction model."
    )


class PlanStatus(StatusModel):
    """Summary of the line's current production plan (the newest one stored)."""

    plan_id: int | None = Field(default=None, ge=0, description="Id of the plan in the data plane.")
    created_at: Timestamp | None = Field(default=None, description="When it was stored.")
    method: ShortText | None = Field(
        default=None, description="cp-sat, or the dispatch rule of the fallback."
    )
    orders: int = Field(default=0, ge=0, description="Work orders in the plan.")
    orders_late: int = Field(default=0, ge=0, description="Orders planned past their due date.")
    weighted_tardiness: int = Field(
        default=0, ge=0, description="Sum over orders of priority weight x tardiness (seconds)."
    )
    end: Timestamp | None = Field(default=None, description="When the last operation ends.")
    next_maintenance: MaintenanceWindow | None = Field(
        default=None, description="The first maintenance window not yet over."
    )


class ShiftKpis(StatusModel):
    """OEE of one planned shift (ISO 22400-2), as fractions 0..1."""

    name: ShortText | None = Field(default=None, description="The schedule's shift name.")
    start: Timestamp | None = Field(default=None, description="RFC 3339 start (UTC).")
    end: Timestamp | None = Field(default=None, description="RFC 3339 end (UTC).")
    availability: Decimal | None = Field(
        default=None, description="Run time / planned busy time (shift minus planned maintenance)."
    )
    performance: Decimal | None = Field(
        default=None, description="Ideal cycle time x total count / run time."
    )
    quality: Decimal | None = Field(default=None, description="Good count / total count.")
    oee: Decimal | None = Field(default=None, description="Availability x Performance x Quality.")


class ShiftsStatus(StatusModel):
    """OEE of the shift in progress (so far) and of the last one ended, by the clock of the
    line's newest record."""

    current: ShiftKpis | None = Field(default=None, description="The shift in progress, so far.")
    previous: ShiftKpis | None = Field(default=None, description="The last shift that ended.")


class ProductionLineStatus(StatusModel):
    """Observed state of a production line, written by the operator."""

    observed_generation: int | None = Field(
        default=None, ge=0, description="metadata.generation this status was computed from."
    )
    conditions: Conditions = Field(
        default_factory=list, description="Ready, FeaturesReady, IngestionReady, ... conditions."
    )
    kpis: Kpis | None = Field(default=None, description="Latest OEE figures.")
    spc: SpcStatus | None = Field(default=None, description="Control-chart summary.")
    drift: DriftStatus | None = Field(default=None, description="Sensor drift summary.")
    plan: PlanStatus | None = Field(default=None, description="The current production plan.")
    shifts: ShiftsStatus | None = Field(
        default=None, description="OEE of the current and the previous planned shift."
    )


class ProductionLine(ApiModel):
    """A production line: work units, sensors, quality characteristics and monitoring."""

    api_version: Literal["lineops.io/v1alpha1"] = Field(default=API_VERSION)
    kind: Literal["ProductionLine"] = Field(default="ProductionLine")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: ProductionLineSpec
    status: ProductionLineStatus = Field(default_factory=ProductionLineStatus)

    @field_validator("status", mode="before")
    @classmethod
    def _read_status(cls, value: Any) -> Any:
        # Status comes from the cluster, maybe from a newer operator: unknown fields ignored.
        return ProductionLineStatus.read(value) if isinstance(value, dict) else value

    RESOURCE: ClassVar[ResourceInfo] = PRODUCTION_LINE
