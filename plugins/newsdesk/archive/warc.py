"""Import HTML responses from WARC archives through the live path (extract, dedup, load).

Records are streamed one at a time (a WARC is never held in memory); every record
that is not an HTML page is skipped with a counted reason, and a damaged archive
stops that file only, with what was read before the damage kept.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..config import Settings
from ..storage import loads, schema
from ..urls import canonicalize_url, domain_of

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass
class HtmlRecord:
    url: str
    body: bytes
    content_type: str
    warc_date: str | None
    offset: int


@dataclass
class ImportStats:
    records: int = 0
    pages: int = 0
    already_present: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"records": self.records, "pages": self.pages, "already_present": self.already_present,
                "skipped": dict(self.skipped), "errors": list(self.errors)}


def iter_html_records(path: str | Path, stats: ImportStats, max_body_bytes: int) -> Iterator[HtmlRecord]:
    """Yield the HTML response records of one archive, counting everything skipped."""
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as stream:
        iterator = ArchiveIterator(stream)
        try:
            for record in iterator:
                stats.records += 1
                if record.rec_type != "response":
                    stats.skipped[record.rec_type or "unknown"] += 1
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                if not url.lower().startswith(("http://", "https://")):
                    stats.skipped["not_http"] += 1
                    continue
                http = record.http_headers
                if http is None:
                    stats.skipped["no_http_headers"] += 1
                    continue
                status = http.get_statuscode()
                if status != "200":
                    stats.skipped[f"http_{status}"] += 1
                    continue
                ctype = http.get_header("Content-Type") or ""
                if not any(t in ctype.lower() for t in HTML_TYPES):
                    stats.skipped["not_html"] += 1
                    continue
                body = record.content_stream().read(max_body_bytes + 1)
                if len(body) > max_body_bytes:
                    stats.skipped["too_large"] += 1
                    continue
                yield HtmlRecord(url, body, ctype, record.rec_headers.get_header("WARC-Date"), iterator.get_record_offset())
        except Exception as exc:  # noqa: BLE001 - truncated gzip, bad headers: keep what was read
            stats.skipped["damaged"] += 1
            stats.errors.append(f"{path}: {exc.__class__.__name__}: {exc}")
            log.warning("archive %s is damaged after %d records: %s", path, stats.records, exc)


def _store_batch(engine: Engine, batch: list[HtmlRecord], stats: ImportStats,
                 domains: set[str] | None) -> list[int]:
    """Pages and raw HTML for one batch of records; returns the page ids to extract."""
    page_ids: list[int] = []
    with engine.begin() as conn:
        for rec in batch:
            domain = domain_of(rec.url)
            if domains is not None and domain not in domains:
                stats.skipped["domain_filtered"] += 1
                continue
            url = canonicalize_url(rec.url)
            page = conn.execute(select(schema.pages.c.id, schema.pages.c.state).where(schema.pages.c.url == url)).first()
            if page is not None and page.state in ("fetched", "extracted"):
                stats.already_present += 1
                continue
            if page is None:
                source_id = loads.source_for_domain(conn, domain)
                ids = loads.enqueue_pages(conn, [loads.NewPage(url=rec.url, origin="warc", source_id=source_id)])
                if not ids:
                    stats.already_present += 1
                    continue
                page_id = ids[0]
            else:
                page_id = page.id
            loads.store_raw(conn, page_id, rec.body, {"content-type": rec.content_type})
            loads.mark_page(conn, page_id, "fetched", http_status=200, final_url=url, content_type=rec.content_type,
                            fetched_at=loads.utcnow(), error_kind=None, last_error=None)
            page_ids.append(page_id)
            stats.pages += 1
    return page_ids


def import_warcs(engine: Engine, settings: Settings, paths: Iterable[str | Path],
                 domains: Iterable[str] | None = None, batch_size: int = 200) -> dict:
    """Import every HTML response of the given archives; returns per-file statistics."""
    from .. import pipeline

    domain_set = {d.lower().removeprefix("www.") for d in domains} if domains else None
    report: dict = {"files": {}, "extracted": 0, "extract_errors": 0}
    for path in paths:
        stats = ImportStats()
        batch: list[HtmlRecord] = []

        def flush() -> None:
            page_ids = _store_batch(engine, batch, stats, domain_set)
            result = pipeline.extract_pages(engine, settings, page_ids)
            report["extracted"] += result["extracted"]
            report["extract_errors"] += result["extract_errors"]
            batch.clear()

        if not Path(path).exists():
            stats.errors.append(f"{path}: no such file")
        else:
            for rec in iter_html_records(path, stats, settings.max_body_bytes):
                batch.append(rec)
                if len(batch) >= batch_size:
                    flush()
            flush()
        report["files"][str(path)] = stats.as_dict()
    report["dedup"] = pipeline.dedup(engine, settings)
    return report
