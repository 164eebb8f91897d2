"""The generated CRDs, installed in a real kube-apiserver, reject malformed objects.

Each case changes one field of a valid object and expects the API server to refuse it with
a message naming that field: 422 from schema or CEL validation, 400 for unknown fields under
``fieldValidation=Strict``. The same cases run against the Python models in
tests/unit/api/test_validation_mirror.py, so both layers agree.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from lineops.api import (
    PRODUCTION_LINE,
    QUALITY_MODEL,
    Kpis,
    ProductionLine,
    ProductionLineStatus,
    QualityModel,
    SpcStatus,
    set_condition,
)

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DELETE = object()
"""Value that removes the field instead of setting it."""


def minimal_line() -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "ProductionLine",
        "metadata": {"name": "bad-line"},
        "spec": {
            "site": "plant-a",
            "area": "stamping",
            "schedule": {"shifts": [{"name": "early", "start": "06:00", "end": "14:00"}]},
            "workUnits": [
                {
                    "name": "press-01",
                    "idealCycleTime": "1.2s",
                    "sensors": [
                        {"name": "vibration_rms", "unit": "mm/s", "validRange": ["0", "50"]}
                    ],
                }
            ],
            "qualityCharacteristics": [
                {
                    "name": "ring_diameter",
                    "unit": "mm",
                    "target": "74.000",
                    "lsl": "73.950",
                    "usl": "74.050",
                }
            ],
        },
    }


def minimal_model() -> dict[str, Any]:
    return {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "QualityModel",
        "metadata": {"name": "bad-model"},
        "spec": {
            "lineRef": "press-line-1",
            "task": "fault-classification",
            "featureService": "sensor_window_v1",
            "label": "fault",
        },
    }


_STEP = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")


def with_change(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the field at ``path`` (``spec.a[0].b``) set or deleted."""
    result = copy.deepcopy(body)
    steps: list[str | int] = [name if name else int(index) for name, index in _STEP.findall(path)]
    node: Any = result
    for step in steps[:-1]:
        node = node[step]
    if value is DELETE:
        del node[steps[-1]]
    else:
        node[steps[-1]] = value
    return result


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # "line" or "model"
    path: str
    value: Any
    expect: tuple[str, ...]
    """Fragments the API server's message must contain (the field path, usually)."""
    status: int = 422
    python_accepts: bool = False
    """The Python models are more lenient here (pydantic's lax coercion), by design."""

    def body(self) -> dict[str, Any]:
        base = minimal_line() if self.kind == "line" else minimal_model()
        return with_change(base, self.path, self.value)


WU = "spec.workUnits[0]"
SENSOR = f"{WU}.sensors[0]"
QC = "spec.qualityCharacteristics[0]"
SENSOR_TWICE = [
    {"name": "vibration_rms", "unit": "mm/s"},
    {"name": "vibration_rms", "unit": "mm/s"},
]

CASES = [
    # ProductionLine: required fields and types
    Case("missing-site", "line", "spec.site", DELETE, ("spec.site", "Required value")),
    Case("site-not-dns-label", "line", "spec.site", "Plant_A", ("spec.site",)),
    Case("missing-work-units", "line", "spec.workUnits", DELETE, ("spec.workUnits",)),
    Case("no-work-units", "line", "spec.workUnits", [], ("spec.workUnits",)),
    Case("area-wrong-type", "line", "spec.area", 42, ("spec.area",)),
    Case("missing-spec", "line", "spec", DELETE, ("spec", "Required value")),
    # ProductionLine: work units and sensors
    Case("cycle-time-malformed", "line", f"{WU}.idealCycleTime", "fast", ("idealCycleTime",)),
    Case("cycle-time-number", "line", f"{WU}.idealCycleTime", 1.2, ("idealCycleTime",)),
    Case(
        "duplicate-work-unit-names",
        "line",
        "spec.workUnits",
        [
            {"name": "press-01", "idealCycleTime": "1s"},
            {"name": "press-01", "idealCycleTime": "2s"},
        ],
        ("spec.workUnits[1]", "Duplicate value"),
    ),
    Case(
        "duplicate-sensor-names",
        "line",
        f"{WU}.sensors",
        SENSOR_TWICE,
        ("sensors[1]", "Duplicate value"),
    ),
    Case("sensor-name-uppercase", "line", f"{SENSOR}.name", "Vibration-RMS", ("sensors[0].name",)),
    Case(
        "valid-range-reversed",
        "line",
        f"{SENSOR}.validRange",
        ["50", "0"],
        ("validRange", "min must be below max"),
    ),
    Case("valid-range-three", "line", f"{SENSOR}.validRange", ["0", "1", "2"], ("validRange",)),
    Case("valid-range-not-decimal", "line", f"{SENSOR}.validRange", ["0", "5O"], ("validRange",)),
    Case("unit-too-long", "line", f"{SENSOR}.unit", "m" * 40, ("sensors[0].unit",)),
    # ProductionLine: quality characteristics
    Case("lsl-above-usl", "line", f"{QC}.lsl", "74.100", ("lsl", "lsl must be below usl")),
    Case("target-above-usl", "line", f"{QC}.target", "75", ("target", "target must be below usl")),
    Case("target-below-lsl", "line", f"{QC}.target", "73", ("target", "target must be above lsl")),
    Case(
        "no-spec-limits",
        "line",
        QC,
        {"name": "ring_diameter", "unit": "mm", "target": "74"},
        (QC, "at least one of lsl and usl is required"),
    ),
    Case("target-comma-decimal", "line", f"{QC}.target", "74,000", ("target",)),
    Case("target-exponent", "line", f"{QC}.usl", "7.405e1", ("usl",)),
    Case("subgroup-30-xbar-r", "line", f"{QC}.subgroupSize", 30, ("subgroupSize",)),
    Case(
        "subgroup-1-xbar-r",
        "line",
        f"{QC}.subgroupSize",
        1,
        ("subgroupSize", "xbar-r and xbar-s charts need subgroupSize"),
    ),
    Case("subgroup-negative", "line", f"{QC}.subgroupSize", -1, ("subgroupSize",)),
    Case(
        "imr-subgroup-5",
        "line",
        QC,
        {**minimal_line()["spec"]["qualityCharacteristics"][0], "chart": "imr"},
        ("subgroupSize", "imr charts need subgroupSize 1"),
    ),
    Case("chart-unknown", "line", f"{QC}.chart", "ewma", ("chart", "Unsupported value")),
    Case("rule-unknown", "line", f"{QC}.rules", ["nelson-9"], ("rules[0]",)),
    Case("rule-duplicate", "line", f"{QC}.rules", ["nelson-1", "nelson-1"], ("rules[1]",)),
    # ProductionLine: schedule, ingestion, features, monitoring
    Case("shift-start-25h", "line", "spec.schedule.shifts[0].start", "25:00", ("start",)),
    Case("shift-empty", "line", "spec.schedule.shifts[0].end", "06:00", ("end", "must differ")),
    Case(
        "mqtt-without-broker",
        "line",
        "spec.ingestion",
        {"mqtt": {"enabled": True}},
        ("broker", "broker is required"),
    ),
    Case(
        "mqtt-broker-no-port",
        "line",
        "spec.ingestion",
        {"mqtt": {"enabled": True, "broker": "mqtt.local"}},
        ("broker",),
    ),
    Case(
        "mqtt-broker-port-0",
        "line",
        "spec.ingestion",
        {"mqtt": {"enabled": True, "broker": "mqtt.local:0"}},
        ("spec.ingestion.mqtt.broker",),
    ),
    Case(
        "mqtt-broker-port-too-high",
        "line",
        "spec.ingestion",
        {"mqtt": {"enabled": True, "broker": "mqtt.local:65536"}},
        ("spec.ingestion.mqtt.broker",),
    ),
    Case(
        "mqtt-group-changes-the-topic-filter",
        "line",
        "spec.ingestion",
        {"mqtt": {"enabled": True, "broker": "mqtt.local:1883", "group": "team/#"}},
        ("spec.ingestion.mqtt.group",),
    ),
    Case("window-malformed", "line", "spec.features", {"window": "5 minutes"}, ("window",)),
    Case("oee-target-above-1", "line", "spec.monitoring", {"oeeTarget": "1.5"}, ("oeeTarget",)),
    Case("cpk-target-negative", "line", "spec.monitoring", {"cpkTarget": "-1"}, ("cpkTarget",)),
    Case(
        "monitoring-flag-string",
        "line",
        "spec.monitoring",
        {"oee": "yes"},
        ("monitoring.oee",),
        python_accepts=True,
    ),
    Case("unknown-spec-field", "line", "spec.colour", "blue", ("spec.colour",), status=400),
    Case(
        "unknown-sensor-field",
        "line",
        f"{SENSOR}.min",
        "0",
        ("sensors[0].min",),
        status=400,
    ),
    # QualityModel
    Case("missing-task", "model", "spec.task", DELETE, ("spec.task", "Required value")),
    Case("task-unknown", "model", "spec.task", "regression", ("spec.task", "Unsupported value")),
    Case(
        "classification-without-label",
        "model",
        "spec.label",
        DELETE,
        ("spec.label", "label is required when task is fault-classification"),
    ),
    Case("missing-feature-service", "model", "spec.featureService", DELETE, ("featureService",)),
    Case("line-ref-invalid", "model", "spec.lineRef", "Press_Line", ("spec.lineRef",)),
    Case("canary-150", "model", "spec.serving", {"canaryPercent": 150}, ("canaryPercent",)),
    Case("replicas-negative", "model", "spec.serving", {"replicas": -1}, ("replicas",)),
    Case("replicas-21", "model", "spec.serving", {"replicas": 21}, ("replicas",)),
    Case(
        "canary-without-replicas",
        "model",
        "spec.serving",
        {"replicas": 0, "canaryPercent": 10},
        ("canaryPercent", "a canary needs replicas above 0"),
    ),
    Case("cron-words", "model", "spec.training", {"schedule": "every night"}, ("schedule",)),
    Case("cron-six-fields", "model", "spec.training", {"schedule": "0 0 3 * * *"}, ("schedule",)),
    Case("cooldown-malformed", "model", "spec.training", {"cooldown": "1 hour"}, ("cooldown",)),
    Case(
        "parameter-not-string",
        "model",
        "spec.training",
        {"parameters": {"epochs": 20}},
        ("parameters",),
    ),
    Case(
        "drift-psi-word",
        "model",
        "spec.training",
        {"retrainOn": {"driftPsi": "high"}},
        ("driftPsi",),
    ),
    Case("metric-unknown", "model", "spec.promotion", {"metric": "f1"}, ("metric",)),
    Case(
        "feature-service-the-data-plane-does-not-serve",
        "model",
        "spec.featureService",
        "sensor_window_v2",
        ("spec.featureService", "must be one the data plane serves"),
    ),
    Case(
        "metric-the-task-does-not-report",
        "model",
        "spec.promotion",
        {"metric": "rmse"},
        ("spec.promotion.metric", "must be one the task reports"),
    ),
    Case(
        "margin-negative",
        "model",
        "spec.promotion",
        {"mustBeatChampionBy": "-0.1"},
        ("mustBeatChampionBy",),
    ),
    Case(
        "pipeline-and-pipeline-ref",
        "model",
        "spec.training",
        {"pipeline": "quality-training", "pipelineRef": {"configMap": {"name": "gbt"}}},
        ("spec.training.pipelineRef", "set either pipeline"),
    ),
    Case(
        "pipeline-ref-empty",
        "model",
        "spec.training",
        {"pipelineRef": {}},
        ("spec.training.pipelineRef", "set exactly one of configMap or kfp"),
    ),
    Case(
        "pipeline-ref-both",
        "model",
        "spec.training",
        {
            "pipelineRef": {
                "configMap": {"name": "gbt"},
                "kfp": {"pipeline": "gbt", "version": "v1"},
            }
        },
        ("spec.training.pipelineRef", "set exactly one of configMap or kfp"),
    ),
    Case(
        "pipeline-ref-kfp-without-version",
        "model",
        "spec.training",
        {"pipelineRef": {"kfp": {"pipeline": "gbt"}}},
        ("spec.training.pipelineRef.kfp.version", "Required value"),
    ),
    Case(
        "unknown-training-field",
        "model",
        "spec.training",
        {"epochs": "20"},
        ("spec.training.epochs",),
        status=400,
    ),
    Case(
        "training-parameter-the-operator-sets",
        "model",
        "spec.training",
        {"parameters": {"epochs": "3", "model-name": "other-model"}},
        ("spec.training.parameters", "set by the operator"),
    ),
    # Names the objects made for a line or model could not be named after (kinds.name_problem):
    # a line's Service "<line>-ingest", a model's "<model>-serving-canary".
    Case("line-name-dotted", "line", "metadata.name", "press.line1", ("metadata.name", "no '.'")),
    Case("line-name-digit-first", "line", "metadata.name", "1st-press", ("metadata.name",)),
    Case("line-name-too-long", "line", "metadata.name", "l" * 57, ("at most 56 characters",)),
    Case("model-name-too-long", "model", "metadata.name", "m" * 49, ("at most 48 characters",)),
]


def _plural(body: dict[str, Any]) -> str:
    return PRODUCTION_LINE.plural if body["kind"] == "ProductionLine" else QUALITY_MODEL.plural


def _create(api: client.ApiClient, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = client.CustomObjectsApi(api).create_namespaced_custom_object(
        PRODUCTION_LINE.group,
        PRODUCTION_LINE.version,
        namespace,
        _plural(body),
        body,
        field_validation="Strict",
    )
    return result


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def test_case_ids_are_unique() -> None:
    assert len({case.id for case in CASES}) == len(CASES) >= 25


def test_unmodified_bodies_are_valid(api_client: client.ApiClient, namespace: str) -> None:
    """Otherwise a case could fail for a reason other than the one it names."""
    _create(api_client, namespace, minimal_line())
    _create(api_client, namespace, minimal_model())


def test_names_at_the_limit_are_accepted(api_client: client.ApiClient, namespace: str) -> None:
    """The name rule's bounds are the real ones: one character fewer than the refused cases."""
    _create(api_client, namespace, with_change(minimal_line(), "metadata.name", "l" * 56))
    _create(api_client, namespace, with_change(minimal_model(), "metadata.name", "m" * 48))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_api_server_rejects(case: Case, api_client: client.ApiClient, namespace: str) -> None:
    with pytest.raises(client.ApiException) as caught:
        _create(api_client, namespace, case.body())
    message = json.loads(caught.value.body)["message"]
    assert caught.value.status == case.status, message
    for fragment in case.expect:
        assert fragment in message, message


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("productionline.yaml", ProductionLine),
        ("qualitymodel.yaml", QualityModel),
        ("qualitymodel-anomaly.yaml", QualityModel),
    ],
)
def test_examples_apply_and_server_defaults_match_the_models(
    name: str,
    model: type[ProductionLine] | type[QualityModel],
    api_client: client.ApiClient,
    namespace: str,
) -> None:
    body = _example(name)
    stored = _create(api_client, namespace, body)
    # The API server fills in the CRD's defaults; they must be the models' defaults.
    expected = model.model_validate(body).spec.model_dump(mode="json", exclude_none=True)
    assert stored["spec"] == expected


def test_a_serving_amount_left_out_gets_its_default_from_the_api_server(
    api_client: client.ApiClient, namespace: str
) -> None:
    """The CRD's per-amount defaults are the models': setting only the memory request keeps
    the CPU request (it used to be dropped, leaving the HPA nothing to scale on)."""
    body = with_change(
        minimal_model(), "spec.serving", {"resources": {"requests": {"memory": "1Gi"}}}
    )
    body["metadata"]["name"] = "partial-resources"
    stored = _create(api_client, namespace, body)
    assert stored["spec"]["serving"]["resources"] == {
        "requests": {"cpu": "250m", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }


def test_status_subresource_accepts_a_status_the_models_write(
    api_client: client.ApiClient, namespace: str
) -> None:
    body = _example("productionline.yaml")
    _create(api_client, namespace, body)
    status = ProductionLineStatus(
        observed_generation=1,
        conditions=set_condition([], "Ready", "True", "Reconciled", "all good"),
        kpis=Kpis(oee="0.748", availability="0.888", performance="0.861", quality="0.978"),
        spc=SpcStatus(in_control=False, violations=2),
    )
    patched = client.CustomObjectsApi(api_client).patch_namespaced_custom_object_status(
        PRODUCTION_LINE.group,
        PRODUCTION_LINE.version,
        namespace,
        PRODUCTION_LINE.plural,
        body["metadata"]["name"],
        {"status": status.model_dump(mode="json", exclude_none=True)},
    )
    assert patched["status"]["kpis"]["oee"] == "0.748"
    assert ProductionLine.model_validate(patched).status == status

    table = api_client.call_api(
        f"/apis/{PRODUCTION_LINE.api_version}/namespaces/{namespace}/{PRODUCTION_LINE.plural}",
        "GET",
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
        response_type="object",
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )
    columns = [c["name"] for c in table["columnDefinitions"]]
    row = dict(zip(columns, table["rows"][0]["cells"], strict=True))
    assert (row["Ready"], row["Reason"], row["OEE"]) == ("True", "Reconciled", "0.748")
