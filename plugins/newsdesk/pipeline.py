"""The stages composed: what the DAGs and the CLI both call.

Stages hand work to each other through the warehouse (page and article states),
never through memory, so each call below can be retried or re-run on its own:
- ``poll``: feeds → pending pages
- ``fetch_pages``: pending pages → raw HTML kept (state ``fetched``)
- ``extract_pages``: fetched pages → articles (state ``extracted``), dedup pending
- ``dedup``: pending articles → clusters and links
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from . import metrics
from .config import Settings
from .dedup import dedup_pending
from .extract import ExtractionError, extract_article
from .extract import article as extractor
from .feeds.poll import due_feed_ids, poll_feeds
from .feeds.registry import sync_registry as sync_registry_file
from .fetch import Fetcher, FetchError, HostGate, RobotsCache, host_of, map_concurrent, open_store
from .fetch.archived import read_body
from .health import check_source_health
from .mime import html_content_type
from .storage import loads, schema
from .storage.db import dispose_all, get_engine
from .times import as_utc, sane_date

log = logging.getLogger(__name__)


def engine_for(settings: Settings) -> Engine:
    return get_engine(settings.database_url)


def batched(ids: Sequence[int], size: int, max_batches: int = 1024) -> list[list[int]]:
    """Split ids into at most ``max_batches`` lists (Airflow's max_map_length is 1024)."""
    ids = list(ids)
    if not ids:
        return []
    size = max(size, -(-len(ids) // max_batches))
    return [ids[i:i + size] for i in range(0, len(ids), size)]


# --- registry and polling ---------------------------------------------------

def sync_registry(engine: Engine, path: str | Path) -> dict:
    return sync_registry_file(engine, path)


def due_feeds(engine: Engine) -> list[int]:
    return due_feed_ids(engine)


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def poll(engine: Engine, settings: Settings, feed_ids: Sequence[int], run_key: str | None = None) -> dict:
    """Poll the given feeds once; errors are recorded per feed, never raised."""
    started = time.monotonic()
    results = poll_feeds(engine, list(feed_ids), settings, run_key=run_key)
    meter = metrics.for_settings(settings)
    meter.counts("feeds.polled", Counter(result.outcome for result in results), "outcome")
    meter.timing("stage.duration", _elapsed_ms(started), tags={"stage": "poll"})
    stats = {"feeds_polled": len(results), "feed_errors": 0, "new_pages": 0, "not_modified": 0,
             "entries_set_aside": 0}
    for result in results:
        stats["new_pages"] += len(result.new_page_ids)
        stats["entries_set_aside"] += len(result.rejected)
        if result.outcome == "error":
            stats["feed_errors"] += 1
        elif result.outcome in ("not_modified", "unchanged"):
            stats["not_modified"] += 1
    return stats


# --- fetching ---------------------------------------------------------------

def pending_page_ids(engine: Engine, settings: Settings, limit: int | None = None) -> list[int]:
    limit = limit or settings.max_pages_per_run
    with engine.connect() as conn:
        return list(conn.execute(
            select(schema.pages.c.id)
            .where(schema.pages.c.state == "pending", schema.pages.c.attempts < settings.max_fetch_attempts)
            .order_by(schema.pages.c.id).limit(limit)
        ).scalars())


@dataclass
class _Fetched:
    page_id: int
    url: str
    result: object = None
    error: Exception | None = None


def fetch_pages(engine: Engine, settings: Settings, page_ids: Sequence[int]) -> dict:
    """Fetch pending pages concurrently and keep their raw HTML.

    Only pages still pending are fetched, so a retried task skips finished work.
    A temporary failure leaves the page pending for the next run (up to
    ``max_fetch_attempts``); a hard one fails it. robots.txt and the per-host limits are
    the deployment's (``fetch.hosts``, ``fetch.robots``): shared with every other worker.
    """
    started = time.monotonic()
    meter = metrics.for_settings(settings)
    with engine.connect() as conn:
        rows = conn.execute(
            select(schema.pages.c.id, schema.pages.c.url, schema.pages.c.attempts)
            .where(schema.pages.c.id.in_(list(page_ids)), schema.pages.c.state == "pending")
            .order_by(schema.pages.c.id)
        ).all()
    attempts = {r.id: r.attempts for r in rows}
    stats = {"fetched": 0, "fetch_errors": 0}
    fetched_ids: list[int] = []
    store = open_store(settings, engine)
    gate = HostGate(store, settings)

    with Fetcher(settings) as fetcher:
        refused: list[_Fetched] = []
        if settings.respect_robots:
            robots = RobotsCache(fetcher, store=store)
            robots.prefetch([row.url for row in rows], gate)
            refused = [_Fetched(row.id, row.url, error=FetchError("robots", "disallowed by robots.txt", url=row.url))
                       for row in rows if not robots.allowed(row.url)]
            refused_ids = {item.page_id for item in refused}
            rows = [row for row in rows if row.id not in refused_ids]

        def work(row) -> _Fetched:
            try:
                return _Fetched(row.id, row.url, result=fetcher.get(row.url, accept="text/html,application/xhtml+xml"))
            except Exception as exc:
                return _Fetched(row.id, row.url, error=exc)

        done = map_concurrent(rows, work, settings=settings, host=lambda r: host_of(r.url), gate=gate)
        for item in refused + done:
            tries = attempts[item.page_id] + 1
            try:
                fetched = _record_fetch(engine, settings, item, tries, meter, stats)
            except Exception as exc:  # the warehouse refused this page's values: it alone is set aside
                if loads.is_transient(exc):
                    raise  # the warehouse went away: the page stays as it was for the re-run
                log.exception("could not record the fetch of page %s", item.page_id)
                loads.set_page_aside(engine, item.page_id, "load", loads.database_reason(exc))
                stats["fetch_errors"] += 1
                continue
            if fetched:
                fetched_ids.append(item.page_id)
    meter.counts("politeness.refused", gate.refused, "reason")
    meter.timing("stage.duration", _elapsed_ms(started), tags={"stage": "fetch"})
    stats["page_ids"] = sorted(fetched_ids)
    return stats


def _record_fetch(engine: Engine, settings: Settings, item: _Fetched, tries: int, meter, stats: dict) -> bool:
    """One page's fetch outcome in its own transaction; True when its HTML was kept."""
    with engine.begin() as conn:
        if item.error is None:
            res = item.result
            meter.incr("pages.fetched", tags={"status": res.status})
            meter.timing("fetch.duration", res.elapsed_ms)
            declared = res.headers.get("content-type", "")
            ctype = html_content_type(declared, res.body)
            if ctype is None:
                loads.mark_page(conn, item.page_id, "failed", attempts=tries, error_kind="not_html",
                                last_error=f"content-type {declared!r} is not HTML", http_status=res.status,
                                final_url=res.final_url, content_type=declared, fetched_at=loads.utcnow())
                meter.incr("pages.failed", tags={"kind": "not_html"})
                stats["fetch_errors"] += 1
                return False
            loads.store_raw(conn, item.page_id, res.body, {"content-type": ctype})
            loads.mark_page(conn, item.page_id, "fetched", attempts=tries, error_kind=None, last_error=None,
                            http_status=res.status, final_url=res.final_url, content_type=ctype,
                            fetched_at=loads.utcnow())
            stats["fetched"] += 1
            return True
        kind = getattr(item.error, "kind", "soft")
        status = getattr(item.error, "status", None)
        if status is not None:
            meter.incr("pages.fetched", tags={"status": status})
        meter.incr("pages.failed", tags={"kind": kind})
        give_up = kind in ("hard", "robots") or tries >= settings.max_fetch_attempts
        loads.mark_page(conn, item.page_id, "failed" if give_up else "pending", attempts=tries,
                        error_kind=kind, last_error=str(item.error)[:2000], http_status=status)
        stats["fetch_errors"] += 1
        log.warning("fetch failed for %s: %s", item.url, item.error)
        return False


# --- extraction ---------------------------------------------------------------

def fetched_page_ids(engine: Engine, limit: int | None = None) -> list[int]:
    with engine.connect() as conn:
        q = select(schema.pages.c.id).where(schema.pages.c.state == "fetched").order_by(schema.pages.c.id)
        return list(conn.execute(q.limit(limit) if limit else q).scalars())


def article_fields(fields: dict, page_url: str, entry_published_at=None, captured_at=None) -> dict:
    """``Extracted.as_fields()`` completed for the ``articles`` row of a page: the page's
    (canonical) URL, its date (``date_source`` 'page' when the page states it, 'feed' from the
    feed entry, 'text' when only guessed from a date the story mentions, else None) and the
    ``EXTRACTOR_VERSION`` that produced it (unless already set). A stated date wins over the feed's,
    the feed's over a guess. A date before 1900 or more than a day after ``captured_at`` (the fetch
    or capture; default now) is unknown, whichever gave it: ``date_source`` names only a date
    that is kept."""
    fields = dict(fields, url=page_url)
    page_date = sane_date(as_utc(fields.get("published_at")), captured_at)
    entry_date = sane_date(as_utc(entry_published_at), captured_at)
    guessed = fields.get("date_source") == "text"
    if page_date is not None and not guessed:
        fields["published_at"], fields["date_source"] = page_date, "page"
    elif entry_date is not None:
        fields["published_at"], fields["date_source"] = entry_date, "feed"
    elif page_date is not None:
        fields["published_at"], fields["date_source"] = page_date, "text"
    else:
        fields["published_at"], fields["date_source"] = None, None
    fields.setdefault("extractor_version", extractor.EXTRACTOR_VERSION)  # read at call time: tests swap it
    return fields


def extract_pages(engine: Engine, settings: Settings, page_ids: Sequence[int]) -> dict:
    """Extract articles from fetched pages; a page without article text is recorded as failed."""
    started = time.monotonic()
    outcomes: Counter = Counter()
    stats = {"extracted": 0, "extract_errors": 0}
    article_ids: list[int] = []
    for page_id in page_ids:
        # Read, extract, write: no transaction is held open while a page is parsed.
        with engine.connect() as conn:
            page = conn.execute(select(schema.pages).where(schema.pages.c.id == page_id)).first()
            try:
                raw = loads.load_raw(conn, page_id, read_body) if page is not None else None
            except Exception as exc:  # a stored body that does not decompress: this page only
                raw = exc
        if page is None or page.state not in ("fetched", "extracted"):
            continue
        if isinstance(raw, Exception):
            loads.set_page_aside(engine, page_id, "raw", f"stored HTML unreadable: {raw.__class__.__name__}: {raw}")
            stats["extract_errors"] += 1
            outcomes["raw"] += 1
            continue
        if raw is None:
            with engine.begin() as conn:
                loads.mark_page(conn, page_id, "pending", last_error="raw HTML missing; refetching")
            continue
        body, headers = raw
        try:
            extracted = extract_article(body, page.final_url or page.url, headers.get("content-type"),
                                        time_limit=settings.extract_timeout, captured_at=as_utc(page.fetched_at))
        except Exception as exc:
            if isinstance(exc, ExtractionError):
                kind, message = getattr(exc, "kind", "no_text"), str(exc)
            else:
                log.exception("extraction crashed on page %s", page_id)
                kind, message = "extract_crash", repr(exc)
            # a challenge page may be lifted by the next fetch: fetched again while attempts remain
            state = "pending" if kind == "blocked" and page.attempts < settings.max_fetch_attempts else "failed"
            with engine.begin() as conn:
                loads.mark_page(conn, page_id, state, error_kind=kind, last_error=message[:2000])
            stats["extract_errors"] += 1
            outcomes[kind] += 1
            continue
        fields = article_fields(extracted.as_fields(), page.url, page.entry_published_at,
                                captured_at=as_utc(page.fetched_at))
        try:
            with engine.begin() as conn:
                article_id = loads.upsert_article(conn, page_id, page.source_id, fields)
                loads.mark_page(conn, page_id, "extracted", error_kind=None, last_error=None)
        except Exception as exc:
            if loads.is_transient(exc):
                raise  # the warehouse went away, not this article: the re-run extracts it
            # the warehouse refused this article: failed with the reason, never left 'fetched'
            # (every later run would meet it and fail the same way)
            log.exception("could not store the article of page %s", page_id)
            loads.set_page_aside(engine, page_id, "load", loads.database_reason(exc))
            stats["extract_errors"] += 1
            outcomes["load"] += 1
            continue
        article_ids.append(article_id)
        stats["extracted"] += 1
        outcomes["extracted"] += 1
    meter = metrics.for_settings(settings)
    meter.counts("extract.outcome", outcomes, "kind")
    meter.timing("stage.duration", _elapsed_ms(started), tags={"stage": "extract"})
    stats["article_ids"] = article_ids
    return stats


# --- dedup ------------------------------------------------------------------

def dedup(engine: Engine, settings: Settings, limit: int | None = None) -> dict:
    """Cluster the pending articles. PostgreSQL with ``dedup_workers`` > 1: that many processes
    at once (each claims its own batches; only their decisions are serialised).

    ``processed``, ``requeued`` and ``recleaned`` count what the dedup batches did;
    ``originals``, ``exact``, ``near`` and ``paraphrase`` are read back from the warehouse
    when they are done (``relations_written``): a batch's count would keep an article it made
    an original although a later batch re-pointed it as a copy of an article found since."""
    started = time.monotonic()
    since = dedup_epoch(engine)
    stats = _dedup(engine, settings, limit)
    stats.update(relations_written(engine, since))
    return dedup_report(settings, stats, started)


def dedup_report(settings: Settings, stats: dict, started: float) -> dict:
    """Metrics of a dedup run that began at ``started`` (``time.monotonic()``); returns ``stats``."""
    meter = metrics.for_settings(settings)
    meter.counts("dedup.decided", {relation: stats[key] for key, relation in RELATION_KEYS.items()}, "relation")
    meter.timing("stage.duration", _elapsed_ms(started), tags={"stage": "dedup"})
    return stats


# runs.stats key -> articles.relation
RELATION_KEYS = {"originals": "original", "exact": "exact", "near": "near", "paraphrase": "paraphrase"}


def dedup_epoch(engine: Engine) -> int:
    """The epoch of the last committed dedup batch (0 before the first)."""
    with engine.connect() as conn:
        return conn.execute(select(schema.dedup_epoch.c.epoch).where(schema.dedup_epoch.c.id == 1)).scalar() or 0


def relations_written(engine: Engine, since_epoch: int) -> dict:
    """Relations, as the warehouse holds them now, of the articles whose dedup columns batches
    after ``since_epoch`` wrote: the articles those batches decided, and earlier ones they
    re-pointed or cleaned again. Keys as in ``RELATION_KEYS``."""
    a = schema.articles
    with engine.connect() as conn:
        found = dict(conn.execute(
            select(a.c.relation, func.count()).where(a.c.dedup_epoch > since_epoch, a.c.dedup_state == "done")
            .group_by(a.c.relation)).all())
    return {key: int(found.get(relation, 0)) for key, relation in RELATION_KEYS.items()}


def _dedup(engine: Engine, settings: Settings, limit: int | None) -> dict:
    workers = settings.dedup_workers
    if workers <= 1 or limit is not None or engine.dialect.name != "postgresql":
        return dedup_pending(engine, settings, limit=limit)
    url = engine.url.render_as_string(hide_password=False)
    total: Counter = Counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        for stats in pool.map(_dedup_process, [(url, settings)] * workers):
            total.update(stats)
    return dict(total)


def _dedup_process(job: tuple[str, Settings]) -> dict:
    url, settings = job
    try:
        return dedup_pending(get_engine(url), settings)
    finally:
        dispose_all()


# --- one whole round, as the CLI runs it --------------------------------------

def run_round(engine: Engine, settings: Settings, registry: str | Path | None = None,
              run_key: str | None = None) -> dict:
    """Poll due feeds, fetch, extract and dedup: the ``news_ingest`` DAG in one process."""
    stats: dict = {}
    if registry:
        stats["registry"] = sync_registry(engine, registry)
    stats.update(poll(engine, settings, due_feeds(engine), run_key=run_key))
    fetch_stats = fetch_pages(engine, settings, pending_page_ids(engine, settings))
    fetch_stats.pop("page_ids", None)
    stats.update(fetch_stats)
    extract_stats = extract_pages(engine, settings, fetched_page_ids(engine))
    extract_stats.pop("article_ids", None)
    stats.update(extract_stats)
    stats["dedup"] = dedup(engine, settings)
    stats["flagged_sources"] = len(check_source_health(engine))
    return stats


def record_run(engine: Engine, run_key: str, kind: str, stats: dict, status: str = "success",
               started_at=None, settings: Settings | None = None) -> None:
    """Per-run statistics in the warehouse (one row per run key; a re-run overwrites it), and
    the run's duration (from ``started_at``, when known) and queue depths as metrics."""
    now = loads.utcnow()
    started_at = as_utc(started_at) or now
    with engine.begin() as conn:
        loads.upsert(conn, schema.runs, [dict(run_key=run_key, kind=kind, started_at=started_at, finished_at=now,
                                              status=status, stats=stats)],
                     ["run_key"], ["started_at", "finished_at", "status", "stats"])
    meter = metrics.for_settings(settings)
    if meter.enabled:
        meter.timing("run.duration", (now - started_at).total_seconds() * 1000.0, tags={"kind": kind})
        for name, depth in queue_depths(engine, settings or Settings.from_env()).items():
            meter.gauge(f"queue.{name}", depth)


def queue_depths(engine: Engine, settings: Settings) -> dict[str, int]:
    """Work waiting between stages: pages to fetch (attempts left), fetched pages to extract,
    articles to deduplicate."""
    p, a = schema.pages, schema.articles
    with engine.connect() as conn:
        return {
            "pages_pending": conn.execute(select(func.count()).select_from(p).where(
                p.c.state == "pending", p.c.attempts < settings.max_fetch_attempts)).scalar_one(),
            "pages_fetched": conn.execute(select(func.count()).select_from(p).where(
                p.c.state == "fetched")).scalar_one(),
            "articles_pending_dedup": conn.execute(select(func.count()).select_from(a).where(
                a.c.dedup_state == "pending")).scalar_one(),
        }


def warehouse_summary(engine: Engine) -> dict:
    """Counts an operator wants after a run."""
    a, p, f = schema.articles, schema.pages, schema.feeds
    with engine.connect() as conn:
        pages_by_state = dict(conn.execute(select(p.c.state, func.count()).group_by(p.c.state)).all())
        return {
            "sources": conn.execute(select(func.count()).select_from(schema.sources)).scalar_one(),
            "feeds": conn.execute(select(func.count()).select_from(f)).scalar_one(),
            "feeds_polled": conn.execute(
                select(func.count()).select_from(f).where(f.c.last_polled_at.is_not(None))
            ).scalar_one(),
            "pages": pages_by_state,
            "articles": conn.execute(select(func.count()).select_from(a)).scalar_one(),
            "clusters": conn.execute(select(func.count(func.distinct(a.c.cluster_id)))).scalar_one(),
            "copies": conn.execute(
                select(func.count()).select_from(a).where(a.c.relation.in_(["exact", "near", "paraphrase"]))
            ).scalar_one(),
        }
