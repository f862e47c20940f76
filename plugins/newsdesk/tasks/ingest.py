"""The ``news_ingest`` DAG's task bodies: registry sync and planning, then poll, fetch,
extract and dedup over batches of ids."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .. import pipeline
from ..config import SEEDS_DIR
from ..storage import db
from .context import finish_run, run_key, sum_stats, warehouse

log = logging.getLogger(__name__)


def registry_path() -> Path:
    return Path(os.environ.get("NEWSDESK_REGISTRY") or SEEDS_DIR / "feeds.yaml")


def prepare(batch_size: int | None = None) -> list[list[int]]:
    """Migrate (idempotent), sync the registry, and batch the due feeds for mapping."""
    settings, engine = warehouse()
    db.upgrade(engine)
    stats = pipeline.sync_registry(engine, registry_path())
    log.info("registry synced: %s", stats)
    return pipeline.batched(pipeline.due_feeds(engine), batch_size or settings.batch_size)


def poll_batch(feed_ids: list[int]) -> dict:
    settings, engine = warehouse()
    return pipeline.poll(engine, settings, feed_ids, run_key=run_key())


def plan_fetch() -> list[list[int]]:
    settings, engine = warehouse()
    return pipeline.batched(pipeline.pending_page_ids(engine, settings), settings.batch_size)


def fetch_batch(page_ids: list[int]) -> dict:
    settings, engine = warehouse()
    stats = pipeline.fetch_pages(engine, settings, page_ids)
    stats.pop("page_ids", None)
    return stats


def plan_extract() -> list[list[int]]:
    settings, engine = warehouse()
    return pipeline.batched(pipeline.fetched_page_ids(engine), settings.batch_size)


def extract_batch(page_ids: list[int]) -> dict:
    settings, engine = warehouse()
    stats = pipeline.extract_pages(engine, settings, page_ids)
    stats.pop("article_ids", None)
    return stats


def dedup() -> dict:
    settings, engine = warehouse()
    return pipeline.dedup(engine, settings)


def finish(polled: list, fetched: list, extracted: list, deduped: dict | None) -> dict:
    """The run's statistics (summed over the mapped tasks) and the warehouse's counts, stored
    in ``runs``; returned without the warehouse counts (XCom stays small)."""
    totals = sum_stats([polled, fetched, extracted])
    totals["dedup"] = deduped or {}
    _, engine = warehouse()
    totals["warehouse"] = pipeline.warehouse_summary(engine)
    finish_run("news_ingest", totals)
    return {k: v for k, v in totals.items() if k != "warehouse"}
