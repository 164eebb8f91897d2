"""The models: examples, defaults, derived values and each Python-side rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from lineops.api import (
    ChartKind,
    ProductionLine,
    ProductionLineSpec,
    PromotionMetric,
    QualityModel,
    QualityModelSpec,
    RunRule,
    Task,
    describe_validation_error,
)
from lineops.api.kinds import PRODUCTION_LINE, QUALITY_MODEL
from pydantic import ValidationError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


LINE: dict[str, Any] = {
    "site": "plant-a",
    "area": "stamping",
    "workUnits": [{"name": "press-01", "idealCycleTime": "1.2s"}],
}
MODEL: dict[str, Any] = {
    "lineRef": "press-line-1",
    "task": "anomaly-detection",
    "featureService": "sensor_window_v1",
}
QC: dict[str, Any] = {
    "name": "ring_diameter",
    "unit": "mm",
    "target": "74.000",
    "lsl": "73.950",
    "usl": "74.050",
}


def line_error(**changes: Any) -> str:
    spec = {**copy.deepcopy(LINE), **changes}
    with pytest.raises(ValidationError) as caught:
        ProductionLineSpec.model_validate(spec)
    return describe_validation_error(caught.value)


def model_error(**changes: Any) -> str:
    spec = {**copy.deepcopy(MODEL), **changes}
    with pytest.raises(ValidationError) as caught:
        QualityModelSpec.model_validate(spec)
    return describe_validation_error(caught.value)


# --- examples ----------------------------------------------------------------------------------


def test_production_line_example() -> None:
    line = ProductionLine.model_validate(load("productionline.yaml"))
    assert line.metadata.name == "press-line-1"
    assert line.metadata.namespace is None
    spec = line.spec
    assert [u.name for u in spec.work_units] == ["press-01", "furnace-01", "grinder-01", "gauge-01"]
    assert spec.work_units[0].ideal_cycle_seconds == pytest.approx(1.2)
    press = spec.work_unit("press-01")
    assert press is not None
    assert press.sensors[0].valid_min == 0.0
    assert press.sensors[0].valid_max == 50.0
    grinder = spec.work_unit("grinder-01")
    assert grinder is not None and grinder.sensors[-1].valid_range is None
    ring = spec.quality_characteristic("ring_diameter")
    assert ring is not None
    assert (ring.lsl_value, ring.target_value, ring.usl_value) == (73.95, 74.0, 74.05)
    assert ring.chart is ChartKind.XBAR_R and ring.subgroup_size == 5
    assert ring.rules == [RunRule.NELSON_1, RunRule.NELSON_2, RunRule.NELSON_5]
    charts = {qc.chart for qc in spec.quality_characteristics}
    assert {ChartKind.XBAR_R, ChartKind.IMR, ChartKind.P} <= charts
    roughness = spec.quality_characteristic("surface_roughness")
    assert roughness is not None and roughness.lsl_value is None
    assert spec.schedule is not None
    night = spec.schedule.shifts[-1]
    assert night.crosses_midnight and night.duration_seconds == 8 * 3600
    assert spec.features.window_seconds == 300.0
    assert spec.monitoring.oee_target_value == 0.85


@pytest.mark.parametrize("name", ["qualitymodel.yaml", "qualitymodel-anomaly.yaml"])
def test_quality_model_examples(name: str) -> None:
    model = QualityModel.model_validate(load(name))
    assert model.spec.line_ref == "te-line"
    assert model.spec.feature_service == "sensor_last_v1"
    assert model.spec.training.window == "30d"


def test_fault_classification_example() -> None:
    spec = QualityModel.model_validate(load("qualitymodel.yaml")).spec
    assert spec.task is Task.FAULT_CLASSIFICATION and spec.label == "fault"
    assert spec.training.schedule == "0 3 * * *"
    assert spec.training.retrain_on.spc_alert
    assert spec.training.retrain_on.drift_psi_value == 0.25
    assert spec.training.cooldown_seconds == 3600
    assert spec.promotion.metric is PromotionMetric.MACRO_F1
    assert spec.promotion.minimum_value == 0.80
    assert spec.promotion.margin_value == 0.005
    assert (spec.serving.replicas, spec.serving.canary_percent) == (1, 10)


def test_examples_round_trip_in_camel_case() -> None:
    raw = load("qualitymodel.yaml")
    dumped = QualityModel.model_validate(raw).model_dump(mode="json", exclude_none=True)
    assert dumped["apiVersion"] == "lineops.io/v1alpha1"
    assert dumped["spec"]["training"]["retrainOn"] == raw["spec"]["training"]["retrainOn"]
    assert dumped["spec"]["promotion"]["mustBeatChampionBy"] == "0.005"


def test_snake_case_names_are_accepted_too() -> None:
    spec = ProductionLineSpec.model_validate(
        {"site": "a", "area": "b", "work_units": [{"name": "m", "ideal_cycle_time": "1s"}]}
    )
    assert spec.work_units[0].ideal_cycle_time == "1s"


def test_resource_info() -> None:
    assert ProductionLine.RESOURCE is PRODUCTION_LINE
    assert QualityModel.RESOURCE is QUALITY_MODEL
    assert PRODUCTION_LINE.crd_name == "productionlines.lineops.io"
    assert QUALITY_MODEL.api_version == "lineops.io/v1alpha1"


# --- defaults ----------------------------------------------------------------------------------


def test_production_line_defaults() -> None:
    spec = ProductionLineSpec.model_validate(
        {**LINE, "qualityCharacteristics": [{"name": "d", "unit": "mm", "target": "1", "usl": "2"}]}
    )
    assert spec.schedule is None
    assert spec.work_units[0].sensors == []
    qc = spec.quality_characteristics[0]
    assert (qc.subgroup_size, qc.chart, qc.rules) == (5, ChartKind.XBAR_R, [RunRule.NELSON_1])
    assert spec.ingestion.http.enabled and not spec.ingestion.mqtt.enabled
    assert (spec.features.window, spec.features.materialize_every) == ("5m", "1m")
    m = spec.monitoring
    assert m.oee and m.spc and m.prometheus_rule
    assert (m.oee_target, m.cpk_target, m.drift_psi) == ("0.85", "1.33", "0.25")
    assert m.cpk_target_value == 1.33 and m.drift_psi_value == 0.25


def test_schedule_defaults_to_utc() -> None:
    spec = ProductionLineSpec.model_validate({**LINE, "schedule": {}})
    assert spec.schedule is not None
    assert spec.schedule.timezone == "UTC" and spec.schedule.shifts == []


def test_schedule_timezone_must_be_a_known_zone() -> None:
    """The CRD's pattern checks only the shape; the OEE computation used to fail on every
    reconcile of a line with a misspelt zone (a KeyError, and no status)."""
    message = line_error(schedule={"timezone": "Europe/Berln"})
    assert message == "spec.schedule.timezone: unknown IANA time zone 'Europe/Berln'"
    spec = ProductionLineSpec.model_validate({**LINE, "schedule": {"timezone": "Asia/Kolkata"}})
    assert spec.schedule is not None and spec.schedule.timezone == "Asia/Kolkata"


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("model-name", "from metadata.name"),
        ("task", "from spec.task"),
        ("promotion_metric", "from spec.promotion.metric"),
        ("run-id", "(one per training trigger)"),
    ],
)
def test_training_parameters_cannot_replace_what_the_operator_sets(name: str, source: str) -> None:
    """They silently replaced the operator's own pipeline arguments: a run could register
    under another model's name or train for another task."""
    body = {**MODEL, "training": {"parameters": {"epochs": "3", name: "x"}}}
    with pytest.raises(ValidationError) as caught:
        QualityModelSpec.model_validate(body)
    message = describe_validation_error(caught.value)
    assert (
        message
        == f"spec.training.parameters.{name}: set by the operator {source}, not from parameters"
    )
    body["training"] = {"parameters": {"epochs": "3", "dataset": "te"}}  # a documented one
    QualityModelSpec.model_validate(body)


def test_broker_port_is_1_to_65535() -> None:
    """Exhaustively: port 0 made the subscriber fail (and, remembered, never retried);
    99999 was accepted."""
    import re

    from lineops.api.productionline import BROKER_PATTERN

    accepted = [port for port in range(70_000) if re.match(BROKER_PATTERN, f"mqtt.local:{port}")]
    assert accepted == list(range(1, 65_536))


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ({"window": "1000000000d"}, "spec.features.window: 1000000000d is longer than 3650d"),
        ({"window": "1m", "materializeEvery": "30m"}, "spec.features.materializeEvery: longer "),
        ({"materializeEvery": "50ms"}, "spec.features.materializeEvery: shorter than 100ms"),
    ],
)
def test_feature_timing_that_cannot_work_is_refused(features: dict[str, str], message: str) -> None:
    """A billion-day window overflowed the Feast TTL (retried every 10 s, forever); a push
    interval past the TTL (12 windows) left online features expired between pushes; one
    below the 100 ms tick was silently raised to it."""
    assert line_error(features=features).startswith(message)
    ProductionLineSpec.model_validate(
        {**LINE, "features": {"window": "1m", "materializeEvery": "12m"}}
    )


def test_a_cooldown_too_long_for_a_timedelta_is_refused() -> None:
    body = {**MODEL, "training": {"cooldown": "1000000000d"}}
    with pytest.raises(ValidationError) as caught:
        QualityModelSpec.model_validate(body)
    assert describe_validation_error(caught.value).startswith(
        "spec.training.cooldown: 1000000000d is longer than 3650d"
    )
    QualityModelSpec.model_validate({**MODEL, "training": {"cooldown": "3650d"}})


def test_quality_model_defaults() -> None:
    spec = QualityModelSpec.model_validate(MODEL)
    assert spec.label is None
    assert spec.training.pipeline is None and spec.training.pipeline_ref is None
    assert spec.training.shipped_pipeline == "quality-training"
    assert spec.training.parameters == {} and spec.training.schedule is None
    assert not spec.training.retrain_on.spc_alert and spec.training.retrain_on.drift_psi is None
    assert spec.training.cooldown == "1h"
    assert spec.promotion.metric is PromotionMetric.DETECTION_RATE  # the anomaly task's own
    assert spec.promotion.minimum is None and spec.promotion.must_beat_champion_by == "0"
    assert (spec.serving.replicas, spec.serving.canary_percent) == (1, 0)


@pytest.mark.parametrize(
    ("task", "default", "refused", "use"),
    [
        ("fault-classification", "macro_f1", "rmse", "macro_f1 or accuracy"),
        ("anomaly-detection", "detection_rate", "macro_f1", "detection_rate or auc"),
        ("failure-prediction", "rmse", "macro_f1", "rmse"),
    ],
)
def test_promotion_metric_defaults_to_and_must_be_one_the_task_reports(
    task: str, default: str, refused: str, use: str
) -> None:
    """macro_f1 was the default for every task: a failure-prediction or anomaly model left
    at it was never promoted ("the run reported no macro_f1")."""
    body = {**MODEL, "task": task, "label": "failure" if task == "failure-prediction" else "fault"}
    assert QualityModelSpec.model_validate(body).promotion.chosen_metric.value == default
    with pytest.raises(ValidationError) as caught:
        QualityModelSpec.model_validate({**body, "promotion": {"metric": refused}})
    assert describe_validation_error(caught.value) == (
        f"spec.promotion.metric: {refused} is not reported for {task}; use {use}"
    )


@pytest.mark.parametrize(
    ("serving", "message"),
    [
        (
            {"maxReplicas": 4, "resources": {"requests": {"memory": "4Gi"}}},
            "spec.serving.resources.requests.memory: 4Gi is more than the limit 2Gi",
        ),
        (
            {"resources": {"limits": {"memory": "512m"}}},
            "spec.serving.resources.limits.memory: 512m is thousandths of a byte",
        ),
        (
            {"maxReplicas": 3, "resources": {"requests": {"cpu": None}}},
            "spec.serving.resources.requests.cpu: required when maxReplicas is above replicas",
        ),
        (
            {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}}},
            "spec.serving.resources.requests.cpu: 2 is more than the limit 1500m",
        ),
    ],
)
def test_serving_resources_the_cluster_would_refuse_name_the_field(
    serving: dict[str, Any], message: str
) -> None:
    """The API server refused such serving Deployments and the status named the child."""
    with pytest.raises(ValidationError) as caught:
        QualityModelSpec.model_validate({**MODEL, "serving": serving})
    assert describe_validation_error(caught.value).startswith(message)


def test_a_serving_amount_left_out_keeps_its_default() -> None:
    """Setting only the memory request dropped the CPU request (the HPA could not scale)."""
    spec = QualityModelSpec.model_validate(
        {**MODEL, "serving": {"resources": {"requests": {"memory": "1Gi"}}}}
    )
    assert spec.serving.resources.requests.as_dict() == {"cpu": "250m", "memory": "1Gi"}
    assert spec.serving.resources.limits.as_dict() == {"memory": "2Gi"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"featureService": "sensor_window_v2"}, "spec.featureService: 'sensor_window_v2' is not"),
        ({"label": "defect_type"}, "spec.label: 'defect_type' is not a label source for anomaly"),
        (
            {"task": "failure-prediction", "label": "fault"},
            "spec.label: 'fault' is not a label source for failure-prediction",
        ),
        ({"training": {"window": "0s"}}, "spec.training.window: must be positive"),
    ],
)
def test_what_the_line_path_cannot_train_on_is_refused_before_any_run(
    changes: dict[str, Any], message: str
) -> None:
    """These were checked by the data plane only, after the run had been submitted (and
    retried max_attempts times)."""
    with pytest.raises(ValidationError) as caught:
        QualityModelSpec.model_validate({**MODEL, **changes})
    assert describe_validation_error(caught.value).startswith(message)


def test_a_dataset_parameter_makes_the_label_the_datasets_own_column() -> None:
    body = {**MODEL, "label": "defect_type", "training": {"parameters": {"dataset": "x.csv"}}}
    assert QualityModelSpec.model_validate(body).label == "defect_type"


def test_the_data_planes_tables_are_the_apis() -> None:
    from lineops.api.qualitymodel import FEATURE_SERVICES, LINE_LABELS
    from lineops.dataplane.features import SERVICES
    from lineops.dataplane.training_set import DEFAULT_LABEL, TASK_LABELS

    assert tuple(SERVICES) == FEATURE_SERVICES
    assert {task.value: labels for task, labels in LINE_LABELS.items()} == TASK_LABELS
    assert all(DEFAULT_LABEL[task] in labels for task, labels in TASK_LABELS.items())


def test_default_lists_are_not_shared() -> None:
    first = ProductionLineSpec.model_validate({**LINE, "qualityCharacteristics": [QC]})
    first.quality_characteristics[0].rules.append(RunRule.WECO_1)
    second = ProductionLineSpec.model_validate({**LINE, "qualityCharacteristics": [QC]})
    assert second.quality_characteristics[0].rules == [RunRule.NELSON_1]


def test_status_parses_and_ignores_unknown_fields() -> None:
    body = load("productionline.yaml")
    body["status"] = {
        "observedGeneration": 3,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Reconciled",
                "message": "",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "observedGeneration": 3,
            }
        ],
        "kpis": {"oee": "0.748", "availability": "0.888"},
        "spc": {"inControl": False, "violations": 2},
        "fromANewerOperator": True,
    }
    status = ProductionLine.model_validate(body).status
    assert status.observed_generation == 3
    assert status.kpis is not None and status.kpis.oee == "0.748"
    assert status.spc is not None and status.spc.violations == 2


def test_promotion_metric_direction() -> None:
    assert PromotionMetric.MACRO_F1.higher_is_better
    assert not PromotionMetric.RMSE.higher_is_better


# --- Python-side rules (mirroring the CRD's CEL rules) -----------------------------------------


def test_unknown_fields_are_rejected() -> None:
    assert line_error(colour="blue") == "spec.colour: unknown field"


def test_required_fields() -> None:
    spec = copy.deepcopy(LINE)
    del spec["site"]
    with pytest.raises(ValidationError) as caught:
        ProductionLineSpec.model_validate(spec)
    assert describe_validation_error(caught.value) == "spec.site: required value"


def test_at_least_one_work_unit() -> None:
    assert line_error(workUnits=[]).startswith("spec.workUnits: list should have at least 1")


def test_cycle_time_must_be_positive() -> None:
    message = line_error(workUnits=[{"name": "press-01", "idealCycleTime": "0s"}])
    assert message == "spec.workUnits[0].idealCycleTime: must be positive"


def test_duplicate_work_units() -> None:
    units = [{"name": "press-01", "idealCycleTime": "1s"}] * 2
    assert line_error(workUnits=units) == "spec.workUnits[1].name: duplicate name 'press-01'"


def test_duplicate_sensors() -> None:
    sensor = {"name": "vibration_rms", "unit": "mm/s"}
    message = line_error(
        workUnits=[{"name": "p", "idealCycleTime": "1s", "sensors": [sensor, sensor]}]
    )
    assert message == "spec.workUnits[0].sensors[1].name: duplicate name 'vibration_rms'"


def test_valid_range_reversed() -> None:
    sensors = [
        {"name": "t", "unit": "degC", "validRange": ["0", "50"]},
        {"name": "v", "unit": "mm/s", "validRange": ["50", "0"]},
    ]
    units = [
        {"name": "press-01", "idealCycleTime": "1s"},
        {"name": "press-02", "idealCycleTime": "1s", "sensors": sensors},
    ]
    assert line_error(workUnits=units) == (
        "spec.workUnits[1].sensors[1].validRange: min must be below max"
    )


def test_valid_range_needs_two_values() -> None:
    units = [
        {
            "name": "p",
            "idealCycleTime": "1s",
            "sensors": [{"name": "v", "unit": "mm/s", "validRange": ["1"]}],
        }
    ]
    assert "spec.workUnits[0].sensors[0].validRange: list should have at least 2" in line_error(
        workUnits=units
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lsl": "74.100"}, "spec.qualityCharacteristics[0].lsl: lsl must be below usl"),
        ({"target": "75"}, "spec.qualityCharacteristics[0].target: target must be below usl"),
        ({"target": "73"}, "spec.qualityCharacteristics[0].target: target must be above lsl"),
        (
            {"lsl": None, "usl": None},
            "spec.qualityCharacteristics[0]: at least one of lsl and usl is required",
        ),
        (
            {"subgroupSize": 1},
            "spec.qualityCharacteristics[0].subgroupSize: "
            "xbar-r and xbar-s charts need subgroupSize between 2 and 25",
        ),
        (
            {"chart": "xbar-s", "subgroupSize": 1},
            "spec.qualityCharacteristics[0].subgroupSize: "
            "xbar-r and xbar-s charts need subgroupSize between 2 and 25",
        ),
        (
            {"chart": "imr"},
            "spec.qualityCharacteristics[0].subgroupSize: imr charts need subgroupSize 1",
        ),
        (
            {"subgroupSize": 30},
            "spec.qualityCharacteristics[0].subgroupSize: input should be less than or equal to 25",
        ),
        (
            {"rules": ["nelson-1", "weco-2", "nelson-1"]},
            "spec.qualityCharacteristics[0].rules[2]: duplicate rule 'nelson-1'",
        ),
        (
            {"chart": "p", "subgroupSize": 25, "rules": ["nelson-1", "nelson-6"]},
            "spec.qualityCharacteristics[0].rules[1]: nelson-6 reads the 1- and 2-sigma zones, "
            "which assume normally distributed points; on p, np, c and u charts use "
            "nelson-1..4, weco-1 or weco-4",
        ),
    ],
)
def test_quality_characteristic_rules(changes: dict[str, Any], message: str) -> None:
    qc = {k: v for k, v in {**QC, **changes}.items() if v is not None}
    assert line_error(qualityCharacteristics=[qc]) == message


@pytest.mark.parametrize(
    "changes",
    [
        {"lsl": None},  # upper limit only
        {"usl": None},  # lower limit only
        {"chart": "imr", "subgroupSize": 1},
        {"chart": "xbar-s", "subgroupSize": 25},
        {"chart": "p", "subgroupSize": 25},
        {"chart": "c", "rules": ["nelson-1", "nelson-2", "nelson-3", "nelson-4", "weco-4"]},
        {"rules": [r.value for r in RunRule]},
    ],
)
def test_quality_characteristic_accepts(changes: dict[str, Any]) -> None:
    qc = {k: v for k, v in {**QC, **changes}.items() if v is not None}
    ProductionLineSpec.model_validate({**LINE, "qualityCharacteristics": [qc]})


def test_duplicate_quality_characteristics() -> None:
    message = line_error(qualityCharacteristics=[QC, QC])
    assert message == "spec.qualityCharacteristics[1].name: duplicate name 'ring_diameter'"


def test_shift_rules() -> None:
    shift = {"name": "early", "start": "06:00", "end": "06:00"}
    assert line_error(schedule={"shifts": [shift]}) == (
        "spec.schedule.shifts[0].end: start and end must differ"
    )
    late = {"name": "early", "start": "14:00", "end": "22:00"}
    ok = {"name": "early", "start": "06:00", "end": "14:00"}
    assert line_error(schedule={"shifts": [ok, late]}) == (
        "spec.schedule.shifts[1].name: duplicate name 'early'"
    )
    assert "spec.schedule.shifts[0].start: string should match pattern" in line_error(
        schedule={"shifts": [{**ok, "start": "6:00"}]}
    )


def test_shifts_must_not_overlap() -> None:
    early = {"name": "early", "start": "06:00", "end": "14:00"}
    late = {"name": "late", "start": "14:00", "end": "22:00"}
    night = {"name": "night", "start": "22:00", "end": "06:00"}
    ProductionLineSpec.model_validate({**LINE, "schedule": {"shifts": [early, late, night]}})
    mid = {"name": "mid", "start": "10:00", "end": "18:00"}
    assert line_error(schedule={"shifts": [early, mid]}) == (
        "spec.schedule.shifts[1]: 'mid' (10:00-18:00) overlaps 'early' (06:00-14:00); "
        "shifts must not overlap"
    )
    # Across midnight, either way round.
    dawn = {"name": "dawn", "start": "05:00", "end": "07:00"}
    assert "'dawn' (05:00-07:00) overlaps 'night'" in line_error(schedule={"shifts": [night, dawn]})
    assert "'night' (22:00-06:00) overlaps 'dawn'" in line_error(schedule={"shifts": [dawn, night]})


def test_mqtt_needs_a_broker_when_enabled() -> None:
    message = line_error(ingestion={"mqtt": {"enabled": True}})
    assert message == "spec.ingestion.mqtt.broker: broker is required when mqtt is enabled"
    ProductionLineSpec.model_validate({**LINE, "ingestion": {"mqtt": {"broker": "b:1883"}}})


def test_feature_durations() -> None:
    assert line_error(features={"window": "0m"}) == "spec.features.window: must be positive"
    assert line_error(features={"materializeEvery": "1 min"}).startswith(
        "spec.features.materializeEvery: string should match pattern"
    )


def test_monitoring_bounds() -> None:
    assert line_error(monitoring={"oeeTarget": "1.01"}).startswith("spec.monitoring.oeeTarget")
    assert line_error(monitoring={"cpkTarget": "-1"}).startswith("spec.monitoring.cpkTarget")
    ProductionLineSpec.model_validate({**LINE, "monitoring": {"oeeTarget": "1"}})
    ProductionLineSpec.model_validate({**LINE, "monitoring": {"oeeTarget": "0"}})


def test_label_required_for_fault_classification() -> None:
    message = model_error(task="fault-classification")
    assert message == "spec.label: label is required when task is fault-classification"
    QualityModelSpec.model_validate({**MODEL, "task": "fault-classification", "label": "fault"})


def test_serving_bounds() -> None:
    assert model_error(serving={"canaryPercent": 150}) == (
        "spec.serving.canaryPercent: input should be less than or equal to 100"
    )
    assert model_error(serving={"replicas": -1}) == (
        "spec.serving.replicas: input should be greater than or equal to 0"
    )
    assert model_error(serving={"replicas": 0, "canaryPercent": 5}) == (
        "spec.serving.canaryPercent: a canary needs replicas above 0"
    )
    QualityModelSpec.model_validate({**MODEL, "serving": {"replicas": 0}})


def test_training_schedule_is_checked_beyond_the_pattern() -> None:
    assert model_error(training={"schedule": "61 3 * * *"}) == (
        "spec.training.schedule: minute: 61 is out of 0-59"
    )
    assert model_error(training={"schedule": "nightly"}).startswith(
        "spec.training.schedule: string should match pattern"
    )


def test_task_enum() -> None:
    assert model_error(task="regression").startswith("spec.task: input should be")
