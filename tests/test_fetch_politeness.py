"""Per-host limits for the whole deployment: a HostGate over each store (warehouse on SQLite and
PostgreSQL, Redis, memory), then worker processes fetching from a local server that counts
the requests in flight per host; robots.txt and Crawl-delay in ``pipeline.fetch_pages``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from newsdesk import pipeline
from newsdesk.fetch import HostGate, MemoryStore, RedisStore, WarehouseStore
from newsdesk.fetch.stores import POLL_SECONDS
from newsdesk.storage import loads, schema
from politeness_server import CountingProxy

WORKER = Path(__file__).with_name("politeness_worker.py")
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix():
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable: {exc}")
    prefix = f"newsdesk-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    if request.param == "redis":
        return RedisStore(REDIS_URL, prefix=request.getfixturevalue("redis_prefix"))
    return WarehouseStore(request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine"))


# -- the store's rules, one process ---------------------------------------------------------

def test_slots_are_limited_and_released(store):
    first, _, _ = store.acquire("a.example", 2, 0.0, 30)
    second, _, _ = store.acquire("a.example", 2, 0.0, 30)
    third, wait, why = store.acquire("a.example", 2, 0.0, 30)
    assert first and second and first != second
    assert third is None and wait == pytest.approx(POLL_SECONDS) and why == "busy"
    assert store.acquire("b.example", 2, 0.0, 30)[0] is not None  # hosts are independent
    store.release("a.example", first)
    assert store.acquire("a.example", 2, 0.0, 30)[0] is not None


def test_starts_are_paced_by_the_interval_and_the_crawl_delay(store):
    assert store.acquire("a.example", 5, 0.3, 30)[0] is not None
    lease, wait, why = store.acquire("a.example", 5, 0.3, 30)
    assert lease is None and 0.2 < wait <= 0.3 and why == "paced"
    time.sleep(wait + 0.02)
    assert store.acquire("a.example", 5, 0.3, 30)[0] is not None
    # A Crawl-delay longer than the interval: it counts from its robots.txt request, for valid_for.
    store.set_crawl_delay("b.example", 0.4, valid_for=0.6)
    lease, wait, _ = store.acquire("b.example", 5, 0.0, 30)
    assert lease is None and 0.3 < wait <= 0.4
    time.sleep(wait + 0.02)
    assert store.acquire("b.example", 5, 0.0, 30)[0] is not None
    lease, wait, _ = store.acquire("b.example", 5, 0.0, 30)
    assert lease is None and 0.3 < wait <= 0.4
    time.sleep(0.45)  # the Crawl-delay's validity has run out: the interval (0) alone
    assert store.acquire("b.example", 5, 0.0, 30)[0] is not None
    assert store.acquire("b.example", 5, 0.0, 30)[0] is not None


def test_an_expired_lease_frees_its_slot(store):
    assert store.acquire("a.example", 1, 0.0, 0.3)[0] is not None  # never released: its holder died
    assert store.acquire("a.example", 1, 0.0, 0.3)[0] is None
    time.sleep(0.35)
    assert store.acquire("a.example", 1, 0.0, 0.3)[0] is not None


def test_gate_slot_waits_its_turn():
    from newsdesk.config import Settings

    gate = HostGate(MemoryStore(), Settings(per_host_concurrency=1, per_host_delay=0.2))
    started = time.monotonic()
    with gate.slot("a.example"):
        pass
    with gate.slot("a.example"):
        pass
    assert time.monotonic() - started >= 0.2
    assert gate.refused["paced"] >= 1 and gate.refused["busy"] == 0


# -- worker processes ----------------------------------------------------------------------

def _store_target(kind: str, request) -> tuple[str, str, str]:
    if kind == "redis":
        return "redis", REDIS_URL, request.getfixturevalue("redis_prefix")
    if kind == "sqlite":
        url = request.getfixturevalue("sqlite_url")
        request.getfixturevalue("sqlite_engine")  # migrated
        return "warehouse", url, ""
    if kind == "postgres":
        url = request.getfixturevalue("pg_url")
        request.getfixturevalue("pg_engine")
        return "warehouse", url, ""
    return "none", "", ""


def _run_workers(proxy: CountingProxy, store: tuple[str, str, str], urls: list[str], workers: int = 3,
                 limit: int = 2, delay: float = 0.0) -> list[list[int]]:
    start = time.time() + 6.0  # every worker imported and waiting before the first request
    procs = [subprocess.Popen([sys.executable, str(WORKER), "fetch", *store, proxy.url, repr(start),
                               json.dumps(urls), str(limit), str(delay)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(workers)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out))
    return results


HOSTS = ["alpha.example", "beta.example"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "redis"])
@pytest.mark.slow
def test_worker_processes_never_exceed_the_per_host_limit(kind, request):
    urls = [f"http://{host}/story/{n}" for host in HOSTS for n in range(12)]
    with CountingProxy(hold=0.15) as proxy:
        results = _run_workers(proxy, _store_target(kind, request), urls)
    assert all(statuses == [200] * len(urls) for statuses in results)
    assert len(proxy.log) == 3 * len(urls)
    print(f"{kind}: most in flight per host {dict(proxy.max_in_flight)} (limit 2), overall {proxy.max_total}")
    assert max(proxy.max_in_flight.values()) <= 2
    assert proxy.max_total >= 3, "the hosts were fetched in parallel (the limit is per host, not global)"


@pytest.mark.slow
def test_without_the_shared_gate_workers_exceed_the_limit(request):
    """The control: each process alone keeps to 2 per host, three of them together do not."""
    urls = [f"http://{host}/story/{n}" for host in HOSTS for n in range(12)]
    with CountingProxy(hold=0.15) as proxy:
        _run_workers(proxy, _store_target("none", request), urls)
    print(f"no gate: most in flight per host {dict(proxy.max_in_flight)}")
    assert max(proxy.max_in_flight.values()) > 2


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
@pytest.mark.slow
def test_worker_processes_keep_the_per_host_delay(kind, request):
    urls = [f"http://{host}/story/{n}" for host in HOSTS for n in range(5)]
    with CountingProxy(hold=0.01) as proxy:
        _run_workers(proxy, _store_target(kind, request), urls, workers=2, delay=0.25)
    for host in HOSTS:
        starts = proxy.starts(host)
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        assert len(starts) == 10 and min(gaps) >= 0.2, (host, gaps)  # 0.25 s, less the arrival jitter


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "redis"])
@pytest.mark.slow
def test_a_killed_workers_slots_come_back_when_its_leases_expire(kind, request):
    store_kind, target, prefix = _store_target(kind, request)
    holder = subprocess.Popen([sys.executable, str(WORKER), "hold", store_kind, target, prefix, "alpha.example",
                               "2", "3.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held", holder.stderr.read()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed_at = time.monotonic()
        store = (RedisStore(target, prefix=prefix) if store_kind == "redis"
                 else WarehouseStore(request.getfixturevalue("sqlite_engine" if kind == "sqlite" else "pg_engine")))
        assert store.acquire("alpha.example", 2, 0.0, 30)[0] is None  # the dead worker's slots
        while store.acquire("alpha.example", 2, 0.0, 30)[0] is None:
            assert time.monotonic() - killed_at < 10, "the leases never expired"
            time.sleep(0.1)
    finally:
        holder.kill()
        holder.wait()


# -- robots.txt and Crawl-delay in fetch_pages ---------------------------------------------------

def _enqueue(engine, urls: list[str]) -> list[int]:
    with engine.begin() as conn:
        return loads.enqueue_pages(conn, [loads.NewPage(url=u, origin="feed") for u in urls])


def test_fetch_pages_obeys_robots_and_crawl_delay_across_runs(sqlite_engine, settings):
    robots = {
        "alpha.example": "User-agent: *\nDisallow: /*-private.html$\nAllow: /\n",
        "beta.example": "User-agent: newsdesk\nCrawl-delay: 0.4\n\nUser-agent: *\nDisallow: /\n",
    }
    with CountingProxy(hold=0.01, robots=robots) as proxy:
        polite = settings.with_(http_proxy=proxy.url, per_host_concurrency=4, max_crawl_delay=0.4)
        first = [f"http://alpha.example/a{n}.html" for n in range(3)] + ["http://alpha.example/memo-private.html",
                                                                          "http://alpha.example/memo-private.html?v=2"]
        first += [f"http://beta.example/b{n}.html" for n in range(4)]
        ids = _enqueue(sqlite_engine, first)
        stats = pipeline.fetch_pages(sqlite_engine, polite, ids)
        # A second run, another fetcher and cache: robots.txt comes from the warehouse.
        more = _enqueue(sqlite_engine, ["http://alpha.example/a9.html", "http://beta.example/b9.html"])
        pipeline.fetch_pages(sqlite_engine, polite, more)

    assert stats["fetched"] == 8 and stats["fetch_errors"] == 1
    with sqlite_engine.connect() as conn:
        refused = conn.execute(select(schema.pages.c.url, schema.pages.c.state, schema.pages.c.error_kind)
                               .where(schema.pages.c.error_kind == "robots")).all()
    assert [(r.url, r.state) for r in refused] == [("http://alpha.example/memo-private.html", "failed")]
    requested = [path for host, path, _, _ in proxy.log]
    assert "/memo-private.html" not in requested  # refused without a request
    assert requested.count("/robots.txt") == 2  # once per host for both runs
    beta = proxy.starts("beta.example", "/b")
    gaps = [b - a for a, b in zip(beta, beta[1:])]
    assert len(beta) == 5 and min(gaps) >= 0.35, gaps  # Crawl-delay 0.4 s, each page after the other
    robots_start = proxy.starts("beta.example", "/robots.txt")[0]
    assert beta[0] - robots_start >= 0.35  # the robots.txt request counts
