"""What every newsdesk DAG file reads at parse time. Imported by the scheduler's DAG
processor on every parse, so it imports nothing beyond the standard library."""

from __future__ import annotations

import os
from datetime import timedelta

WAREHOUSE_ARTICLES_URI = "newsdesk://warehouse/articles"
WAREHOUSE_ROLLUPS_URI = "newsdesk://warehouse/rollups"


def task_retry_args() -> dict:
    """Retries survive a lost worker or a cut warehouse connection (every task is idempotent).
    Tests lower the delay through the environment; the defaults are what production runs with."""
    return {
        "retries": int(os.environ.get("NEWSDESK_TASK_RETRIES") or 2),
        "retry_delay": timedelta(seconds=float(os.environ.get("NEWSDESK_TASK_RETRY_DELAY") or 30)),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
    }
