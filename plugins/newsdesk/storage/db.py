"""Engines and migrations for the warehouse (SQLite file or PostgreSQL).

``upgrade`` is the one place that changes the warehouse's structure: migrations, the search
index's objects and the analyst views (``newsdesk db upgrade``, the deployment's init step).
Every other command and task calls ``require_current``, which reads the revision and stops,
saying what to run, when the warehouse is missing or behind. ``get_engine(read_only=True)``
is the analysts' connection: SQLite opened read-only (never creates the file, never waits
on the writer: the warehouse is in WAL mode), PostgreSQL with read-only transactions.
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from ..config import Settings
from . import views
from .errors import ViewBlocked, WarehouseError, WarehouseNotReady  # noqa: F401 - raised to callers of db
from .search_index import SAME_VECTORS, ensure_search_index
from .search_index import definition as search_index_definition
from .sql_files import SQL_DIR

log = logging.getLogger(__name__)

_ENGINES: dict[tuple[str, bool], Engine] = {}
SEARCH_INDEX = "search_index"  # its applied_definitions row
READER_SQL = SQL_DIR / "roles" / "reader.sql"


def normalise_url(url: str) -> str:
    """Accept the URL spellings operators use and pick the drivers we install."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def get_engine(url: str | None = None, read_only: bool = False) -> Engine:
    """One engine per URL (and mode) per process (engines own connection pools)."""
    url = normalise_url(url or Settings.from_env().database_url)
    engine = _ENGINES.get((url, read_only))
    if engine is None:
        engine = _create(url, read_only)
        _ENGINES[(url, read_only)] = engine
    return engine


def sqlite_path(url: str | Engine) -> Path | None:
    """The file of a SQLite warehouse URL (None for PostgreSQL and in-memory databases)."""
    parsed = url.url if isinstance(url, Engine) else make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    database = parsed.database
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        return None  # already a URI: the caller chose its mode
    return Path(database)


def _create(url: str, read_only: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if read_only and path is not None:
            if not path.exists():
                raise WarehouseNotReady(f"no SQLite warehouse at {path}: check --database or NEWSDESK_DATABASE_URL "
                                        "(`newsdesk db upgrade` creates one)")
            # mode=ro: never creates the file, never writes; WAL (set by every writer) lets it
            # read the last committed state while a load is writing.
            ro = parsed.set(database=f"file:{quote(str(path.resolve()))}", query={"mode": "ro", "uri": "true"})
            engine = create_engine(ro, connect_args={"timeout": 5})

            @event.listens_for(engine, "connect")
            def _sqlite_read_only(dbapi_conn, _record):  # pragma: no cover - trivial
                dbapi_conn.execute("PRAGMA query_only=ON")

            return engine
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
    if read_only:
        return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2,
                             connect_args={"options": "-c default_transaction_read_only=on"})
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


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(SQL_DIR / "migrations"))
    return ScriptDirectory.from_config(cfg)


def head_revision() -> str:
    """The newest migration this newsdesk ships."""
    return _scripts().get_current_head()


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _label(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return str(sqlite_path(engine) or engine.url.database)
    return engine.url.render_as_string(hide_password=True)


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _older(revision: str, than: str) -> bool:
    """``revision`` is an ancestor of ``than``."""
    return revision != than and any(s.revision == revision for s in _scripts().iterate_revisions(than, "base"))


def require_current(engine: Engine) -> str:
    """The warehouse's revision if it is this newsdesk's head; else ``WarehouseNotReady``
    with the one line an operator needs. Reads, never writes (a SQLite file that does not
    exist is not created)."""
    path = sqlite_path(engine)
    if path is not None and not path.exists():
        raise WarehouseNotReady(f"no SQLite warehouse at {path}: check --database or NEWSDESK_DATABASE_URL "
                                "(`newsdesk db upgrade` creates one)")
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except ProgrammingError as exc:  # a role without SELECT on alembic_version
        reason = " ".join(str(exc.orig or exc).split())
        raise WarehouseNotReady(f"cannot read the revision of warehouse {_label(engine)} ({reason}): grant the "
                                "role SELECT on the warehouse (`newsdesk db upgrade --grant-reader ROLE`)") from None
    head = head_revision()
    if current == head:
        return current
    where = f"warehouse {_label(engine)}"
    if current is None:
        raise WarehouseNotReady(f"{where} has no newsdesk schema yet: run `newsdesk db upgrade`")
    if not _known(current):
        raise WarehouseNotReady(f"{where} is at revision {current}, newer than this newsdesk knows (its newest "
                                f"is {head}): upgrade newsdesk")
    raise WarehouseNotReady(f"{where} is at revision {current}, this newsdesk needs {head}: "
                            "run `newsdesk db upgrade`")


def create_if_new(engine: Engine) -> bool:
    """Create the warehouse when there is none yet: no SQLite file (or an empty one), no
    PostgreSQL database (created if the server lets us) or one without a single table. True if
    it was created. A new warehouse has no analyst's object to break, so loading commands make
    one (``newsdesk import FILE --database URL`` on a new URL); an existing warehouse is left as
    it is, whatever its revision: only ``newsdesk db upgrade`` changes it."""
    path = sqlite_path(engine)
    if path is not None and path.exists() and path.stat().st_size > 0:
        return False
    if path is None and engine.dialect.name == "postgresql":
        ensure_database(engine)
    if path is None or path.exists():
        with engine.connect() as conn:
            if inspect(conn).get_table_names():
                return False
    upgrade(engine)
    log.warning("created a new warehouse at %s", _label(engine))
    return True


def status(engine: Engine) -> dict:
    """Revision, head, and what ``upgrade`` would still change outside migrations."""
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
        at_head = current == head
        outdated_views = views.outdated(conn) if at_head else [name for name, _, _ in views.definitions(
            engine.dialect.name)]
        index_current = at_head and views.recorded(conn).get(SEARCH_INDEX) == _digest(
            search_index_definition(engine.dialect.name))
    return {"revision": current, "head": head, "current": at_head and not outdated_views and index_current,
            "views_outdated": outdated_views, "search_index_current": index_current}


def history(engine: Engine | None = None) -> list[dict]:
    """Every migration, newest first, with whether the warehouse has it."""
    current = None
    if engine is not None:
        with engine.connect() as conn:
            current = current_revision(conn)
    applied = {s.revision for s in _scripts().iterate_revisions(current, "base")} if current and _known(
        current) else set()
    head = head_revision()
    return [{"revision": s.revision, "down_revision": s.down_revision, "title": _title(s.doc or ""),
             "head": s.revision == head, "current": s.revision == current, "applied": s.revision in applied}
            for s in _scripts().walk_revisions()]


def _title(doc: str, width: int = 100) -> str:
    """A migration's first paragraph, cut to ``width`` characters."""
    first = " ".join(doc.strip().split("\n\n", 1)[0].split())
    return first if len(first) <= width else first[:width - 1].rsplit(" ", 1)[0] + " …"


def _digest(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def upgrade(engine: Engine | str | None = None, revision: str = "head", grant_reader: str | None = None) -> dict:
    """Migrate to ``revision`` (never down), then, at the head, the search index and the views
    (each only where its definition changed) and the reader role's grants. Returns what was
    done. A view blocked by an analyst's object raises ``ViewBlocked`` after everything else
    is committed."""
    if not isinstance(engine, Engine):
        engine = get_engine(engine)
    if grant_reader and engine.dialect.name != "postgresql":
        raise WarehouseError("--grant-reader needs PostgreSQL: SQLite has no roles (analysts open the file "
                             "read-only; its file permissions decide who reads it)")
    scripts, head = _scripts(), head_revision()
    target = head if revision in ("head", "heads") else revision
    if not _known(target):
        raise WarehouseError(f"no revision {revision!r}: `newsdesk db history` lists them")
    target = scripts.get_revision(target).revision  # a unique prefix names its revision
    path = sqlite_path(engine)
    if path is not None:  # the one command that creates a warehouse
        path.parent.mkdir(parents=True, exist_ok=True)
    ensure_database(engine)
    with engine.connect() as conn:
        before = current_revision(conn)
    if before is not None and not _known(before):
        raise WarehouseNotReady(f"warehouse {_label(engine)} is at revision {before}, newer than this newsdesk "
                                f"knows (its newest is {head}): upgrade newsdesk")
    if before is not None and _older(target, before):
        raise WarehouseError(f"warehouse {_label(engine)} is at revision {before}, later than {target}: "
                             "`newsdesk db upgrade` never goes back (a downgrade drops what the later revisions "
                             "added); restore a backup taken before the upgrade instead")
    command.upgrade(alembic_config(engine), target)
    with engine.connect() as conn:
        after = current_revision(conn)
    done: dict = {"from": before, "to": after, "head": head}
    if after != head:
        done["note"] = (f"views and search index not touched: they follow the newest revision ({head}); "
                        "run `newsdesk db upgrade` to finish")
        return done
    dialect = engine.dialect.name
    digest = _digest(search_index_definition(dialect))
    with engine.connect() as conn:
        recorded = views.recorded(conn).get(SEARCH_INDEX)
    same_vectors = recorded in SAME_VECTORS.get(dialect, ())
    done["search_index"] = ensure_search_index(engine, rebuild=recorded != digest and not same_vectors,
                                               refresh=same_vectors)
    with engine.begin() as conn:
        views.record(conn, SEARCH_INDEX, digest)
    with engine.begin() as conn:
        done["views"] = views.sync_views(conn)
    if grant_reader:
        grant_reader_role(engine, grant_reader)
        done["reader"] = grant_reader
    blocked = views.blocked_error(done["views"])
    if blocked is not None:
        raise blocked
    return done


def grant_reader_role(engine: Engine, role: str) -> None:
    """PostgreSQL: ``sql/roles/reader.sql`` for ``role`` (created NOLOGIN if missing): SELECT on
    every table and view of the warehouse's schema, now and for what later upgrades create."""
    sql = READER_SQL.read_text(encoding="utf-8")
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('newsdesk.reader', :role, true)"), {"role": role})
            conn.execute(text(sql))
    except ProgrammingError as exc:
        reason = " ".join(str(exc.orig or exc).split())
        raise WarehouseError(f"cannot grant {role} read access ({reason}): run {READER_SQL} as a role that may "
                             f"(psql -v ON_ERROR_STOP=1 -c \"SET newsdesk.reader = '{role}'\" -f {READER_SQL}), "
                             "or create the role first") from None


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
    return views.view_files()


def table_names(engine: Engine) -> list[str]:
    return inspect(engine).get_table_names()
