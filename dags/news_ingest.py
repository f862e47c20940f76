"""news_ingest: poll feeds, fetch pages, extract, dedup, load. Every 15 minutes.

Thin by design: every task calls ``newsdesk.tasks.ingest``; XCom carries ids and
counts, never HTML. Imports of the library happen inside tasks so parsing this
file costs nothing.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from airflow.sdk import Asset, CronTriggerTimetable, TriggerRule, dag, task

from newsdesk.tasks.dag_args import WAREHOUSE_ARTICLES_URI, task_retry_args

WAREHOUSE_ARTICLES = Asset(WAREHOUSE_ARTICLES_URI)
HTTP_POOL = os.environ.get("NEWSDESK_HTTP_POOL", "news_http")
DEFAULT_ARGS = task_retry_args()
TASK_RETRIES, TASK_RETRY_DELAY = DEFAULT_ARGS["retries"], DEFAULT_ARGS["retry_delay"]


@dag(
    dag_id="news_ingest",
    schedule=CronTriggerTimetable(os.environ.get("NEWSDESK_INGEST_CRON", "*/15 * * * *"), timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsdesk"],
    doc_md=__doc__,
)
def news_ingest():
    @task
    def prepare() -> list[list[int]]:
        from newsdesk.tasks import ingest

        return ingest.prepare()

    @task(pool=HTTP_POOL)
    def poll_feeds(feed_ids: list[int]) -> dict:
        from newsdesk.tasks import ingest

        return ingest.poll_batch(feed_ids)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def plan_fetch() -> list[list[int]]:
        from newsdesk.tasks import ingest

        return ingest.plan_fetch()

    @task(pool=HTTP_POOL)
    def fetch_pages(page_ids: list[int]) -> dict:
        from newsdesk.tasks import ingest

        return ingest.fetch_batch(page_ids)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def plan_extract() -> list[list[int]]:
        from newsdesk.tasks import ingest

        return ingest.plan_extract()

    @task
    def extract_pages(page_ids: list[int]) -> dict:
        from newsdesk.tasks import ingest

        return ingest.extract_batch(page_ids)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def dedup() -> dict:
        from newsdesk.tasks import ingest

        return ingest.dedup()

    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[WAREHOUSE_ARTICLES])
    def finish(polled, fetched, extracted, deduped) -> dict:
        from newsdesk.tasks import ingest

        return ingest.finish(list(polled or []), list(fetched or []), list(extracted or []), deduped)

    polled = poll_feeds.expand(feed_ids=prepare())
    fetch_plan = plan_fetch()
    polled >> fetch_plan
    fetched = fetch_pages.expand(page_ids=fetch_plan)
    extract_plan = plan_extract()
    fetched >> extract_plan
    extracted = extract_pages.expand(page_ids=extract_plan)
    deduped = dedup()
    extracted >> deduped
    finish(polled, fetched, extracted, deduped)


news_ingest()
