"""Per-host concurrency and pacing for the whole deployment.

    gate = HostGate(open_store(settings, engine), settings)
    map_concurrent(rows, work, settings=settings, gate=gate)    # each call holds a host slot
    with gate.slot("news.example"): fetcher.get(...)            # one request, waiting its turn

Every process that shares the store (all Celery workers and tasks through Redis, or through
the warehouse) shares the limits: at most ``per_host_concurrency`` requests in flight to a
host, and request starts to a host at least max(``per_host_delay``, its robots.txt
``Crawl-delay`` capped at ``max_crawl_delay``) seconds apart. A lease outlives any one
request (the fetcher gives up at ``total_timeout``), so a worker killed mid-request frees its
slot when the lease runs out instead of holding it forever.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from ..config import Settings

# Beyond the request's own deadline: the work around it (reading rows, writing the result).
LEASE_MARGIN_SECONDS = 10.0


class HostGate:
    """Host slots and pacing over a shared store (see ``fetch.stores``)."""

    def __init__(self, store, settings: Settings) -> None:
        self.store = store
        self.limit = max(1, settings.per_host_concurrency)
        self.interval = max(0.0, settings.per_host_delay)
        self.lease_seconds = settings.total_timeout + LEASE_MARGIN_SECONDS
        # Each time the store said "not now", by reason: ``busy`` (the host's slots are held,
        # by other processes: this one keeps its own count below the limit) or ``paced``.
        self.refused: Counter = Counter()
        self._count_guard = threading.Lock()

    def try_acquire(self, host: str) -> tuple[str | None, float]:
        """A lease on one of ``host``'s slots, or None and the seconds to wait before asking again."""
        lease, wait, why = self.store.acquire(host, self.limit, self.interval, self.lease_seconds)
        if lease is None:
            with self._count_guard:
                self.refused[why] += 1
        return lease, wait

    def release(self, host: str, lease: str) -> None:
        self.store.release(host, lease)

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of ``host``'s slots for the block, waiting for it as long as it takes."""
        while True:
            lease, wait = self.try_acquire(host)
            if lease is not None:
                break
            time.sleep(max(wait, 0.01))
        try:
            yield
        finally:
            self.release(host, lease)
