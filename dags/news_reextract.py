"""news_reextract: run the current extractor again over stored pages, then dedup. Manual trigger.

After a change to the extractor (``EXTRACTOR_VERSION`` bumped), trigger this DAG: every
page whose article came from another version is extracted again from its stored raw
HTML and its article updated in place (same id); articles whose text changed go back
to dedup, which runs last. Running it again changes nothing.

Params: ``source`` (registry name or domain; empty: all), ``since`` (only pages fetched
on/after this date, YYYY-MM-DD), ``all`` (every stored page, including pages whose
extraction failed, whatever version produced them).

Thin like news_ingest: tasks call ``newsdesk.tasks.reextract``; XCom carries ids and counts.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Asset, Param, TriggerRule, dag, task

from newsdesk.tasks.dag_args import WAREHOUSE_ARTICLES_URI, task_retry_args

WAREHOUSE_ARTICLES = Asset(WAREHOUSE_ARTICLES_URI)


@dag(
    dag_id="news_reextract",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args=task_retry_args(),
    params={
        "source": Param("", type="string", description="registry source name or domain; empty: every source"),
        "since": Param("", type="string", description="only pages fetched on/after this date (YYYY-MM-DD)"),
        "all": Param(False, type="boolean",
                     description="every stored page (also failed extractions), not only older extractor versions"),
    },
    tags=["newsdesk", "maintenance"],
    doc_md=__doc__,
)
def news_reextract():
    @task
    def plan() -> list[list[int]]:
        from newsdesk.tasks import reextract

        return reextract.plan_from_params()

    @task
    def reextract_pages(page_ids: list[int]) -> dict:
        from newsdesk.tasks import reextract

        return reextract.run_batch(page_ids)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def dedup() -> dict:
        from newsdesk.tasks import reextract

        return reextract.dedup()

    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[WAREHOUSE_ARTICLES])
    def finish(batches, deduped) -> dict:
        from newsdesk.tasks import reextract

        return reextract.finish(list(batches or []), deduped)

    batches = reextract_pages.expand(page_ids=plan())
    deduped = dedup()
    batches >> deduped
    finish(batches, deduped)


news_reextract()
