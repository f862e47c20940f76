"""What the Airflow tasks call: thin wrappers that resolve settings and return ids.

Kept out of the DAG files so that DAG parsing stays cheap and so that every task
body is plain Python, testable without a scheduler. Nothing returned here carries
page content: XCom sees ids and counts only.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from .config import SEEDS_DIR, Settings, coerce_options
from . import pipeline
from .storage import db

log = logging.getLogger(__name__)

AIRFLOW_CONN_ID = os.environ.get("NEWSDESK_AIRFLOW_CONN_ID", "newsdesk_warehouse")
ASSET_URI = "newsdesk://warehouse/articles"


# One JSON Variable may override any NEWSDESK_* option for every task (changeable in the UI
# without a redeploy): {"batch_size": 10} or {"NEWSDESK_BATCH_SIZE": "10"}.
AIRFLOW_SETTINGS_VARIABLE = os.environ.get("NEWSDESK_AIRFLOW_VARIABLE", "newsdesk_settings")


def warehouse_url_from_airflow() -> str | None:
    """The warehouse URL from the Airflow connection, if one is defined."""
    try:
        from airflow.sdk import Connection

        conn = Connection.get(AIRFLOW_CONN_ID)
    except Exception:  # noqa: BLE001 - no Airflow, or no such connection: fall back to the environment
        return None
    return connection_to_url(conn)


def connection_to_url(conn) -> str:
    """SQLAlchemy URL of an Airflow connection (postgres / sqlite), whatever way it was written."""
    from urllib.parse import unquote

    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        # sqlite:////abs/path.db keeps the path in schema, the JSON form in host; get_uri() quotes it.
        path = unquote(conn.host or conn.schema or "")
        return f"sqlite:///{path}" if path else "sqlite://"
    uri = conn.get_uri()
    if uri.startswith(("postgres://", "postgresql://")):
        return uri
    if conn_type in ("postgres", "postgresql"):
        from urllib.parse import quote

        # Credentials may hold '@', ':' or '/': quote them into the URL.
        auth = quote(conn.login or "", safe="") + (":" + quote(conn.password, safe="") if conn.password else "")
        return f"postgresql+psycopg://{auth}@{conn.host}:{conn.port or 5432}/{conn.schema}"
    return uri


def overrides_from_airflow() -> dict:
    """Typed settings from the Variable ``newsdesk_settings`` (JSON); {} outside Airflow or when unset."""
    try:
        from airflow.sdk import Variable

        raw = Variable.get(AIRFLOW_SETTINGS_VARIABLE, default=None)
    except Exception:  # noqa: BLE001 - no Airflow, or no API server reachable: environment only
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


def registry_path() -> Path:
    return Path(os.environ.get("NEWSDESK_REGISTRY") or SEEDS_DIR / "feeds.yaml")


def prepare(batch_size: int | None = None) -> list[list[int]]:
    """Migrate (idempotent), sync the registry, and batch the due feeds for mapping."""
    s = settings()
    engine = db.get_engine(s.database_url)
    db.upgrade(engine)
    stats = pipeline.sync_registry(engine, registry_path())
    log.info("registry synced: %s", stats)
    return pipeline.batched(pipeline.due_feeds(engine), batch_size or s.batch_size)


def poll_batch(feed_ids: list[int], run_key: str | None = None) -> dict:
    s = settings()
    return pipeline.poll(db.get_engine(s.database_url), s, feed_ids, run_key=run_key)


def plan_fetch() -> list[list[int]]:
    s = settings()
    return pipeline.batched(pipeline.pending_page_ids(db.get_engine(s.database_url), s), s.batch_size)


def fetch_batch(page_ids: list[int]) -> dict:
    s = settings()
    stats = pipeline.fetch_pages(db.get_engine(s.database_url), s, page_ids)
    stats.pop("page_ids", None)
    return stats


def plan_extract() -> list[list[int]]:
    s = settings()
    return pipeline.batched(pipeline.fetched_page_ids(db.get_engine(s.database_url)), s.batch_size)


def extract_batch(page_ids: list[int]) -> dict:
    s = settings()
    stats = pipeline.extract_pages(db.get_engine(s.database_url), s, page_ids)
    return {"extracted": stats["extracted"], "extract_errors": stats["extract_errors"]}


def dedup() -> dict:
    s = settings()
    return pipeline.dedup(db.get_engine(s.database_url), s)


def finish(run_key: str, parts: list) -> dict:
    """Sum the per-task statistics, store them as the run's row, log them."""
    totals: dict = {}
    for part in parts:
        for item in (part or []) if isinstance(part, (list, tuple)) else [part]:
            if not isinstance(item, dict):
                continue
            for key, value in item.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
                elif isinstance(value, dict):
                    sub = totals.setdefault(key, {})
                    for k, v in value.items():
                        if isinstance(v, (int, float)):
                            sub[k] = sub.get(k, 0) + v
    s = settings()
    engine = db.get_engine(s.database_url)
    totals["warehouse"] = pipeline.warehouse_summary(engine)
    from .health import check_source_health  # logs a warning per flagged source (v_source_health)

    totals["flagged_sources"] = len(check_source_health(engine))
    pipeline.record_run(engine, run_key, "news_ingest", totals)
    log.info("run %s: %s", run_key, totals)
    return {k: v for k, v in totals.items() if k != "warehouse"}
