"""Hostile WARC records: one bad record among good ones (before it and after it, in its batch
and in later batches), imported on SQLite and PostgreSQL.

Each case is a function named after its quirk, returning the hostile record and what must
follow: the record set aside (a skip reason counted in the file's report, with its reason in
``errors``) or loaded with its values made to fit; every good neighbour loaded; the file
``done``; a second import of it a no-op that doubles nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from items_support import (
    allow_rows,
    article_urls,
    as_aware,
    assert_dates_sane,
    counts,
    news_page,
    page_states,
    refuse_rows,
    warc_pages,
    write_warc,
)
from sqlalchemy import text

from newsdesk.archive.warc import ImportOptions, import_warcs
from newsdesk.urls import canonicalize_url

NEWSDESK = Path(sys.executable).with_name("newsdesk")
CAPTURE = "2026-03-02T10:00:00Z"
GOOD_BEFORE, GOOD_AFTER = 2, 3  # batches of 2: the hostile record shares its batch with a good one


@dataclass
class WarcCase:
    record: tuple[str, str, bytes]  # WARC-Target-URI, WARC-Date, HTML
    skip: str | None = None  # the skip reason counted for it ...
    reason: str | None = None  # ... and what its error says
    loaded: bool = False  # or: loaded, values made to fit
    capture_now: bool = False  # its WARC-Date is no capture time: fetched_at is the import's time
    refuse: tuple[str, str, str] | None = None  # (table, column, needle) the warehouse refuses
    check: object = None  # more checks on the loaded article: f(engine, url)
    extra: dict = field(default_factory=dict)


def _page(index: int = 500, **kw) -> tuple[str, bytes]:
    return news_page(index, 31, **kw)


def _html(index: int = 500, **kw) -> tuple[str, str, bytes]:
    url, body = _page(index, **kw)
    return url, CAPTURE, body


def _with_uri(uri: str) -> tuple[str, str, bytes]:
    return uri, CAPTURE, _page()[1]


def _with_date(date: str) -> tuple[str, str, bytes]:
    url, body = _page()
    return url, date, body


def _replace(old: bytes, new: bytes, **kw) -> tuple[str, str, bytes]:
    url, date, body = _html(**kw)
    assert old in body
    return url, date, body.replace(old, new)


# -- target URIs that cannot be pages -------------------------------------------------------

def warc_target_uri_port_out_of_range():
    return WarcCase(_with_uri("https://dailyherald.example:99999/politics/1"), skip="bad_url",
                    reason="Port out of range")


def warc_target_uri_broken_ipv6_literal():
    return WarcCase(_with_uri("http://[::1/politics/1"), skip="bad_url", reason="Invalid IPv6 URL")


def warc_target_uri_port_not_a_number():
    return WarcCase(_with_uri("https://dailyherald.example:http/x"), skip="bad_url", reason="Port could not be cast")


def warc_target_uri_without_a_host():
    return WarcCase(_with_uri("https:///politics/1"), skip="bad_url", reason="URL without a host")


def warc_target_uri_longer_than_a_url():
    return WarcCase(_with_uri("https://dailyherald.example/" + "x" * 4000), skip="bad_url",
                    reason="URL longer than 2000")


# -- WARC-Date that is no capture time: the import's time stands in -------------------------

def warc_date_year_10000():
    return WarcCase(_with_date("10000-01-01T00:00:00Z"), loaded=True, capture_now=True)


def warc_date_year_zero():
    return WarcCase(_with_date("0000-01-01T00:00:00Z"), loaded=True, capture_now=True)


def warc_date_offset_past_9999():
    return WarcCase(_with_date("9999-12-31T23:59:59-05:00"), loaded=True, capture_now=True)


def warc_date_2999_01_01():
    return WarcCase(_with_date("2999-01-01T00:00:00Z"), loaded=True, capture_now=True)


def warc_date_0001_01_01():
    return WarcCase(_with_date("0001-01-01T00:00:00Z"), loaded=True, capture_now=True)


def warc_date_not_a_date():
    return WarcCase(_with_date("yesterday afternoon"), loaded=True, capture_now=True)


# -- page values PostgreSQL refuses as they come: made to fit -------------------------------

def _domain_clipped(engine, url):
    with engine.connect() as conn:
        domain, publisher = conn.execute(text("SELECT domain, publisher FROM articles WHERE url = :u"),
                                         {"u": url}).one()
    assert len(domain) == 255 and len(publisher) <= 255


def warc_host_of_300_characters():
    host = ".".join(["a" * 59] * 5) + ".example"  # 307 characters: no DNS name, a varchar(255) overflow
    url, body = _page()
    return WarcCase((f"https://{host}/politics/1", CAPTURE, body), loaded=True, check=_domain_clipped)


def _no_nul(engine, url):
    with engine.connect() as conn:
        title, body = conn.execute(text("SELECT title, text FROM articles WHERE url = :u"), {"u": url}).one()
    assert "\x00" not in title + body and "Nul" in title


def warc_page_nul_in_title_and_text():
    url, body = _page(title="Nul\x00 byte headline about the storm")
    return WarcCase((url, CAPTURE, body.replace(b"</p>", b"\x00</p>")), loaded=True, check=_no_nul)


def _searchable(engine, url):
    with engine.connect() as conn:
        article = conn.execute(text("SELECT id, length(text) FROM articles WHERE url = :u"), {"u": url}).one()
        assert article[1] > 1_000_000
        if engine.dialect.name == "postgresql":
            assert conn.execute(text("SELECT count(*) FROM article_search WHERE article_id = :i"),
                                {"i": article[0]}).scalar_one() == 1


def warc_page_of_a_huge_vocabulary():
    # 160,000 distinct words (1.1 MB of text) in paragraphs of 40: past PostgreSQL's 1 MB tsvector
    words = [f"w{n:x}q" for n in range(160_000)]
    paragraphs = [" ".join(words[i:i + 40]) + "." for i in range(0, len(words), 40)]
    return WarcCase(_html(paragraphs=paragraphs), loaded=True, check=_searchable)


def _no_canonical(engine, url):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT canonical_url FROM articles WHERE url = :u"), {"u": url}).scalar() is None


def warc_page_canonical_port_out_of_range():
    return WarcCase(_html(canonical="https://dailyherald.example:99999/x"), loaded=True, check=_no_canonical)


def warc_page_canonical_broken_ipv6_literal():
    return WarcCase(_html(canonical="http://[::1/x"), loaded=True, check=_no_canonical)


def warc_page_lang_of_300_characters():
    return WarcCase(_replace(b'<html lang="en">', b'<html lang="en-' + b"x" * 300 + b'">',
                             domain="dailyherald.example"), loaded=True)


def _page_date(value: bytes) -> tuple[str, str, bytes]:
    url, date, body = _html(published=datetime(2026, 3, 1, 8, tzinfo=timezone.utc))
    return url, date, body.replace(b"2026-03-01T08:00:00Z", value)


def warc_page_published_9999_12_31():
    return WarcCase(_page_date(b"9999-12-31T00:00:00Z"), loaded=True)


def warc_page_published_offset_past_9999():
    return WarcCase(_page_date(b"9999-12-31T23:59:59-05:00"), loaded=True)


def warc_page_published_year_zero():
    return WarcCase(_page_date(b"0000-01-01T00:00:00Z"), loaded=True)


def warc_page_published_2039():
    return WarcCase(_page_date(b"2039-01-01T00:00:00Z"), loaded=True)


# -- rows the warehouse refuses: the batch is written again row by row ----------------------

def warc_article_refused_by_the_database():
    return WarcCase(_html(title="POISON headline of a refused article"), skip="load_error", reason="row refused",
                    refuse=("articles", "title", "POISON"))


def warc_page_row_refused_by_the_database():
    url, body = _page()
    return WarcCase(("https://dailyherald.example/poison/1", CAPTURE, body), skip="load_error",
                    reason="row refused", refuse=("pages", "url", "poison"))


CASES = [
    warc_target_uri_port_out_of_range, warc_target_uri_broken_ipv6_literal, warc_target_uri_port_not_a_number,
    warc_target_uri_without_a_host, warc_target_uri_longer_than_a_url, warc_date_year_10000, warc_date_year_zero,
    warc_date_offset_past_9999, warc_date_2999_01_01, warc_date_0001_01_01, warc_date_not_a_date,
    warc_host_of_300_characters, warc_page_nul_in_title_and_text, warc_page_of_a_huge_vocabulary,
    warc_page_canonical_port_out_of_range, warc_page_canonical_broken_ipv6_literal, warc_page_lang_of_300_characters,
    warc_page_published_9999_12_31, warc_page_published_offset_past_9999, warc_page_published_year_zero,
    warc_page_published_2039, warc_article_refused_by_the_database, warc_page_row_refused_by_the_database,
]


def _import(engine, settings, path, **kw):
    opts = ImportOptions(workers=0, batch_size=2, chunk_size=2, **kw)
    return import_warcs(engine, settings, [path], options=opts)


SLOW = {warc_page_of_a_huge_vocabulary}  # extracting 1.1 MB of text takes seconds


@pytest.mark.parametrize("quirk", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in CASES],
                         ids=lambda f: f.__name__)
def test_warc_record_quirk(quirk, engine, settings, tmp_path):
    case = quirk()
    good = warc_pages(GOOD_BEFORE + GOOD_AFTER)
    path = write_warc(tmp_path / f"{quirk.__name__}.warc.gz", good[:GOOD_BEFORE] + [case.record] + good[GOOD_BEFORE:])
    if case.refuse:
        refuse_rows(engine, *case.refuse)
    started = datetime.now(timezone.utc)

    stats = _import(engine, settings, path)["files"][str(path)]

    assert stats["status"] == "done", stats
    assert stats["records"] == len(good) + 1
    hostile = canonicalize_url(case.record[0]) if case.loaded else None
    expected = {canonicalize_url(u) for u, _, _ in good} | ({hostile} if hostile else set())
    assert article_urls(engine) == expected, (stats, page_states(engine))
    assert stats["articles"] == len(expected)
    if case.skip:
        assert stats["skipped"].get(case.skip) == 1, stats
        assert any(case.reason in e for e in stats["errors"]), stats["errors"]
    else:
        assert not stats["errors"], stats["errors"]
    assert_dates_sane(engine)
    with engine.connect() as conn:
        captures = {r.url: as_aware(r.fetched_at) for r in conn.execute(text("SELECT url, fetched_at FROM pages"))}
    for url, _, _ in good:
        assert captures[canonicalize_url(url)] == datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    if case.capture_now:
        assert started - timedelta(seconds=5) <= captures[hostile] <= datetime.now(timezone.utc)
    if case.check:
        case.check(engine, hostile)
    if case.refuse and case.refuse[0] == "articles":  # failed with the database's reason, not half-written
        [(state, kind, reason)] = [v for u, v in page_states(engine).items() if u not in expected]
        assert (state, kind) == ("failed", "load") and "row refused" in reason

    before = counts(engine)
    again = _import(engine, settings, path)["files"][str(path)]
    assert again["status"] == "already_done" and counts(engine) == before
    if case.refuse and case.refuse[0] == "articles":  # the refusal lifted: a re-import completes it
        allow_rows(engine, case.refuse[0])
        redone = _import(engine, settings, path, reprocess=True)["files"][str(path)]
        assert redone["status"] == "done" and not redone["skipped"].get("load_error")
        assert counts(engine)["articles"] == before["articles"] + 1 and counts(engine)["pages"] == before["pages"]


@pytest.mark.slow
def test_cli_import_reports_records_set_aside_per_file_and_exits_0(engine, tmp_path):
    """`newsdesk import`: records set aside are counted per file with their reasons and do not
    fail the import (exit 0); a re-run is a no-op."""
    url = engine.url.render_as_string(hide_password=False)
    a = write_warc(tmp_path / "a.warc.gz", warc_pages(2) + [_with_uri("http://[::1/x")] + warc_pages(2, start=2))
    b = write_warc(tmp_path / "b.warc", [_with_date("10000-01-01T00:00:00Z")] + warc_pages(2, start=4), gzip=False)
    run = subprocess.run([str(NEWSDESK), "import", str(a), str(b), "--database", url, "--workers", "0", "-q"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    fa, fb = report["files"][str(a)], report["files"][str(b)]
    assert (fa["status"], fa["records"], fa["articles"], fa["skipped"]) == ("done", 5, 4, {"bad_url": 1})
    assert "Invalid IPv6 URL" in fa["errors"][0]
    assert (fb["status"], fb["records"], fb["articles"], fb["skipped"]) == ("done", 3, 3, {})
    assert report["failed_files"] == [] and counts(engine)["articles"] == 7
    again = subprocess.run([str(NEWSDESK), "import", str(a), str(b), "--database", url, "--workers", "0", "-q"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and counts(engine)["articles"] == 7


def test_warc_target_uri_with_a_nul_is_set_aside_and_reported(engine, settings, tmp_path):
    """A NUL inside a target URI's host: the record is set aside, its reason (quoting the URI)
    stored in the file's progress row on both databases, its neighbours imported."""
    good = warc_pages(3, start=60)
    path = write_warc(tmp_path / "nul.warc.gz", good[:1] + [_with_uri("https://daily\x00herald.example/x")] + good[1:])
    stats = _import(engine, settings, path)["files"][str(path)]
    assert stats["status"] == "done" and stats["skipped"] == {"bad_url": 1} and stats["articles"] == 3
    with engine.connect() as conn:
        [errors] = conn.execute(text("SELECT errors FROM archive_files")).scalars()
    errors = json.loads(errors) if isinstance(errors, str) else errors
    assert "control characters" in errors[0] and "\\u0000" not in json.dumps(errors)
