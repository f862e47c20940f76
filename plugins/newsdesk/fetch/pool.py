"""A bounded thread pool that is polite per host.

``map_concurrent`` runs ``fn(item)`` on at most ``max_workers`` threads, never more
than ``per_host_concurrency`` at once for one host, and starts two calls for the
same host at least ``per_host_delay`` seconds apart. Workers never sit blocked on
a busy host: each free worker takes the next item whose host has room, so one big
outlet cannot starve the others. Feed polling and article fetching share it.

With a ``gate`` (``fetch.hosts.HostGate``) each call also holds a lease on one of its
host's slots in the store every worker shares, so the limits hold across processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from ..config import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def host_of(item) -> str:
    """Host of a URL string, or of the ``url`` attribute/second element of an item."""
    url = item
    if not isinstance(item, str):
        url = getattr(item, "url", None)
        if url is None and isinstance(item, (tuple, list)) and len(item) > 1:
            url = item[1]
    try:
        return (urlsplit(str(url)).hostname or "").lower()
    except ValueError:
        return ""


def map_concurrent(
    items: Iterable[T],
    fn: Callable[[T], R],
    max_workers: int | None = None,
    *,
    settings: Settings | None = None,
    host: Callable[[T], str] = host_of,
    per_host_concurrency: int | None = None,
    per_host_delay: float | None = None,
    gate=None,
) -> list[R]:
    """Apply ``fn`` to every item concurrently; results come back in input order.

    Limits default to ``settings`` (``http_concurrency``, ``per_host_concurrency``,
    ``per_host_delay``). If ``fn`` raises, the remaining queued items are skipped and
    the first exception is re-raised once running calls finish; callers that need
    every item processed (feed polling) make ``fn`` catch its own errors. ``gate``: a
    ``HostGate`` whose lease on the item's host each call holds (a store error fails the map).
    """
    settings = settings or Settings()
    max_workers = max(1, max_workers or settings.http_concurrency)
    limit = max(1, per_host_concurrency or settings.per_host_concurrency)
    delay = settings.per_host_delay if per_host_delay is None else per_host_delay
    items = list(items)
    results: list = [None] * len(items)
    if not items:
        return results

    queues: OrderedDict[str, deque[int]] = OrderedDict()
    for index, item in enumerate(items):
        queues.setdefault(host(item), deque()).append(index)
    active: dict[str, int] = {}
    next_start: dict[str, float] = {}
    blocked_until: dict[str, float] = {}  # the gate said wait (other processes hold the host)
    lock = threading.Condition()
    # ``asking``: items handed out whose lease is being asked for (they may come back).
    state = {"remaining": len(items), "error": None, "asking": 0}

    def take() -> tuple[str, int] | None:
        """Pick the next runnable item (lock held); None when all work is handed out."""
        while True:
            if state["error"] is not None or (not queues and not state["asking"]):
                return None
            now = time.monotonic()
            wait = None
            for name, queue in queues.items():
                if active.get(name, 0) >= limit:
                    continue
                ready_at = max(next_start.get(name, 0.0), blocked_until.get(name, 0.0))
                if ready_at > now:
                    wait = ready_at - now if wait is None else min(wait, ready_at - now)
                    continue
                index = queue.popleft()
                if not queue:
                    del queues[name]
                else:
                    queues.move_to_end(name)  # round-robin across hosts
                active[name] = active.get(name, 0) + 1
                next_start[name] = now + delay
                return name, index
            lock.wait(timeout=wait)

    def lease_for(name: str, index: int) -> tuple[bool, str | None]:
        """Ask the gate (lock not held: the store's round trips overlap); a refused item goes
        back to the head of its host's queue. (False, None) when the item is not to run now."""
        with lock:
            state["asking"] += 1
        try:
            lease, retry = gate.try_acquire(name)
        except Exception as exc:  # the shared store is down: fail rather than go impolite
            lease, retry = None, 0.0
            with lock:
                if state["error"] is None:
                    state["error"] = exc
        with lock:
            state["asking"] -= 1
            if lease is None:
                active[name] -= 1
                queues.setdefault(name, deque()).appendleft(index)
                blocked_until[name] = time.monotonic() + retry
            lock.notify_all()
        return lease is not None, lease

    def worker() -> None:
        while True:
            with lock:
                picked = take()
            if picked is None:
                return
            name, index = picked
            lease = None
            if gate is not None and name:
                granted, lease = lease_for(name, index)
                if not granted:
                    continue
            try:
                results[index] = fn(items[index])
            except BaseException as exc:
                with lock:
                    if state["error"] is None:
                        state["error"] = exc
            finally:
                if lease is not None:
                    try:
                        gate.release(name, lease)
                    except Exception:  # the lease expires on its own
                        log.warning("could not release a lease on %s", name, exc_info=True)
                with lock:
                    active[name] -= 1
                    state["remaining"] -= 1
                    lock.notify_all()

    threads = [threading.Thread(target=worker, name=f"newsdesk-fetch-{i}", daemon=True)
               for i in range(min(max_workers, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if state["error"] is not None:
        raise state["error"]
    return results


def chunked(seq: Sequence[T], size: int):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
