"""robots.txt by RFC 9309 against a local HTTP server: rules (groups, `*`, `$`, longest match),
Crawl-delay, and the cache (HTTP caching headers, default TTL, 24 h cap, 4xx allow, 5xx and
unreachable disallow, an earlier copy kept while the site errs, one fetch for every worker)."""

from __future__ import annotations

import socket
import time
import uuid
from email.utils import formatdate

import pytest

from newsdesk.fetch import Fetcher, MemoryStore, RedisStore, RobotsCache, WarehouseStore
from newsdesk.fetch.robots import MAX_TTL_SECONDS, MIN_TTL_SECONDS

RULES = """\
# Everyone else: nothing.
User-agent: *
Disallow: /

User-agent: bot
Disallow: /

User-agent: NewsDesk
Disallow: /private/
Allow: /private/press-releases/
Disallow: /*.pdf$
Disallow: /search*q=
Allow: /news/
Disallow: /news/drafts
Allow: /tie/
Disallow: /tie/
Crawl-delay: 2.5
"""


class Clock:
    """Time that moves only when a test says so (the cache's and the memory store's clock)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def _robots(http_server, settings, clock, *, store=None, **kw) -> tuple[RobotsCache, Fetcher]:
    fetcher = Fetcher(settings.with_(**kw) if kw else settings)
    return RobotsCache(fetcher, store=store if store is not None else MemoryStore(clock), clock=clock), fetcher


def test_rules_groups_wildcards_end_anchor_and_longest_match(http_server, settings, clock):
    http_server.add("/robots.txt", RULES, headers={"Content-Type": "text/plain"})
    robots, fetcher = _robots(http_server, settings, clock)
    with fetcher:
        url = http_server.url
        # Our group (product token, case-insensitive), not `*` and not "bot" (our header says "ingestion bot").
        assert robots.allowed(url("/other"))
        assert not robots.allowed(url("/private/memo"))
        assert robots.allowed(url("/private/press-releases/2025-07-24"))  # the longer Allow wins
        assert not robots.allowed(url("/files/report.pdf"))  # `$`: the path ends there
        assert robots.allowed(url("/files/report.pdf?page=2"))
        assert robots.allowed(url("/files/report.pdfx"))
        assert not robots.allowed(url("/search?q=kremlin"))  # `*` inside a path
        assert not robots.allowed(url("/search/advanced?lang=en&q=kremlin"))
        assert robots.allowed(url("/search"))
        assert robots.allowed(url("/news/2025/story"))
        assert not robots.allowed(url("/news/drafts/1"))  # the longer Disallow beats /news/
        assert robots.allowed(url("/tie/x"))  # equal length: Allow
        assert not robots.allowed("ftp://127.0.0.1/file")
        assert robots.crawl_delay(url("/")) == 2.5
        assert http_server.hits("/robots.txt") == 1


def test_other_agents_rules_do_not_apply_and_no_group_allows(http_server, settings, clock):
    http_server.add("/robots.txt", "User-agent: otherbot\nDisallow: /\n", headers={"Content-Type": "text/plain"})
    robots, fetcher = _robots(http_server, settings, clock)
    with fetcher:
        assert robots.allowed(http_server.url("/anything"))
        assert robots.crawl_delay(http_server.url("/")) is None


def test_crawl_delay_becomes_the_hosts_interval_capped(http_server, settings, clock):
    http_server.add("/robots.txt", RULES, headers={"Content-Type": "text/plain"})
    store = MemoryStore(clock)
    robots, fetcher = _robots(http_server, settings, clock, store=store, max_crawl_delay=1.0)
    with fetcher:
        robots.prefetch([http_server.url("/news/a"), http_server.url("/news/b")])
    # The robots.txt request counts: the next request to the host waits the (capped) delay.
    lease, wait, _ = store.acquire("127.0.0.1", limit=5, interval=0.0, lease_seconds=60)
    assert lease is None and wait == pytest.approx(1.0)
    clock.advance(1.0)
    first, _, _ = store.acquire("127.0.0.1", limit=5, interval=0.0, lease_seconds=60)
    second, wait, _ = store.acquire("127.0.0.1", limit=5, interval=0.0, lease_seconds=60)
    assert first is not None and second is None and wait == pytest.approx(1.0)
    # Until the robots.txt expires (default TTL), then the configured interval alone.
    clock.advance(settings.robots_ttl)
    assert store.acquire("127.0.0.1", limit=5, interval=0.0, lease_seconds=60)[0] is not None
    assert store.acquire("127.0.0.1", limit=5, interval=0.0, lease_seconds=60)[0] is not None


@pytest.mark.parametrize("headers, fresh_for", [
    ({"Cache-Control": "public, max-age=7200"}, 7200),
    ({"Cache-Control": "max-age=600", "Age": "100"}, 500),
    # relative to the server's Date header (the local server sends the current time)
    ({"Expires": "in 7200 s"}, 7200),
    ({}, 3600),  # no caching headers: the default TTL
    ({"Cache-Control": "no-cache"}, 3600),
    ({"Cache-Control": "max-age=604800"}, MAX_TTL_SECONDS),  # RFC 9309 2.4: a day at most
    ({"Cache-Control": "max-age=0"}, MIN_TTL_SECONDS),
])
def test_cache_follows_http_caching_rules(http_server, settings, clock, headers, fresh_for):
    if headers.get("Expires", "").startswith("in "):
        headers = {"Expires": formatdate(time.time() + int(headers["Expires"].split()[1]), usegmt=True)}
    http_server.add("/robots.txt", "User-agent: *\nDisallow: /old/\n",
                    headers={"Content-Type": "text/plain", **headers})
    robots, fetcher = _robots(http_server, settings, clock, robots_ttl=3600)
    with fetcher:
        assert not robots.allowed(http_server.url("/old/x"))
        clock.advance(fresh_for - 5)  # HTTP dates have whole seconds
        assert not robots.allowed(http_server.url("/old/y"))
        assert http_server.hits("/robots.txt") == 1
        http_server.add("/robots.txt", "User-agent: *\nDisallow: /new/\n", headers={"Content-Type": "text/plain"})
        clock.advance(10)
        assert robots.allowed(http_server.url("/old/z")) and not robots.allowed(http_server.url("/new/z"))
        assert http_server.hits("/robots.txt") == 1  # the route was replaced: its count restarted


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_client_errors_mean_no_robots_txt_everything_allowed(http_server, settings, clock, status):
    http_server.add("/robots.txt", "gone", status=status)
    robots, fetcher = _robots(http_server, settings, clock)
    with fetcher:
        assert robots.allowed(http_server.url("/private/anything"))
        assert robots.allowed(http_server.url("/"))
        assert http_server.hits("/robots.txt") == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_disallow_until_asked_again(http_server, settings, clock, status):
    route = http_server.add("/robots.txt", "down", status=status)
    robots, fetcher = _robots(http_server, settings, clock, robots_error_ttl=600)
    with fetcher:
        assert not robots.allowed(http_server.url("/news/a"))
        clock.advance(599)
        assert not robots.allowed(http_server.url("/news/a"))
        assert route.hits == 1
        http_server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
        clock.advance(2)
        assert robots.allowed(http_server.url("/news/a")) and not robots.allowed(http_server.url("/private/x"))


def test_unreachable_host_disallows(settings, clock):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Fetcher(settings) as fetcher:
        robots = RobotsCache(fetcher, store=MemoryStore(clock), clock=clock)
        assert not robots.allowed(f"http://127.0.0.1:{port}/news/a")


def test_earlier_robots_txt_keeps_applying_while_the_site_errs(http_server, settings, clock):
    http_server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
    robots, fetcher = _robots(http_server, settings, clock, robots_ttl=3600, robots_error_ttl=600)
    with fetcher:
        assert robots.allowed(http_server.url("/news/a"))
        http_server.add("/robots.txt", "down", status=503)
        clock.advance(3601)
        # RFC 9309 2.4: the cached copy, not a complete disallow, while the file is unreachable
        assert robots.allowed(http_server.url("/news/a")) and not robots.allowed(http_server.url("/private/x"))
        assert http_server.hits("/robots.txt") == 1
        clock.advance(30 * 86400)  # a month of errors later: the copy is too old to stand for the site
        assert not robots.allowed(http_server.url("/news/a"))


@pytest.fixture
def redis_store():
    redis = pytest.importorskip("redis")
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable: {exc}")
    prefix = f"newsdesk-test-{uuid.uuid4().hex[:8]}"
    yield RedisStore("redis://127.0.0.1:6379/0", prefix=prefix)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "redis"])
def test_one_fetch_serves_every_worker_through_the_shared_store(http_server, settings, backend, request):
    if backend == "redis":
        store_for = lambda: request.getfixturevalue("redis_store")  # noqa: E731 - one store, two caches
    else:
        engine = request.getfixturevalue("sqlite_engine" if backend == "sqlite" else "pg_engine")
        store_for = lambda: WarehouseStore(engine)  # noqa: E731
    http_server.add("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.2\n",
                    headers={"Content-Type": "text/plain", "Cache-Control": "max-age=900"})
    # Two workers: their own fetcher, cache and store object; one store behind them.
    with Fetcher(settings) as first_fetcher, Fetcher(settings) as second_fetcher:
        first = RobotsCache(first_fetcher, store=store_for())
        second = RobotsCache(second_fetcher, store=store_for())
        assert first.allowed(http_server.url("/news/a")) and not first.allowed(http_server.url("/private/a"))
        assert second.allowed(http_server.url("/news/b")) and not second.allowed(http_server.url("/private/b"))
        assert second.crawl_delay(http_server.url("/")) == 0.2
    assert http_server.hits("/robots.txt") == 1
    record = store_for().get_robots(f"http://127.0.0.1:{http_server.port}")
    assert record.status == "ok" and record.http_status == 200
    assert record.expires_at - record.fetched_at == pytest.approx(900, abs=1)
