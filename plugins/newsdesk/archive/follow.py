"""Deduplication that follows an archive import: the batches the importer has written are
clustered while the workers extract the next ones, instead of all of them after the file.

Decisions are those of a dedup run after the import: dedup claims the lowest pending ids
first and an article's decision depends only on the articles decided before it, which the
importer wrote earlier (ids grow in file order). What changes is only when each batch is
decided. On a 2-core machine the import alone leaves a core idle during dedup, and dedup
alone leaves the workers idle: overlapping them is most of the wall-clock gain.

SQLite: one thread of the importing process (a dedup batch holds the write lock for its
transaction; the importer's next commit waits for it while the workers keep extracting the
batches queued ahead). PostgreSQL with ``dedup_workers`` > 1: that many processes, each
claiming its own batches (``SKIP LOCKED``) as ``pipeline.dedup`` runs them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from multiprocessing import get_context

from sqlalchemy.engine import Engine

from .. import pipeline
from ..config import Settings
from ..dedup import dedup_pending
from ..storage.db import dispose_all, get_engine
from .memory import release_free_memory

log = logging.getLogger(__name__)

# While the import runs, dedup takes whole batches of this many articles: on SQLite a batch of
# 100 costs ~30 % more CPU per article than one of 400 (candidate queries and writes per batch),
# and a batch holds the write lock for ~1-2 s, less than the extraction work queued ahead.
BATCH = 400
POLL_SECONDS = 0.25


class DedupFollower:
    """``start()`` before the import, ``written(n)`` after each committed batch, ``finish()``
    after the last one: returns dedup's statistics (as ``pipeline.dedup``)."""

    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings
        self.since = pipeline.dedup_epoch(engine)
        self.stats: Counter = Counter()
        self.cpu_seconds = 0.0
        self.error: BaseException | None = None
        self._pending = 0
        self._cond = threading.Condition()
        self._done = False
        self._processes = []
        self._thread: threading.Thread | None = None
        workers = settings.dedup_workers if engine.dialect.name == "postgresql" else 1
        if workers > 1:
            ctx = get_context("spawn")
            self._stop = ctx.Event()
            url = engine.url.render_as_string(hide_password=False)
            self._queue = ctx.Queue()
            self._processes = [ctx.Process(target=_follow_process, args=(url, settings, self._stop, self._queue),
                                           name="newsdesk-dedup", daemon=True) for _ in range(workers)]

    def start(self) -> DedupFollower:
        for process in self._processes:
            process.start()
        if not self._processes:
            self._thread = threading.Thread(target=self._run, name="dedup-follower", daemon=True)
            self._thread.start()
        return self

    def written(self, articles: int) -> None:
        if self._thread is None:
            return
        with self._cond:
            self._pending += articles
            if self._pending >= BATCH:
                self._cond.notify()

    def _run(self) -> None:
        started = time.thread_time()
        try:
            while True:
                with self._cond:
                    while not self._done and self._pending < BATCH:
                        self._cond.wait()
                    last, whole = self._done, self._pending // BATCH * BATCH
                    self._pending -= whole
                if last:  # everything is written: whatever is pending, to the end
                    self.stats.update(dedup_pending(self.engine, self.settings, batch=BATCH, first_batch=BATCH))
                    return
                self.stats.update(dedup_pending(self.engine, self.settings, limit=whole, batch=BATCH,
                                                first_batch=BATCH))
                release_free_memory()
        except BaseException as exc:  # reported by finish(); the import itself goes on
            self.error = exc
            log.exception("dedup alongside the import failed")
        finally:
            self.cpu_seconds = time.thread_time() - started

    def finish(self) -> dict:
        if self._thread is not None:
            with self._cond:
                self._done = True
                self._cond.notify()
            self._thread.join()
            if self.error is not None:
                raise self.error
        if self._processes:
            self._stop.set()
            for _ in self._processes:
                stats, cpu = self._queue.get()
                self.stats.update(stats)
                self.cpu_seconds += cpu
            for process in self._processes:
                process.join()
        stats = dict(self.stats)
        stats.update(pipeline.relations_written(self.engine, self.since))
        return stats


def _follow_process(url: str, settings: Settings, stop, queue) -> None:
    """A dedup process: rounds of ``dedup_pending`` until the import is over and nothing is pending."""
    started = time.process_time()
    total: Counter = Counter()
    try:
        engine = get_engine(url)
        while True:
            last = stop.is_set()
            stats = dedup_pending(engine, settings)
            total.update(stats)
            if last:
                break
            if not stats.get("processed"):
                stop.wait(POLL_SECONDS)
    finally:
        dispose_all()
        queue.put((dict(total), time.process_time() - started))
