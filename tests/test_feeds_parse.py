"""parse_feed on real-world quirks, one fixture per quirk under tests/data/feeds/."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from newsdesk.feeds import FeedParseError, parse_feed
from newsdesk.feeds.discover import feed_links

DATA = Path(__file__).parent / "data" / "feeds"


def load(name: str, url: str = "https://feeds.example.com/dir/feed.xml", content_type=None):
    return parse_feed((DATA / name).read_bytes(), url, content_type)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_rss2_entries_guids_dates_and_ttl():
    feed = load("rss2-tracking-params.xml")
    assert feed.kind == "rss20" and feed.title == "Example Daily" and feed.ttl_minutes == 30
    urls = [e.url for e in feed.entries]
    # Tracking parameters are kept here (seen URL); enqueue_pages canonicalises.
    assert urls[0] == "https://news.example.com/2024/05/budget?utm_source=rss&utm_medium=feed"
    assert feed.entries[0].guid == "budget-2024"
    assert feed.entries[0].published_at == utc(2024, 5, 14, 6, 30)
    # No <link>, permalink GUID: the GUID is the URL.
    assert "https://news.example.com/2024/05/guid-only" in urls
    # mailto: links are dropped.
    assert len(feed.entries) == 4 and all(u.startswith("https://") for u in urls)


def test_atom_relative_links_resolved_against_feed_url():
    feed = load("atom-relative-links.xml")
    assert feed.kind == "atom10"
    assert [e.url for e in feed.entries] == ["https://feeds.example.com/world/story-1",
                                             "https://feeds.example.com/dir/story-2.html"]
    assert feed.entries[1].published_at == utc(2024, 5, 14, 5, 15)  # published beats updated, in UTC
    assert all(e.published_at.tzinfo is not None for e in feed.entries)


def test_rdf_1_0():
    feed = load("rdf-1.0.xml")
    assert feed.kind == "rss10" and feed.title == "RDF Wire"
    assert [e.url for e in feed.entries] == ["https://rdf.example.org/a", "https://rdf.example.org/b"]
    assert feed.entries[1].published_at == utc(2024, 5, 11, 11, 0)


def test_rss_0_91_without_dates_or_guids():
    feed = load("rss-0.91.xml")
    assert feed.kind.startswith("rss091")
    assert [e.url for e in feed.entries] == ["http://oldschool.example.net/one.html",
                                             "http://oldschool.example.net/two.html"]
    assert all(e.published_at is None and e.guid is None for e in feed.entries)


def test_jsonfeed_1_1():
    feed = load("jsonfeed-1.1.json", url="https://json.example.com/feed.json", content_type="application/feed+json")
    assert feed.kind == "jsonfeed1.1" and feed.title == "JSON Chronicle"
    assert [e.url for e in feed.entries] == ["https://json.example.com/posts/1", "https://json.example.com/posts/2",
                                             "https://json.example.com/posts/3"]
    assert feed.entries[1].published_at == utc(2024, 5, 12, 9, 0)
    assert feed.entries[2].published_at == utc(2024, 5, 12, 17, 0)


def test_google_news_sitemap():
    feed = load("google-news-sitemap.xml")
    assert feed.kind == "news-sitemap"
    assert feed.entries[0].title == "Two banks agree merger"
    assert feed.entries[0].published_at == utc(2024, 5, 14, 6, 0)
    assert feed.entries[1].published_at == utc(2024, 5, 14)


def test_plain_sitemap_uses_lastmod():
    feed = load("plain-sitemap.xml")
    assert feed.kind == "sitemap" and len(feed.entries) == 2
    assert feed.entries[0].published_at == utc(2024, 5, 1)


def test_sitemap_index_lists_child_sitemaps():
    body = (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<sitemap><loc>https://x.example/s1.xml</loc></sitemap></sitemapindex>")
    feed = parse_feed(body, "https://x.example/index.xml")
    assert feed.kind == "sitemapindex" and feed.entries[0].url == "https://x.example/s1.xml"


def test_html_page_is_not_a_feed():
    with pytest.raises(FeedParseError, match="HTML page"):
        load("not-a-feed.html", content_type="text/html")


@pytest.mark.parametrize("body", [b"", b"   ", b"garbage \x00\x01 not xml", b'{"hello": "world"}', b"{broken json",
                                  b"<?xml version='1.0'?><note><to>x</to></note>"])
def test_garbage_is_not_a_feed(body):
    with pytest.raises(FeedParseError, match="not a feed|empty"):
        parse_feed(body, "https://x.example/feed")


def test_windows_1252_with_incorrect_utf8_prolog():
    feed = load("windows-1252-incorrect-prolog.xml")
    assert feed.title == "Café Gazette"
    assert feed.entries[0].title == "\u201cSmart quotes\u201d and café crème"
    assert feed.entries[1].title == "Second \u2013 item"


def test_bozo_feed_with_entries_is_accepted():
    feed = load("bozo-but-usable.xml")
    assert [e.url for e in feed.entries] == ["https://bozo.example.com/one", "https://bozo.example.com/two"]
    assert feed.entries[0].published_at == utc(2024, 5, 15, 10, 0)


def test_feed_with_metadata_address_links_parses_them():
    """Parsing keeps them; poll_feed drops private targets before enqueueing."""
    feed = load("metadata-address-link.xml")
    assert "http://169.254.169.254/latest/meta-data/iam/" in [e.url for e in feed.entries]


def test_autodiscovery_links_in_homepage():
    links = feed_links((DATA / "not-a-feed.html").read_bytes(), "https://www.example.com/news/", "text/html")
    assert links == ["https://www.example.com/rss.xml", "https://feeds.example.com/atom"]


def test_invalid_xml_truncated_feed_keeps_the_complete_entries():
    """Unescaped ``&``, an unclosed tag and a body cut mid-entry (a dropped connection behind a cache):
    the entries that arrived whole are kept, the cut one is not invented."""
    feed = load("invalid-xml-truncated.xml", content_type="application/rss+xml")
    assert [e.url for e in feed.entries] == [
        "https://harbour.example/news/dredging-budget",
        "https://harbour.example/news/ferry-fares",
    ]
