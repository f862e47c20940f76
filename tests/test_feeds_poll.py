"""poll_feed / poll_feeds against local servers, recorded in both warehouses."""

from __future__ import annotations

import gzip
import socket
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from newsdesk.feeds import due_feed_ids, poll_feed, poll_feeds
from newsdesk.fetch import Fetcher, FetchResult
from newsdesk.storage.schema import feeds, pages, poll_log, sources

DATA = Path(__file__).parent / "data" / "feeds"
RSS = "application/rss+xml"


def make_feeds(engine, urls) -> list[int]:
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        sid = conn.execute(insert(sources).values(name=f"src-{time.monotonic_ns()}", homepage="https://x.example/",
                                                  domain="x.example", in_registry=True, created_at=now)
                           .returning(sources.c.id)).scalar_one()
        ids = []
        for url in urls:
            ids.append(conn.execute(insert(feeds).values(source_id=sid, url=url, kind="feed", active=True,
                                                         failure_score=0.0, consecutive_failures=0, created_at=now)
                                    .returning(feeds.c.id)).scalar_one())
    return ids


def rss(n: int, prefix: str = "https://news.example.com/story", extra: str = "") -> bytes:
    now = datetime.now(timezone.utc)
    items = "".join(
        f"<item><title>Story {i}</title><link>{prefix}/{i}?utm_source=rss</link><guid>{prefix}/{i}</guid>"
        f"<pubDate>{(now - timedelta(hours=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for i in range(n))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{extra}{items}</channel></rss>'.encode()


def feed_row(engine, feed_id):
    with engine.connect() as conn:
        return conn.execute(select(feeds).where(feeds.c.id == feed_id)).one()


def logs(engine, feed_id):
    with engine.connect() as conn:
        return conn.execute(select(poll_log).where(poll_log.c.feed_id == feed_id).order_by(poll_log.c.id)).all()


def page_count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(pages)).scalar_one()


@pytest.fixture
def fetcher(settings):
    with Fetcher(settings) as f:
        yield f


def test_poll_enqueues_pages_then_second_poll_adds_none(engine, http_server, fetcher):
    http_server.add("/feed", body=rss(5), headers={"Content-Type": RSS}, conditional=False)
    (fid,) = make_feeds(engine, [http_server.url("/feed")])
    first = poll_feed(engine, fid, fetcher, run_key="r1")
    assert first.outcome == "ok" and first.status == 200 and first.entries == 5 and len(first.new_page_ids) == 5
    with engine.connect() as conn:
        row = conn.execute(select(pages).where(pages.c.id == first.new_page_ids[0])).one()
    assert row.origin == "feed" and row.feed_id == fid and row.state == "pending"
    assert "utm_source" not in row.url and "utm_source" in row.seen_url and row.entry_published_at is not None
    # Same body again: sha256 unchanged, no parse, no pages.
    second = poll_feed(engine, fid, fetcher, run_key="r2")
    assert second.outcome == "unchanged" and second.new_page_ids == [] and page_count(engine) == 5
    # Body changes (re-dated, re-ordered) but same URLs: parsed, still no new pages.
    http_server.add("/feed", body=rss(5, extra="<ttl>10</ttl>"), headers={"Content-Type": RSS}, conditional=False)
    third = poll_feed(engine, fid, fetcher)
    assert third.outcome == "ok" and third.new_page_ids == [] and page_count(engine) == 5
    entries = logs(engine, fid)
    assert [e.outcome for e in entries] == ["ok", "unchanged", "ok"]
    assert entries[0].run_key == "r1" and entries[0].new_entries == 5 and entries[0].entries == 5
    assert entries[0].bytes > 0 and entries[0].latency_ms is not None and entries[0].status_code == 200
    feed = feed_row(engine, fid)
    assert feed.last_status == 200 and feed.last_success_at is not None and feed.last_new_entry_at is not None
    assert feed.body_sha256 and feed.consecutive_failures == 0 and feed.next_poll_at is not None


def test_unchanged_body_is_not_parsed(engine, http_server, fetcher, monkeypatch):
    http_server.add("/feed", body=rss(2), conditional=False)
    (fid,) = make_feeds(engine, [http_server.url("/feed")])
    assert poll_feed(engine, fid, fetcher).outcome == "ok"
    import newsdesk.feeds.poll as poll_module
    monkeypatch.setattr(poll_module, "parse_feed", lambda *a, **k: pytest.fail("parsed an unchanged body"))
    assert poll_feed(engine, fid, fetcher).outcome == "unchanged"


def test_304_and_etag_change(engine, http_server, fetcher):
    route = http_server.add("/feed", body=rss(3), headers={"ETag": '"v1"', "Content-Type": RSS,
                                                           "Last-Modified": "Tue, 14 May 2024 08:00:00 GMT"})
    (fid,) = make_feeds(engine, [http_server.url("/feed")])
    assert poll_feed(engine, fid, fetcher).outcome == "ok"
    row = feed_row(engine, fid)
    assert row.etag == '"v1"' and row.last_modified == "Tue, 14 May 2024 08:00:00 GMT"
    result = poll_feed(engine, fid, fetcher)
    assert result.outcome == "not_modified" and result.status == 304
    assert http_server.requests[-1][1]["If-None-Match"] == '"v1"'
    assert feed_row(engine, fid).etag == '"v1"'
    # New ETag and content: full fetch, new validators stored, new pages.
    route.body = rss(4)
    route.headers["ETag"] = '"v2"'
    changed = poll_feed(engine, fid, fetcher)
    assert changed.outcome == "ok" and len(changed.new_page_ids) == 1
    assert feed_row(engine, fid).etag == '"v2"'
    assert [e.outcome for e in logs(engine, fid)] == ["ok", "not_modified", "ok"]
    assert logs(engine, fid)[1].status_code == 304


def test_errors_recorded_while_other_feeds_still_load(engine, http_server, settings):
    http_server.add("/good", body=rss(3))
    http_server.add("/good2", body=rss(2, prefix="https://other.example.com/s"))
    http_server.add("/gone", status=404, body=b"nope")
    http_server.add("/broken", status=500, body=b"oops")
    http_server.add("/slow", handler=lambda h: time.sleep(2))
    http_server.add("/html", body=(DATA / "not-a-feed.html").read_bytes(), headers={"Content-Type": "text/html"})
    paths = ["/good", "/gone", "/broken", "/slow", "/html", "/good2"]
    ids = make_feeds(engine, [http_server.url(p) for p in paths])
    fast = settings.with_(read_timeout=0.5, total_timeout=1.0, per_host_concurrency=6)
    results = poll_feeds(engine, ids, fast, run_key="run-1")
    by_path = dict(zip(paths, results))
    assert [r.feed_id for r in results] == ids
    assert by_path["/good"].outcome == "ok" and len(by_path["/good"].new_page_ids) == 3
    assert by_path["/good2"].outcome == "ok" and len(by_path["/good2"].new_page_ids) == 2
    expected = {"/gone": ("hard", 404), "/broken": ("temporary", 500), "/slow": ("temporary", None),
                "/html": ("parse", 200)}
    for path, (kind, status) in expected.items():
        result = by_path[path]
        assert result.outcome == "error" and result.error_kind == kind, (path, result)
        (entry,) = logs(engine, result.feed_id)
        assert entry.outcome == "error" and entry.error_kind == kind and entry.status_code == status
        assert entry.error and entry.run_key == "run-1"
        row = feed_row(engine, result.feed_id)
        assert row.last_error == entry.error and row.consecutive_failures == 1 and row.failure_score > 0
        assert row.last_success_at is None and row.body_sha256 is None
    assert "HTML page" in by_path["/html"].error and "timeout" in by_path["/slow"].error
    assert page_count(engine) == 5


def test_fetch_failures_recorded(engine, http_server, settings):
    """Redirect loop, dropped connection, trickle past the deadline, body over cap, gzip bomb."""
    http_server.add("/loop-a", status=302, headers={"Location": "/loop-b"})
    http_server.add("/loop-b", status=302, headers={"Location": "/loop-a"})

    def drop(h):
        h.send_response(200)
        h.send_header("Content-Length", "5000")
        h.end_headers()
        h.wfile.write(rss(3)[:100])
        h.connection.shutdown(socket.SHUT_RDWR)

    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        try:
            for _ in range(60):
                h.wfile.write(b" ")
                time.sleep(0.05)
        except OSError:
            pass

    http_server.add("/drop", handler=drop)
    http_server.add("/trickle", handler=trickle)
    http_server.add("/big", body=rss(3) + b" " * 200_000)
    http_server.add("/bomb", body=gzip.compress(b" " * 20_000_000), headers={"Content-Encoding": "gzip"})
    paths = ["/loop-a", "/drop", "/trickle", "/big", "/bomb"]
    ids = make_feeds(engine, [http_server.url(p) for p in paths])
    tight = settings.with_(total_timeout=1.0, read_timeout=0.5, max_body_bytes=100_000, per_host_concurrency=5)
    results = dict(zip(paths, poll_feeds(engine, ids, tight)))
    expect = {"/loop-a": ("soft", "redirect loop"), "/drop": ("temporary", "connection broken"),
              "/trickle": ("temporary", "total timeout"), "/big": ("hard", "too large"),
              "/bomb": ("hard", "too large")}
    for path, (kind, text) in expect.items():
        assert results[path].outcome == "error" and results[path].error_kind == kind, (path, results[path])
        assert text in results[path].error
        assert logs(engine, results[path].feed_id)[0].error_kind == kind
    assert page_count(engine) == 0


def test_private_entry_links_dropped_when_private_addresses_refused(engine, settings):
    """A feed linking to 169.254.169.254 / loopback / RFC 1918 must not put them in the queue."""

    class StubFetcher:  # the feed itself is "public"; only its entries point inside
        def __init__(self, settings):
            self.settings = settings

        def get(self, url, **kw):
            body = (DATA / "metadata-address-link.xml").read_bytes()
            return FetchResult(url=url, final_url=url, status=200, headers={"content-type": RSS}, body=body,
                               elapsed_ms=1, redirects=[])

    (fid,) = make_feeds(engine, ["https://hostile.example.com/rss"])
    result = poll_feed(engine, fid, StubFetcher(settings.with_(allow_private_addresses=False)))
    assert result.outcome == "ok" and result.entries == 5 and len(result.new_page_ids) == 1
    with engine.connect() as conn:
        assert conn.execute(select(pages.c.url)).scalars().all() == ["https://hostile.example.com/real-story"]


def test_entry_links_follow_the_fetchers_address_policy_and_the_refused_are_recorded(engine, settings):
    """Entry links are judged by the same policy as the requests: a network the operator allows
    (NEWSDESK_ALLOW_NETWORKS) is queued, the rest is set aside with its reason in poll_log."""
    body = (DATA / "metadata-address-link.xml").read_bytes()

    class PolicyFetcher(Fetcher):
        def get(self, url, **kw):
            return FetchResult(url=url, final_url=url, status=200, headers={"content-type": RSS}, body=body,
                               elapsed_ms=1, redirects=[])

    (fid,) = make_feeds(engine, ["https://hostile.example.com/rss"])
    with PolicyFetcher(settings.with_(allow_private_addresses=False, allow_networks="10.0.0.0/8")) as fetcher:
        result = poll_feed(engine, fid, fetcher)
    assert result.outcome == "ok" and result.entries == 5 and len(result.new_page_ids) == 2
    with engine.connect() as conn:
        assert sorted(conn.execute(select(pages.c.url)).scalars()) == [
            "http://10.0.0.5/", "https://hostile.example.com/real-story"]
        error = conn.execute(select(poll_log.c.error)).scalar_one()
    assert error.startswith("3 of 5 entries set aside") and "169.254.169.254 (link-local)" in error
    assert "127.0.0.1 (loopback)" in error and "'localhost' (loopback name)" in error


def test_loopback_feed_refused_and_recorded(engine, http_server, settings):
    http_server.add("/feed", body=rss(2))
    (fid,) = make_feeds(engine, [http_server.url("/feed")])
    with Fetcher(settings.with_(allow_private_addresses=False)) as strict:
        result = poll_feed(engine, fid, strict)
    assert result.outcome == "error" and result.error_kind == "hard" and "blocked address" in result.error
    assert http_server.hits("/feed") == 0


def test_unknown_feed_and_internal_errors_never_raise(engine, settings):
    class Exploding:
        settings = None

        def get(self, url, **kw):
            raise RuntimeError("boom")

    assert poll_feed(engine, 999_999, Exploding()).outcome == "error"
    (fid,) = make_feeds(engine, ["https://x.example/feed"])
    result = poll_feed(engine, fid, Exploding())
    assert result.outcome == "error" and result.error_kind == "internal" and "boom" in result.error
    assert logs(engine, fid)[0].error_kind == "internal"


def test_due_feed_ids(engine):
    ids = make_feeds(engine, [f"https://d.example/{i}" for i in range(5)])
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(update(feeds).where(feeds.c.id == ids[1]).values(next_poll_at=now + timedelta(hours=1)))
        conn.execute(update(feeds).where(feeds.c.id == ids[2]).values(next_poll_at=now - timedelta(minutes=1)))
        conn.execute(update(feeds).where(feeds.c.id == ids[3]).values(active=False))
        conn.execute(update(feeds).where(feeds.c.id == ids[4]).values(disabled_reason="dead"))
    assert due_feed_ids(engine, now) == [ids[0], ids[2]]
    assert due_feed_ids(engine, now + timedelta(hours=2)) == [ids[0], ids[1], ids[2]]
