"""The test PostgreSQL server (tests/support/postgres.py) is real, PostgreSQL 15, and hands out
independent databases: the ground the SQL repositories' tests stand on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url)
    yield engine
    engine.dispose()


def test_server_is_postgresql_15_and_round_trips_rows(engine: sa.Engine) -> None:
    metadata = sa.MetaData()
    readings = sa.Table(
        "readings_roundtrip",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(readings),
                [{"line": "line-a", "value": 1.5}, {"line": "line-b", "value": -2.25}],
            )
        with engine.connect() as conn:
            rows = conn.execute(sa.select(readings.c.line, readings.c.value).order_by("id")).all()
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
            dialect = conn.dialect.name, conn.dialect.driver
    finally:
        metadata.drop_all(engine)
    assert [tuple(r) for r in rows] == [("line-a", 1.5), ("line-b", -2.25)]
    assert str(version).startswith("15"), version
    assert dialect == ("postgresql", "psycopg")


def test_server_listens_on_loopback_only(
    engine: sa.Engine, postgres_server: PostgresServer
) -> None:
    with engine.connect() as conn:
        listen = conn.execute(sa.text("SHOW listen_addresses")).scalar_one()
        fsync = conn.execute(sa.text("SHOW fsync")).scalar_one()
    assert listen == "127.0.0.1"
    assert fsync == "off"
    assert postgres_server.host == "127.0.0.1"


def test_db_url_databases_are_isolated(postgres_server: PostgresServer) -> None:
    """Two per-test databases (what ``db_url`` hands out) share the server, not the data;
    a dropped one is gone even with a connection still open."""
    first, second = postgres_server.create_database(), postgres_server.create_database()
    engines = [sa.create_engine(postgres_server.url(name)) for name in (first, second)]
    try:
        with engines[0].begin() as conn:
            conn.execute(sa.text("CREATE TABLE records (id integer PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO records VALUES (1)"))
        assert "records" in sa.inspect(engines[0]).get_table_names()
        assert sa.inspect(engines[1]).get_table_names() == []
        with engines[1].begin() as conn:
            conn.execute(sa.text("CREATE TABLE records (id integer PRIMARY KEY)"))
            assert conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one() == 0
        held = engines[0].connect()  # DROP ... WITH (FORCE) must not hang on it
        postgres_server.drop_database(first)
        held.invalidate()
        with postgres_server.connect_admin() as admin:
            names = {row[0] for row in admin.execute("SELECT datname FROM pg_database")}
        assert first not in names
        assert second in names
    finally:
        for engine in engines:
            engine.dispose()
        postgres_server.drop_database(first)
        postgres_server.drop_database(second)


def test_db_url_is_empty_and_writable(db_url: str) -> None:
    """Runs twice (sqlite, postgresql); each run gets an empty database of its own."""
    engine = sa.create_engine(db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE lots (id integer PRIMARY KEY, name text)"))
            conn.execute(sa.text("INSERT INTO lots VALUES (1, 'lot-1')"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT name FROM lots")).scalar_one() == "lot-1"
    finally:
        engine.dispose()
    if db_url.startswith("postgresql"):
        assert db_url.startswith("postgresql+psycopg://lineops@127.0.0.1:")
    else:
        assert db_url.startswith("sqlite:///") and db_url.endswith("/mes.db")
