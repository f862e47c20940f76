"""The ``news_reextract`` DAG's task bodies: plan the pages to extract again, extract them
in mapped batches, dedup, record the run. XCom sees ids and counts."""

from __future__ import annotations

import logging

from .. import pipeline
from ..reextract import current_version, plan_page_ids, reextract_pages
from ..storage import db
from .context import finish_run, params, sum_stats, warehouse

log = logging.getLogger(__name__)


def plan_batches(source: str | None = None, since: str | None = None, all_pages: bool = False,
                 limit: int | None = None) -> list[list[int]]:
    settings, engine = warehouse()
    db.upgrade(engine)
    ids = plan_page_ids(engine, source=source or None, since=since or None, only_outdated=not all_pages,
                        limit=limit)
    log.info("re-extraction planned: %d page(s) at extractor version %s", len(ids), current_version())
    return pipeline.batched(ids, settings.batch_size)


def plan_from_params() -> list[list[int]]:
    given = params()
    return plan_batches(source=given.get("source") or None, since=given.get("since") or None,
                        all_pages=bool(given.get("all")))


def run_batch(page_ids: list[int], all_pages: bool | None = None) -> dict:
    """Re-extract one batch; ``all_pages`` defaults to the DAG run's ``all`` Param."""
    if all_pages is None:
        all_pages = bool(params().get("all"))
    settings, engine = warehouse()
    stats = reextract_pages(engine, page_ids, only_outdated=not all_pages, time_limit=settings.extract_timeout)
    stats.pop("changed_article_ids", None)
    return stats


def dedup() -> dict:
    settings, engine = warehouse()
    return pipeline.dedup(engine, settings)


def finish(batches: list, deduped: dict | None) -> dict:
    totals = sum_stats([batches])
    totals["extractor_version"] = current_version()
    totals["dedup"] = deduped or {}
    return finish_run("news_reextract", totals)
