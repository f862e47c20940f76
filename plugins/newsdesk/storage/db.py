"""Engines and migrations for the warehouse (SQLite file or PostgreSQL)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from ..config import SQL_DIR, Settings
from .search_index import ensure_search_index

log = logging.getLogger(__name__)

_ENGINES: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """Accept the URL spellings operators use and pick the drivers we install."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    url = normalise_url(url or Settings.from_env().database_url)
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _create(url)
        _ENGINES[url] = engine
    return engine


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            # WAL lets readers (analysts) work while a load is running.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def dispose_all() -> None:
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def alembic_config(engine: Engine):
    cfg = Config()
    cfg.set_main_option("script_location", str(SQL_DIR / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine | str | None = None, revision: str = "head") -> None:
    """Apply migrations, then (re)create the analyst views from ``sql/views``."""
    if not isinstance(engine, Engine):
        engine = get_engine(engine)
    ensure_database(engine)
    command.upgrade(alembic_config(engine), revision)
    create_views(engine)
    ensure_search_index(engine)


def ensure_database(engine: Engine) -> bool:
    """Create a PostgreSQL warehouse database that does not exist yet (as SQLite creates its
    file), through the server's ``postgres`` database; True if it was created. Any other
    connection failure, or no right to create it, raises the original error."""
    if engine.dialect.name != "postgresql":
        return False
    try:
        with engine.connect():
            return False
    except OperationalError as exc:
        missing = exc
    name = engine.url.database
    if not name or "does not exist" not in str(missing):
        raise missing
    admin = create_engine(engine.url.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                raise missing  # it exists: the failure was something else (rights, pg_hba)
            quoted = conn.dialect.identifier_preparer.quote(name)
            try:
                conn.execute(text(f"CREATE DATABASE {quoted}"))
            except ProgrammingError as refused:
                if "already exists" not in str(refused):  # else another process created it meanwhile
                    raise missing from refused  # no right to create databases
    except OperationalError:
        raise missing from None
    finally:
        admin.dispose()
    log.warning("created the warehouse database %s", name)
    return True


def view_files() -> list[Path]:
    return sorted((SQL_DIR / "views").glob("*.sql"))


def create_views(engine: Engine) -> None:
    """Views are replaceable objects: dropped and recreated on every upgrade.

    Files are applied in name order, so a view may build on one in an earlier file;
    drops go in reverse order for the same reason.
    """
    files = view_files()
    dialect = engine.dialect.name
    with engine.begin() as conn:
        for path in reversed(files):
            conn.execute(text(f"DROP VIEW IF EXISTS {path.stem.split('_', 1)[1]}"))
        for path in files:
            conn.execute(text(_dialect_sql(path.read_text(), dialect)))


_DIALECT_BLOCK = re.compile(r"/\*(pg|sqlite):(.*?)\*/", re.S)


def _dialect_sql(sql: str, dialect: str) -> str:
    """Views are written once; ``/*pg:...*/`` and ``/*sqlite:...*/`` hold the parts that differ."""
    wanted = "pg" if dialect == "postgresql" else dialect
    return _DIALECT_BLOCK.sub(lambda m: m.group(2) if m.group(1) == wanted else "", sql)


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
