"""Properties (hypothesis) of the item boundaries: an exception never crosses one.

- dates: any string or datetime gives an aware UTC datetime in range, or None, never an error;
- URLs: ``url_problem`` never raises, and a URL it accepts canonicalises;
- feed entries: whatever an entry holds, the feed's other entries are read, and in the
  warehouse every good entry is enqueued whatever its neighbour is;
- WARC records: whatever a record's target URI and date, the records around it are read and
  imported.
"""

from __future__ import annotations

import io
import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from items_support import news_page, warc_pages, write_warc
from sqlalchemy import select

from newsdesk.archive.warc import ImportOptions, capture_time, import_warcs
from newsdesk.feeds.parse import parse_feed
from newsdesk.fetch.archived import scan_archive
from newsdesk.storage import schema
from newsdesk.storage.loads import NewPage, enqueue_pages
from newsdesk.times import EARLIEST, parse_http_date, parse_timestamp, sane_date, to_utc
from newsdesk.urls import canonicalize_url, url_problem

NOW = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)

# ISO-looking strings with years, offsets and fields anywhere in and out of range
iso_like = st.builds(
    lambda y, mo, d, h, mi, s, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{off}",
    st.integers(0, 10_999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 60), st.sampled_from(["", "Z", "z", "+00:00", "-05:00", "+23:59", "-23:59", "+14:00", "+99:99"]))
date_strings = st.one_of(iso_like, st.text(max_size=40), st.sampled_from(
    ["9999-12-31T23:59:59-05:00", "0000-00-00", "10000-01-01", "2039-01-01", "Sat, 01 Jan 10000 00:00:00 GMT"]))
aware = st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-14)),
                                                timezone(timedelta(hours=14))]))

URL_PIECES = ["http://", "https://", "[", "]", "::1", ":", "99999", "80", "@", "/", "?", "#", "%", " ", "\x00",
              "example.com", "127.0.0.1", "é", ".", "a" * 70, "\ud800", "xn--", "ftp://"]
url_like = st.one_of(st.lists(st.sampled_from(URL_PIECES), max_size=8).map("".join), st.text(max_size=60))


@given(date_strings)
def test_parse_timestamp_never_raises_and_gives_utc_or_none(value):
    parsed = parse_timestamp(value)
    assert parsed is None or parsed.utcoffset() == timedelta(0)
    assert parse_http_date(value) is None or parse_http_date(value).utcoffset() == timedelta(0)


@given(st.one_of(aware, st.none()), st.one_of(aware, st.none()))
def test_sane_date_is_in_range_or_none(value, now):
    kept = sane_date(value, now)
    if kept is not None:
        limit = (to_utc(now) or datetime.now(timezone.utc))
        assert EARLIEST <= kept and (kept <= limit + timedelta(days=1) or limit.year == 9999)


@given(date_strings)
def test_capture_time_is_never_after_now_nor_before_1900(value):
    when = capture_time(value, NOW)
    assert EARLIEST <= when <= NOW


@given(url_like)
def test_url_problem_never_raises_and_accepted_urls_canonicalise(url):
    if url_problem(url) is None:
        canonical = canonicalize_url(url)
        assert canonical.startswith(("http://", "https://"))


@given(st.lists(st.one_of(st.dictionaries(st.sampled_from(["id", "url", "title", "date_published",
                                                            "date_modified", "external_url"]),
                                          st.one_of(url_like, date_strings, st.integers(), st.none(),
                                                    st.lists(st.integers(), max_size=2))),
                          st.integers(), st.text(max_size=10), st.none()), max_size=4),
       st.integers(0, 3))
def test_json_feed_entries_never_cost_their_neighbours(hostile, at):
    good = [{"id": f"g{i}", "url": f"https://good.example/{i}", "date_published": "2026-03-01T00:00:00Z"}
            for i in range(3)]
    items = good[:at] + hostile + good[at:]
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode("utf-8", "surrogatepass")
    parsed = parse_feed(body, "https://good.example/feed.json", "application/feed+json")
    urls = [e.url for e in parsed.entries]
    for item in good:
        assert item["url"] in urls
    assert len(parsed.entries) + len(parsed.rejected) <= len(items)


def _xml_safe(value: str) -> str:
    return "".join(c for c in value if c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD)


@given(url_like, date_strings, st.integers(0, 3))
def test_rss_items_never_cost_their_neighbours(link, date, at):
    from html import escape

    def item(link, date):
        return f"<item><title>t</title><link>{escape(_xml_safe(link))}</link><pubDate>{escape(_xml_safe(date))}" \
               "</pubDate></item>"
    good = [item(f"https://good.example/{i}", "Sun, 01 Mar 2026 09:30:00 GMT") for i in range(3)]
    items = good[:at] + [item(link, date)] + good[at:]
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{"".join(items)}</channel></rss>'
    parsed = parse_feed(body.encode("utf-8"), "https://good.example/rss", "application/rss+xml")
    urls = [e.url for e in parsed.entries]
    for i in range(3):
        assert f"https://good.example/{i}" in urls
    for entry in parsed.entries:
        assert entry.published_at is None or entry.published_at.utcoffset() == timedelta(0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url_like, st.one_of(st.text(max_size=30), st.none()), st.one_of(aware, st.none()))
def test_enqueued_entries_never_cost_their_neighbours(sqlite_engine, url, guid, published):
    good = [NewPage(url=f"https://good.example/{i}", origin="feed", guid=f"g{i}") for i in range(3)]
    rejected: list = []
    with sqlite_engine.connect() as conn:
        transaction = conn.begin()
        try:
            enqueue_pages(conn, good[:1] + [NewPage(url=url, origin="feed", guid=guid, published_at=published)]
                          + good[1:], rejected)
            stored = set(conn.execute(select(schema.pages.c.url)).scalars())
        finally:
            transaction.rollback()
    assert {p.url for p in good} <= stored
    assert len(stored) + len(rejected) >= 3


header_safe = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.one_of(url_like.map(lambda u: "".join(c for c in u if c not in "\r\n\x00")), header_safe),
       st.one_of(date_strings.map(lambda d: "".join(c for c in d if c not in "\r\n\x00")), header_safe))
@pytest.mark.slow
def test_warc_records_around_a_hostile_one_are_read(uri, date):
    good = warc_pages(3)
    _, body = news_page(900, 31)
    buf = io.BytesIO()
    try:
        write_warc_to(buf, good[:1] + [(uri.strip() or "x", date.strip() or "x", body)] + good[1:])
    except (ValueError, UnicodeError):  # warcio itself refuses to write it
        return
    buf.seek(0)
    items = list(scan_archive(buf, 0, 1_000_000, size=len(buf.getvalue())))
    urls = [i.page.url for i in items if i.page is not None]
    for url, _, _ in good:
        assert url in urls
    for item in items:
        if item.page is not None:
            canonicalize_url(item.page.url)  # what the importer does next: never raises
            assert capture_time(item.page.warc_date, NOW) <= NOW


def write_warc_to(buffer, records) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    writer = WARCWriter(buffer, gzip=True)
    for uri, date, body in records:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http,
                                                      warc_headers_dict={"WARC-Date": date}))


_EXAMPLES = itertools.count()


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url_like.map(lambda u: "".join(c for c in u if c not in "\r\n\x00")),
       date_strings.map(lambda d: "".join(c for c in d if c not in "\r\n\x00")))
def test_warc_import_never_loses_a_good_record(sqlite_engine, settings, tmp_path_factory, uri, date):
    good = warc_pages(3, start=40 + 3 * next(_EXAMPLES))  # new pages in every example
    _, body = news_page(901, 31)
    path = tmp_path_factory.mktemp("warc") / "hostile.warc.gz"
    try:
        write_warc(path, good[:2] + [(uri.strip() or "x", date.strip() or "x", body)] + good[2:])
    except (ValueError, UnicodeError):
        return
    report = import_warcs(sqlite_engine, settings, [path], options=ImportOptions(workers=0, batch_size=2),
                          run_dedup=False)
    stats = report["files"][str(path)]
    assert stats["status"] == "done", stats
    with sqlite_engine.connect() as conn:
        stored = set(conn.execute(select(schema.articles.c.url)).scalars())
    assert {canonicalize_url(u) for u, _, _ in good} <= stored
