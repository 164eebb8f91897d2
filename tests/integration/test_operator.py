"""The operator core against a real kube-apiserver, running as the chart's ServiceAccount."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support import resources as res
from tests.support.kube import impersonating, wait_for
from tests.support.operator import OperatorIdentity, RunningOperator, run_operator

pytestmark = pytest.mark.integration

LINE_EXAMPLE = "productionline.yaml"
NO_TRAINING = {"LINEOPS_TRAINING": "off"}


def _model_example() -> dict[str, Any]:
    """The example model, pointed at the press line these tests reconcile (the example
    itself trains on te-line's data)."""
    body = res.example(MODEL_EXAMPLE)
    body["spec"]["lineRef"] = "press-line-1"
    return body  # core behaviour: requests only, no real runs


MODEL_EXAMPLE = "qualitymodel.yaml"


def _line_ready(api: client.ApiClient, ns: str, name: str) -> dict[str, Any] | None:
    obj = res.get(api, ns, "ProductionLine", name)
    return obj if res.has_condition(obj, "Ready", "True", "Reconciled") else None


def _model_waiting_for_training(api: client.ApiClient, ns: str, name: str) -> dict[str, Any] | None:
    obj = res.get(api, ns, "QualityModel", name)
    ok = (
        res.has_condition(obj, "Ready", "False", "NotTrained")
        and res.has_condition(obj, "Trained", "False", "TrainingRequested")
        and res.has_condition(obj, "SpecValid", "True")
    )
    return obj if ok else None


def test_examples_reach_their_conditions(
    api_client: client.ApiClient, namespace: str, operator: RunningOperator
) -> None:
    line = res.create(api_client, namespace, res.example(LINE_EXAMPLE))
    model = res.create(api_client, namespace, _model_example())
    line_name, model_name = line["metadata"]["name"], model["metadata"]["name"]

    ready = wait_for(
        lambda: _line_ready(api_client, namespace, line_name),
        timeout=60,
        what="the line to be Ready",
    )
    assert ready["status"]["observedGeneration"] == ready["metadata"]["generation"]
    assert "lineops.io/finalizer" in ready["metadata"]["finalizers"]
    assert not any(
        k.startswith("kopf.zalando.org") for k in ready["metadata"].get("annotations", {})
    )

    cm = client.CoreV1Api(api_client).read_namespaced_config_map(f"{line_name}-lineops", namespace)
    owner = cm.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid) == (
        "ProductionLine",
        line_name,
        ready["metadata"]["uid"],
    )

    qm = wait_for(
        lambda: _model_waiting_for_training(api_client, namespace, model_name),
        timeout=60,
        what="the model to request training",
    )
    requests = res.training_requests(api_client, namespace, model_name)
    assert len(requests) == 1
    spec_hash = qm["status"]["training"]["specHash"]
    assert requests[0].metadata.labels["lineops.io/spec-hash"] == spec_hash
    assert qm["status"]["training"]["requestName"] == requests[0].metadata.name

    events = (
        client.CoreV1Api(api_client)
        .list_namespaced_event(namespace, field_selector=f"involvedObject.name={model_name}")
        .items
    )
    assert any(e.reason == "TrainingRequested" for e in events)

    text = operator.metrics()
    assert 'lineops_reconcile_total{kind="ProductionLine",result="success"}' in text
    assert (
        f'lineops_resource_condition{{kind="ProductionLine",name="{line_name}",'
        f'namespace="{namespace}",reason="Reconciled",type="Ready"}} 1.0'
    ) in text


def test_spec_updates_bump_generation_and_reconcile_again(
    api_client: client.ApiClient, namespace: str, operator: RunningOperator
) -> None:
    line = res.create(api_client, namespace, res.example(LINE_EXAMPLE))
    model = res.create(api_client, namespace, _model_example())
    line_name, model_name = line["metadata"]["name"], model["metadata"]["name"]
    wait_for(lambda: _line_ready(api_client, namespace, line_name), what="line Ready")
    first = wait_for(
        lambda: _model_waiting_for_training(api_client, namespace, model_name),
        what="model requests training",
    )

    # A new sensor on the first work unit: generation 2, new configuration.
    work_units = line["spec"]["workUnits"]
    work_units[0]["sensors"].append(
        {"name": "spindle_temp", "unit": "degC", "validRange": ["0", "120"]}
    )
    updated = res.patch(
        api_client, namespace, "ProductionLine", line_name, {"spec": {"workUnits": work_units}}
    )
    assert updated["metadata"]["generation"] == 2
    wait_for(
        lambda: (
            (o := _line_ready(api_client, namespace, line_name))
            and o["status"]["observedGeneration"] == 2
        ),
        what="observedGeneration 2",
    )
    cm = client.CoreV1Api(api_client).read_namespaced_config_map(f"{line_name}-lineops", namespace)
    assert "spindle_temp" in cm.data["line.json"]

    # Serving changes must not retrain ...
    res.patch(
        api_client, namespace, "QualityModel", model_name, {"spec": {"serving": {"replicas": 2}}}
    )
    wait_for(
        lambda: (
            (o := _model_waiting_for_training(api_client, namespace, model_name))
            and o["status"]["observedGeneration"] == 2
        ),
        what="model generation 2",
    )
    assert len(res.training_requests(api_client, namespace, model_name)) == 1

    # ... training parameters must: one new request, named by the new hash.
    res.patch(
        api_client,
        namespace,
        "QualityModel",
        model_name,
        {"spec": {"training": {"parameters": {"epochs": "40"}}}},
    )
    third = wait_for(
        lambda: (
            (o := _model_waiting_for_training(api_client, namespace, model_name))
            and o["status"]["observedGeneration"] == 3
            and o
        ),
        what="model generation 3",
    )
    assert third["status"]["training"]["specHash"] != first["status"]["training"]["specHash"]
    hashes = {
        r.metadata.labels["lineops.io/spec-hash"]
        for r in res.training_requests(api_client, namespace, model_name)
    }
    assert hashes == {
        first["status"]["training"]["specHash"],
        third["status"]["training"]["specHash"],
    }


def test_model_waits_for_its_line_and_wakes_when_it_appears(
    api_client: client.ApiClient, namespace: str, operator: RunningOperator
) -> None:
    model = res.create(api_client, namespace, _model_example())
    name = model["metadata"]["name"]
    waiting = wait_for(
        lambda: (
            (o := res.get(api_client, namespace, "QualityModel", name))
            and res.has_condition(o, "Ready", "False", "LineNotFound")
            and o
        ),
        what="LineNotFound",
    )
    assert model["spec"]["lineRef"] in res.condition(waiting, "Ready")["message"]  # type: ignore[index]
    assert res.training_requests(api_client, namespace, name) == []

    res.create(api_client, namespace, res.example(LINE_EXAMPLE))
    # The default resync is 60 s; the line wakes its models itself, well before that.
    wait_for(
        lambda: _model_waiting_for_training(api_client, namespace, name),
        timeout=20,
        what="the model to notice its line",
    )


def test_deleting_the_line_removes_its_children(
    api_client: client.ApiClient, namespace: str, operator: RunningOperator
) -> None:
    line = res.create(api_client, namespace, res.example(LINE_EXAMPLE))
    name = line["metadata"]["name"]
    wait_for(lambda: _line_ready(api_client, namespace, name), what="line Ready")
    core = client.CoreV1Api(api_client)
    assert core.read_namespaced_config_map(f"{name}-lineops", namespace)

    res.delete(api_client, namespace, "ProductionLine", name)
    wait_for(
        lambda: res.get(api_client, namespace, "ProductionLine", name) is None,
        what="the line to go (finalizer released)",
    )

    def child_gone() -> bool:
        try:
            core.read_namespaced_config_map(f"{name}-lineops", namespace)
        except client.ApiException as exc:
            return exc.status == 404
        return False

    wait_for(child_gone, timeout=60, what="the garbage collector to delete the child")


def test_restart_converges_without_duplicate_training_requests(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity
) -> None:
    line = res.create(api_client, namespace, res.example(LINE_EXAMPLE))
    model = res.create(api_client, namespace, _model_example())
    model_name = model["metadata"]["name"]

    # First run: stop it as soon as the model has started reconciling (mid-way through).
    with run_operator(operator_identity, namespace, NO_TRAINING):
        wait_for(
            lambda: res.get(api_client, namespace, "QualityModel", model_name).get("status"),
            what="first status",
        )  # type: ignore[union-attr]
    # Second run: converges from whatever the first left.
    with run_operator(operator_identity, namespace, NO_TRAINING):
        settled = wait_for(
            lambda: _model_waiting_for_training(api_client, namespace, model_name), what="converged"
        )
        wait_for(
            lambda: _line_ready(api_client, namespace, line["metadata"]["name"]), what="line Ready"
        )
    # Third run: a plain restart changes nothing, not even transition times.
    with run_operator(operator_identity, namespace, NO_TRAINING):
        again = wait_for(
            lambda: _model_waiting_for_training(api_client, namespace, model_name), what="stable"
        )
    assert again["status"]["conditions"] == settled["status"]["conditions"]
    requests = res.training_requests(api_client, namespace, model_name)
    assert len(requests) == 1
    assert (
        requests[0].metadata.labels["lineops.io/spec-hash"]
        == settled["status"]["training"]["specHash"]
    )


def test_operator_account_is_limited_to_its_rules(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity
) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="db-password"), string_data={"password": "x"}
        ),
    )
    as_operator = impersonating(api_client, operator_identity.user)

    # Granted by the chart: reading lines and writing ConfigMaps.
    client.CustomObjectsApi(as_operator).list_namespaced_custom_object(
        "lineops.io", "v1alpha1", namespace, "productionlines"
    )
    # Not granted: Secrets anywhere, deleting lines, touching RBAC.
    for attempt in (
        lambda: client.CoreV1Api(as_operator).read_namespaced_secret("db-password", namespace),
        lambda: client.CoreV1Api(as_operator).list_secret_for_all_namespaces(),
        lambda: client.CustomObjectsApi(as_operator).delete_namespaced_custom_object(
            "lineops.io", "v1alpha1", namespace, "productionlines", "anything"
        ),
        lambda: client.RbacAuthorizationV1Api(as_operator).list_cluster_role(),
    ):
        with pytest.raises(client.ApiException) as denied:
            attempt()
        assert denied.value.status == 403


def test_cli_runs_the_operator_and_stops_cleanly_on_sigint(
    api_client: client.ApiClient,
    namespace: str,
    operator_identity: OperatorIdentity,
    tmp_path: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    from tests.support.operator import free_port

    port = free_port()
    env = dict(os.environ, KUBECONFIG=operator_identity.kubeconfig, LINEOPS_TRAINING="off")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lineops.cli.main",
            "operator",
            "run",
            "--profile",
            "embedded",
            "--namespace",
            namespace,
            "--metrics-port",
            str(port),
            "--ingest-port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    return r.read() == b"ok"
            except OSError:
                return False

        wait_for(healthy, timeout=60, what="/healthz of `lineops operator run`")
        line = res.create(api_client, namespace, res.example(LINE_EXAMPLE))
        wait_for(
            lambda: _line_ready(api_client, namespace, line["metadata"]["name"]),
            what="the CLI-run operator to reconcile",
        )
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output


def test_cli_refuses_to_guess_what_to_watch() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "lineops.cli.main", "operator", "run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--namespace" in proc.stderr and "--all-namespaces" in proc.stderr


def test_malformed_manifests_never_reach_the_operator_and_leave_no_traceback(
    api_client: client.ApiClient, namespace: str, operator_identity: OperatorIdentity
) -> None:
    from tests.integration.test_crd_validation import CASES

    with run_operator(operator_identity, namespace, NO_TRAINING) as running:
        for case in CASES:
            body = case.body()
            with pytest.raises(client.ApiException) as refused:
                client.CustomObjectsApi(api_client).create_namespaced_custom_object(
                    "lineops.io",
                    "v1alpha1",
                    namespace,
                    res.PLURALS[body["kind"]],
                    body,
                    field_validation="Strict",
                )
            assert refused.value.status in (400, 422), case.id
        # The operator is still healthy and reconciling afterwards.
        line = res.create(api_client, namespace, res.example(LINE_EXAMPLE))
        wait_for(
            lambda: _line_ready(api_client, namespace, line["metadata"]["name"]),
            what="a valid line after the invalid ones",
        )
    # run_operator asserts there is no traceback in the operator's output; make sure that
    # output really is the operator's log, so the assertion means something.
    assert "Handler 'reconcile_line' succeeded" in running.runner.output
