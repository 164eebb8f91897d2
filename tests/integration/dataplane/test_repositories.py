"""The data plane's repositories and migrations, the same suite on SQLite and on a real
PostgreSQL 15 (``db_url`` runs every test on both)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lineops.dataplane.db.database import open_database
from lineops.dataplane.db.engine import (
    SchemaError,
    check_schema,
    current_revision,
    head_revision,
    new_engine,
    upgrade,
)
from lineops.dataplane.db.tables import metadata
from lineops.dataplane.lines import LineRef
from lineops.dataplane.repositories.mes import MachineEvent, Measurement, ProductionCount
from lineops.dataplane.repositories.quarantine import Rejected
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from tests.support.postgres import PostgresServer

A = LineRef("plant-a", "press-line-1")
B = LineRef("plant-b", "press-line-1")  # same name, other namespace: a different line


def test_migrations_create_what_the_code_reads(db_url: str) -> None:
    before, after = upgrade(db_url)
    assert (before, after) == (None, head_revision())
    engine = new_engine(db_url)
    try:
        found = inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in found.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
            indexes = {i["name"] for i in found.get_indexes(table.name)}
            assert {i.name for i in table.indexes} <= indexes, table.name
    finally:
        engine.dispose()
    # A second upgrade is a no-op.
    assert upgrade(db_url) == (head_revision(), head_revision())


def test_empty_database_is_created_on_open(db_url: str) -> None:
    db = open_database(db_url)
    try:
        assert current_revision(db.engine) == head_revision()
    finally:
        db.close()


def test_foreign_tables_without_revision_are_refused(db_url: str) -> None:
    engine = new_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE measurements (id INTEGER)"))
        with pytest.raises(SchemaError, match="lineops db upgrade"):
            check_schema(engine, db_url)
    finally:
        engine.dispose()


def test_unknown_revision_is_refused_as_newer(db_url: str) -> None:
    upgrade(db_url)
    engine = new_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(SchemaError, match="newer than this lineops"):
            check_schema(engine, db_url)
    finally:
        engine.dispose()


def test_refusal_never_creates_an_empty_database_when_not_allowed(db_url: str) -> None:
    engine = new_engine(db_url)
    try:
        with pytest.raises(SchemaError, match="empty, no lineops schema; run `lineops db upgrade"):
            check_schema(engine, db_url, create_empty=False)
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_a_read_only_open_of_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    """Reports, lots and genealogy open the store read-only: a wrong path is named, and
    neither the file nor its directory is left behind (both used to be created, and the
    command then said the store was empty)."""
    url = f"sqlite:///{tmp_path / 'typo' / 'lineops.db'}"
    with pytest.raises(SchemaError, match=r"no database file at .*typo/lineops.db; `lineops db"):
        open_database(url, create_empty=False)
    assert list(tmp_path.iterdir()) == []
    open_database(url).close()  # where creating is allowed (serving), it is created
    assert (tmp_path / "typo" / "lineops.db").is_file()


def test_mes_records_round_trip_per_line(db_url: str) -> None:
    db = open_database(db_url)
    try:
        mes = db.mes
        mes.add_measurements(A, [Measurement("d", "2026-01-01T00:00:00+00:00", 1.5, None, "L1")])
        mes.add_measurements(A, [Measurement("d", "2026-01-01T00:00:01+00:00", 2.5)])
        mes.add_measurements(B, [Measurement("d", "2026-01-01T00:00:00+00:00", 9.0)])
        rows = mes.measurements(A, "d")
        assert [m.value for _, m in rows] == [1.5, 2.5]
        assert rows[0][1].lot == "L1"
        assert [m.value for _, m in mes.measurements(A, "d", after_id=rows[0][0])] == [2.5]
        assert [m.value for _, m in mes.measurements(B, "d")] == [9.0]

        assert mes.oee_version(A) == (0, 0)
        mes.add_events(A, [MachineEvent("press-01", "2026-01-01T00:00:00+00:00", "running")])
        mes.add_counts(A, [ProductionCount("press-01", "2026-01-01T00:10:00+00:00", 10, 9)])
        events_id, counts_id = mes.oee_version(A)
        assert events_id > 0 and counts_id > 0
        assert mes.events(A) == [
            MachineEvent("press-01", "2026-01-01T00:00:00+00:00", "running", "")
        ]
        assert mes.counts(A) == [ProductionCount("press-01", "2026-01-01T00:10:00+00:00", 10, 9)]
        assert mes.events(B) == [] and mes.counts(B) == []

        mes.delete_line(A)
        assert mes.measurements(A, "d") == [] and mes.events(A) == []
        assert len(mes.measurements(B, "d")) == 1
    finally:
        db.close()


def test_a_failing_batch_stores_nothing(db_url: str) -> None:
    db = open_database(db_url)
    try:
        good = Measurement("d", "2026-01-01T00:00:00+00:00", 1.0)
        broken = Measurement("d", None, 2.0)  # type: ignore[arg-type]  # NOT NULL violation
        with pytest.raises(IntegrityError):
            db.mes.add_measurements(A, [good, good, broken])
        assert db.mes.measurements(A, "d") == []
    finally:
        db.close()


def test_quarantine_counts_lists_and_releases_once(db_url: str) -> None:
    db = open_database(db_url)
    try:
        q = db.quarantine
        q.add(
            A,
            "measurements",
            [
                Rejected("unknown_characteristic", "records[0].characteristic: 'x'", {"a": 1}),
                Rejected("non_numeric", "records[1].value: 'Bad'", {"value": "Bad"}),
            ],
            source="http",
        )
        q.add(B, "readings", [Rejected("non_numeric", "readings[0].value", {})], source="mqtt")
        assert q.counts_by_reason(A) == {"unknown_characteristic": 1, "non_numeric": 1}
        assert q.total() == 3
        items = q.list(A)
        assert [i.reason for i in items] == ["unknown_characteristic", "non_numeric"]
        assert items[1].record == {"value": "Bad"} and items[1].kind == "measurements"
        with db.engine.begin() as conn:
            assert q.mark_released([items[0].id], conn) == 1
        with db.engine.begin() as conn:
            assert q.mark_released([items[0].id], conn) == 0  # idempotent
        assert [i.id for i in q.list(A)] == [items[1].id]
        assert len(q.list(A, include_released=True)) == 2
        assert q.counts_by_reason(A) == {"non_numeric": 1}
        # Stored as numbers, NaN and the infinities made the listed records invalid JSON.
        junk = {"value": float("nan"), "more": [float("inf"), {"x": float("-inf")}], "n": 1.5}
        q.add(B, "measurements", [Rejected("non_numeric", "records[0].value", junk)], source="x")
        (item,) = q.list(B, kind="measurements")
        assert item.record == {"value": "NaN", "more": ["Infinity", {"x": "-Infinity"}], "n": 1.5}
    finally:
        db.close()


def test_a_release_of_more_items_than_one_statement_binds_is_marked(db_url: str) -> None:
    """100,000 ids (a release's default limit) in one IN list are more parameters than
    PostgreSQL takes (65,535): the release failed after re-ingesting its items."""
    db = open_database(db_url)
    try:
        q = db.quarantine
        q.add(
            A,
            "readings",
            [Rejected("late", f"readings[{i}]", {}) for i in range(70_000)],
            source="http",
        )
        ids = [item.id for item in q.list(A, limit=70_000)]
        assert len(ids) == 70_000
        with db.engine.begin() as conn:
            assert q.mark_released(ids, conn) == 70_000
        assert q.counts_by_reason(A) == {}
    finally:
        db.close()


def test_data_planes_opening_one_empty_database_together_all_start(
    postgres_server: PostgresServer,
) -> None:
    """A Deployment per line on one PostgreSQL: each process found it empty and created the
    tables, and all but one crashed on the duplicates. Six processes start at once."""
    import subprocess
    import sys

    name = postgres_server.create_database("race")
    url = postgres_server.url(name)
    code = (
        "import sys; from lineops.dataplane.db.database import open_database; "
        "open_database(sys.argv[1]).close()"
    )
    try:
        starts = [
            subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
            for _ in range(6)
        ]
        failures = [p.communicate(timeout=120)[1] for p in starts if p.wait(timeout=120) != 0]
        assert failures == []
        assert current_revision(new_engine(url)) == head_revision()
    finally:
        postgres_server.drop_database(name)


def test_a_migration_that_fails_midway_leaves_no_tables_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pysqlite began the transaction only before data changes: the tables a killed
    migration had created stayed, with no revision, and every later start refused the
    database ("holds tables but no lineops schema revision")."""
    import lineops.dataplane.db.engine as engine_module

    url = f"sqlite:///{tmp_path / 'mes.db'}"
    real = engine_module.command.upgrade

    def killed_midway(config: object, revision: str) -> None:
        real(config, revision)  # every table created, in the migration's transaction
        raise RuntimeError("killed")

    monkeypatch.setattr(engine_module.command, "upgrade", killed_midway)
    with pytest.raises(RuntimeError, match="killed"):
        upgrade(url)
    assert inspect(new_engine(url)).get_table_names() == []

    monkeypatch.setattr(engine_module.command, "upgrade", real)
    db = open_database(url)  # starts as on an empty database
    db.close()
    assert current_revision(new_engine(url)) == head_revision()


def test_an_upgrade_to_an_older_revision_is_refused(db_url: str) -> None:
    upgrade(db_url)
    with pytest.raises(SchemaError, match=r"revision 0002 is older than the database's"):
        upgrade(db_url, "0002")
    assert current_revision(new_engine(db_url)) == head_revision()
    assert upgrade(db_url, "head") == (head_revision(), head_revision())


def test_an_older_schema_is_refused_with_the_command_to_run(db_url: str) -> None:
    upgrade(db_url, "0001")  # the first revision; the code needs a later one
    engine = new_engine(db_url)
    head = head_revision()
    try:
        with pytest.raises(SchemaError, match=rf"older than this lineops \({head}\); run `lineops"):
            check_schema(engine, db_url)
    finally:
        engine.dispose()


def test_the_prediction_lot_index_holds_rows_with_a_lot_and_lookups_use_it(db_url: str) -> None:
    """Migration 0006: the lot index is partial (``lot IS NOT NULL``); a lookup by lot still
    goes through it on both databases."""
    upgrade(db_url)
    engine = new_engine(db_url)
    name = "ix_predictions_namespace_line_lot_id"
    lookup = (
        "SELECT id FROM predictions WHERE namespace = 'plant-a' AND line = 'press-line-1' "
        "AND lot = 'L-1' ORDER BY id"
    )
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                sql = conn.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}
                ).scalar_one()
                plan = " ".join(
                    str(r[-1]) for r in conn.execute(text("EXPLAIN QUERY PLAN " + lookup))
                )
            else:
                sql = conn.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}
                ).scalar_one()
                conn.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table
                plan = " ".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + lookup)))
    finally:
        engine.dispose()
    assert "lot IS NOT NULL" in sql.replace("(", "").replace(")", ""), sql
    assert name in plan, plan
