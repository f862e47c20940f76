"""Import HTML responses from WARC archives through the live path (extract, dedup, load).

- Streamed: ``reader.scan_archive`` reads one record at a time (local files or any
  fsspec URL); bounded queues keep at most a few batches in memory.
- Parallel: extraction runs in worker processes (``parallel.ExtractorPool``); the
  parent reads the archive and writes finished batches to the warehouse.
- Resumable: each batch is written in one transaction together with the file's
  progress row (``archive_files``: counters and the offset of the first record not
  yet written), so a killed import resumes at that record and never writes a row
  twice. A finished file is skipped unless ``reprocess`` is asked for.
- Tolerant: non-HTML, oversized, undecodable, request/revisit/metadata records and
  damaged gzip members are skipped with a count per reason; the import goes on. So is a
  record whose target URI cannot be a page (``bad_url``), and a page the warehouse refuses
  (``load_error``: the batch is written again page by page, that page alone is set aside as
  ``failed`` with the database's reason); a ``WARC-Date`` out of range is no capture time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine

from .. import pipeline
from ..config import Settings
from ..fetch.archived import (
    Item,
    Page,
    archive_exists,
    archive_size,
    is_remote,
    is_single_stream,
    open_archive,
    scan_archive,
)
from ..storage import loads, schema
from ..storage.search_index import bulk_indexing
from ..storage.values import clean_text, clip
from ..times import EARLIEST, parse_timestamp
from ..urls import canonicalize_url, domain_of
from . import progress as prog_mod
from .follow import DedupFollower
from .memory import keep_large_blocks_apart, release_free_memory
from .parallel import ExtractorPool

log = logging.getLogger(__name__)

# ExtractionError kinds -> skip reasons in the report
_EXTRACT_REASONS = {
    "decode": "undecodable",
    "not_html": "not_html_body",
    "no_text": "no_text",
    "blocked": "blocked",
    "extract_timeout": "extract_timeout",
    "extract_crash": "extract_crash",
    "worker_died": "worker_died",
}


@dataclass
class ImportOptions:
    domains: set[str] | None = None  # None: every domain
    languages: set[str] | None = None  # None: every language
    reprocess: bool = False  # re-import files already done (pages are refreshed, never doubled)
    workers: int | None = None  # extraction processes (None: one per CPU; 0: in-process)
    batch_size: int = 100  # records per warehouse transaction
    chunk_size: int = 25  # pages per worker task (fewer, larger tasks: less pickling and queue traffic)
    max_inflight: int = 4  # batches queued for workers beyond the one being written
    progress: bool = False  # progress lines on stderr
    run_key: str | None = None
    # Keep a compressed copy of every page in raw_pages. Off: raw_pages points at the record in
    # the archive (path, offset) and re-extraction reads it from there, so the warehouse does not
    # grow by a second copy of the archive (and workers skip compressing every page).
    store_raw: bool = False

    @staticmethod
    def normalise_domains(domains: Iterable[str] | None) -> set[str] | None:
        if domains is None:
            return None
        return {d.strip().lower().removeprefix("www.") for d in domains if d and d.strip()}


@dataclass
class _Batch:
    first_offset: int
    records: int = 0
    end_offset: int | None = None  # offset of the first record after the batch
    pages: list[Page] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    already_present: int = 0
    futures: list = field(default_factory=list)


def domain_allowed(url: str, domains: set[str] | None) -> bool:
    if domains is None:
        return True
    host = domain_of(url)
    return host in domains or any(host.endswith("." + d) for d in domains)


def registry_domains(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(schema.sources.c.domain).where(schema.sources.c.in_registry.is_(True))).scalars()
        return {d.lower().removeprefix("www.") for d in rows if d}


def domains_from_spec(spec: str | None, engine: Engine) -> set[str] | None:
    """``registry`` (the default): the registry's sources; ``all``: None (every domain); else a
    comma-separated list of domains."""
    spec = (spec or "registry").strip()
    if spec.lower() == "all":
        return None
    if spec.lower() == "registry":
        return registry_domains(engine)
    return ImportOptions.normalise_domains(spec.split(","))


class _Importer:
    def __init__(self, engine: Engine, settings: Settings, opts: ImportOptions, pool: ExtractorPool,
                 reporter: prog_mod.Reporter, follower: DedupFollower | None = None):
        self.engine = engine
        self.follower = follower
        self.settings = settings
        self.opts = opts
        self.pool = pool
        self.reporter = reporter
        self.source_ids: dict[str, int] = {}
        self.articles_written = 0
        self.path = ""

    # -- one file ---------------------------------------------------------
    def run(self, path: str) -> dict:
        self.path = path if is_remote(path) else str(Path(path).resolve())  # what raw_pages points at
        if not archive_exists(path):
            return {"status": "missing", "records": 0, "pages": 0, "already_present": 0, "skipped": {},
                    "errors": [f"{path}: no such file"]}
        size = archive_size(path)
        prog = prog_mod.load(self.engine, path)
        if prog is not None and prog.status == "done" and not self.opts.reprocess and prog.size == size:
            out = prog.as_dict()
            out["status"] = "already_done"
            return out
        if prog is None or self.opts.reprocess or prog.size != size:
            old = prog
            prog = prog_mod.FileProgress(path=path, size=size)
            if old is not None:
                prog.id, prog.attempts = old.id, old.attempts
        if prog.next_offset > 0 and self._single_stream(path):
            prog.restart_pass()  # its records cannot be reached from the middle: read it again from the top
        prog_mod.start(self.engine, prog, self.opts.run_key)
        started = time.monotonic()
        seconds_before = prog.seconds
        first_offset = prog.next_offset
        records_before = prog.records
        label = Path(path).name if "://" not in path else path

        def tick(force: bool = False) -> None:
            prog.seconds = seconds_before + (time.monotonic() - started)
            self.reporter.update(label, prog.records - records_before, prog.pages, started, prog.next_offset,
                                 first_offset, size, force=force)

        try:
            with open_archive(path) as stream:
                self._stream(stream, prog, size, tick)
        except Exception as exc:
            prog.status = "failed"
            prog.errors.append(f"{exc.__class__.__name__}: {exc}"[:2000])
            prog.seconds = seconds_before + (time.monotonic() - started)
            with self.engine.begin() as conn:
                prog_mod.save(conn, prog)
            log.exception("import of %s failed at offset %s", path, prog.next_offset)
            return prog.as_dict()
        prog.status = "done"
        prog.seconds = seconds_before + (time.monotonic() - started)
        with self.engine.begin() as conn:
            prog_mod.save(conn, prog, finished=True)
        tick(force=True)
        return prog.as_dict()

    @staticmethod
    def _single_stream(path: str) -> bool:
        try:
            with open_archive(path) as stream:
                return is_single_stream(stream)
        except OSError:
            return False  # the scan reports it

    def _stream(self, stream, prog: prog_mod.FileProgress, size: int | None, tick) -> None:
        inflight: deque[_Batch] = deque()
        batch: _Batch | None = None
        for item in scan_archive(stream, prog.next_offset, self.settings.max_body_bytes, size=size):
            if batch is not None and batch.records >= self.opts.batch_size:
                batch.end_offset = item.offset
                self._dispatch(batch)
                inflight.append(batch)
                batch = None
                while len(inflight) > self.opts.max_inflight:
                    self._commit(inflight.popleft(), prog)
                    tick()
            if batch is None:
                batch = _Batch(first_offset=item.offset)
            self._add(batch, item)
        if batch is not None:
            batch.end_offset = size if size is not None else stream.tell()
            self._dispatch(batch)
            inflight.append(batch)
        while inflight:
            self._commit(inflight.popleft(), prog)
            tick()
        if size is not None:
            prog.next_offset = max(prog.next_offset, size)

    def _add(self, batch: _Batch, item: Item) -> None:
        batch.records += 1
        if item.page is None:
            batch.skipped[item.skip or "unknown"] += 1
            if item.error:
                batch.errors.append(item.error[:500])
            return
        try:
            page = item.page
            page.canonical = canonicalize_url(page.url)
            allowed = domain_allowed(page.url, self.opts.domains)
        except (ValueError, UnicodeError) as exc:  # this record only: its neighbours go on
            batch.skipped["bad_url"] += 1
            batch.errors.append(f"offset {item.offset}: {item.page.url[:300]!r}: {exc}"[:500])
            return
        if not allowed:
            batch.skipped["domain_filtered"] += 1
            return
        batch.pages.append(page)

    # -- parent: pre-check, then hand pages to the workers -------------------
    def _dispatch(self, batch: _Batch) -> None:
        if not batch.pages:
            return
        seen: set[str] = set()
        todo: list[Page] = []
        for page in batch.pages:
            canon = page.canonical
            if canon in seen:  # the same page twice in one batch: the first one counts
                batch.already_present += 1
                continue
            seen.add(canon)
            todo.append(page)
        if not self.opts.reprocess:
            done = self._done_urls(list(seen))
            kept = []
            for page in todo:
                if page.canonical in done:
                    batch.already_present += 1
                else:
                    kept.append(page)
            todo = kept
        batch.pages = todo
        size = max(1, self.opts.chunk_size)
        for i in range(0, len(todo), size):
            chunk = todo[i:i + size]
            future = self.pool.submit([self._task(p) for p in chunk], keep_body=self._keep_bodies(chunk))
            future.add_done_callback(lambda f, chunk=chunk: _release_bodies(f, chunk))
            batch.futures.append((future, chunk))

    @staticmethod
    def _task(page: Page) -> tuple:
        return page.url, page.body, page.content_type, capture_time(page.warc_date, loads.utcnow())

    def _keep_bodies(self, pages: list[Page]) -> bool:
        """A copy in the warehouse when asked for, or when a page cannot be read back from the
        archive (a record inside a whole-file gzip stream: ``offset`` -1)."""
        return self.opts.store_raw or any(page.offset < 0 for page in pages)

    def _done_urls(self, urls: list[str]) -> set[str]:
        p = schema.pages
        with self.engine.connect() as conn:
            return set(conn.execute(select(p.c.url).where(p.c.url.in_(urls), p.c.state.in_(("fetched", "extracted"))))
                       .scalars())

    # -- parent: write one finished batch and the progress in one transaction -
    def _commit(self, batch: _Batch, prog: prog_mod.FileProgress) -> None:
        results = []
        for fut, chunk in batch.futures:
            try:
                results.extend(fut.result())
            except BrokenProcessPool:
                results.extend(self._extract_singly(chunk))
        batch.futures.clear()
        written = 0
        with self.engine.begin() as conn:
            good: list[tuple[Page, str, tuple]] = []
            for page, result in zip(batch.pages, results):
                if result[0] != "ok":
                    batch.skipped[_EXTRACT_REASONS.get(result[1], result[1])] += 1
                    continue
                fields = result[1]
                if self.opts.languages is not None and (fields.get("language") or "") not in self.opts.languages:
                    batch.skipped["language_filtered"] += 1
                    continue
                good.append((page, page.canonical, result))
            if good:
                written = self._write_good(conn, batch, prog, good)
            prog.records += batch.records
            prog.already_present += batch.already_present
            prog.skipped.update(batch.skipped)
            prog.errors.extend(batch.errors)
            prog.next_offset = batch.end_offset if batch.end_offset is not None else prog.next_offset
            prog_mod.save(conn, prog)
        if self.follower is not None:
            self.follower.written(written)
        batch.pages.clear()
        release_free_memory()

    def _write_good(self, conn, batch: _Batch, prog: prog_mod.FileProgress, good: list) -> int:
        """The extracted pages of a batch: page rows, raw pages, articles. When the warehouse
        refuses the batch, each page is written on its own (``loads.write_isolated``) and a
        page it refuses is set aside: ``failed`` with the reason, counted as ``load_error``."""
        p = schema.pages
        columns = (p.c.id, p.c.url, p.c.state, p.c.source_id, p.c.entry_published_at)
        urls = [c for _, c, _ in good]
        existing = {r.url: r for r in conn.execute(select(*columns).where(p.c.url.in_(urls)))}
        new = [loads.NewPage(url=page.url, origin="warc", source_id=self._source(conn, page.url))
               for page, canon, _ in good if canon not in existing]
        if new:
            refused: list[tuple[str, str]] = []
            loads.enqueue_pages(conn, new, refused)
            for url, reason in refused:
                batch.skipped["load_error"] += 1
                batch.errors.append(f"{url[:300]!r}: {reason}"[:500])
            existing.update({r.url: r for r in conn.execute(select(*columns).where(p.c.url.in_(urls)))})
        now = loads.utcnow()
        writes = []
        for page, canon, result in good:
            row = existing.get(canon)
            if row is None:
                continue  # its page row was refused, counted above
            if row.state in ("fetched", "extracted") and not self.opts.reprocess:
                batch.already_present += 1  # came in live (or earlier in this file) meanwhile
                continue
            writes.append((row, page, result))
        written: list[int] = []

        def write(chunk) -> None:
            self._write_rows(conn, chunk, now)
            written.append(len(chunk))  # only once the chunk is in

        for (row, page, _), reason in loads.write_isolated(conn, writes, write):
            batch.skipped["load_error"] += 1
            batch.errors.append(f"{page.url[:300]!r}: {reason}"[:500])
            log.warning("page %s set aside: %s", page.url, reason)
            loads.mark_page(conn, row.id, "failed", error_kind="load", last_error=reason,
                            fetched_at=capture_time(page.warc_date, now))
        done = sum(written)
        prog.pages += done
        prog.articles += done
        self.articles_written += done
        return done

    def _write_rows(self, conn, writes: list, now) -> None:
        raw_rows = []
        for row, page, result in writes:
            _, fields, zbody, sha, raw_size = result
            headers = {"content-type": page.content_type}
            if zbody is None:
                raw_rows.append(dict(page_id=row.id, compression=loads.RAW_IN_ARCHIVE, body=b"",
                                     raw_size=raw_size, sha256=sha,
                                     headers={**headers, loads.ARCHIVE_REF: {"path": self.path,
                                                                              "offset": page.offset}}))
            else:
                raw_rows.append(dict(page_id=row.id, compression="zlib", body=zbody, raw_size=raw_size,
                                     sha256=sha, headers=headers))
        loads.upsert(conn, schema.raw_pages, raw_rows, ["page_id"],
                     ["compression", "body", "raw_size", "sha256", "headers"])
        self._write_articles(conn, [(row, page, result[1]) for row, page, result in writes], now)

    def _extract_singly(self, chunk: list[Page]) -> list[tuple]:
        """A worker died (segfault, OOM kill, past the hard time limit) on this chunk: extract
        the pages one task each (the pool has replaced the worker); a page that kills a worker
        again is skipped as ``worker_died``."""
        out = []
        for page in chunk:
            try:
                out.extend(self.pool.submit([self._task(page)],
                                            keep_body=self._keep_bodies([page])).result())
            except BrokenProcessPool:
                log.error("an extraction worker died on %s; skipped", page.url)
                out.append(("error", "worker_died",
                            "extraction worker died (a crash, the memory limit, or past the hard time limit)"))
        return out

    def _write_articles(self, conn, writes: list, now) -> None:
        """Articles and page states for one batch: one multi-row INSERT for new articles and one
        executemany UPDATE for the pages (the same values ``loads.upsert_article`` and
        ``pipeline.extract_pages`` write, with word count and text hash computed by the workers)."""
        if not writes:
            return
        a, p = schema.articles, schema.pages
        page_ids = [row.id for row, _, _ in writes]
        with bulk_indexing(conn) as search_index:  # first: its DDL takes SQLite's write lock
            have = set(conn.execute(select(a.c.page_id).where(a.c.page_id.in_(page_ids))).scalars())
            inserts = []
            for row, page, fields in writes:
                fields = pipeline.article_fields(fields, row.url, row.entry_published_at,
                                                 captured_at=capture_time(page.warc_date, now))
                if row.id in have:  # reprocessing: refresh (dedup state reset only if the text changed)
                    loads.upsert_article(conn, row.id, row.source_id, fields)
                    continue
                values = loads.with_place({k: fields.get(k) for k in loads.ARTICLE_FIELDS})
                values.update(page_id=row.id, source_id=row.source_id, word_count=fields["_word_count"],
                              text_sha256=fields["_text_sha256"], extracted_at=now, dedup_state="pending")
                inserts.append(values)
            loads.insert_ignore(conn, a, inserts, ["page_id"])
            if inserts and search_index.active:
                search_index.index(conn.execute(select(a.c.id).where(
                    a.c.page_id.in_([v["page_id"] for v in inserts]))).scalars())
        conn.execute(
            update(p).where(p.c.id == bindparam("b_id")).values(
                state="extracted", http_status=200, final_url=bindparam("b_final"), content_type=bindparam("b_ct"),
                fetched_at=bindparam("b_fetched"), error_kind=None, last_error=None),
            [{"b_id": row.id, "b_final": clean_text(page.url), "b_ct": clip(page.content_type, 10_000),
              "b_fetched": capture_time(page.warc_date, now)} for row, page, _ in writes],
        )

    def _source(self, conn, url: str) -> int:
        domain = domain_of(url)
        sid = self.source_ids.get(domain)
        if sid is None:
            sid = self.source_ids[domain] = loads.source_for_domain(conn, domain)
        return sid


def _release_bodies(future, chunk: list[Page]) -> None:
    """A chunk extracted: its pages' bodies are not needed any more (only a chunk whose worker
    died is extracted again). Finished batches can wait a while for the warehouse's write lock
    (dedup holds it on SQLite): without this they would hold ~25 MB of HTML each."""
    if not future.cancelled() and future.exception() is None:
        for page in chunk:
            page.body = b""


def capture_time(warc_date: str | None, now: datetime) -> datetime:
    """When the archive fetched the page (``WARC-Date``): what ``pages.fetched_at`` means for an
    archived page, and dedup's time window for an article without a publication date. ``now``
    when the date is missing, unparsable, out of range (year 0, year 10000, an offset past 9999),
    before 1900 or in the future."""
    when = parse_timestamp(warc_date)
    if when is None or when < EARLIEST:
        return now
    return when if when <= now else now


def import_warcs(engine: Engine, settings: Settings, paths: Iterable[str | Path],
                 domains: Iterable[str] | None = None, batch_size: int = 100, *,
                 options: ImportOptions | None = None, run_dedup: bool = True,
                 pool: ExtractorPool | None = None) -> dict:
    """Import every HTML response of the given archives; returns per-file statistics.

    ``domains`` (or ``options.domains``) restricts the import to those domains and
    their subdomains; by default every domain is imported.
    """
    opts = options or ImportOptions(batch_size=batch_size)
    if domains is not None and opts.domains is None:
        opts.domains = ImportOptions.normalise_domains(domains)
    paths = [str(p) for p in paths]
    report: dict = {"files": {}, "extracted": 0, "extract_errors": 0}
    reporter = prog_mod.Reporter(opts.progress)
    started = time.monotonic()
    keep_large_blocks_apart()  # the bodies read and handed to the workers
    own_pool = pool is None
    pool = pool or ExtractorPool(opts.workers, time_limit=settings.extract_timeout)
    # dedup of the batches already written runs while the workers extract the next ones
    follower = DedupFollower(engine, settings).start() if run_dedup else None
    try:
        importer = _Importer(engine, settings, opts, pool, reporter, follower)
        for path in paths:
            before = importer.articles_written
            stats = importer.run(path)
            report["files"][path] = stats
            if stats.get("status") not in ("already_done", "missing"):
                report["extracted"] += importer.articles_written - before
                report["extract_errors"] += sum(stats["skipped"].get(r, 0) for r in _EXTRACT_REASONS.values())
    finally:
        timings = {"extraction_s": round(time.monotonic() - started, 3), **pool.usage()}
        if own_pool:
            pool.close()
        if follower is not None:
            report["dedup"] = pipeline.dedup_report(settings, follower.finish(), started)
            timings["dedup_tail_s"] = round(time.monotonic() - started - timings["extraction_s"], 3)
            timings["dedup_cpu_s"] = round(follower.cpu_seconds, 3)
    report["records"] = sum(s.get("records", 0) for s in report["files"].values()
                            if s.get("status") not in ("already_done", "missing"))
    report["seconds"] = timings["extraction_s"]  # reading, extraction and loads; dedup_tail_s came after
    report["failed_files"] = [p for p, s in report["files"].items() if s.get("status") == "failed"]
    report.setdefault("dedup", None)
    report["timings"] = timings
    return report
