"""Shared fixtures: real warehouses (SQLite file, PostgreSQL on 127.0.0.1) and local HTTP servers."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Airflow reads its configuration at import time: point it at a private home first (removed
# when the test run ends, so runs do not pile homes up in /tmp).
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="newsdesk-airflow-")
    atexit.register(shutil.rmtree, os.environ["AIRFLOW_HOME"], ignore_errors=True)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
# Tests never use the developer's warehouse or registry by accident.
for _var in ("NEWSDESK_DATABASE_URL", "NEWSDESK_REGISTRY", "NEWSDESK_HTTP_PROXY"):
    os.environ.pop(_var, None)

import pytest  # noqa: E402 - Airflow's environment must be set before anything imports airflow
from sqlalchemy import create_engine, text  # noqa: E402

from httpserver import http_server  # noqa: E402,F401 - the local HTTP server fixture, for every test module
from newsdesk.config import Settings  # noqa: E402
from newsdesk.storage import db  # noqa: E402
from services import PG_ADMIN_URL  # noqa: E402
from services import pg_reachable as _pg_reachable  # noqa: E402


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url):
    engine = db.get_engine(sqlite_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database per test, dropped afterwards."""
    reason = _pg_reachable()
    if reason:
        pytest.skip(reason)
    name = f"newsdesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    db.dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_engine(pg_url):
    engine = db.get_engine(pg_url)
    db.upgrade(engine)
    yield engine


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request):
    """Run a test on both warehouses."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_engine")
    else:
        yield request.getfixturevalue("pg_engine")


@pytest.fixture
def settings(sqlite_url) -> Settings:
    """Settings for tests: loopback allowed (local servers), short timeouts."""
    return Settings.from_env(
        database_url=sqlite_url, allow_private_addresses=True, connect_timeout=2.0, read_timeout=2.0,
        total_timeout=5.0, per_host_delay=0.0,
    )


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated Airflow metadata DB (SQLite in the session's AIRFLOW_HOME)."""
    import subprocess
    import sys

    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=os.environ.copy(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def snapshot_warehouse(request, tmp_path_factory):
    """The offline snapshot loaded as `make run` loads it (`newsdesk db upgrade`, then the
    ingestion round and the rollup of `newsdesk run`, here without Airflow), once per session
    on each database, for tests that only read it."""
    import io

    from newsdesk.offline import run_offline

    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path_factory.mktemp('snapshot') / 'warehouse.db'}", None
    else:
        reason = _pg_reachable()
        if reason:
            pytest.skip(reason)
        name = f"newsdesk_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = db.get_engine(url)
    db.upgrade(engine)
    saved = {var: os.environ.get(var) for var in ("NEWSDESK_HTTP_PROXY", "NEWSDESK_REGISTRY", "NEWSDESK_DATABASE_URL")}
    try:
        assert run_offline(url, use_airflow=False, out=io.StringIO()) == 0
    finally:  # run_offline points the library at its proxy through the environment
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    yield engine
    engine.dispose()
    if name:
        db.dispose_all()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
