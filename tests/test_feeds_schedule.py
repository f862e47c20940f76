"""Per-feed schedule, failure backoff, auto-disable, status, autodiscovery and robots.txt."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from newsdesk.feeds import discover_feeds, due_feed_ids, enable_feed, feed_status, poll_feed, schedule
from newsdesk.fetch import Fetcher, RobotsCache
from newsdesk.storage.schema import feeds
from test_feeds_poll import feed_row, make_feeds, rss

NOW = datetime(2024, 5, 14, 12, 0, tzinfo=timezone.utc)
HOUR = 3600


@pytest.fixture
def fetcher(settings):
    with Fetcher(settings) as f:
        yield f


def seconds_until(row) -> float:
    nxt = row.next_poll_at if row.next_poll_at.tzinfo else row.next_poll_at.replace(tzinfo=timezone.utc)
    last = row.last_polled_at if row.last_polled_at.tzinfo else row.last_polled_at.replace(tzinfo=timezone.utc)
    return (nxt - last).total_seconds()


# -- pure schedule -----------------------------------------------------------------

def test_rate_interval_from_entries_per_week():
    daily = [NOW - timedelta(days=d) for d in range(7)]  # 7 over 6 days
    assert schedule.rate_interval(daily, NOW) == pytest.approx(6 * 24 * HOUR / 7)
    assert schedule.rate_interval([NOW - timedelta(minutes=5)], NOW) == 24 * HOUR  # one fresh entry
    busy = [NOW - timedelta(minutes=10 * i) for i in range(500)]  # a truncated window: rate, not count
    assert schedule.rate_interval(busy, NOW) == pytest.approx(600, rel=0.01)
    assert schedule.rate_interval([NOW - timedelta(minutes=i) for i in range(2000)], NOW) == 5 * 60
    hourly = [NOW - timedelta(hours=i) for i in range(168)]
    assert schedule.rate_interval(hourly, NOW) == pytest.approx(HOUR, rel=0.01)
    assert schedule.rate_interval([NOW - timedelta(days=30)], NOW) == 24 * HOUR  # stale feed
    assert schedule.rate_interval([None, None], NOW) is None


def test_jitter_is_within_ten_percent():
    rng = random.Random(1)
    hourly = [NOW - timedelta(hours=i) for i in range(168)]
    values = [schedule.next_interval(now=NOW, success=True, published=hourly, rng=rng) for _ in range(200)]
    base = schedule.rate_interval(hourly, NOW)
    assert all(0.9 * base <= v <= 1.1 * base for v in values)
    assert len({round(v) for v in values}) > 50


def test_floors_ttl_cache_control_expires_retry_after():
    busy = [NOW - timedelta(minutes=i) for i in range(1000)]
    base = dict(now=NOW, success=True, published=busy, rng=random.Random(0))
    assert schedule.next_interval(**base) <= 5.5 * 60
    assert schedule.next_interval(**base, ttl_minutes=60) == HOUR
    assert schedule.next_interval(**base, headers={"cache-control": "public, max-age=1800"}) == 1800
    assert schedule.next_interval(**base, headers={"cache-control": "max-age=1800", "age": "600"}) == 1200
    assert schedule.next_interval(**base, headers={"cache-control": "no-cache, max-age=1800"}) <= 5.5 * 60
    expires = {"date": "Tue, 14 May 2024 12:00:00 GMT", "expires": "Tue, 14 May 2024 14:00:00 GMT"}
    assert schedule.next_interval(**base, headers=expires) == 2 * HOUR
    assert schedule.next_interval(now=NOW, success=False, retry_after_s=3 * HOUR, consecutive_failures=1,
                                  rng=random.Random(0)) >= 3 * HOUR


def test_override_wins_and_failures_back_off():
    hourly = [NOW - timedelta(hours=i) for i in range(168)]
    assert schedule.next_interval(now=NOW, success=True, override_s=600, published=hourly) == 600
    backoff = [schedule.next_interval(now=NOW, success=False, override_s=600, consecutive_failures=n)
               for n in range(1, 10)]
    assert backoff[:4] == [600, 1200, 2400, 4800] and backoff[-1] == 24 * HOUR


def test_disable_score_from_env(monkeypatch):
    assert schedule.feed_disable_after() == schedule.DEFAULT_DISABLE_SCORE
    monkeypatch.setenv("NEWSDESK_FEED_DISABLE_SCORE", "4.5")
    assert schedule.feed_disable_after() == 4.5


# -- schedule through poll_feed ---------------------------------------------------

def test_poll_sets_next_poll_from_rate_ttl_and_override(engine, http_server, fetcher):
    http_server.add("/hourly", body=rss(20), conditional=False)  # 20 entries an hour apart: 24 h / 20
    http_server.add("/ttl", body=rss(20, prefix="https://t.example/s", extra="<ttl>1440</ttl>"), conditional=False)
    http_server.add("/cc", body=rss(20, prefix="https://c.example/s"), conditional=False,
                    headers={"Cache-Control": "max-age=43200"})
    http_server.add("/fixed", body=rss(20, prefix="https://f.example/s"), conditional=False)
    ids = make_feeds(engine, [http_server.url(p) for p in ("/hourly", "/ttl", "/cc", "/fixed")])
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.id == ids[3]).values(interval_override_s=900))
    for fid in ids:
        assert poll_feed(engine, fid, fetcher).outcome == "ok"
    hourly, ttl, cc, fixed = (seconds_until(feed_row(engine, fid)) for fid in ids)
    assert 0.9 * 72 * 60 <= hourly <= 1.1 * 72 * 60
    assert ttl == pytest.approx(24 * HOUR, abs=1)
    assert cc == pytest.approx(12 * HOUR, abs=1)
    assert fixed == pytest.approx(900, abs=1)
    assert due_feed_ids(engine) == []


def test_retry_after_on_429_and_503(engine, http_server, fetcher):
    http_server.add("/limited", status=429, headers={"Retry-After": "7200"})
    http_server.add("/down", status=503, headers={"Retry-After": "Tue, 14 May 2124 12:00:00 GMT"})
    a, b = make_feeds(engine, [http_server.url("/limited"), http_server.url("/down")])
    assert poll_feed(engine, a, fetcher).error_kind == "temporary"
    assert seconds_until(feed_row(engine, a)) == pytest.approx(7200, abs=1)
    poll_feed(engine, b, fetcher)
    assert seconds_until(feed_row(engine, b)) == pytest.approx(schedule.MAX_RETRY_AFTER_S, abs=1)


def test_backoff_auto_disable_enable_and_status(engine, http_server, fetcher, monkeypatch):
    monkeypatch.setenv("NEWSDESK_FEED_DISABLE_SCORE", "6")
    http_server.add("/dead", status=410)
    http_server.add("/flaky", status=500)
    http_server.add("/fine", body=rss(3))
    dead, flaky, fine = make_feeds(engine, [http_server.url(p) for p in ("/dead", "/flaky", "/fine")])
    intervals = []
    for _ in range(2):
        result = poll_feed(engine, dead, fetcher)
        intervals.append(seconds_until(feed_row(engine, dead)))
    assert result.disabled and feed_row(engine, dead).failure_score == 6.0
    assert intervals[1] > intervals[0] * 1.5  # exponential backoff
    reason = feed_row(engine, dead).disabled_reason
    assert "auto-disabled" in reason and "HTTP 410" in reason
    for _ in range(3):
        assert not poll_feed(engine, flaky, fetcher).disabled  # temporary errors weigh 1
    assert feed_row(engine, flaky).consecutive_failures == 3 and feed_row(engine, flaky).failure_score == 3.0
    poll_feed(engine, fine, fetcher)

    status = {s["id"]: s for s in feed_status(engine)}
    assert status[dead]["health"] == "disabled" and status[dead]["errors_7d"] == 2
    assert status[flaky]["health"] == "failing" and status[flaky]["consecutive_failures"] == 3
    assert status[fine]["health"] == "ok" and status[fine]["new_entries_7d"] == 3
    assert status[fine]["last_success_at"].tzinfo is not None

    # A success resets the counter.
    http_server.add("/flaky", body=rss(1, prefix="https://flaky.example/s"))
    poll_feed(engine, flaky, fetcher)
    assert feed_row(engine, flaky).consecutive_failures == 0 and feed_row(engine, flaky).failure_score == 0.0

    assert dead not in due_feed_ids(engine, datetime.now(timezone.utc) + timedelta(days=30))
    assert enable_feed(engine, http_server.url("/dead"))
    row = feed_row(engine, dead)
    assert row.disabled_reason is None and row.failure_score == 0 and row.consecutive_failures == 0
    assert dead in due_feed_ids(engine)
    assert enable_feed(engine, dead) and not enable_feed(engine, 987654)


def test_silent_feed_is_flagged(engine, http_server, fetcher):
    http_server.add("/quiet", body=rss(1))
    (fid,) = make_feeds(engine, [http_server.url("/quiet")])
    poll_feed(engine, fid, fetcher)
    old = datetime.now(timezone.utc) - timedelta(days=10)
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.id == fid).values(created_at=old, last_new_entry_at=old))
    assert feed_status(engine)[0]["health"] == "silent"


# -- autodiscovery and robots -------------------------------------------------------

def test_discover_feeds_from_homepage(http_server, fetcher):
    http_server.add("/", headers={"Content-Type": "text/html; charset=utf-8"}, body=(
        '<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
        '<link rel="alternate" type="application/atom+xml" href="atom.xml">'
        '<link rel="Alternate" type="application/feed+json; charset=utf-8" href="/feed.json">'
        '<link rel="alternate" hreflang="de" href="/de/"><link rel="stylesheet" href="/s.css"></head></html>'))
    http_server.add("/plain", body="<html><body>no feeds</body></html>", headers={"Content-Type": "text/html"})
    http_server.add("/rss.xml", body=rss(1))
    assert discover_feeds(http_server.url("/"), fetcher) == [
        http_server.url("/rss.xml"), http_server.url("/atom.xml"), http_server.url("/feed.json")]
    assert discover_feeds(http_server.url("/plain"), fetcher) == []
    assert discover_feeds(http_server.url("/rss.xml"), fetcher) == [http_server.url("/rss.xml")]


def test_robots_cache(http_server, settings):
    http_server.add("/robots.txt", headers={"Content-Type": "text/plain"}, body=(
        "User-agent: newsdesk\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n"))
    with Fetcher(settings) as f:
        robots = RobotsCache(f)
        assert robots.allowed(http_server.url("/news/story"))
        assert not robots.allowed(http_server.url("/private/x"))
        assert robots.allowed(http_server.url("/other"))
        assert http_server.hits("/robots.txt") == 1  # cached
        assert not robots.allowed("ftp://x.example/")


def test_robots_missing_allows_and_server_error_disallows(http_server, settings):
    with Fetcher(settings) as f:
        assert RobotsCache(f).allowed(http_server.url("/anything"))  # 404
        http_server.add("/robots.txt", status=503)
        assert not RobotsCache(f).allowed(http_server.url("/anything"))
