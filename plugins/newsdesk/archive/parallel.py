"""Extraction in worker processes: workers get (url, html bytes, content type) and
return the extracted fields (plus the compressed raw body when the warehouse keeps a
copy); the parent only reads the archive and writes to the warehouse.

The pool is ours, not ``concurrent.futures.ProcessPoolExecutor``: each worker has a pipe of
its own, and a thread of the parent hands chunks to idle workers and collects results. A
worker that dies (segfault, OOM killer, the watchdog below) fails only the chunk it held
(``BrokenProcessPool``: the importer extracts that chunk again page by page) and is replaced
at once. With one result queue shared by every worker, as in ``ProcessPoolExecutor``, a
worker killed while writing its result leaves half a message in the queue and the parent
waits for the rest forever; one death also broke every chunk in flight.

Workers are started with ``forkserver`` (never ``fork``: the parent may hold database
connections and threads, e.g. inside an Airflow task), with the extractor imported once in
the server, and replaced after ``max_tasks_per_child`` chunks each so that parser memory
stays bounded on long imports. ``workers=0`` extracts in the calling process (debugging,
tiny inputs).

Each page has ``time_limit`` seconds (``extract_article``'s alarm, reported as
``extract_timeout``). An alarm cannot stop a C call that does not return, so in a worker a
watchdog thread ends the process once a page has run for ``HARD_LIMIT_FACTOR`` times the
limit; the importer then extracts that chunk page by page and records the page that kills a
worker again as ``worker_died``.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing.connection import Connection, wait

from ..cjk import count_words
from ..compression import compress
from ..config import Settings, option_from_env
from ..extract import ExtractionError, extract_article
from .memory import keep_large_blocks_apart, release_free_memory

log = logging.getLogger(__name__)

HARD_LIMIT_FACTOR = 3
# A worker that dies this soon after starting, before finishing more than its first chunk, is
# stillborn; this many in a row and the pool stops replacing them.
STILLBORN_SECONDS = 2.0
MAX_STILLBORN = 10

# (url, body, content type[, capture time]): the capture bounds the publication date
Task = tuple
# ("ok", fields, zlib body or None, sha256 hex, raw size) | ("error", kind, message)
Result = tuple


def default_workers() -> int:
    configured = option_from_env("archive_workers")
    if configured is not None:
        return configured
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


def _worker_main(conn: Connection, time_limit: float | None) -> None:
    """A worker's loop: ``(function, args)`` in, ``("ok", value)`` or ``("error", exception)``
    out, until ``None`` or the parent's end of the pipe closes."""
    _configure_worker(time_limit)
    keep_large_blocks_apart()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        function, args = job
        try:
            reply = ("ok", function(*args))
        except Exception as exc:  # reported to the parent, whose future raises it
            reply = ("error", exc)
        conn.send(reply)
        del job, reply
        release_free_memory()  # the chunk's parse trees and bodies, freed: back to the system


class _Done(Future):
    def __init__(self, value):
        super().__init__()
        self.set_result(value)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx, time_limit: float | None):
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child_end, time_limit), daemon=True,
                                   name="newsdesk-extractor")
        self.process.start()
        child_end.close()  # the child's copy is the only writer left: its death is EOF here
        self.conn: Connection = parent_end
        self.job: tuple[Future, Callable, tuple] | None = None
        self.born = time.monotonic()
        self.chunks_done = 0
        self.busy_seconds = 0.0
        self._started_job = 0.0

    def start_job(self, job: tuple[Future, Callable, tuple]) -> bool:
        future, function, args = job
        if not future.set_running_or_notify_cancel():
            return True  # cancelled before it ran: the worker stays free
        self.job, self._started_job = job, time.monotonic()
        try:
            self.conn.send((function, args))
        except (OSError, ValueError):  # the worker is already gone
            return False
        return True

    def finish_job(self) -> Future:
        future = self.job[0]
        self.busy_seconds += time.monotonic() - self._started_job
        self.job = None
        self.chunks_done += 1
        return future

    def stop(self, timeout: float = 5.0) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class ExtractorPool:
    """``submit(tasks) -> Future[list[Result]]``; a context manager."""

    def __init__(self, workers: int | None = None, max_tasks_per_child: int = 400,
                 time_limit: float | None = Settings.extract_timeout):
        self.workers = default_workers() if workers is None else workers
        self.max_tasks_per_child = max(1, max_tasks_per_child)
        self.time_limit = time_limit
        self.replaced = 0  # workers that died and were replaced
        self._retired_busy = self._retired_alive = 0.0  # of workers replaced so far
        self._pending: deque[tuple[Future, Callable, tuple]] = deque()
        self._lock = threading.Lock()
        self._closing = False
        self._broken: str | None = None
        self._stillborn = 0  # workers in a row that died as they started
        self._pool: list[_Worker] = []
        self._thread: threading.Thread | None = None
        if self.workers > 0:
            self._ctx = multiprocessing.get_context("forkserver")
            self._ctx.set_forkserver_preload(["newsdesk.archive.parallel", "newsdesk.extract.preloaded"])
            self._wake_reader, self._wake_writer = self._ctx.Pipe(duplex=False)
            self._pool = [_Worker(self._ctx, time_limit) for _ in range(self.workers)]
            self._thread = threading.Thread(target=self._run, name="extractor-pool", daemon=True)
            self._thread.start()

    # -- the parent's thread: hand out chunks, collect results, replace dead workers ------
    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closing and not self._pending and all(w.job is None for w in self._pool):
                    break
                for worker in list(self._pool):
                    while worker.job is None and self._pending:
                        if not worker.start_job(self._pending.popleft()):
                            self._died(worker)
                            break
            busy = [w for w in self._pool if w.job is not None]
            ready = wait([self._wake_reader] + [w.conn for w in busy] + [w.process.sentinel for w in self._pool],
                         timeout=1.0)
            if self._wake_reader in ready:
                while self._wake_reader.poll():
                    self._wake_reader.recv_bytes()
            for worker in list(self._pool):
                if worker.job is not None and worker.conn in ready:
                    self._collect(worker)  # a result; or end of file, half a message: it died
                elif worker.process.sentinel in ready:
                    self._died(worker)
        for worker in self._pool:
            worker.stop()

    def _collect(self, worker: _Worker) -> None:
        try:
            status, value = worker.conn.recv()
        except (EOFError, OSError, ValueError):  # died while writing its result: half a message
            self._died(worker)
            return
        future = worker.finish_job()
        if status == "ok":
            future.set_result(value)
        else:
            future.set_exception(value)
        if worker.chunks_done >= self.max_tasks_per_child:
            self._replace(worker, retire=True)

    def _died(self, worker: _Worker) -> None:
        future = worker.finish_job() if worker.job is not None else None
        pid, exitcode = worker.process.pid, worker.process.exitcode
        stillborn = worker.chunks_done <= 1 and time.monotonic() - worker.born < STILLBORN_SECONDS
        self._stillborn = self._stillborn + 1 if stillborn else 0
        if self._stillborn >= MAX_STILLBORN:
            # Workers die as they start (a broken install, no memory): replacing them would loop
            # forever. Every chunk fails instead; the importer records its pages as worker_died.
            self._broken = f"{self._stillborn} extraction workers in a row died as they started"
            log.error("%s; extraction stops", self._broken)
            worker.process.join(1.0)
            worker.conn.close()
            self._pool.remove(worker)
            failed = [future] if future is not None else []
            failed += [job[0] for job in self._pending]
            self._pending.clear()
            for job_future in failed:
                job_future.set_exception(BrokenProcessPool(self._broken))
            return
        self._replace(worker, retire=False)
        self.replaced += 1
        if future is not None:  # after the replacement: a caller who sees the failure sees a whole pool
            future.set_exception(BrokenProcessPool(f"extraction worker {pid} died (exit code {exitcode})"))

    def _replace(self, worker: _Worker, retire: bool) -> None:
        if retire:
            worker.stop()
        else:
            worker.process.join(1.0)
            worker.conn.close()
        index = self._pool.index(worker)
        self._retired_busy += worker.busy_seconds
        self._retired_alive += time.monotonic() - worker.born
        self._pool[index] = _Worker(self._ctx, self.time_limit)

    def _wake(self) -> None:
        try:
            self._wake_writer.send_bytes(b"")
        except (OSError, ValueError):
            pass

    # -- the caller's side ---------------------------------------------------------
    def submit(self, tasks: Sequence[Task], keep_body: bool = True) -> Future:
        """``keep_body``: also return each body compressed, for a copy in the warehouse.
        Never raises: a chunk whose worker dies fails its future with ``BrokenProcessPool``."""
        if self.workers == 0:
            return _Done(extract_many(tasks, keep_body, self.time_limit))
        return self._submit(extract_many, (list(tasks), keep_body, self.time_limit))

    def _submit(self, function: Callable, args: tuple) -> Future:
        future: Future = Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("the extraction pool is closed")
            if self._broken:
                future.set_exception(BrokenProcessPool(self._broken))
                return future
            self._pending.append((future, function, args))
        self._wake()
        return future

    def warm_up(self) -> list[int]:
        """Wait until every worker runs (so start-up time is not charged to the first batch)."""
        if self.workers == 0:
            return []
        return [f.result() for f in [self._submit(_warm, ()) for _ in range(self.workers)]]

    def child_pids(self) -> list[int]:
        return [w.process.pid for w in self._pool]

    def busy_seconds(self) -> list[float]:
        """Seconds each current worker has spent on chunks (the rest of its life it waited)."""
        return [w.busy_seconds for w in self._pool]

    def usage(self) -> dict:
        """Seconds the workers, including replaced ones, spent on chunks and lived (the rest they waited)."""
        if self.workers == 0:
            return {}
        now = time.monotonic()
        return {"worker_busy_s": round(self._retired_busy + sum(w.busy_seconds for w in self._pool), 3),
                "worker_alive_s": round(self._retired_alive + sum(now - w.born for w in self._pool), 3)}

    def close(self) -> None:
        """Cancel chunks not started, let running ones finish, stop the workers."""
        if self._thread is None:
            return
        with self._lock:
            self._closing = True
            while self._pending:
                self._pending.popleft()[0].cancel()
        self._wake()
        self._thread.join()
        self._thread = None
        self._wake_reader.close()
        self._wake_writer.close()

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
