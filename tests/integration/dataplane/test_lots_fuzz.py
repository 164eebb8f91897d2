"""Schemathesis on the lot and material routes only (issue #22), on SQLite and PostgreSQL:
generated valid and invalid receipts, lots, consumptions, closes, quality results,
maintenance records, materials and reads against a real DataPlaneApp whose store already
holds a few lots (so generated names sometimes hit recorded lots). No answer may be a 5xx;
every 4xx is a problem document; answers match the document. The whole document is fuzzed
by test_api_fuzz.py too; this run spends its examples on the new routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.dataplane.test_api_fuzz import CHECKS, assert_problem
from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

MAX_EXAMPLES = 60
ROUTES = (
    r"/(material-lots|work-orders|lots|consumptions|quality-results|maintenance|materials"
    r"|inventory)"
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApp]:
    data = tmp_path_factory.mktemp("lots-fuzz")
    if request.param == "sqlite":
        with served_dataplane(data, f"sqlite:///{data / 'lineops.db'}") as app:
            _seed(app)
            yield app
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        with served_dataplane(data, server.url(name)) as app:
            _seed(app)
            yield app
    finally:
        server.drop_database(name)


def _seed(app: ServedApp) -> None:
    """Lots named like short generated strings, so generated bodies reach the stock checks."""
    for lot in ("0", "a", "A"):
        body = {
            "lot": lot,
            "material": "m",
            "unit": "0",
            "quantity": 5,
            "supplier": "s",
            "supplierLot": "x",
            "receivedAt": "2026-11-02T06:00:00Z",
        }
        assert requests.post(app.line_url("material-lots"), json=body, timeout=30).ok
        body = {
            "lot": f"p{lot}",
            "product": "0",
            "workUnit": "press-01",
            "start": "2026-11-02T06:00:00Z",
        }
        assert requests.post(app.line_url("lots"), json=body, timeout=30).ok


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def api_schema(served: ServedApp) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {"seed": 0, "parameters": {"path.namespace": LINE.namespace, "path.line": LINE.name}}
    )
    return schemathesis.openapi.from_url(f"{served.url}/openapi.json", config=config)


@pytest.fixture(autouse=True)
def _pytest_9_2_node_id(request: pytest.FixtureRequest) -> None:
    # As in test_api_fuzz.py: schemathesis 4.32.5 reads pytest's private Node._nodeid.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# Filtered on the lazy schema: the pytest plugin builds the operations from it.
schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=ROUTES)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_lot_routes_never_answer_5xx(case: schemathesis.Case, http: requests.Session) -> None:
    response = case.call(session=http, timeout=60)
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        assert_problem(response)
