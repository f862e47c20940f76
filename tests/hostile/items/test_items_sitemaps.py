"""Hostile sitemap URLs: one bad ``<url>`` (or ``<sitemap>``) among good ones, backfilled from
sitemaps served on 127.0.0.1, on SQLite and PostgreSQL. Each case is a function named after its
quirk; a ``<loc>`` that cannot be a page is set aside (``skipped.bad_url``, its reason in
``sitemap_errors``), a date out of range is unknown, every good URL is loaded, and a second
backfill adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from items_support import article_urls, assert_dates_sane, counts, dateless_page, good_pages, page_states, serve_pages

from newsdesk.archive.sitemap import backfill_sitemap
from newsdesk.urls import canonicalize_url

NEWSDESK = Path(sys.executable).with_name("newsdesk")
SINCE = datetime(2026, 1, 1, tzinfo=timezone.utc)
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def urlset(entries: list[str], news: bool = False) -> bytes:
    return (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'{NEWS if news else ""}>{"".join(entries)}</urlset>').encode()


def url_entry(loc: str, lastmod: str | None = "2026-03-01T08:00:00Z") -> str:
    return f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"


def news_entry(loc: str, published: str = "2026-03-01T08:00:00Z") -> str:
    return (f"<url><loc>{loc}</loc><news:news><news:title>t</news:title>"
            f"<news:publication_date>{published}</news:publication_date></news:news></url>")


@dataclass
class SitemapCase:
    sitemaps: dict[str, bytes]  # path -> body; the first is where the backfill starts
    set_aside: str | None = None
    extra_loaded: bool = False


def _plain(good, bad_entry: str) -> dict[str, bytes]:
    return {"/sitemap.xml": urlset([url_entry(u) for u in good[:1]] + [bad_entry] + [url_entry(u) for u in good[1:]])}


def _news(good, bad_entry: str) -> dict[str, bytes]:
    return {"/news.xml": urlset([news_entry(u) for u in good[:1]] + [bad_entry] + [news_entry(u) for u in good[1:]],
                                news=True)}


def sitemap_loc_port_out_of_range(good, extra, base):
    return SitemapCase(_plain(good, url_entry("http://127.0.0.1:99999/a")), set_aside="Port out of range")


def sitemap_loc_broken_ipv6_literal(good, extra, base):
    return SitemapCase(_plain(good, url_entry("http://[::1/a")), set_aside="Invalid IPv6 URL")


def sitemap_loc_longer_than_a_url(good, extra, base):
    return SitemapCase(_plain(good, url_entry(f"{base}/" + "a" * 3000)), set_aside="URL longer than 2000")


def sitemap_lastmod_year_10000(good, extra, base):  # an unknown date in a plain sitemap: undated, skipped
    return SitemapCase(_plain(good, url_entry(extra, "10000-01-01T00:00:00Z")))


def sitemap_lastmod_offset_past_9999(good, extra, base):
    return SitemapCase(_plain(good, url_entry(extra, "9999-12-31T23:59:59-05:00")))


def sitemap_lastmod_year_zero(good, extra, base):
    return SitemapCase(_plain(good, url_entry(extra, "0000-01-01")))


def news_sitemap_publication_date_9999_12_31(good, extra, base):  # news sitemaps: undated entries are taken
    return SitemapCase(_news(good, news_entry(extra, "9999-12-31T00:00:00Z")), extra_loaded=True)


def news_sitemap_publication_date_year_10000(good, extra, base):
    return SitemapCase(_news(good, news_entry(extra, "10000-01-01T00:00:00+00:00")), extra_loaded=True)


def sitemap_index_child_lastmod_offset_past_9999(good, extra, base):
    index = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<sitemap><loc>{base}/a.xml</loc><lastmod>2026-03-01</lastmod></sitemap>'
             f'<sitemap><loc>{base}/b.xml</loc><lastmod>9999-12-31T23:59:59-05:00</lastmod></sitemap>'
             f'<sitemap><loc>http://[::1/c.xml</loc></sitemap></sitemapindex>').encode()
    return SitemapCase({"/index.xml": index, "/a.xml": urlset([url_entry(u) for u in good[:2]]),
                        "/b.xml": urlset([url_entry(u) for u in good[2:]])}, set_aside="Invalid IPv6 URL")


CASES = [
    sitemap_loc_port_out_of_range, sitemap_loc_broken_ipv6_literal, sitemap_loc_longer_than_a_url,
    sitemap_lastmod_year_10000, sitemap_lastmod_offset_past_9999, sitemap_lastmod_year_zero,
    news_sitemap_publication_date_9999_12_31, news_sitemap_publication_date_year_10000,
    sitemap_index_child_lastmod_offset_past_9999,
]


@pytest.mark.parametrize("quirk", CASES, ids=lambda f: f.__name__)
def test_sitemap_url_quirk(quirk, engine, settings, http_server):
    good = good_pages(http_server)
    [extra] = serve_pages(http_server, [dateless_page(300)])
    case = quirk(good, extra, http_server.base)
    for path, body in case.sitemaps.items():
        http_server.add(path, body, headers={"Content-Type": "application/xml"})
    start = [http_server.url(next(iter(case.sitemaps)))]

    report = backfill_sitemap(engine, settings, http_server.base + "/", SINCE, sitemaps=start)

    expected = {canonicalize_url(u) for u in good + ([extra] if case.extra_loaded else [])}
    assert article_urls(engine) == expected, (report, page_states(engine))
    assert report["extract_errors"] == 0 and report["fetch_errors"] == 0
    if case.set_aside:
        assert report["skipped"].get("bad_url") == 1, report
        assert any(case.set_aside in e for e in report["sitemap_errors"]), report["sitemap_errors"]
    else:
        assert "bad_url" not in report["skipped"] and not report["sitemap_errors"], report
    assert_dates_sane(engine)
    before = counts(engine)
    again = backfill_sitemap(engine, settings, http_server.base + "/", SINCE, sitemaps=start)
    assert again["new_pages"] == 0 and again["fetched"] == 0 and counts(engine) == before


@pytest.mark.slow
def test_cli_backfill_sitemap_with_dates_out_of_range_exits_0(engine, http_server):
    """`newsdesk backfill sitemap` on a sitemap with a lastmod in year 10000 and a port out of
    range: no traceback, the good URLs loaded, exit 0; again: nothing new."""
    good = good_pages(http_server)
    body = urlset([url_entry(good[0], "10000-01-01T00:00:00Z"), url_entry("http://127.0.0.1:99999/x")]
                  + [url_entry(u, "9999-12-31T23:59:59-05:00") for u in good[1:]])
    http_server.add("/sitemap.xml", body, headers={"Content-Type": "application/xml"})
    url = engine.url.render_as_string(hide_password=False)
    env = dict(os.environ, NEWSDESK_ALLOW_PRIVATE_ADDRESSES="true")
    command = [str(NEWSDESK), "backfill", "sitemap", http_server.base + "/", "--since", "2026-01-01",
               "--include-undated", "--sitemap", http_server.url("/sitemap.xml"), "--database", url]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    report = json.loads(run.stdout)
    assert report["skipped"] == {"bad_url": 1} and report["extracted"] == len(good)
    assert article_urls(engine) == {canonicalize_url(u) for u in good}
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["new_pages"] == 0
    assert counts(engine)["articles"] == len(good)
