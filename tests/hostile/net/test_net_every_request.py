"""One address policy for every request newsdesk makes: feeds, entry links, pages, robots.txt,
sitemaps, feed discovery; each refusal recorded with its reason, on both warehouses."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from netcases import PUBLIC_HOST
from sqlalchemy import insert, select

from newsdesk import pipeline
from newsdesk.archive.sitemap import SitemapScan, discover, scan_sitemaps
from newsdesk.feeds import discover_feeds, poll_feed
from newsdesk.fetch import Fetcher, RobotsCache
from newsdesk.storage import loads
from newsdesk.storage.schema import feeds, pages, poll_log, sources

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
ALT_LOOPBACK = ["2130706433", "0x7f000001", "127.1", "0177.0.0.1", "[::ffff:127.0.0.1]", "127.0.0.1.", "0x7f.1"]


def make_feed(engine, url: str) -> int:
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        sid = conn.execute(insert(sources).values(name=f"src-{time.monotonic_ns()}", homepage="https://x.example/",
                                                  domain="x.example", in_registry=True, created_at=now)
                           .returning(sources.c.id)).scalar_one()
        return conn.execute(insert(feeds).values(source_id=sid, url=url, kind="feed", active=True, failure_score=0.0,
                                                 consecutive_failures=0, created_at=now)
                            .returning(feeds.c.id)).scalar_one()


def rss(links) -> bytes:
    items = "".join(f"<item><title>S{i}</title><link>{link}</link></item>" for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def article(title: str) -> bytes:
    body = " ".join(f"Sentence {i} of the story about {title} and what followed." for i in range(40))
    return (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article>"
            "</body></html>").encode()


@pytest.mark.parametrize("host", ALT_LOOPBACK)
def test_feed_url_in_alternative_notation_recorded_as_blocked(engine, guarded, internal_server, host):
    fid = make_feed(engine, f"http://{host}:{internal_server.port}/secret")
    with Fetcher(guarded) as fetcher:
        result = poll_feed(engine, fid, fetcher, run_key="hostile")
    assert result.outcome == "error" and result.error_kind == "hard"
    with engine.connect() as conn:
        log = conn.execute(select(poll_log).where(poll_log.c.feed_id == fid)).one()
    assert log.error_kind == "hard" and "127.0.0.1" in log.error and "loopback" in log.error
    assert internal_server.requests == []


def test_feed_entries_in_every_notation_dropped_good_ones_kept(engine, guarded, public_server, internal_server):
    port = internal_server.port
    good = [f"https://news.example/story/{i}" for i in range(3)]
    hostile = [f"http://{h}:{port}/secret" for h in ALT_LOOPBACK] + ["http://2852039166/latest/meta-data/"]
    public_server.add("/feed", body=rss(good[:2] + hostile + good[2:]), headers=RSS)
    fid = make_feed(engine, public_server.url("/feed"))
    with Fetcher(guarded) as fetcher:
        result = poll_feed(engine, fid, fetcher)
    assert result.outcome == "ok" and len(result.new_page_ids) == 3
    with engine.connect() as conn:
        urls = sorted(conn.execute(select(pages.c.url)).scalars())
    assert urls == sorted(good) and internal_server.requests == []


def test_page_redirecting_to_private_notation_fails_with_reason(engine, guarded, public_server, internal_server):
    public_server.add("/moved", status=301, headers={"Location": f"http://2130706433:{internal_server.port}/secret"})
    public_server.add("/fine", body=article("Fine"), headers=HTML)
    with engine.begin() as conn:
        ids = loads.enqueue_pages(conn, [loads.NewPage(url=public_server.url(p), origin="feed")
                                         for p in ("/moved", "/fine")])
    stats = pipeline.fetch_pages(engine, guarded, ids)
    assert stats["fetched"] == 1 and stats["fetch_errors"] == 1
    with engine.connect() as conn:
        rows = {r.url.rsplit("/", 1)[-1]: r for r in conn.execute(select(pages))}
    assert rows["moved"].state == "failed" and "127.0.0.1 (loopback" in rows["moved"].last_error
    assert rows["fine"].state == "fetched" and internal_server.requests == []


def test_robots_txt_redirecting_to_private_address_is_not_followed(guarded, public_server, internal_server):
    public_server.add("/robots.txt", status=302, headers={"Location": f"http://127.1:{internal_server.port}/secret"})
    with Fetcher(guarded) as fetcher:
        robots = RobotsCache(fetcher)
        robots.allowed(public_server.url("/story"))
    assert public_server.hits("/robots.txt") == 1 and internal_server.requests == []


def test_robots_txt_of_private_origin_never_fetched(guarded, internal_server):
    with Fetcher(guarded) as fetcher:
        assert RobotsCache(fetcher).allowed(f"http://0x7f000001:{internal_server.port}/story") is False
    assert internal_server.requests == []


def test_robots_sitemap_line_pointing_inside_is_refused(guarded, public_server, internal_server):
    public_server.add("/robots.txt", body=f"Sitemap: http://2130706433:{internal_server.port}/secret\n",
                      headers={"Content-Type": "text/plain"})
    with Fetcher(guarded) as fetcher:
        start = discover(fetcher, public_server.url("/"), SitemapScan())
        scan = scan_sitemaps(fetcher, start, PUBLIC_HOST, None)
    assert scan.sitemaps == [] and any("127.0.0.1 (loopback" in e for e in scan.errors), scan.errors
    assert internal_server.requests == []


def test_sitemap_index_child_in_private_notation_refused(guarded, public_server, internal_server):
    index = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<sitemap><loc>http://[::ffff:127.0.0.1]:{internal_server.port}/secret</loc></sitemap>'
             f'<sitemap><loc>{public_server.url("/child.xml")}</loc></sitemap></sitemapindex>')
    child = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<url><loc>{public_server.url("/story/1")}</loc></url></urlset>')
    public_server.add("/index.xml", body=index, headers={"Content-Type": "application/xml"})
    public_server.add("/child.xml", body=child, headers={"Content-Type": "application/xml"})
    with Fetcher(guarded) as fetcher:
        scan = scan_sitemaps(fetcher, [public_server.url("/index.xml")], PUBLIC_HOST, None, include_undated=True)
    assert public_server.url("/story/1") in scan.urls
    assert any("embeds 127.0.0.1: loopback" in e for e in scan.errors), scan.errors
    assert internal_server.requests == []


def test_discovery_leaves_out_advertised_private_feeds(guarded, public_server, internal_server):
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="http://{h}:{internal_server.port}/secret">'
                    for h in ALT_LOOPBACK)
    links += f'<link rel="alternate" type="application/rss+xml" href="{public_server.url("/rss.xml")}">'
    public_server.add("/", body=f"<html><head>{links}</head><body>home</body></html>", headers=HTML)
    refused: list = []
    with Fetcher(guarded) as fetcher:
        assert discover_feeds(public_server.url("/"), fetcher, refused) == [public_server.url("/rss.xml")]
    assert len(refused) == len(ALT_LOOPBACK) and all("loopback" in why for _, why in refused)
    assert internal_server.requests == []
