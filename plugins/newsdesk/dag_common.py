"""What every newsdesk DAG file shares. Imported at DAG parse time, so it imports
nothing heavier than the standard library (the library proper loads inside tasks)."""

from __future__ import annotations

import os
from datetime import timedelta

WAREHOUSE_ARTICLES_URI = "newsdesk://warehouse/articles"


def task_retry_args() -> dict:
    """Retries survive a lost worker or a cut warehouse connection (every task is idempotent).
    Tests lower the delay through the environment; the defaults are what production runs with."""
    return {
        "retries": int(os.environ.get("NEWSDESK_TASK_RETRIES") or 2),
        "retry_delay": timedelta(seconds=float(os.environ.get("NEWSDESK_TASK_RETRY_DELAY") or 30)),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
    }


def run_key() -> str:
    """``<dag_id>/<run_id>`` of the running task: the key of the run's row in ``runs``."""
    from airflow.sdk import get_current_context

    ctx = get_current_context()
    return f"{ctx['dag_run'].dag_id}/{ctx['dag_run'].run_id}"
