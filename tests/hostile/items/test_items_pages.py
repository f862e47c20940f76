"""Hostile pages and rows of a live round: one bad page (or a row the warehouse refuses) among
good ones found by a feed, fetched from 127.0.0.1, on SQLite and PostgreSQL.

Each case is a function named after its quirk; it returns the hostile page's HTML and what must
follow. A page the warehouse refuses ends ``failed`` with the database's reason: never left
``fetched``, where every later round would meet it and fail the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from items_support import (
    FEED_DATE,
    article_urls,
    as_aware,
    assert_dates_sane,
    counts,
    good_pages,
    iso,
    news_page,
    page_states,
    poll_errors,
    refuse_rows,
    rss,
    rss_date,
    serve_pages,
    write_registry,
)
from sqlalchemy import text

from newsdesk import pipeline
from newsdesk.urls import canonicalize_url


@dataclass
class PageCase:
    page: tuple[str, bytes]
    loaded: bool = True
    date_from_feed: bool = False  # the page's own date is not believed: the feed's stands
    refuse: tuple[str, str, str] | None = None
    failed_reason: str | None = None  # the hostile page ends failed with this in last_error
    set_aside: str | None = None  # or: its entry is set aside with this reason in poll_log
    check: object = None


def _dated(value: bytes) -> tuple[str, bytes]:
    url, body = news_page(700, 29, domain="dailyherald.example",
                          published=datetime(2026, 2, 27, 8, tzinfo=timezone.utc))
    body = body.replace(b"2026-02-27T08:00:00Z", value)
    # the byline's words state the date too: a page with only the hostile machine date
    return url, body.replace(b"27 February 2026", b"")


def page_published_9999_12_31():
    return PageCase(_dated(b"9999-12-31T00:00:00Z"), date_from_feed=True)


def page_published_year_10000():
    return PageCase(_dated(b"10000-01-01T00:00:00Z"), date_from_feed=True)


def page_published_offset_past_9999():
    return PageCase(_dated(b"9999-12-31T23:59:59-05:00"), date_from_feed=True)


def page_published_2039():
    return PageCase(_dated(b"2039-01-01T00:00:00Z"), date_from_feed=True)


def page_published_year_zero():
    return PageCase(_dated(b"0000-01-01T00:00:00Z"), date_from_feed=True)


def _no_canonical(engine, url):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT canonical_url FROM articles WHERE url = :u"), {"u": url}).scalar() is None


def page_canonical_port_out_of_range():
    return PageCase(news_page(701, 29, domain="dailyherald.example", canonical="https://x.example:99999/a"),
                    check=_no_canonical)


def page_canonical_broken_ipv6_literal():
    return PageCase(news_page(702, 29, domain="dailyherald.example", canonical="http://[::1/a"), check=_no_canonical)


def _no_nul(engine, url):
    with engine.connect() as conn:
        title, body = conn.execute(text("SELECT title, text FROM articles WHERE url = :u"), {"u": url}).one()
    assert "\x00" not in title + body


def page_nul_in_title_and_text():
    url, body = news_page(703, 29, domain="dailyherald.example", title="Nul\x00 headline of the storm")
    return PageCase((url, body.replace(b"</p>", b"\x00</p>")), check=_no_nul)


def page_article_refused_by_the_database():
    return PageCase(news_page(704, 29, domain="dailyherald.example", title="POISON headline"), loaded=False,
                    refuse=("articles", "title", "POISON"), failed_reason="row refused")


def page_row_refused_by_the_database():
    url, body = news_page(705, 29, domain="dailyherald.example")
    return PageCase((url.replace("/2026/", "/poison/"), body), loaded=False, refuse=("pages", "url", "poison"),
                    set_aside="row refused")


def _searchable(engine, url):
    with engine.connect() as conn:
        article_id, size = conn.execute(text("SELECT id, length(text) FROM articles WHERE url = :u"), {"u": url}).one()
        assert size > 1_000_000
        if engine.dialect.name == "postgresql":
            assert conn.execute(text("SELECT count(*) FROM article_search WHERE article_id = :i"),
                                {"i": article_id}).scalar_one() == 1


def page_of_a_huge_vocabulary():
    words = [f"v{n:x}z" for n in range(160_000)]
    paragraphs = [" ".join(words[i:i + 40]) + "." for i in range(0, len(words), 40)]
    return PageCase(news_page(706, 29, domain="dailyherald.example", paragraphs=paragraphs), check=_searchable)


CASES = [
    page_published_9999_12_31, page_published_year_10000, page_published_offset_past_9999, page_published_2039,
    page_published_year_zero, page_canonical_port_out_of_range, page_canonical_broken_ipv6_literal,
    page_nul_in_title_and_text, page_article_refused_by_the_database, page_row_refused_by_the_database,
    pytest.param(page_of_a_huge_vocabulary, marks=pytest.mark.slow),
]


@pytest.mark.parametrize("quirk", CASES, ids=lambda f: f.__name__)
def test_page_quirk(quirk, engine, settings, http_server, tmp_path):
    case = quirk()
    good = good_pages(http_server)
    [hostile] = serve_pages(http_server, [case.page])
    links = good[:2] + [hostile] + good[2:]
    items = [{"title": f"entry {i}", "link": u, "guid": f"e{i}", "pubDate": rss_date()} for i, u in enumerate(links)]
    http_server.add("/feed", rss(items), headers={"Content-Type": "application/rss+xml"})
    registry = write_registry(tmp_path, http_server, ["/feed"])
    if case.refuse:
        refuse_rows(engine, *case.refuse)

    stats = pipeline.run_round(engine, settings, registry=registry)  # never raises

    expected = {canonicalize_url(u) for u in good} | ({canonicalize_url(hostile)} if case.loaded else set())
    assert article_urls(engine) == expected, page_states(engine)
    assert_dates_sane(engine)
    [(outcome, _, error)] = poll_errors(engine)
    assert outcome == "ok"
    if case.set_aside:
        assert case.set_aside in error and stats["entries_set_aside"] == 1
    else:
        assert error is None
    states = page_states(engine)
    if case.failed_reason:
        state, kind, reason = states[canonicalize_url(hostile)]
        assert (state, kind) == ("failed", "load") and case.failed_reason in reason
        assert stats["extract_errors"] == 1
    with engine.connect() as conn:
        dates = {r.url: (as_aware(r.published_at), r.date_source)
                 for r in conn.execute(text("SELECT url, published_at, date_source FROM articles"))}
    if case.date_from_feed:
        assert dates[canonicalize_url(hostile)] == (FEED_DATE, "feed")
    if case.check:
        case.check(engine, canonicalize_url(hostile))

    before = counts(engine)
    again = pipeline.run_round(engine, settings, registry=registry)
    assert again["extract_errors"] == 0 and again["fetch_errors"] == 0 and again["new_pages"] == 0
    assert counts(engine) == before and page_states(engine) == states


def test_feed_entry_dates_in_the_future_are_not_published_dates(engine, settings, http_server, tmp_path):
    """9999-12-31, 2999-01-01 and 2039-01-01 from a feed's entries: stored as unknown."""
    pages = good_pages(http_server, 4)
    dates = ["9999-12-31T00:00:00Z", "2999-01-01T00:00:00Z", "2039-01-01T00:00:00Z", iso()]
    items = [{"title": f"entry {i}", "link": u, "guid": f"e{i}", "pubDate": d} for i, (u, d) in enumerate(zip(pages,
                                                                                                           dates))]
    http_server.add("/feed", rss(items), headers={"Content-Type": "application/rss+xml"})
    pipeline.run_round(engine, settings, registry=write_registry(tmp_path, http_server, ["/feed"]))
    with engine.connect() as conn:
        rows = {r.url: (as_aware(r.published_at), r.date_source)
                for r in conn.execute(text("SELECT url, published_at, date_source FROM articles"))}
    assert [rows[canonicalize_url(u)] for u in pages] == [(None, None)] * 3 + [(FEED_DATE, "feed")]
    assert_dates_sane(engine)


def test_page_stored_html_unreadable(engine, settings, http_server, tmp_path):
    """A fetched page whose stored body no longer decompresses: failed with the reason, its
    neighbours extracted; the next round meets nothing left over."""
    pages = good_pages(http_server, 4)
    items = [{"title": f"entry {i}", "link": u, "guid": f"e{i}", "pubDate": rss_date()} for i, u in enumerate(pages)]
    http_server.add("/feed", rss(items), headers={"Content-Type": "application/rss+xml"})
    pipeline.sync_registry(engine, write_registry(tmp_path, http_server, ["/feed"]))
    pipeline.poll(engine, settings, pipeline.due_feeds(engine))
    fetched = pipeline.fetch_pages(engine, settings, pipeline.pending_page_ids(engine, settings))["page_ids"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE raw_pages SET body = :b WHERE page_id = :p"), {"b": b"not zlib", "p": fetched[1]})
    stats = pipeline.extract_pages(engine, settings, fetched)
    assert (stats["extracted"], stats["extract_errors"]) == (3, 1)
    states = page_states(engine)
    state, kind, reason = [v for v in states.values() if v[0] != "extracted"][0]
    assert (state, kind) == ("failed", "raw") and "unreadable" in reason
    again = pipeline.run_round(engine, settings)
    assert again["extract_errors"] == 0 and page_states(engine) == states
