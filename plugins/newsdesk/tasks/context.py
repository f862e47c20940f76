"""What every task body shares: settings as Airflow sees them, the warehouse, the run's key
and its statistics.

Settings inside Airflow layer three sources, later wins: the environment (``NEWSDESK_*``),
the JSON Variable ``newsdesk_settings`` (editable in the UI without a redeploy) and the
connection ``newsdesk_warehouse`` for the warehouse URL. ``airflow.sdk`` is imported inside
the functions that need it: the library, the CLI and extraction workers run without Airflow,
and importing it costs seconds.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote, unquote

from sqlalchemy.engine import Engine

from ..config import Settings, coerce_options, option_from_env
from ..health import check_source_health
from ..pipeline import record_run
from ..storage import db
from ..storage.errors import WarehouseNotReady
from . import observability

log = logging.getLogger(__name__)

AIRFLOW_CONN_ID = option_from_env("airflow_conn_id")
# One JSON Variable may override any NEWSDESK_* option for every task:
# {"batch_size": 10} or {"NEWSDESK_BATCH_SIZE": "10"}.
AIRFLOW_SETTINGS_VARIABLE = option_from_env("airflow_variable")


def warehouse_url_from_airflow() -> str | None:
    """The warehouse URL from the Airflow connection, if one is defined."""
    try:
        from airflow.sdk import Connection

        conn = Connection.get(AIRFLOW_CONN_ID)
    except Exception:
        return None
    return connection_to_url(conn)


def connection_to_url(conn) -> str:
    """SQLAlchemy URL of an Airflow connection (postgres / sqlite), whatever way it was written."""
    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        # sqlite:////abs/path.db keeps the path in schema, the JSON form in host; get_uri() quotes it.
        path = unquote(conn.host or conn.schema or "")
        return f"sqlite:///{path}" if path else "sqlite://"
    uri = conn.get_uri()
    if uri.startswith(("postgres://", "postgresql://")):
        return uri
    if conn_type in ("postgres", "postgresql"):
        # Credentials may hold '@', ':' or '/': quote them into the URL.
        auth = quote(conn.login or "", safe="") + (":" + quote(conn.password, safe="") if conn.password else "")
        return f"postgresql+psycopg://{auth}@{conn.host}:{conn.port or 5432}/{conn.schema}"
    return uri


def overrides_from_airflow() -> dict:
    """Typed settings from the Variable ``newsdesk_settings`` (JSON); {} outside Airflow or when unset."""
    try:
        from airflow.sdk import Variable

        raw = Variable.get(AIRFLOW_SETTINGS_VARIABLE, default=None)
    except Exception:
        return {}
    if not raw:
        return {}
    try:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (TypeError, ValueError):
        log.warning("Variable %s is not a JSON object; ignored", AIRFLOW_SETTINGS_VARIABLE)
        return {}
    return coerce_options(data)


def settings() -> Settings:
    """Environment, then the Variable ``newsdesk_settings``, then the warehouse connection."""
    overrides = overrides_from_airflow()
    url = warehouse_url_from_airflow()
    if url:
        overrides["database_url"] = url
    return Settings.from_env(**overrides)


def warehouse() -> tuple[Settings, Engine]:
    """This task's settings and the warehouse engine they name (and newsdesk's metrics routed
    through Airflow's when the deployment configures them)."""
    observability.install()
    current = settings()
    return current, db.get_engine(current.database_url)


def ready_warehouse() -> tuple[Settings, Engine]:
    """``warehouse()``, checked to be at this newsdesk's revision: what the first task of each
    DAG calls (only ``newsdesk db upgrade``, the deployment's init step, changes the schema).
    A warehouse that is behind fails the task at once, without retries that cannot help, with
    the line saying what to run."""
    current, engine = warehouse()
    try:
        db.require_current(engine)
    except WarehouseNotReady as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from None
    return current, engine


def params() -> dict:
    """The running DAG run's params (``{}`` outside a task)."""
    from airflow.sdk import get_current_context

    return dict(get_current_context().get("params") or {})


def run_key() -> str:
    """``<dag_id>/<run_id>`` of the running task: the key of the run's row in ``runs``."""
    from airflow.sdk import get_current_context

    run = get_current_context()["dag_run"]
    return f"{run.dag_id}/{run.run_id}"


def run_started_at():
    """When the running task's DAG run started (None if Airflow does not say)."""
    from airflow.sdk import get_current_context

    return getattr(get_current_context()["dag_run"], "start_date", None)


def sum_stats(parts) -> dict:
    """The per-task statistics of a run added up: numbers summed, nested dicts summed key by
    key; ``parts`` holds dicts or lists of dicts (a mapped task's results), None for a task
    that failed."""
    totals: dict = {}
    for part in parts:
        for item in part if isinstance(part, (list, tuple)) else [part]:
            if isinstance(item, dict):
                _add_into(totals, item)
    return totals


def _add_into(totals: dict, item: dict) -> None:
    for key, value in item.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            totals[key] = totals.get(key, 0) + value
        elif isinstance(value, dict):
            _add_into(totals.setdefault(key, {}), value)


def finish_run(kind: str, totals: dict) -> dict:
    """Store a run's statistics as its row in ``runs`` (with the number of sources whose
    extraction health is flagged; each flagged source is logged as a warning) and log them."""
    current, engine = warehouse()
    totals["flagged_sources"] = len(check_source_health(engine))
    key = run_key()
    record_run(engine, key, kind, totals, started_at=run_started_at(), settings=current)
    log.info("run %s: %s", key, totals)
    return totals
