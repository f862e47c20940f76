"""news_rollup: refresh the warehouse's aggregate tables after every load.

Scheduled on the ``newsdesk://warehouse/articles`` asset, which news_ingest's
``finish`` task updates: each successful load triggers one run. A run recomputes
only the days that changed (``newsdesk.analytics.rollup``); asset-triggered runs
have no logical date, so nothing here depends on one. Trigger it by hand with
``{"full": true}`` to rebuild everything.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow.sdk import Asset, Param, dag, task

from newsdesk.tasks.dag_args import WAREHOUSE_ARTICLES_URI, WAREHOUSE_ROLLUPS_URI

WAREHOUSE_ARTICLES = Asset(WAREHOUSE_ARTICLES_URI)
WAREHOUSE_ROLLUPS = Asset(WAREHOUSE_ROLLUPS_URI)


@dag(
    dag_id="news_rollup",
    schedule=[WAREHOUSE_ARTICLES],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    params={"full": Param(False, type="boolean", description="rebuild every day, not only changed ones")},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["newsdesk", "analytics"],
    doc_md=__doc__,
)
def news_rollup():
    @task(outlets=[WAREHOUSE_ROLLUPS])
    def refresh_rollups() -> dict:
        from newsdesk.tasks import rollup

        return rollup.refresh()

    refresh_rollups()


news_rollup()
