"""Per-source extraction health (v_source_health, check_source_health) on both warehouses:
a source whose pages change structure (article text moved into a JS-only blob, then
pages that carry only image captions) is flagged; a steady source is not."""

from __future__ import annotations

import json
import logging
import random
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from newsdesk import pipeline
from newsdesk.config import Settings
from newsdesk.health import check_source_health, source_health
from newsdesk.storage import loads, schema

WORDS = ("government council river budget school hospital minister village farmers market report police court "
         "weather storm harbour museum library election mayor festival train bridge water energy price city "
         "teachers nurses drivers shops tourism museum harvest island ferry airport road tunnel").split()
DAY0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def _para(rng: random.Random, n: int = 40) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def article_html(title: str, paras: list[str], published: str | None = None) -> str:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f"<html lang='en'><head><title>{title}</title>{meta}<meta property='og:type' content='article'></head>"
            f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}</h1>{body}"
            f"</article><footer>Contact us</footer></body></html>")


def js_only_html(title: str, paras: list[str]) -> str:
    """After the redesign: the story is rendered client-side from a JSON blob."""
    blob = json.dumps({"story": {"title": title, "body": paras}})
    return (f"<html lang='en'><head><title>{title}</title><meta property='og:type' content='article'></head>"
            f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><div id='app'><h1>{title}</h1>"
            f"</div><script>window.__STORY__ = {blob};</script></body></html>")


def teaser_html(title: str, rng: random.Random) -> str:
    """Later: only the standfirst is server-rendered (captions would not count: they are not text)."""
    return (f"<html lang='en'><head><title>{title}</title><meta property='og:type' content='article'></head>"
            f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><div id='app'><h1>{title}</h1>"
            f"<p>{_para(rng, 30)}</p></div><script>window.__STORY__ = {{}};</script></body></html>")


def add_page(engine, url: str, html: str, fetched_at: datetime, feed_date: datetime | None = None) -> int:
    with engine.begin() as conn:
        source_id = loads.source_for_domain(conn, url.split("/")[2])
        [page_id] = loads.enqueue_pages(conn, [loads.NewPage(url=url, origin="feed", source_id=source_id,
                                                             published_at=feed_date)])
        loads.store_raw(conn, page_id, html.encode("utf-8"), {"content-type": "text/html; charset=utf-8"})
        loads.mark_page(conn, page_id, "fetched", attempts=1, fetched_at=fetched_at, final_url=url,
                        http_status=200, content_type="text/html")
    return page_id


def _settings(engine) -> Settings:
    return Settings.from_env(database_url=engine.url.render_as_string(hide_password=False))


@pytest.mark.slow
def test_redesign_is_flagged_and_steady_source_is_not(engine, caplog):
    rng = random.Random(7)
    ids = []
    for day in range(8):
        at = DAY0 + timedelta(days=day)
        for i in range(3):
            paras = [_para(rng) for _ in range(6)]
            ids.append(add_page(engine, f"https://steady.example/{day}/{i}",
                                article_html(f"Steady {day} {i}", paras, at.isoformat()), at))
            title = f"Redesign {day} {i}"
            if day < 6:
                html = article_html(title, paras, at.isoformat())
            elif day == 6:
                html = js_only_html(title, paras)      # nothing left for the extractor: no_text
            else:
                html = teaser_html(title, rng)         # a standfirst's words: extracted, but tiny
            # feed dates for the redesigned site only: its pages lost their date metadata
            ids.append(add_page(engine, f"https://redesign.example/{day}/{i}", html, at, feed_date=at))
    stats = pipeline.extract_pages(engine, _settings(engine), ids)
    assert stats["extract_errors"] == 3  # the JS-only day

    rows = source_health(engine)
    by = {(r["source"], r["day"]): r for r in rows}
    assert len(rows) == 16
    steady = [r for r in rows if r["source"] == "steady.example"]
    assert all(r["flag"] is None for r in steady)
    assert all(r["failure_rate"] == 0 and r["date_found_rate"] == 1.0 for r in steady)
    assert all(200 <= r["median_words"] <= 260 for r in steady)

    redesign = [by[("redesign.example", (DAY0 + timedelta(days=d)).date())] for d in range(8)]
    assert [r["flag"] for r in redesign[:6]] == [None] * 6
    assert redesign[0]["pages"] == 3 and redesign[0]["extracted"] == 3 and redesign[0]["baseline_days"] == 0
    assert redesign[5]["baseline_days"] == 5 and redesign[5]["baseline_failure_rate"] == 0
    day6, day7 = redesign[6], redesign[7]
    assert (day6["failed"], day6["extracted"], day6["failure_rate"]) == (3, 0, 1.0)
    assert day6["flag"] == "failure_spike"
    assert day7["extracted"] == 3 and day7["median_words"] < 60
    assert day7["flag"] == "words_drop"
    assert day7["date_found_rate"] == 0.0  # dates came from the feed
    assert redesign[0]["date_found_rate"] == 1.0

    with engine.connect() as conn:
        sources = dict(conn.execute(select(schema.articles.c.domain, schema.articles.c.date_source)
                                    .where(schema.articles.c.url.like("%/7/%"))).all())
    assert sources == {"steady.example": "page", "redesign.example": "feed"}

    # the warning for the operator, for the last days only
    with caplog.at_level(logging.WARNING, logger="newsdesk.health"):
        flagged = check_source_health(engine, days=2, today=(DAY0 + timedelta(days=7)).date())
    assert [(f["source"], f["day"], f["flag"]) for f in flagged] == [
        ("redesign.example", "2026-03-07", "failure_spike"), ("redesign.example", "2026-03-08", "words_drop")]
    assert "redesign.example" in caplog.text and "steady.example" not in caplog.text
    assert check_source_health(engine, days=1, today=date(2026, 4, 1)) == []


def test_health_check_never_raises(sqlite_engine):
    with sqlite_engine.begin() as conn:
        conn.execute(text("DROP VIEW v_source_health"))
    assert check_source_health(sqlite_engine) == []
