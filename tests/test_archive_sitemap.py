"""`newsdesk backfill sitemap`: robots.txt -> sitemap index -> news sitemap -> pages through the live path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from newsdesk.archive.sitemap import backfill_sitemap
from newsdesk.storage import schema

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "data"))
from warc_gen import news_page

SINCE = datetime(2026, 3, 1, tzinfo=timezone.utc)


def news_sitemap(entries) -> str:
    urls = "".join(
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Test</news:name>"
        f"<news:language>en</news:language></news:publication>"
        f"<news:publication_date>{date}</news:publication_date><news:title>T</news:title></news:news></url>"
        for loc, date in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>')


def sitemap_index(entries) -> str:
    items = "".join(f"<sitemap><loc>{loc}</loc><lastmod>{mod}</lastmod></sitemap>" for loc, mod in entries)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'


def serve_site(server):
    xml = {"Content-Type": "application/xml"}
    server.add("/robots.txt", f"User-agent: *\nDisallow: /private\nSitemap: {server.url('/sitemap_index.xml')}\n",
               headers={"Content-Type": "text/plain"})
    server.add("/sitemap_index.xml", sitemap_index([(server.url("/news.xml"), "2026-03-02T10:00:00Z"),
                                                    (server.url("/old.xml"), "2025-01-01T00:00:00Z")]), headers=xml)
    server.add("/news.xml", news_sitemap([
        (server.url("/world/1"), "2026-03-02T08:00:00Z"),
        (server.url("/world/2?utm_source=sitemap"), "2026-03-01T09:30:00+00:00"),
        (server.url("/world/old"), "2026-02-01T08:00:00Z"),
        ("https://elsewhere.example/world/3", "2026-03-02T08:00:00Z"),
    ]), headers=xml)
    server.add("/old.xml", news_sitemap([(server.url("/world/ancient"), "2024-01-01T00:00:00Z")]), headers=xml)
    for i, path in enumerate(("/world/1", "/world/2", "/world/old", "/world/ancient")):
        _, html = news_page(900 + i, 71, domain="dailyherald.example")
        server.add(path, html, headers={"Content-Type": "text/html; charset=utf-8"})


def test_backfill_sitemap_since_date(engine, settings, http_server):
    serve_site(http_server)
    report = backfill_sitemap(engine, settings, http_server.url("/"), SINCE)
    assert report["sitemaps"] == [http_server.url("/sitemap_index.xml"), http_server.url("/news.xml")]
    assert http_server.hits("/old.xml") == 0, "index children older than --since are not read"
    assert report["skipped"] == {"sitemap_before_since": 1, "before_since": 1, "other_domain": 1}
    assert report["new_pages"] == 2 and report["fetched"] == 2 and report["extracted"] == 2
    with engine.connect() as conn:
        rows = conn.execute(select(schema.pages.c.url, schema.pages.c.origin, schema.pages.c.state,
                                   schema.pages.c.entry_published_at)).all()
        pending = conn.execute(text("SELECT COUNT(*) FROM articles WHERE dedup_state = 'pending'")).scalar_one()
    assert {r.origin for r in rows} == {"sitemap"} and {r.state for r in rows} == {"extracted"}
    assert sorted(r.url.rsplit("/", 1)[-1] for r in rows) == ["1", "2"], "tracking parameters removed"
    assert all(r.entry_published_at is not None for r in rows)
    assert pending == 0
    again = backfill_sitemap(engine, settings, http_server.url("/"), SINCE)
    assert again["new_pages"] == 0 and again["fetched"] == 0
    assert http_server.hits("/world/1") == 1


@pytest.mark.slow
def test_backfill_sitemap_fallback_paths_and_cli(sqlite_engine, sqlite_url, http_server, monkeypatch):
    xml = {"Content-Type": "application/xml"}
    http_server.add("/robots.txt", "not here", status=404)
    http_server.add("/news-sitemap.xml", news_sitemap([(http_server.url("/a/1"), "2026-03-05T00:00:00Z")]), headers=xml)
    _, html = news_page(950, 72)
    http_server.add("/a/1", html, headers={"Content-Type": "text/html"})
    out = subprocess.run([str(Path(sys.executable).with_name("newsdesk")), "backfill", "sitemap", http_server.url("/"),
                          "--since", "2026-03-01", "--database", sqlite_url],
                         capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "NEWSDESK_ALLOW_PRIVATE_ADDRESSES": "1"})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["sitemaps"] == [http_server.url("/news-sitemap.xml")]
    assert report["extracted"] == 1
