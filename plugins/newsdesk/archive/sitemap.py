"""Backfill one source from its (news) sitemaps: ``newsdesk backfill sitemap SOURCE --since DATE``.

Sitemaps are found in the homepage's ``/robots.txt`` (``Sitemap:`` lines), else at
``/news-sitemap.xml`` and ``/sitemap.xml``. Sitemap indexes are followed (children
whose ``lastmod`` is before ``--since`` are skipped), ``.xml.gz`` bodies are
unpacked, and every page URL on the source's domain dated on or after ``--since``
is enqueued as a page (origin ``sitemap``). The pages then go through the live
path: ``pipeline.fetch_pages``, ``extract_pages``, ``dedup``. Everything is fetched
with the shared ``Fetcher`` (limits, private-address policy, proxy).

Undated entries are taken from news sitemaps (which list recent articles only) and
skipped in plain sitemaps (which may list a whole site), unless ``include_undated``.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from .. import pipeline
from ..config import Settings, UserError
from ..feeds.parse import FeedParseError, parse_feed
from ..fetch import Fetcher, FetchError
from ..storage import loads, schema
from ..times import as_utc, sane_date
from ..urls import canonicalize_url, domain_of

log = logging.getLogger(__name__)

FALLBACK_PATHS = ("/news-sitemap.xml", "/sitemap.xml")
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit (uncompressed)


@dataclass
class SitemapScan:
    sitemaps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    urls: dict[str, datetime | None] = field(default_factory=dict)  # page URL -> publication date
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


class UnknownSource(UserError, ValueError):
    """A source spec that names no source and is no domain or URL (the CLI: one line, exit 2)."""


def resolve_source(engine: Engine, spec: str) -> tuple[int, str]:
    """(source id, homepage) for a source name, a domain or a homepage URL."""
    s = schema.sources
    domain = domain_of(spec) if "://" in spec else spec.lower().removeprefix("www.")
    with engine.begin() as conn:
        row = conn.execute(select(s.c.id, s.c.homepage, s.c.domain)
                           .where(or_(s.c.name == spec, s.c.domain == domain, s.c.homepage == spec))
                           .order_by(s.c.in_registry.desc(), s.c.id)).first()
        if row is not None:
            return row.id, row.homepage or f"https://{row.domain}/"
        if "://" not in spec and "." not in spec:
            raise UnknownSource(f"unknown source {spec!r}: give a registry name, a domain or a homepage URL")
        sid = loads.source_for_domain(conn, domain)
        homepage = spec if "://" in spec else f"https://{domain}/"
        return sid, homepage


def _unpack(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(body, MAX_SITEMAP_BYTES)
        if d.unconsumed_tail:
            raise ValueError("sitemap larger than 50 MB uncompressed")
        return out
    return body


def discover(fetcher, homepage: str, scan: SitemapScan) -> list[str]:
    found: list[str] = []
    robots = urljoin(homepage, "/robots.txt")
    try:
        res = fetcher.get(robots, accept="text/plain")
        for line in res.body.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                found.append(urljoin(robots, value.strip()))
    except FetchError as exc:
        scan.errors.append(f"robots.txt: {exc}")
    if not found:
        found = [urljoin(homepage, p) for p in FALLBACK_PATHS]
    return list(dict.fromkeys(found))


def scan_sitemaps(fetcher, start: list[str], domain: str, since: datetime | None,
                  include_undated: bool = False, max_sitemaps: int = 500) -> SitemapScan:

    scan = SitemapScan()
    queue = list(start)
    seen: set[str] = set()
    while queue and len(seen) < max_sitemaps:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        try:
            res = fetcher.get(url, accept="application/xml,text/xml,*/*;q=0.5")
            parsed = parse_feed(_unpack(res.body), res.final_url or url, res.headers.get("content-type"))
        except (FetchError, FeedParseError, ValueError, OSError, EOFError, gzip.BadGzipFile) as exc:
            scan.errors.append(f"{url}: {exc}"[:500])
            continue
        scan.sitemaps.append(url)
        for link, reason in parsed.rejected:  # a <loc> that cannot be a page: it alone is set aside
            scan.skip("bad_url")
            scan.errors.append(f"{url}: {link[:300]}: {reason}"[:500])
        now = loads.utcnow()
        for entry in parsed.entries:
            when = sane_date(entry.published_at, now)  # a lastmod of 9999-12-31 is no date
            if parsed.kind == "sitemapindex":
                if since is not None and when is not None and when < since:
                    scan.skip("sitemap_before_since")
                    continue
                queue.append(entry.url)
                continue
            host = domain_of(entry.url)
            if host != domain and not host.endswith("." + domain):
                scan.skip("other_domain")
                continue
            if since is not None:
                if when is None and not (include_undated or parsed.kind == "news-sitemap"):
                    scan.skip("undated")
                    continue
                if when is not None and when < since:
                    scan.skip("before_since")
                    continue
            scan.urls.setdefault(entry.url, when)
    if queue:
        scan.errors.append(f"stopped after {max_sitemaps} sitemaps; {len(queue)} not read")
    return scan


def backfill_sitemap(engine: Engine, settings: Settings, source: str, since: datetime | None,
                     include_undated: bool = False, limit: int | None = None, sitemaps: list[str] | None = None,
                     run_dedup: bool = True) -> dict:
    """Enqueue the source's sitemap URLs since ``since``, then fetch, extract and dedup them."""

    since = as_utc(since)
    source_id, homepage = resolve_source(engine, source)
    domain = domain_of(homepage)
    with Fetcher(settings) as fetcher:
        start = sitemaps or discover(fetcher, homepage, SitemapScan())
        scan = scan_sitemaps(fetcher, start, domain, since, include_undated=include_undated)
    urls = list(scan.urls.items())
    if limit:
        urls = urls[:limit]
    refused: list[tuple[str, str]] = []
    with engine.begin() as conn:
        new_ids = loads.enqueue_pages(conn, [loads.NewPage(url=u, origin="sitemap", source_id=source_id,
                                                           published_at=when) for u, when in urls], refused)
    for url, reason in refused:
        scan.skip("bad_url")
        scan.errors.append(f"{url[:300]}: {reason}"[:500])
    refused_urls = {url for url, _ in refused}
    urls = [(u, when) for u, when in urls if u not in refused_urls]
    # Pages already known but never fetched (e.g. found by a feed) are fetched too.
    p = schema.pages
    canon = [canonicalize_url(u) for u, _ in urls]
    pending: list[int] = []
    with engine.connect() as conn:
        for i in range(0, len(canon), 500):
            pending += conn.execute(
                select(p.c.id).where(p.c.url.in_(canon[i : i + 500]), p.c.state == "pending")
            ).scalars()
    report = {"source": source, "homepage": homepage, "sitemaps": scan.sitemaps, "sitemap_errors": scan.errors,
              "urls": len(urls), "new_pages": len(new_ids), "skipped": scan.skipped,
              "fetched": 0, "fetch_errors": 0, "extracted": 0, "extract_errors": 0}
    for batch in pipeline.batched(sorted(pending), settings.batch_size):
        fetched = pipeline.fetch_pages(engine, settings, batch)
        report["fetched"] += fetched["fetched"]
        report["fetch_errors"] += fetched["fetch_errors"]
        extracted = pipeline.extract_pages(engine, settings, fetched["page_ids"])
        report["extracted"] += extracted["extracted"]
        report["extract_errors"] += extracted["extract_errors"]
    report["dedup"] = pipeline.dedup(engine, settings) if run_dedup else None
    return report

