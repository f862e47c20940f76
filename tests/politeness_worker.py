"""A fetching worker as its own process, for tests/test_fetch_politeness.py.

    python politeness_worker.py fetch STORE TARGET PREFIX PROXY START URLS_JSON LIMIT DELAY
    python politeness_worker.py hold STORE TARGET PREFIX HOST LIMIT LEASE_SECONDS

``fetch`` waits until the epoch START (so that every worker starts together), then fetches
URLS through the proxy with ``map_concurrent`` and a ``HostGate`` over the store (STORE
``none``: the per-process limits alone) and prints the statuses as JSON. ``hold`` takes LIMIT
leases on HOST, prints ``held`` and sleeps until it is killed. STORE: ``warehouse`` (TARGET a
database URL) or ``redis`` (TARGET a Redis URL, PREFIX its key prefix).
"""

from __future__ import annotations

import json
import sys
import time

from newsdesk.config import Settings
from newsdesk.fetch import Fetcher, HostGate, RedisStore, WarehouseStore, map_concurrent
from newsdesk.storage.db import get_engine


def open_test_store(kind: str, target: str, prefix: str):
    if kind == "warehouse":
        return WarehouseStore(get_engine(target))
    if kind == "redis":
        return RedisStore(target, prefix=prefix)
    return None


def fetch(kind, target, prefix, proxy, start, urls_json, limit, delay) -> None:
    settings = Settings(http_proxy=proxy, per_host_concurrency=int(limit), per_host_delay=float(delay),
                        http_concurrency=8, connect_timeout=5.0, read_timeout=10.0, total_timeout=20.0)
    store = open_test_store(kind, target, prefix)
    gate = HostGate(store, settings) if store is not None else None
    urls = json.loads(urls_json)
    time.sleep(max(0.0, float(start) - time.time()))
    with Fetcher(settings) as fetcher:
        statuses = map_concurrent(urls, lambda url: fetcher.get(url).status, settings=settings, gate=gate)
    print(json.dumps(statuses), flush=True)


def hold(kind, target, prefix, host, limit, lease_seconds) -> None:
    store = open_test_store(kind, target, prefix)
    for _ in range(int(limit)):
        lease, _wait, _why = store.acquire(host, int(limit), 0.0, float(lease_seconds))
        assert lease is not None
    print("held", flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    {"fetch": fetch, "hold": hold}[sys.argv[1]](*sys.argv[2:])
