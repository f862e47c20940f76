"""news_archive: backfill the archive files (CC-NEWS WARCs) of each day through extract, dedup, load.

One run per day (data interval [00:00, 24:00) UTC). The files whose name timestamp
falls in the interval are found under the root (a local folder or any fsspec URL:
s3://, gs://, https://), laid out like CC-NEWS
(``crawl-data/CC-NEWS/YYYY/MM/CC-NEWS-YYYYMMDDHHMMSS-NNNNN.warc.gz``) or flat.
Each file is one mapped task: a retried or re-run task resumes the file where it
stopped (progress in ``archive_files``); files already done are skipped unless
``reprocess`` is set.

Backfill a date range (needs a running scheduler; catchup stays off):

    airflow backfill create --dag-id news_archive --from-date 2026-03-01 --to-date 2026-03-31

Params: ``root`` (default ``$NEWSDESK_ARCHIVE_ROOT``), ``domains`` (``registry``:
registry sources only, the default; ``all``; or ``a.com,b.org``), ``languages``
(``en,fr``; empty: all), ``reprocess``, ``store_raw``, ``day`` (manual runs: the day to import).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, TriggerRule, dag, task

from newsdesk.tasks.dag_args import WAREHOUSE_ARTICLES_URI

WAREHOUSE_ARTICLES = Asset(WAREHOUSE_ARTICLES_URI)
PARALLEL_FILES = int(os.environ.get("NEWSDESK_ARCHIVE_PARALLEL_FILES", "1"))


@dag(
    dag_id="news_archive",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=int(os.environ.get("NEWSDESK_ARCHIVE_MAX_ACTIVE_RUNS", "1")),
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
    },
    params={
        "root": Param(os.environ.get("NEWSDESK_ARCHIVE_ROOT", ""), type="string",
                      description="archive root: folder or fsspec URL"),
        "domains": Param("registry", type="string", description="registry | all | comma-separated domains"),
        "languages": Param("", type="string", description="comma-separated ISO 639-1 codes; empty: all"),
        "reprocess": Param(False, type="boolean", description="re-import files already done"),
        "store_raw": Param(False, type="boolean",
                           description="keep a copy of every page in the warehouse (off: it points at the archive)"),
        "day": Param("", type="string", description="manual runs: the day to import (YYYY-MM-DD)"),
    },
    tags=["newsdesk", "backfill"],
    doc_md=__doc__,
)
def news_archive():
    @task
    def plan() -> list[str]:
        from newsdesk.tasks import archive

        return archive.plan_from_context()

    @task(max_active_tis_per_dagrun=PARALLEL_FILES)
    def import_file(path: str) -> dict:
        from newsdesk.tasks import archive

        return archive.import_file_with_params(path)

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def dedup() -> dict:
        from newsdesk.tasks import archive

        return archive.dedup()

    @task(trigger_rule=TriggerRule.ALL_DONE, outlets=[WAREHOUSE_ARTICLES])
    def finish(imported, deduped) -> dict:
        from newsdesk.tasks import archive

        return archive.finish(list(imported or []), deduped)

    imported = import_file.expand(path=plan())
    deduped = dedup()
    imported >> deduped
    finish(imported, deduped)


news_archive()
