"""The ``news_archive`` DAG's task bodies: list the archive files of the run's day, import
each (one mapped task per file, resumable), dedup, record the run. XCom sees paths and counts."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone

from .. import pipeline
from ..archive import locate
from ..archive.warc import ImportOptions, domains_from_spec, import_warcs
from ..storage import db
from .context import finish_run, params, run_key, sum_stats, warehouse

log = logging.getLogger(__name__)


def archive_root(param: str | None = None) -> str:
    root = (param or "").strip() or os.environ.get("NEWSDESK_ARCHIVE_ROOT", "").strip()
    if not root:
        raise ValueError("no archive root: set the DAG param 'root' or NEWSDESK_ARCHIVE_ROOT")
    return root


def interval(start: datetime | None, end: datetime | None, day: str | None = None,
             run_after: datetime | None = None) -> tuple[datetime, datetime]:
    """The data interval; manual runs (no interval) use the Param ``day`` or the day before ``run_after``."""
    if day:
        s = datetime.fromisoformat(day)
        s = (s if s.tzinfo else s.replace(tzinfo=timezone.utc)).replace(hour=0, minute=0, second=0, microsecond=0)
        return s, s + timedelta(days=1)
    if start is not None and end is not None and end > start:
        return start, end
    ref = (run_after or datetime.now(timezone.utc)).astimezone(timezone.utc)
    e = ref.replace(hour=0, minute=0, second=0, microsecond=0)
    return e - timedelta(days=1), e


def plan(root: str, start: datetime, end: datetime) -> list[str]:
    _, engine = warehouse()
    db.upgrade(engine)
    files = locate.files_for_interval(root, start, end)
    log.info("%d archive files under %s for [%s, %s)", len(files), root, start, end)
    return files


def plan_from_context() -> list[str]:
    """``plan`` for the running DAG run: its data interval, or the ``day`` Param of a manual run."""
    from airflow.sdk import get_current_context

    ctx = get_current_context()
    params = ctx["params"]
    start, end = interval(ctx.get("data_interval_start"), ctx.get("data_interval_end"),
                          params.get("day") or None, getattr(ctx.get("dag_run"), "run_after", None))
    return plan(archive_root(params.get("root")), start, end)


def import_file(path: str, domains: str | None = "registry", languages: str | None = None,
                reprocess: bool = False, run: str | None = None, workers: int | None = None,
                store_raw: bool = False) -> dict:
    settings, engine = warehouse()
    opts = ImportOptions(
        domains=domains_from_spec(domains, engine),
        languages={x.strip().lower() for x in languages.split(",") if x.strip()} if languages else None,
        reprocess=bool(reprocess),
        run_key=run,
        workers=workers,
        store_raw=bool(store_raw),
    )
    report = import_warcs(engine, settings, [path], options=opts, run_dedup=False)
    stats = report["files"][path]
    if stats.get("status") == "failed":
        # Airflow retries the task; the retry resumes at the saved offset.
        raise RuntimeError(
            f"import of {path} failed at offset {stats.get('next_offset')}: {stats.get('errors', [])[-1:]}"
        )
    return {"files": 1, "records": stats.get("records", 0) if stats.get("status") == "done" else 0,
            "articles": report["extracted"], "already_done": int(stats.get("status") == "already_done"),
            "skipped": stats.get("skipped", {})}


def import_file_with_params(path: str) -> dict:
    """``import_file`` with the running DAG run's params."""
    given = params()
    return import_file(path, domains=given.get("domains"), languages=given.get("languages"),
                       reprocess=given.get("reprocess"), store_raw=given.get("store_raw", False), run=run_key())


def dedup() -> dict:
    settings, engine = warehouse()
    return pipeline.dedup(engine, settings)


def finish(imported: list, deduped: dict | None) -> dict:
    totals = {"files": 0, "records": 0, "articles": 0, "already_done": 0, "skipped": {}}
    totals.update(sum_stats([imported]))
    totals["dedup"] = deduped or {}
    return finish_run("news_archive", totals)
