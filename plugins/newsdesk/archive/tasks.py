"""What the ``news_archive`` DAG's tasks call (thin; XCom sees paths and counts only)."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta, timezone

from .. import pipeline
from ..storage import db
from . import locate
from .warc import ImportOptions, import_warcs, registry_domains, run_dedup_stage

log = logging.getLogger(__name__)


def _settings():
    from ..orchestration import settings

    return settings()


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
    s = _settings()
    db.upgrade(db.get_engine(s.database_url))
    files = locate.files_for_interval(root, start, end)
    log.info("%d archive files under %s for [%s, %s)", len(files), root, start, end)
    return files


def parse_domains(spec: str | None, engine) -> set[str] | None:
    """``registry`` (default), ``all``, or a comma-separated list of domains."""
    spec = (spec or "registry").strip()
    if spec.lower() == "all":
        return None
    if spec.lower() == "registry":
        return registry_domains(engine)
    return ImportOptions.normalise_domains(spec.split(","))


def import_file(path: str, domains: str | None = "registry", languages: str | None = None,
                reprocess: bool = False, run_key: str | None = None, workers: int | None = None,
                store_raw: bool = False) -> dict:
    s = _settings()
    engine = db.get_engine(s.database_url)
    opts = ImportOptions(domains=parse_domains(domains, engine),
                         languages={x.strip().lower() for x in languages.split(",") if x.strip()} if languages else None,
                         reprocess=bool(reprocess), run_key=run_key, workers=workers, store_raw=bool(store_raw))
    report = import_warcs(engine, s, [path], options=opts, run_dedup=False)
    stats = report["files"][path]
    if stats.get("status") == "failed":
        # Airflow retries the task; the retry resumes at the saved offset.
        raise RuntimeError(f"import of {path} failed at offset {stats.get('next_offset')}: {stats.get('errors', [])[-1:]}")
    return {"files": 1, "records": stats.get("records", 0) if stats.get("status") == "done" else 0,
            "articles": report["extracted"], "already_done": int(stats.get("status") == "already_done"),
            "skipped": stats.get("skipped", {})}


def dedup() -> dict:
    s = _settings()
    return run_dedup_stage(db.get_engine(s.database_url), s)


def finish(run_key: str, imported: list, deduped: dict | None) -> dict:
    totals: dict = {"files": 0, "records": 0, "articles": 0, "already_done": 0, "skipped": {}}
    for part in imported or []:
        if not isinstance(part, dict):
            continue
        for key in ("files", "records", "articles", "already_done"):
            totals[key] += part.get(key, 0)
        for reason, n in (part.get("skipped") or {}).items():
            totals["skipped"][reason] = totals["skipped"].get(reason, 0) + n
    totals["dedup"] = deduped or {}
    s = _settings()
    pipeline.record_run(db.get_engine(s.database_url), run_key, "news_archive", totals)
    return totals
