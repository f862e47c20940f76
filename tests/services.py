"""The servers the tests use: PostgreSQL and Redis on 127.0.0.1 (importable by name from any
test module: ``conftest`` is not, once a subfolder has a conftest of its own)."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

PG_ADMIN_URL = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pg_reachable() -> str | None:
    """None when the server answers, else why it does not (the reason a test skips with)."""
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}"


def pg_and_redis_unreachable(redis_host: str, redis_port: int) -> str | None:
    """Why a test that needs both the PostgreSQL server and Redis skips, or None."""
    reason = pg_reachable()
    if reason:
        return reason
    try:
        import redis

        redis.Redis(host=redis_host, port=redis_port, socket_connect_timeout=3).ping()
    except Exception as exc:
        return f"Redis not reachable: {exc}"
    return None
