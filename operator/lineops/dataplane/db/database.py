"""One database of the data plane: the engine, checked against the code's schema, and the
repositories on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine

from lineops.dataplane.db.engine import check_schema, new_engine
from lineops.dataplane.repositories.mes import MesRepository
from lineops.dataplane.repositories.quarantine import QuarantineRepository

DB_FILE: Final = "lineops.db"  # the embedded profile's database in the data directory


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.resolve()}"


def embedded_url(data_dir: Path) -> str:
    return sqlite_url(data_dir / DB_FILE)


@dataclass
class Database:
    url: str
    engine: Engine
    mes: MesRepository
    quarantine: QuarantineRepository

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, create_empty: bool = True) -> Database:
    """Open and check; an empty database is created at the newest schema when allowed."""
    engine = new_engine(url, must_exist=not create_empty)
    try:
        check_schema(engine, url, create_empty=create_empty)
    except BaseException:
        engine.dispose()
        raise
    return Database(url, engine, MesRepository(engine), QuarantineRepository(engine))
