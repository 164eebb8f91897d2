"""The quality inspector as a real ``bentoml serve`` process on a loopback port, reading real
online features from a local Feast store that the data plane filled, logging predictions
through that data plane. Bad requests get a 4xx naming the problem, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.serving.conftest import (
    LINE,
    MAX_BATCH,
    Plant,
    Served,
    free_port,
    serving,
    wait_for,
)
from tests.support.serving_model import FEATURES, MODEL_WINDOW


def test_predict_answers_from_the_online_features_and_logs_the_prediction(
    plant: Plant, inspector: Served, model_store: tuple[Path, str]
) -> None:
    _, tag = model_store
    now = pd.Timestamp.now(tz="UTC").floor("s")
    high = {"ram_force": 1800.0, "vibration_rms": 3.0}
    plant.send("press-01", high, now - pd.Timedelta(seconds=30))
    first = inspector.post("predict", {"work_unit": "press-01", "lot": "L-1"})
    assert first.status_code == 200, first.text
    warming = first.json()
    # One row of online features so far: the model's window (2 rows) is not full.
    assert (warming["history_rows"], warming["rows_needed"]) == (1, MODEL_WINDOW)
    assert warming["label"] is None

    plant.send("press-01", high, now)
    answer = inspector.post("predict", {"work_unit": "press-01", "lot": "L-2"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["label"] == "1" and body["raw_label"] == "1"
    assert body["probabilities"]["1"] > 0.5
    assert (body["model_tag"], body["model"], body["lot"]) == (tag, "press-fault", "L-2")
    assert (body["line"], body["namespace"]) == (LINE.name, LINE.namespace)
    assert body["feature_service"] == "sensor_window_v1"
    assert pd.Timestamp(body["feature_timestamp"]) == now
    assert 0 <= body["feature_age_seconds"] < 600

    def logged() -> list[dict[str, Any]]:
        url = plant.served.line_url("predictions", LINE)
        records: list[dict[str, Any]] = requests.get(url, params={"lot": "L-2"}, timeout=30).json()[
            "records"
        ]
        return records

    record = wait_for(logged, 30, "the prediction in the data plane's log")[0]
    assert record["modelTag"] == tag and record["workUnit"] == "press-01"
    assert sorted(record["features"]) == sorted(FEATURES)
    assert record["features"]["ram_force__mean"] == pytest.approx(1800.0)
    assert record["result"]["label"] == "1"
    assert pd.Timestamp(record["featureTimestamp"]) == now

    text = requests.get(f"{inspector.url}/metrics", timeout=10).text
    ours = {"line": LINE.name, "model": "press-fault", "model_tag": tag}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    # The warming-up answer counts as label "none"; the anomaly rate counts judged rows only.
    by_label = tuple(sorted({**ours, "label": "1"}.items()))
    assert samples[("lineops_serving_predictions_total", by_label)] == 1.0
    assert samples[("lineops_serving_anomaly_rate", tuple(sorted(ours.items())))] == 1.0
    latency = tuple(sorted({**ours, "endpoint": "predict"}.items()))
    assert samples[("lineops_serving_latency_seconds_count", latency)] == 2.0


def test_predict_batch_scores_rows_as_one_series(
    plant: Plant, inspector: Served, model_store: tuple[Path, str]
) -> None:
    """The answer per row; the log (a columnar batch on the wire) holds one prediction per
    row in the data plane, each with its lot, the tag, its features and its result."""
    rows = [[1000.0, 1050.0, 3.0]] * 5 + [[1800.0, 1850.0 + i, 3.0] for i in range(5)]
    answer = inspector.post(
        "predict_batch", {"columns": FEATURES, "rows": rows, "lots": [f"B-{i}" for i in range(10)]}
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    labels = [r["label"] for r in results]
    assert labels[0] is None  # the window needs two rows
    assert labels[1:5] == ["0"] * 4 and labels[6:] == ["1"] * 4

    def logged() -> list[dict[str, Any]]:
        url = plant.served.line_url("predictions", LINE)
        records = requests.get(url, params={"modelTag": model_store[1]}, timeout=30).json()
        return [r for r in records["records"] if str(r["lot"]).startswith("B-")]

    records = wait_for(lambda: len(logged()) == 10 and logged(), 30, "the batch in the log")
    assert [r["lot"] for r in records] == [f"B-{i}" for i in range(10)]
    assert records[9]["features"] == dict(zip(FEATURES, rows[9], strict=True))
    assert records[0]["result"] == {}  # no answer before a full window
    for record, result in zip(records[1:], results[1:], strict=True):
        assert record["result"] == result


@pytest.fixture(scope="module")
def other_units(plant: Plant) -> None:
    """grinder-01 reports, but has no ram force: the model's features are missing for it;
    furnace-01's features ended two hours ago: stale."""
    now = pd.Timestamp.now(tz="UTC").floor("s")
    plant.send("grinder-01", {"spindle_power": 20.0}, now)
    plant.send("furnace-01", {"zone1_temperature": 900.0}, now - pd.Timedelta(hours=2))


@pytest.mark.parametrize(
    ("endpoint", "body", "status", "names"),
    [
        ("predict", {}, 400, "work_unit"),
        ("predict", {"work_unit": 17}, 400, "work_unit"),
        ("predict", {"work_unit": "press-01", "lot": ["L"]}, 400, "lot"),
        ("predict", {"work_unit": "ghost-01"}, 404, "'ghost-01' has no features"),
        ("predict", {"work_unit": "grinder-01"}, 422, "ram_force__mean"),
        ("predict", {"work_unit": "furnace-01"}, 409, "stale"),
        ("predict_batch", {"rows": [[1.0]]}, 400, "columns"),
        (
            "predict_batch",
            {"columns": FEATURES, "rows": [[1.0] * 3], "work_unit": "ghost-01"},
            404,
            "'ghost-01' has no features",
        ),
        ("predict_batch", {"columns": FEATURES, "rows": [["x", 1, 2]]}, 400, "rows"),
        ("predict_batch", {"columns": FEATURES, "rows": [[1.0, 2.0]]}, 400, "rows[0]: 2 values"),
        ("predict_batch", {"columns": ["a"], "rows": [[1.0]]}, 400, "ram_force__mean"),
        (
            "predict_batch",
            {"columns": FEATURES, "rows": [[1.0] * 3] * 2, "lots": ["x"]},
            400,
            "lots",
        ),
        (
            "predict_batch",
            {"columns": FEATURES, "rows": [[1.0] * 3] * (MAX_BATCH + 1)},
            413,
            "501 rows",
        ),
        # Found by a review of the service's HTTP edges (stop 35): these were a 500, a 200
        # that lost part of the request, or a 200 whose log record the data plane refused.
        ("predict_batch", {"columns": FEATURES, "rows": []}, 400, "rows"),
        ("predict_batch", {"columns": FEATURES, "rows": [[1e39, 1.0, 1.0]]}, 400, "rows[0]"),
        ("predict_batch", {"columns": FEATURES, "rows": [[1.0] * 3], "lot": ["L"]}, 400, "lot"),
        (
            "predict_batch",
            {"columns": FEATURES, "rows": [[1.0] * 3], "lots": ["L\u0000"]},
            400,
            "lots",
        ),
        ("predict", {"work_unit": "press-01", "lots": "L-17"}, 400, "lots"),
        ("predict", {"work_unit": "press-01", "lot": "L\u0000"}, 400, "lot"),
        ("predict", {"work_unit": "press-01", "readings": {"t": "12.5"}}, 400, "readings"),
        ("predict", {"work_unit": "press-01", "readings": {"t": True}}, 400, "readings"),
        ("predict", {"work_unit": "press-01", "readings": {"t": 1e200}}, 400, "readings"),
        ("predict", {"work_unit": "press-01", "readings": {"": 1.0}}, 400, "readings"),
    ],
)
def test_bad_requests_are_4xx_naming_the_problem(
    other_units: None, inspector: Served, endpoint: str, body: Any, status: int, names: str
) -> None:
    answer = inspector.post(endpoint, body)
    assert answer.status_code == status, answer.text
    assert names in answer.text


def test_a_body_that_is_not_json_is_a_400(inspector: Served) -> None:
    answer = requests.post(
        f"{inspector.url}/predict",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert 400 <= answer.status_code < 500, answer.text


def test_a_service_that_cannot_answer_says_why_in_its_503(tmp_path: Path) -> None:
    """BentoML replaces the message of any error of 500 or more, so the 503 of a service
    still loading said only "An unexpected error has occurred"; it now carries the reason, in
    the body shape of the service's own refusals. (A model tag that is not in the store
    keeps this real service loading.)"""
    # A BentoML home of its own: `bentoml serve` clears its home's Prometheus multiprocess
    # directory at start and exit, which emptied the module's inspector's /metrics (the
    # scrape test after this one then saw no histogram).
    env = {
        "BENTOML_HOME": str(tmp_path / "bentoml-home"),
        "LINEOPS_SERVING_MODEL_TAG": "press-fault:nosuchversion",
        "LINEOPS_SERVING_DATA_DIR": str(tmp_path),
    }
    with serving(env, tmp_path / "bentoml.log", until="/livez") as served:
        for endpoint, body in (
            ("predict", {"work_unit": "press-01"}),
            ("predict_batch", {"columns": FEATURES, "rows": [[1.0, 1.0, 1.0]]}),
        ):

            def refused_naming_the_tag(endpoint: str = endpoint, body: Any = body) -> bool:
                # While the service is still loading it says so ("not ready: loading the
                # model and the feature store"); once the load failed, why (polled: a loaded
                # CI machine answered before the load had failed).
                answer = served.post(endpoint, body)
                assert answer.status_code == 503, answer.text
                (refusal,) = answer.json()
                assert refusal["error"].startswith("not ready: "), refusal
                return "nosuchversion" in refusal["error"]

            wait_for(refused_naming_the_tag, 60, f"{endpoint}'s 503 naming the missing model")


def test_a_feature_store_that_fails_on_a_read_is_a_503_naming_it(
    plant: Plant, model_store: tuple[Path, str], tmp_path: Path
) -> None:
    """A failing store was a 500 counted nowhere (Feast's exception escaped). Here a real
    service reads a copy of the plant's real SQLite online store, which is then overwritten
    with bytes that are not a database (a broken volume, a wrong file)."""
    import shutil

    home, tag = model_store
    data = tmp_path / "data"
    shutil.copytree(plant.data_dir / "feast", data / "feast")
    # Its own BentoML home (see the test above), holding the same model.
    shutil.copytree(home, tmp_path / "bentoml-home", ignore=shutil.ignore_patterns("prometheus*"))
    env = {
        "BENTOML_HOME": str(tmp_path / "bentoml-home"),
        "LINEOPS_SERVING_MODEL_TAG": tag,
        "LINEOPS_SERVING_MODEL_NAME": "press-fault",
        "LINEOPS_SERVING_DATA_DIR": str(data),
        "LINEOPS_SERVING_MAX_FEATURE_AGE": "10m",
    }
    with serving(env, tmp_path / "bentoml.log") as served:
        (data / "feast" / "online_store.db").write_bytes(b"not a database\n" * 512)
        answer = served.post("predict", {"work_unit": "press-01"})
        assert answer.status_code == 503, answer.text
        (refusal,) = answer.json()
        assert refusal["error"].startswith("feature store: "), refusal
        metrics = requests.get(f"{served.url}/metrics", timeout=30).text
    refused = [
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "lineops_serving_refused_total"
        and sample.labels.get("reason") == "feature_store_failed"
    ]
    assert refused == [1.0]


def test_the_typed_client_reads_answers_and_refusals(inspector: Served) -> None:
    """lineops.backends.serving.client against the real service: typed answers, and a refusal
    as an InspectorError carrying the status and the service's message."""
    from lineops.backends.serving.client import InspectorClient, InspectorError

    client = InspectorClient(inspector.url)
    assert client.ready()
    rows = [[1000.0, 1050.0, 3.0]] * 3 + [[1800.0, 1850.0, 3.0]] * 3
    batch = client.predict_batch(FEATURES, rows, lots=[f"C-{i}" for i in range(6)])
    assert batch.rows == 6 and len(batch.results) == 6
    assert [r.label for r in batch.results[1:3]] == ["0", "0"]
    assert [r.label for r in batch.results[4:]] == ["1", "1"]
    with pytest.raises(InspectorError) as refused:
        client.predict("ghost-01")
    assert refused.value.status == 404 and "'ghost-01' has no features" in refused.value.message
    with pytest.raises(InspectorError) as invalid:
        client.predict("")
    # BentoML's validation answer names the field in its detail (the client dropped it).
    assert invalid.value.status == 400 and "work_unit: " in invalid.value.message
    with pytest.raises(InspectorError) as unreachable:
        InspectorClient(f"http://127.0.0.1:{free_port()}", timeout=5).predict("press-01")
    assert unreachable.value.status is None and "cannot reach" in unreachable.value.message


def test_a_real_prometheus_scrapes_it_through_the_charts_serving_monitor(
    inspector: Served, model_store: tuple[Path, str]
) -> None:
    """The chart's serving ServiceMonitor, turned into a scrape configuration for a real
    Prometheus, selects the Service the cluster serving backend builds for the model; that
    Service's port is played by this real `bentoml serve` process: the serving series arrive
    in Prometheus with the model's labels (#21 item 5)."""
    from lineops.backends.serving.manifests import service

    from tests.support.chart import MONITORING, of_kind, render
    from tests.support.prometheus import query, running_prometheus
    from tests.support.scrape_config import scrape_configs

    _, tag = model_store
    owner = {
        "apiVersion": "lineops.io/v1alpha1",
        "kind": "QualityModel",
        "metadata": {"name": "press-fault", "namespace": LINE.namespace, "uid": "u-1"},
    }
    served = service(owner)
    monitors = [
        m
        for m in of_kind(render(MONITORING), "ServiceMonitor")
        if m["metadata"]["name"].endswith("-serving")
    ]
    assert len(monitors) == 1
    port = inspector.url.rsplit("//", 1)[1]
    key = (LINE.namespace, served["metadata"]["name"], "http")
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": scrape_configs(monitors, [served], {key: port}, interval="1s"),
    }
    assert inspector.post("predict_batch", {"columns": FEATURES, "rows": [[1.0] * 3] * 2}).ok
    with running_prometheus(config, {}) as prometheus:
        job = served["metadata"]["name"]
        wait_for(lambda: query(prometheus, f'up{{job="{job}"}} == 1'), 60, f"{job} scraped")
        found = wait_for(
            lambda: query(
                prometheus,
                f'lineops_serving_latency_seconds_count{{job="{job}",endpoint="predict_batch"}}',
            ),
            60,
            "the serving latency histogram in Prometheus",
        )
    labels = found[0]["metric"]
    assert (labels["model"], labels["model_tag"], labels["line"]) == ("press-fault", tag, LINE.name)
    assert float(found[0]["value"][1]) >= 1
