"""What every newsdesk DAG file reads at parse time. Imported by the scheduler's DAG
processor on every parse, so it imports nothing beyond the standard library and
``newsdesk.config`` (itself standard library only); options come validated from there."""

from __future__ import annotations

from datetime import timedelta

from ..config import option_from_env

__all__ = ["WAREHOUSE_ARTICLES_URI", "WAREHOUSE_ROLLUPS_URI", "option_from_env", "task_retry_args"]

WAREHOUSE_ARTICLES_URI = "newsdesk://warehouse/articles"
WAREHOUSE_ROLLUPS_URI = "newsdesk://warehouse/rollups"


def task_retry_args() -> dict:
    """Retries survive a lost worker or a cut warehouse connection (every task is idempotent).
    Tests lower the delay through the environment; the defaults are what production runs with."""
    return {
        "retries": option_from_env("task_retries"),
        "retry_delay": timedelta(seconds=option_from_env("task_retry_delay")),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
    }
