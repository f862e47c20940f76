"""Extraction in worker processes: workers get (url, html bytes, content type) and
return the extracted fields (plus the compressed raw body when the warehouse keeps a
copy); the parent only reads the archive and writes to the warehouse.

Workers are started with ``forkserver`` (never ``fork``: the parent may hold
database connections and threads, e.g. inside an Airflow task) and replaced after
about ``max_tasks_per_child`` tasks each so that parser memory stays bounded on long
imports. The replacement is ours, not ``ProcessPoolExecutor(max_tasks_per_child=)``:
on CPython 3.11-3.13 that option can stop spawning replacements and leave queued
tasks waiting forever (gh-115634; an import of 20,000 records hung on its last
chunk). After ``workers * max_tasks_per_child`` tasks, new tasks go to a fresh
executor and the old one finishes what it was given, then exits.
``workers=0`` extracts in the calling process (debugging, tiny inputs).

Each page has ``time_limit`` seconds (``extract_article``'s alarm, reported as
``extract_timeout``). An alarm cannot stop a C call that does not return, so in a worker a
watchdog thread ends the process once a page has run for ``HARD_LIMIT_FACTOR`` times the
limit; the importer then extracts that chunk page by page on a fresh pool and records the
page that kills a worker again as ``worker_died``.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from ..cjk import count_words
from ..config import Settings
from ..extract import ExtractionError, extract_article
from ..storage.loads import compress

log = logging.getLogger(__name__)

HARD_LIMIT_FACTOR = 3

# (url, body, content type[, capture time]): the capture bounds the publication date
Task = tuple
# ("ok", fields, zlib body or None, sha256 hex, raw size) | ("error", kind, message)
Result = tuple


def default_workers() -> int:
    env = os.environ.get("NEWSDESK_ARCHIVE_WORKERS")
    if env not in (None, ""):
        return max(0, int(env))
    return max(1, min(os.cpu_count() or 1, 8))


class _Watchdog:
    """In a pool worker: ends the process when one page has run past its hard limit."""

    def __init__(self, hard_limit: float):
        self.hard_limit = hard_limit
        self.started: float | None = None
        self.url = ""
        threading.Thread(target=self._watch, name="extraction-watchdog", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(min(1.0, self.hard_limit / 4))
            started = self.started
            if started is not None and time.monotonic() - started > self.hard_limit:
                log.error("extraction of %s still running after %.0f s: ending the worker", self.url, self.hard_limit)
                os._exit(70)


_watchdog: _Watchdog | None = None  # set in workers by _configure_worker


def _configure_worker(time_limit: float | None) -> None:
    global _watchdog
    if time_limit:
        _watchdog = _Watchdog(time_limit * HARD_LIMIT_FACTOR)


def extract_one(url: str, body: bytes, content_type: str, keep_body: bool = True,
                time_limit: float | None = Settings.extract_timeout, captured_at: datetime | None = None) -> Result:
    if _watchdog is not None:
        _watchdog.url, _watchdog.started = url, time.monotonic()
    try:
        extracted = extract_article(body, url, content_type, time_limit=time_limit, captured_at=captured_at)
    except ExtractionError as exc:
        return ("error", getattr(exc, "kind", "no_text"), str(exc)[:500])
    except Exception as exc:
        return ("error", "extract_crash", repr(exc)[:500])
    finally:
        if _watchdog is not None:
            _watchdog.started = None
    fields = extracted.as_fields()
    text = fields.get("text") or ""
    # what loads.upsert_article derives, computed here to keep the parent free for I/O
    fields["_word_count"] = count_words(text)
    fields["_text_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ("ok", fields, compress(body) if keep_body else None, hashlib.sha256(body).hexdigest(), len(body))


def extract_many(tasks: Sequence[Task], keep_body: bool = True,
                 time_limit: float | None = Settings.extract_timeout) -> list[Result]:
    return [extract_one(url, body, ctype, keep_body, time_limit, *captured) for url, body, ctype, *captured in tasks]


def _warm() -> int:
    """Nothing to do: the forkserver imported the extractor before forking the worker."""
    return os.getpid()


class _Done(Future):
    def __init__(self, value):
        super().__init__()
        self.set_result(value)


class ExtractorPool:
    """``submit(tasks) -> Future[list[Result]]``; a context manager."""

    def __init__(self, workers: int | None = None, max_tasks_per_child: int = 400,
                 time_limit: float | None = Settings.extract_timeout):
        self.workers = default_workers() if workers is None else workers
        self.max_tasks_per_child = max_tasks_per_child
        self.time_limit = time_limit
        self._executor: ProcessPoolExecutor | None = None
        self._retiring: list[ProcessPoolExecutor] = []
        self._submitted = 0  # tasks given to the current executor
        if self.workers > 0:
            self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["newsdesk.archive.parallel", "newsdesk.extract"])
        self._submitted = 0
        return ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_configure_worker,
                                   initargs=(self.time_limit,))

    def _recycle_if_due(self) -> None:
        if self._submitted < self.workers * max(1, self.max_tasks_per_child):
            return
        old, self._executor = self._executor, self._new_executor()
        old.shutdown(wait=False)  # its queued tasks still run; then its workers exit
        self._retiring = [ex for ex in self._retiring if ex._processes] + [old]

    def ensure_alive(self) -> None:
        """Replace the executor if a worker died (the pool is then broken for every task)."""
        if self._executor is not None and getattr(self._executor, "_broken", False):
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()

    def warm_up(self) -> list[int]:
        """Start every worker now (so start-up time is not charged to the first batch)."""
        if self._executor is None:
            return []
        return [f.result() for f in [self._executor.submit(_warm) for _ in range(self.workers)]]

    def submit(self, tasks: Sequence[Task], keep_body: bool = True) -> Future:
        """``keep_body``: also return each body compressed, for a copy in the warehouse."""
        if self._executor is None:
            return _Done(extract_many(tasks, keep_body, self.time_limit))
        self._recycle_if_due()
        self._submitted += 1
        try:
            return self._executor.submit(extract_many, list(tasks), keep_body, self.time_limit)
        except BrokenProcessPool as exc:
            # A worker died after earlier chunks were sent: fail this chunk the way those fail,
            # so the importer re-extracts it page by page on a fresh pool.
            failed: Future = Future()
            failed.set_exception(exc)
            return failed

    def child_pids(self) -> list[int]:
        if self._executor is None:
            return []
        return [p.pid for p in (self._executor._processes or {}).values()]

    def close(self) -> None:
        for executor in self._retiring:
            executor.shutdown(wait=True, cancel_futures=True)
        self._retiring.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
