"""API requests per reconcile (issue 24): a reconcile that changes nothing asks the API server
nothing it already knows, and a deleted or edited child is still written again.

The real operator (in this process, as the chart's ServiceAccount) against the real
kube-apiserver. Its requests are counted by wrapping the real Kubernetes client's transport
(``RESTClientObject.request``) and keeping those sent with the operator's token: the services'
requests, not kopf's own (status patches, watches), which are not what is tested here.
Reconciles are triggered by touching an annotation of every line and model, which runs the
same reconcile as the resync timer (its period is fixed when the handlers are imported)."""

from __future__ import annotations

import json
import re
import ssl
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client import rest

from tests.support.kube import wait_for
from tests.support.operator import OperatorIdentity, RunningOperator
from tests.support.scale import GROUP, PLURALS, VERSION, line_body, model_body, settled

pytestmark = pytest.mark.integration

N = 3
DIFFBASE = "lineops.io/last-handled-configuration"
TOUCH = "test.lineops.io/touch"
PATH = re.compile(r"/namespaces/(?P<ns>[^/]+)/(?P<resource>[^/?]+)(?P<name>/[^/?]+)?")


class Requests:
    """The operator's requests to the API server, as "VERB resource", in one namespace."""

    def __init__(self, token: str, namespace: str) -> None:
        self._auth = f"Bearer {token}"
        self._namespace = namespace
        self.seen: Counter[str] = Counter()

    def record(self, method: str, url: str, headers: dict[str, Any] | None) -> None:
        auth = {k.lower(): v for k, v in (headers or {}).items()}.get("authorization")
        if auth != self._auth:
            return  # the test's own client
        found = PATH.search(url.split("?", 1)[0])
        if found is None or found["ns"] != self._namespace:
            return
        verb = method if found["name"] or method != "GET" else "LIST"
        self.seen[f"{verb} {found['resource']}"] += 1


@pytest.fixture
def requests(
    operator_identity: OperatorIdentity, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Requests]:
    config = yaml.safe_load(Path(operator_identity.kubeconfig).read_text())
    counter = Requests(config["users"][0]["user"]["token"], namespace)
    real = rest.RESTClientObject.request

    def counting(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        counter.record(method, url, kwargs.get("headers"))
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(rest.RESTClientObject, "request", counting)
    yield counter


def _status_patches(control_plane: Any, plural: str) -> float:
    """The API server's count of status PATCHes of ``plural`` (apiserver_request_total): kopf
    sends them, so the client wrapper does not see them; only the operator patches them."""
    req = urllib.request.Request(f"{control_plane.server}/metrics")
    req.add_header("Authorization", f"Bearer {control_plane.token}")
    ctx = ssl.create_default_context(cafile=control_plane.ca_file)
    with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
        text = resp.read().decode()
    wanted = ('verb="PATCH"', f'resource="{plural}"', 'subresource="status"')
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("apiserver_request_total{") and all(w in line for w in wanted)
    )


def _all(api: client.ApiClient, namespace: str, kind: str) -> list[dict[str, Any]]:
    custom = client.CustomObjectsApi(api)
    items: list[dict[str, Any]] = custom.list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[kind]
    )["items"]
    return items


def _settled(api: client.ApiClient, namespace: str) -> bool:
    objs = _all(api, namespace, "ProductionLine") + _all(api, namespace, "QualityModel")
    return len(objs) == 2 * N and all(settled(o) is not None for o in objs)


def _touch_all(api: client.ApiClient, namespace: str, value: str) -> None:
    custom = client.CustomObjectsApi(api)
    for kind, plural in PLURALS.items():
        for obj in _all(api, namespace, kind):
            patch = {"metadata": {"annotations": {TOUCH: value}}}
            custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, obj["metadata"]["name"], patch
            )


def _handled(api: client.ApiClient, namespace: str, value: str) -> bool:
    """Every object reconciled since it was touched: kopf records the handled annotations
    in its diff base after the handler returned."""
    for kind in PLURALS:
        for obj in _all(api, namespace, kind):
            base = (obj["metadata"].get("annotations") or {}).get(DIFFBASE)
            handled = json.loads(base or "{}").get("metadata", {}).get("annotations", {})
            if handled.get(TOUCH) != value:
                return False
    return True


def _config_maps(api: client.ApiClient, namespace: str, component: str) -> dict[str, Any]:
    items = client.CoreV1Api(api).list_namespaced_config_map(
        namespace, label_selector=f"app.kubernetes.io/component={component}"
    )
    return {cm.metadata.name: cm for cm in items.items}


def _reconcile_all(api: client.ApiClient, namespace: str, value: str) -> None:
    _touch_all(api, namespace, value)
    wait_for(lambda: _handled(api, namespace, value), timeout=60, what=f"reconciles ({value})")


def test_reconciles_that_change_nothing_ask_nothing_and_deleted_children_come_back(
    api_client: client.ApiClient,
    namespace: str,
    operator: RunningOperator,
    requests: Requests,
    control_plane: Any,
) -> None:
    custom = client.CustomObjectsApi(api_client)
    core = client.CoreV1Api(api_client)
    # Models first: they wait for their lines, which wake them when they appear.
    for i in range(N):
        body = model_body(f"model-{i}", f"line-{i}")
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "qualitymodels", body)
    wait_for(
        lambda: (
            len(_all(api_client, namespace, "QualityModel")) == N
            and all(o.get("status") for o in _all(api_client, namespace, "QualityModel"))
        ),
        what="the models to wait for their lines",
    )
    for i in range(N):
        custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "productionlines", line_body(f"line-{i}")
        )
    wait_for(lambda: _settled(api_client, namespace), timeout=90, what="all reconciled")
    assert len(_config_maps(api_client, namespace, "line-config")) == N
    assert len(_config_maps(api_client, namespace, "training-request")) == N
    # The count sees the operator: its requests of the first reconciles.
    assert requests.seen["POST configmaps"] >= 2 * N, requests.seen
    # Models read their line from the operator's index, not from the API server.
    assert requests.seen["GET productionlines"] == 0, requests.seen

    # Three rounds of reconciles of everything: what is known is not asked again.
    requests.seen.clear()
    status_before = _status_patches(control_plane, "qualitymodels")
    for round_ in range(3):
        _reconcile_all(api_client, namespace, f"quiet-{round_}")
    quiet = dict(requests.seen)
    for redundant in (
        "POST configmaps",  # a model's training request, answered 409 every time
        "GET configmaps",  # a line's configuration, read back every time
        "GET productionlines",  # a model's line, read every time
        "GET qualitymodels",  # a line's waiting models, read every time
        "PATCH qualitymodels",  # the line's wake, once per model and line object
        "LIST prometheusrules",  # is the Prometheus Operator installed? (kept 5 minutes)
    ):
        assert quiet.get(redundant, 0) == 0, f"{redundant} is back: {quiet}"
    # The model's status is unchanged, so kopf sends no status PATCH (the serving part is
    # written whole with nulls, which once made every model reconcile a PATCH).
    patched = _status_patches(control_plane, "qualitymodels") - status_before
    assert patched == 0, f"{patched:.0f} model status PATCHes for unchanged models"

    # Level-based still: children deleted or edited by hand are written again by the next
    # reconcile of their owner (the watch tells the operator; no cache hides it).
    requests_cm = sorted(_config_maps(api_client, namespace, "training-request"))
    core.delete_namespaced_config_map(requests_cm[0], namespace)
    core.delete_namespaced_config_map("line-0-lineops", namespace)
    core.patch_namespaced_config_map(
        "line-1-lineops", namespace, {"data": {"line.json": '{"edited": true}'}}
    )
    wanted = core.read_namespaced_config_map("line-2-lineops", namespace).data

    def restored() -> bool:
        cms = _config_maps(api_client, namespace, "line-config")
        trained = _config_maps(api_client, namespace, "training-request")
        return (
            requests_cm[0] in trained
            and "line-0-lineops" in cms
            and "line-1-lineops" in cms
            and cms["line-1-lineops"].data["line.json"] != '{"edited": true}'
        )

    # Each round may race the watch event; the next one sees it.
    for round_ in range(5):
        _reconcile_all(api_client, namespace, f"heal-{round_}")
        if restored():
            break
    assert restored(), (
        sorted(_config_maps(api_client, namespace, "line-config")),
        sorted(_config_maps(api_client, namespace, "training-request")),
    )
    line_0 = core.read_namespaced_config_map("line-0-lineops", namespace)
    assert set(line_0.data) == set(wanted)
    assert line_0.metadata.owner_references[0].name == "line-0"
    # Recreated and repaired through the API, not assumed: the line's and the request's
    # POST, the edited configuration's PATCH.
    assert requests.seen["POST configmaps"] >= 2, requests.seen
    assert requests.seen["PATCH configmaps"] >= 1, requests.seen
