"""Re-extraction: run the current extractor again over stored raw HTML, in place.

Pages keep their raw HTML (``raw_pages``, zlib), so a better extractor can be applied
to everything already fetched without refetching. ``reextract`` picks the pages whose
article was produced by another ``EXTRACTOR_VERSION`` (or every page with ``--all``),
extracts them again and updates the article row **in place** (same article id):

- text changed: dedup is reset for the article (``reset_dedup``: an original takes its
  whole cluster back to pending) and ``dedup_pending`` re-links it;
- only metadata changed (or only the version): the row is updated, dedup is left alone
  (its ``clean_text``/``attribution`` stay, they depend on the text only);
- nothing changed: nothing is written, so running ``reextract`` twice changes nothing
  the second time.

A page that now fails extraction keeps its article: the old text stays, as does its
``extractor_version`` (so it is not counted as up to date), the page stays ``extracted``
and the failure is recorded on the page (``error_kind``; ``last_error`` starting with
``reextract@<version>:``). Such pages are not retried by later runs with the same
version unless ``only_outdated=False``. With ``only_outdated=False`` pages whose first
extraction failed (state ``failed``, an extraction error kind, raw HTML kept) are tried
too; one that now gives text gets its article.

The version is read from ``newsdesk.extract.article.EXTRACTOR_VERSION`` at call time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine

from .config import Settings
from .dedup import dedup_pending, reset_dedup
from .extract import article as _article
from .extract.errors import KINDS, ExtractionError
from .fetch.archived import read_body
from .pipeline import article_fields
from .storage import loads, schema
from .times import as_utc, parse_since
from .urls import domain_of, publisher_of

log = logging.getLogger(__name__)

# error kinds that an extraction (not the fetch) records on a page
EXTRACTION_ERROR_KINDS = (*KINDS, "extract_crash")
ERROR_MARKER = "reextract@"
CHUNK = 100
# article columns compared to decide whether a re-extraction changed anything
# (dedup's clean_text/attribution are derived from the text: the text hash covers them)
_COMPARED = tuple(f for f in loads.ARTICLE_FIELDS if f not in ("clean_text", "attribution", "text"))


def current_version() -> str:
    return _article.EXTRACTOR_VERSION


def resolve_source(engine: Engine, source: str) -> list[int]:
    """Source ids for a registry name, a domain (with or without ``www.``), a publisher (every
    source whose domain's registrable domain it is: ``cnn.com`` covers edition.cnn.com) or a
    homepage URL."""
    s = schema.sources
    value = source.strip()
    domain = domain_of(value) if "/" in value or "." in value else value.lower()
    bare = domain[4:] if domain.startswith("www.") else domain
    with engine.connect() as conn:
        rows = conn.execute(select(s.c.id, s.c.name, s.c.domain).order_by(s.c.id)).all()
    ids = [r.id for r in rows if r.name == value or r.domain in {domain, bare, f"www.{bare}"}
           or (r.domain and publisher_of(r.domain) == bare)]
    if not ids:
        raise ValueError(f"no source named {source!r} and none with domain {bare!r}")
    return list(ids)


def plan_page_ids(engine: Engine, source: str | None = None, since=None, only_outdated: bool = True,
                  limit: int | None = None) -> list[int]:
    """Ids of the pages to re-extract (raw HTML kept), in id order.

    ``only_outdated``: pages whose article has another (or no) ``extractor_version``,
    except those that already failed re-extraction with the current version. Otherwise:
    every page with an article, and every page whose extraction failed.
    ``since`` filters on the fetch time.
    """
    p, a, r = schema.pages, schema.articles, schema.raw_pages
    version = current_version()
    q = select(p.c.id).select_from(p.join(r, r.c.page_id == p.c.id).outerjoin(a, a.c.page_id == p.c.id))
    if only_outdated:
        q = q.where(
            a.c.id.is_not(None),
            or_(a.c.extractor_version.is_(None), a.c.extractor_version != version),
            or_(p.c.last_error.is_(None), ~p.c.last_error.startswith(f"{ERROR_MARKER}{version}:", autoescape=True)),
        )
    else:
        q = q.where(or_(a.c.id.is_not(None),
                        and_(p.c.state == "failed", p.c.error_kind.in_(EXTRACTION_ERROR_KINDS))))
    if source:
        q = q.where(p.c.source_id.in_(resolve_source(engine, source)))
    since_at = parse_since(since)
    if since_at is not None:
        q = q.where(func.coalesce(p.c.fetched_at, p.c.discovered_at) >= since_at)
    q = q.order_by(p.c.id)
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return list(conn.execute(q).scalars())


def _norm(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:  # SQLite gives naive UTC back
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
    return value


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _same(row, fields: dict) -> bool:
    if row.text_sha256 != _sha(fields["text"]):
        return False
    values = {k: fields.get(k) for k in _COMPARED}
    values["domain"] = values.get("domain") or domain_of(values["url"])
    return all(_norm(getattr(row, k)) == _norm(v) for k, v in values.items())


def _extract(page, body: bytes, headers: dict, time_limit: float | None):
    """(fields, None) or (None, (kind, message))."""
    try:
        extracted = _article.extract_article(body, page.final_url or page.url, headers.get("content-type"),
                                             time_limit=time_limit, captured_at=as_utc(page.fetched_at))
    except ExtractionError as exc:
        return None, (getattr(exc, "kind", "no_text"), str(exc))
    except Exception as exc:
        log.exception("re-extraction crashed on page %s", page.id)
        return None, ("extract_crash", repr(exc))
    return article_fields(extracted.as_fields(), page.url, page.entry_published_at,
                          captured_at=as_utc(page.fetched_at)), None


def reextract_pages(engine: Engine, page_ids: Sequence[int], only_outdated: bool = True,
                    time_limit: float | None = Settings.extract_timeout) -> dict:
    """Re-extract the given pages and update their articles in place; resets dedup for
    articles whose text changed (``dedup_pending`` is the caller's next step).

    With ``only_outdated`` a page whose article is already at the current version is
    skipped, so a retried batch does not redo its work.
    """
    version = current_version()
    stats = {"selected": len(page_ids), "changed": 0, "updated": 0, "unchanged": 0, "recovered": 0,
             "failed": 0, "skipped": 0, "missing_raw": 0, "dedup_reset": 0}
    changed_ids: list[int] = []
    p, a = schema.pages, schema.articles
    ids = list(page_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        with engine.connect() as conn:
            pages = {r.id: r for r in conn.execute(select(p).where(p.c.id.in_(chunk)))}
            arts = {r.page_id: r for r in conn.execute(select(a).where(a.c.page_id.in_(chunk)))}
        writes, failures, text_changed = [], [], []
        for page_id in chunk:
            page, art = pages.get(page_id), arts.get(page_id)
            if page is None:
                stats["skipped"] += 1
                continue
            if only_outdated and art is not None and (
                    art.extractor_version == version
                    or (page.last_error or "").startswith(f"{ERROR_MARKER}{version}:")):
                stats["skipped"] += 1
                continue
            with engine.connect() as conn:
                raw = loads.load_raw(conn, page_id, read_body)
            if raw is None:
                stats["missing_raw"] += 1
                continue
            fields, error = _extract(page, *raw, time_limit)
            if error is not None:
                failures.append((page, art, error))
                continue
            if art is None:
                writes.append((page, fields))
                stats["recovered"] += 1
            elif _same(art, fields) and page.state == "extracted" and page.error_kind is None:
                stats["unchanged"] += 1
            else:
                writes.append((page, fields))
                if art.text_sha256 != _sha(fields["text"]):
                    text_changed.append(art.id)
                    stats["changed"] += 1
                else:
                    stats["updated"] += 1

        # Dedup first: a crash before the rewrite leaves the old version, so the page is picked up again.
        if text_changed:
            stats["dedup_reset"] += reset_dedup(engine, text_changed)
        for page, fields in writes:
            try:
                with engine.begin() as conn:
                    loads.upsert_article(conn, page.id, page.source_id, fields)
                    loads.mark_page(conn, page.id, "extracted", error_kind=None, last_error=None)
            except Exception as exc:  # the warehouse refused this article: recorded, the others go on
                if loads.is_transient(exc):
                    raise  # the warehouse went away: the re-run re-extracts it
                log.exception("could not store the re-extracted article of page %s", page.id)
                failures.append((page, arts.get(page.id), ("load", loads.database_reason(exc))))
        if text_changed:
            # a dedup run between the reset and the rewrite clustered the old text: reset again
            with engine.connect() as conn:
                stale = conn.execute(select(a.c.id).where(a.c.id.in_(text_changed), a.c.cluster_id.is_not(None))
                                     ).scalars().all()
            if stale:
                stats["dedup_reset"] += reset_dedup(engine, stale)
            changed_ids.extend(text_changed)
        for page, art, (kind, message) in failures:
            stats["failed"] += 1
            last_error = f"{ERROR_MARKER}{version}: {message}"[:2000]
            if page.error_kind == kind and page.last_error == last_error:
                continue  # recorded by an earlier run (only_outdated=False): write nothing
            log.warning("re-extraction of page %s (%s) failed: %s", page.id, page.url, message[:300])
            with engine.begin() as conn:
                # with an article: keep it (and the page's 'extracted' state), record the failure
                loads.mark_page(conn, page.id, page.state if art is not None else "failed",
                                error_kind=kind, last_error=last_error)
    stats["changed_article_ids"] = changed_ids
    return stats


def reextract(engine: Engine, settings: Settings | None = None, source: str | None = None, since=None,
              only_outdated: bool = True, limit: int | None = None, run_dedup: bool = True) -> dict:
    """Re-extract stored pages (see the module docstring); returns counts.

    ``source``: registry name or domain; ``since``: only pages fetched on/after this date;
    ``only_outdated=False``: every stored page, whatever version produced it; ``limit``:
    at most this many pages. Dedup runs afterwards (``run_dedup``) so links follow the new texts.
    """
    ids = plan_page_ids(engine, source=source, since=since, only_outdated=only_outdated, limit=limit)
    settings = settings or Settings.from_env()
    stats = reextract_pages(engine, ids, only_outdated=only_outdated, time_limit=settings.extract_timeout)
    stats["extractor_version"] = current_version()
    if run_dedup:
        stats["dedup"] = dedup_pending(engine, settings)
    log.info("re-extraction: %s", {k: v for k, v in stats.items() if k != "changed_article_ids"})
    return stats
