"""Shared fixtures: the real control plane (session), per-test namespaces, clients, and a
real PostgreSQL server (session) with a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.controlplane import in_ci, load_cplane
from tests.support.kube import CRD_DIR, admin_client, install_crds
from tests.support.operator import (
    OperatorIdentity,
    RunningOperator,
    create_operator_identity,
    run_operator,
)
from tests.support.postgres import PostgresServer, PostgresUnavailable, running_postgres

# Fixtures that live in support modules (a real Mosquitto broker, a real Redis).
pytest_plugins = ["tests.support.mosquitto", "tests.support.redis_server"]


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """etcd + kube-apiserver (RBAC on) + kube-controller-manager on loopback ports, plus
    kube-scheduler and kwok simulating one node (so Deployments become Available)."""
    cplane = load_cplane()
    try:
        cp = cplane.up(tmp_path_factory.mktemp("controlplane"), with_nodes=True)
    except cplane.ControlPlaneError as exc:
        if in_ci():
            pytest.fail(f"the test control plane is required in CI: {exc}")
        pytest.skip(f"no test control plane: {exc}")
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 on a free loopback port, for the whole session (started on
    first use). Missing binaries skip the test locally and fail it in CI."""
    try:
        with running_postgres() as server:
            yield server
    except PostgresUnavailable as exc:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI (make system-deps installs it): {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL (``postgresql+psycopg://lineops@127.0.0.1:PORT/lineops``) of the
    session's database; shared by every test that uses it."""
    return postgres_server.url()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database per test, once on SQLite (``sqlite:///<tmp_path>/mes.db``) and once
    on PostgreSQL (a uniquely named database on the session server, dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mes.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture(scope="session")
def api_client(control_plane: Any) -> Iterator[client.ApiClient]:
    """Cluster-admin client with the project's CRDs installed and Established."""
    api = admin_client(control_plane.kubeconfig)
    if any(CRD_DIR.glob("*.yaml")):
        install_crds(api)
    yield api
    api.close()


@pytest.fixture
def namespace(api_client: client.ApiClient) -> Iterator[str]:
    """A fresh Namespace per test, deleted afterwards (the namespace controller cleans up)."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    try:
        core.delete_namespace(name)
    except client.ApiException as exc:
        if exc.status != 404:
            raise


@pytest.fixture(scope="session")
def operator_identity(
    api_client: client.ApiClient, control_plane: Any, tmp_path_factory: pytest.TempPathFactory
) -> OperatorIdentity:
    """The chart's ServiceAccount and ClusterRole, with a real token for the operator."""
    return create_operator_identity(
        api_client, control_plane.server, control_plane.ca_file, tmp_path_factory.mktemp("sa")
    )


@pytest.fixture
def operator(operator_identity: OperatorIdentity, namespace: str) -> Iterator[RunningOperator]:
    """The operator (KopfRunner) watching this test's namespace, as its ServiceAccount.

    Training runs are off here (requests only); tests/integration/test_training.py runs
    the real pipelines."""
    with run_operator(operator_identity, namespace, {"LINEOPS_TRAINING": "off"}) as running:
        yield running
