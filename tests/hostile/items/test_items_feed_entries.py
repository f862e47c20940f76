"""Hostile feed entries: one bad entry among good ones, through a whole round (registry sync,
poll, fetch, extract, dedup) against pages served on 127.0.0.1, on SQLite and PostgreSQL.

Each case is a function named after its quirk. It returns the feed and what must follow: the
entry set aside with its reason in ``poll_log.error`` (the poll stays ``ok``), or its page
loaded with its date unknown; every good neighbour loaded; a second round adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pytest
from items_support import (
    FEED_DATE,
    GOOD,
    article_urls,
    as_aware,
    assert_dates_sane,
    atom,
    counts,
    dateless_page,
    good_pages,
    iso,
    page_states,
    poll_errors,
    rss,
    rss_date,
    serve_pages,
    write_registry,
)
from sqlalchemy import text

from newsdesk import pipeline
from newsdesk.urls import canonicalize_url


@dataclass
class FeedCase:
    body: bytes
    content_type: str
    set_aside: str | None = None  # the reason poll_log.error must give for the entry set aside
    extra_loaded: bool = False  # the hostile entry's page is loaded too (its date is the quirk)
    extra_date_unknown: bool = False  # ... and stored without a date
    extra_failed: str | None = None  # ... or its page fails with this error kind


def _json(items: list) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "items": items}).encode()


def _json_items(good: list[str]) -> list:
    return [{"id": f"g{i}", "url": u, "title": f"good {i}", "date_published": iso()} for i, u in enumerate(good)]


def _rss_items(good: list[str]) -> list[dict]:
    return [{"title": f"good {i}", "link": u, "guid": f"g{i}", "pubDate": rss_date()} for i, u in enumerate(good)]


def _atom_items(good: list[str]) -> list[dict]:
    return [{"title": f"good {i}", "link": u, "updated": iso()} for i, u in enumerate(good)]


JSON, RSS, ATOM = "application/feed+json", "application/rss+xml", "application/atom+xml"


# -- links that cannot be pages: the entry is set aside with its reason ---------------------

def rss_link_port_out_of_range(good, extra):
    return FeedCase(rss(_rss_items(good) + [{"title": "bad", "link": "http://127.0.0.1:99999/story"}]), RSS,
                    set_aside="Port out of range")


def rss_link_broken_ipv6_literal(good, extra):
    return FeedCase(rss([{"title": "bad", "link": "http://[::1/story"}] + _rss_items(good)), RSS,
                    set_aside="Invalid IPv6 URL")


def rss_link_space_in_host(good, extra):
    return FeedCase(rss(_rss_items(good) + [{"title": "bad", "link": "http://exa mple.com/story"}]), RSS,
                    set_aside="spaces or control characters")


def rss_link_longer_than_a_url(good, extra):
    return FeedCase(rss(_rss_items(good) + [{"title": "bad", "link": "http://127.0.0.1/" + "a" * 5000}]), RSS,
                    set_aside="URL longer than 2000 characters")


def atom_link_port_not_a_number(good, extra):
    return FeedCase(atom(_atom_items(good) + [{"title": "bad", "link": "http://127.0.0.1:80x/story"}]), ATOM,
                    set_aside="Port could not be cast")


def atom_link_broken_ipv6_literal_with_port(good, extra):
    return FeedCase(atom([{"title": "bad", "link": "http://[fe80::1:8080/story"}] + _atom_items(good)), ATOM,
                    set_aside="Invalid IPv6 URL")


def jsonfeed_url_port_out_of_range(good, extra):
    return FeedCase(_json(_json_items(good) + [{"id": "bad", "url": "https://127.0.0.1:99999/x"}]), JSON,
                    set_aside="Port out of range")


def jsonfeed_url_broken_ipv6_literal(good, extra):
    return FeedCase(_json([{"id": "bad", "url": "http://[::1/x"}] + _json_items(good)), JSON,
                    set_aside="Invalid IPv6 URL")


def jsonfeed_url_not_a_string(good, extra):
    return FeedCase(_json(_json_items(good) + [{"id": "bad", "url": 12345}]), JSON, set_aside="not a string")


def jsonfeed_item_not_an_object(good, extra):
    return FeedCase(_json(_json_items(good)[:1] + ["just a string"] + _json_items(good)[1:]), JSON,
                    set_aside="not a JSON object")


# -- dates out of range or in the future: the entry is loaded, its date unknown -------------

def _json_dated(good, extra, date: str) -> FeedCase:
    items = _json_items(good) + [{"id": "odd", "url": extra, "title": "odd date", "date_published": date}]
    return FeedCase(_json(items), JSON, extra_loaded=True, extra_date_unknown=True)


def jsonfeed_date_year_zero(good, extra):
    return _json_dated(good, extra, "0000-01-01T00:00:00Z")


def jsonfeed_date_year_10000(good, extra):
    return _json_dated(good, extra, "10000-01-01T00:00:00Z")


def jsonfeed_date_offset_past_9999(good, extra):
    return _json_dated(good, extra, "9999-12-31T23:59:59-05:00")


def jsonfeed_date_9999_12_31(good, extra):
    return _json_dated(good, extra, "9999-12-31T00:00:00Z")


def jsonfeed_date_2999_01_01(good, extra):
    return _json_dated(good, extra, "2999-01-01T00:00:00Z")


def jsonfeed_date_0001_01_01(good, extra):
    return _json_dated(good, extra, "0001-01-01T00:00:00Z")


def jsonfeed_date_not_a_string(good, extra):
    items = _json_items(good) + [{"id": "odd", "url": extra, "date_published": {"year": 10000}}]
    return FeedCase(_json(items), JSON, extra_loaded=True, extra_date_unknown=True)


def rss_pubdate_2039(good, extra):
    items = _rss_items(good) + [{"title": "odd", "link": extra, "pubDate": rss_date(datetime(2039, 1, 1))}]
    return FeedCase(rss(items), RSS, extra_loaded=True, extra_date_unknown=True)


def rss_pubdate_year_10000(good, extra):
    items = _rss_items(good) + [{"title": "odd", "link": extra, "pubDate": "Sat, 01 Jan 10000 00:00:00 GMT"}]
    return FeedCase(rss(items), RSS, extra_loaded=True, extra_date_unknown=True)


def atom_updated_offset_past_9999(good, extra):
    items = _atom_items(good) + [{"title": "odd", "link": extra, "updated": "9999-12-31T23:59:59-23:59"}]
    return FeedCase(atom(items), ATOM, extra_loaded=True, extra_date_unknown=True)


def atom_updated_year_zero(good, extra):
    items = _atom_items(good) + [{"title": "odd", "link": extra, "updated": "0000-00-00T00:00:00Z"}]
    return FeedCase(atom(items), ATOM, extra_loaded=True, extra_date_unknown=True)


# -- values PostgreSQL refuses as they come: the entry is loaded, its values made to fit ------

def jsonfeed_nul_in_id_and_title(good, extra):
    items = _json_items(good) + [{"id": "odd\u0000id", "url": extra, "title": "a\u0000b", "date_published": iso()}]
    return FeedCase(_json(items), JSON, extra_loaded=True)


def jsonfeed_id_of_a_megabyte(good, extra):
    items = _json_items(good) + [{"id": "é" * 500_000, "url": extra, "date_published": iso()}]
    return FeedCase(_json(items), JSON, extra_loaded=True)


def jsonfeed_lone_surrogate_in_id(good, extra):
    body = _json(_json_items(good)).replace(b'"items": [', b'"items": [{"id": "x\\ud800y", "url": "'
                                                          + extra.encode() + b'"}, ')
    return FeedCase(body, JSON, extra_loaded=True)


def jsonfeed_nul_in_url_path(good, extra):
    # "%00" in the canonical URL: no NUL stored; the server has no such page (404, hard failure)
    items = _json_items(good) + [{"id": "nul", "url": extra + "\u0000tail"}]
    return FeedCase(_json(items), JSON, extra_failed="hard")


CASES = [
    rss_link_port_out_of_range, rss_link_broken_ipv6_literal, rss_link_space_in_host, rss_link_longer_than_a_url,
    atom_link_port_not_a_number, atom_link_broken_ipv6_literal_with_port, jsonfeed_url_port_out_of_range,
    jsonfeed_url_broken_ipv6_literal, jsonfeed_url_not_a_string, jsonfeed_item_not_an_object,
    jsonfeed_date_year_zero, jsonfeed_date_year_10000, jsonfeed_date_offset_past_9999, jsonfeed_date_9999_12_31,
    jsonfeed_date_2999_01_01, jsonfeed_date_0001_01_01, jsonfeed_date_not_a_string, rss_pubdate_2039,
    rss_pubdate_year_10000, atom_updated_offset_past_9999, atom_updated_year_zero, jsonfeed_nul_in_id_and_title,
    jsonfeed_id_of_a_megabyte, jsonfeed_lone_surrogate_in_id, jsonfeed_nul_in_url_path,
]


@pytest.mark.parametrize("quirk", CASES, ids=lambda f: f.__name__)
def test_feed_entry_quirk(quirk, engine, settings, http_server, tmp_path):
    good = good_pages(http_server)
    extra = serve_pages(http_server, [dateless_page(100)])[0]
    case = quirk(good, extra)
    http_server.add("/feed", case.body, headers={"Content-Type": case.content_type})
    registry = write_registry(tmp_path, http_server, ["/feed"])

    stats = pipeline.run_round(engine, settings, registry=registry)  # never raises

    assert stats["feed_errors"] == 0, poll_errors(engine)
    expected = {canonicalize_url(u) for u in good + ([extra] if case.extra_loaded else [])}
    assert article_urls(engine) == expected, page_states(engine)
    [(outcome, error_kind, error)] = poll_errors(engine)
    assert outcome == "ok" and error_kind is None
    if case.set_aside:
        assert stats["entries_set_aside"] == 1
        assert error.startswith(f"1 of {GOOD + 1} entries set aside") and case.set_aside in error, error
    else:
        assert error is None and stats["entries_set_aside"] == 0
    assert_dates_sane(engine)
    with engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(text("SELECT url, published_at, date_source FROM articles"))}
    for url in good:  # the good entries' dates are the feed's: the pages state none
        assert rows[canonicalize_url(url)].date_source == "feed"
        assert as_aware(rows[canonicalize_url(url)].published_at) == FEED_DATE
    if case.extra_date_unknown:
        odd = rows[canonicalize_url(extra)]
        assert odd.published_at is None and odd.date_source is None
    if case.extra_failed:
        failed = [v for u, v in page_states(engine).items() if u not in expected]
        assert [(state, kind) for state, kind, _ in failed] == [("failed", case.extra_failed)], failed
        assert all(reason for _, _, reason in failed)

    before = counts(engine)
    again = pipeline.run_round(engine, settings, registry=registry)  # the same feed: nothing new
    assert again["feed_errors"] == 0 and again["new_pages"] == 0
    assert counts(engine) == before
