"""The analyst views of ``sql/views``: applied by ``newsdesk db upgrade``, replaced only when
their definition changed.

Each file holds one view (``NN_name.sql``, applied in name order, so a view may build on one
in an earlier file); ``/*pg:...*/`` and ``/*sqlite:...*/`` blocks hold the parts that differ
between the databases. The SHA-256 of the SQL applied is kept in ``applied_definitions``
(``view:NAME``). A changed view is replaced in place where the database allows it
(PostgreSQL's ``CREATE OR REPLACE VIEW``: same columns, new ones at the end), so an
analyst's view built on it keeps working. Otherwise it is dropped and created again, unless
objects newsdesk does not own depend on it: then it is left as it was and the upgrade names
them (``errors.ViewBlocked``). SQLite has no dependency tracking between views: a changed
view is dropped and created again in one transaction, and views built on it by name resolve
to the new one.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import delete, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .errors import ViewBlocked
from .schema import applied_definitions
from .sql_files import SQL_DIR

PREFIX = "view:"
_DIALECT_BLOCK = re.compile(r"/\*(pg|sqlite):(.*?)\*/", re.S)
_CREATE_VIEW = re.compile(r"\bCREATE\s+VIEW\b", re.I)


def view_files() -> list[Path]:
    return sorted((SQL_DIR / "views").glob("*.sql"))


def view_name(path: Path) -> str:
    return path.stem.split("_", 1)[1]


def dialect_sql(sql: str, dialect: str) -> str:
    """Views are written once; ``/*pg:...*/`` and ``/*sqlite:...*/`` hold the parts that differ."""
    wanted = "pg" if dialect == "postgresql" else dialect
    return _DIALECT_BLOCK.sub(lambda m: m.group(2) if m.group(1) == wanted else "", sql)


def definitions(dialect: str) -> list[tuple[str, str, str]]:
    """(name, SQL, SHA-256 of the SQL) of every view, in the order they are applied."""
    out = []
    for path in view_files():
        sql = dialect_sql(path.read_text(encoding="utf-8"), dialect)
        out.append((view_name(path), sql, hashlib.sha256(sql.encode("utf-8")).hexdigest()))
    return out


def existing_views(conn: Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        return set(conn.execute(text("SELECT viewname FROM pg_views WHERE schemaname = current_schema()")).scalars())
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'view'")).scalars())


def recorded(conn: Connection) -> dict[str, str]:
    """Definition hashes as last applied, by name (``view:v_articles``, ``search_index``)."""
    return dict(conn.execute(select(applied_definitions.c.name, applied_definitions.c.sha256)).all())


def record(conn: Connection, name: str, digest: str | None) -> None:
    conn.execute(delete(applied_definitions).where(applied_definitions.c.name == name))
    if digest is not None:
        now = datetime.now(timezone.utc)
        conn.execute(insert(applied_definitions).values(name=name, sha256=digest, applied_at=now))


def outdated(conn: Connection) -> list[str]:
    """Views whose file differs from what was applied, or that are missing."""
    done, present = recorded(conn), existing_views(conn)
    return [name for name, _, digest in definitions(conn.dialect.name)
            if name not in present or done.get(PREFIX + name) != digest]


def dependents(conn: Connection, view: str) -> list[str]:
    """PostgreSQL: the views and materialised views built on ``view``, directly or through
    another one (pg_depend through their rewrite rules), and any other object that depends on
    it directly, as the server names them."""
    rows = conn.execute(text("""
        WITH RECURSIVE built_on(oid) AS (
            SELECT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.refobjid = CAST(:view AS regclass) AND r.ev_class <> CAST(:view AS regclass)
            UNION
            SELECT r.ev_class FROM built_on b
            JOIN pg_depend d ON d.refobjid = b.oid AND d.refclassid = 'pg_class'::regclass
                            AND d.classid = 'pg_rewrite'::regclass
            JOIN pg_rewrite r ON r.oid = d.objid AND r.ev_class <> b.oid
        )
        SELECT pg_describe_object('pg_class'::regclass, oid, 0) FROM built_on
        UNION
        SELECT pg_describe_object(d.classid, d.objid, d.objsubid) FROM pg_depend d
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = CAST(:view AS regclass)
          AND d.deptype = 'n' AND d.classid <> 'pg_rewrite'::regclass
        ORDER BY 1"""), {"view": view}).scalars().all()
    return list(rows)


def _ours(description: str, names: set[str]) -> str | None:
    """The name of one of our views from a pg_describe_object text ("view v_clusters")."""
    kind, _, name = description.partition(" ")
    name = name.rsplit(".", 1)[-1].strip('"')
    return name if kind == "view" and name in names else None


def sync_views(conn: Connection) -> dict:
    """Bring every view to its file's definition, touching only those that changed; returns
    the views by what was done to them. A view that would have to be dropped while objects
    outside newsdesk depend on it is left as it was, under ``blocked`` with those objects
    (``blocked_error`` turns that into the error to raise once the rest is committed)."""
    dialect = conn.dialect.name
    wanted = definitions(dialect)
    names = {name for name, _, _ in wanted}
    done, present = recorded(conn), existing_views(conn)
    report: dict = {"unchanged": [], "created": [], "replaced": [], "recreated": [], "dropped": []}
    gone: set[str] = set()  # ours, dropped with a view they are built on: to create again
    blocked: dict[str, list[str]] = {}
    for name, sql, digest in wanted:
        exists = name in present and name not in gone
        if exists and done.get(PREFIX + name) == digest:
            report["unchanged"].append(name)
            continue
        if not exists:
            conn.execute(text(sql))
            report["created"].append(name)
        elif dialect == "postgresql":
            try:
                with conn.begin_nested():
                    conn.execute(text(_CREATE_VIEW.sub("CREATE OR REPLACE VIEW", sql, count=1)))
                report["replaced"].append(name)
            except DBAPIError:  # columns renamed, removed or retyped: only a drop applies it
                needed = dependents(conn, name)
                foreign = [d for d in needed if _ours(d, names) is None]
                if foreign:
                    blocked[name] = foreign
                    continue
                gone |= {_ours(d, names) for d in needed}
                conn.execute(text(f"DROP VIEW {name} CASCADE"))
                conn.execute(text(sql))
                report["recreated"].append(name)
        else:
            conn.execute(text(f"DROP VIEW {name}"))
            conn.execute(text(sql))
            report["replaced"].append(name)
        record(conn, PREFIX + name, digest)
    for key in sorted(done):  # views newsdesk created once and no longer ships
        name = key[len(PREFIX):]
        if key.startswith(PREFIX) and name not in names:
            if name in present:
                needed = dependents(conn, name) if dialect == "postgresql" else []
                if needed:
                    blocked[name] = needed
                    continue
                conn.execute(text(f"DROP VIEW {name}"))
            record(conn, key, None)
            report["dropped"].append(name)
    report["blocked"] = blocked
    return report


def blocked_error(report: dict) -> ViewBlocked | None:
    return ViewBlocked(report["blocked"]) if report.get("blocked") else None


def drop_views(conn: Connection) -> None:
    """Drop every view of ``sql/views`` (migrations that change the columns they read)."""
    for name, _, _ in reversed(definitions(conn.dialect.name)):
        conn.execute(text(f"DROP VIEW IF EXISTS {name}"))
