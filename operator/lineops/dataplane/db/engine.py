"""Engines for the data plane's database and the schema check at start-up.

``sqlite:///path`` (embedded profile) or ``postgresql+psycopg://...`` (cluster profile).
The data plane never migrates a database that already holds data behind the operator's
back: an older schema stops it with the command to run (``lineops db upgrade``); only an
empty database is created at the newest revision on first start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")

# The PostgreSQL advisory lock migrations run under (any fixed 64-bit key of our own).
MIGRATION_LOCK: Final = 0x6C696E656F7073  # "lineops"


class SchemaError(RuntimeError):
    """The database's schema is not the one this code was written for."""


def new_engine(url: str, *, must_exist: bool = False, ddl: bool = False) -> Engine:
    """An engine with the settings each backend needs for the data plane's access pattern.

    ``must_exist``: a SQLite file that is not there is an error instead of being created
    (with its directory) by the first connection: a read-only command pointed at a wrong
    path left an empty database file behind and reported "no records".

    ``ddl`` (migrations): on SQLite the transaction begins at its start, so schema changes
    are part of it (pysqlite begins one only before data changes: a migration killed midway
    left its tables with the old revision, and every later start refused the database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            if must_exist and not path.is_file():
                raise SchemaError(
                    f"db {url}: no database file at {path}; `lineops db upgrade --db {url}` "
                    "creates one"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        args: dict[str, Any] = {"check_same_thread": False}
        if ddl:
            args["isolation_level"] = None  # pysqlite leaves BEGIN to the "begin" event
        engine = create_engine(url, connect_args=args)
        event.listen(engine, "connect", _sqlite_pragmas)
        if ddl:
            event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise SchemaError(
            f"db: {parsed.get_backend_name()!r} is not supported (sqlite or postgresql)"
        )
    # Batches are written from worker threads; a small pool per process is enough.
    return create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (monitors, reports) never block the writer; FULL: an acknowledged batch
    # survives a power cut.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation: a password with % must survive.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str]:
    """Apply migrations up to ``revision``; returns (before, after). A ``revision`` older
    than the database's is refused (SchemaError): an upgrade to it did nothing and said
    so only in its output."""
    engine = new_engine(url, ddl=True)
    try:
        before = current_revision(engine)
        _refuse_older(url, before, revision)
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Data planes of one database start together (a Deployment per line): each
                # found it empty and created the tables, and all but one crashed on the
                # duplicates. Under the lock, the later ones find the schema made.
                conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        after = current_revision(engine)
    finally:
        engine.dispose()
    return before, after or ""


def _refuse_older(url: str, current: str | None, revision: str) -> None:
    if current is None or revision in ("head", "heads", current):
        return
    script = ScriptDirectory.from_config(alembic_config(url))
    below = {rev.revision for rev in script.iterate_revisions(current, "base")} - {current}
    if revision in below:
        shown = make_url(url).render_as_string(hide_password=True)
        raise SchemaError(
            f"db {shown}: revision {revision} is older than the database's ({current}); "
            "lineops does not downgrade a database"
        )


def check_schema(engine: Engine, url_for_message: str, *, create_empty: bool = True) -> None:
    """Refuse a database whose schema is older (or newer) than this code's."""
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    shown = make_url(url_for_message).render_as_string(hide_password=True)
    if current is None and not inspect(engine).get_table_names():
        if create_empty:
            upgrade(engine.url.render_as_string(hide_password=False))
            return
        raise SchemaError(
            f"db {shown}: empty, no lineops schema; run `lineops db upgrade --db {shown}`"
        )
    if current is None:
        raise SchemaError(
            f"db {shown}: holds tables but no lineops schema revision; point --db at an "
            f"empty database or run `lineops db upgrade --db URL` on a lineops database"
        )
    script = ScriptDirectory.from_config(alembic_config(shown))
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise SchemaError(
            f"db {shown}: schema revision {current} is newer than this lineops ({head}); "
            "upgrade lineops"
        )
    raise SchemaError(
        f"db {shown}: schema revision {current} is older than this lineops ({head}); run "
        f"`lineops db upgrade --db {shown}`"
    )
