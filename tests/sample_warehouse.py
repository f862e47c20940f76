"""A small, realistic warehouse for tests, docs and demos of the analytics layer.

Seven outlets; one Reuters story about Russian "buffer zones" in Ukraine republished
by four outlets (exact, near and paraphrased copies); an ECB story with one copy;
unrelated stories (one that says "buffers", one "zones", one in German, one still
waiting for dedup, one a month old); feeds in every state with their poll_log.

Rows are written through SQLAlchemy Core into the real tables, as dedup would leave
them: ``articles.cluster_id/relation/similarity`` and ``clusters.original_article_id``.
Times are relative to ``now`` so that the 24-hour/7-day windows of ``v_feed_health``
hold.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from newsdesk.storage import schema

BUFFER_ORIGINAL = (
    "Russia's Putin says army is creating 'buffer zones' inside Ukraine",
    "Russian President Vladimir Putin said on Thursday that his forces were creating buffer zones "
    "inside Ukraine along the border to protect Russian regions from Ukrainian shelling and drone attacks. "
    "Speaking at a meeting with military commanders in Moscow, Putin said the buffer zones in the Sumy and "
    "Kharkiv regions would be widened as the army advanced. Ukrainian officials said the statement was "
    "cover for a new offensive and that civilians in frontline villages were being evacuated. "
    "Kyiv has repeatedly said it will not accept any demilitarised strip on its own territory, and "
    "Western governments described the plan as an attempt to seize more land.",
)
NEAR_TEXT = BUFFER_ORIGINAL[1].replace("on Thursday", "on Thursday, May 22,").replace(
    "Western governments described", "European governments have described")
PARAPHRASE = (
    "Putin: Russian troops are carving out a buffer zone along Ukraine's border",
    "Vladimir Putin told commanders in Moscow that Russian troops are establishing a buffer zone on "
    "Ukrainian soil, in the Sumy and Kharkiv regions, which he said would keep Russian border towns out of "
    "range of Ukrainian artillery and drones. Officials in Kyiv called it a pretext for another offensive "
    "and said villages near the front were being evacuated; allies of Ukraine called it a land grab.",
)
ECB = (
    "ECB holds interest rates steady as inflation cools",
    "The European Central Bank left its deposit rate unchanged at 2% on Thursday, saying inflation in the "
    "euro zone was close to its target and that the economy was proving resilient to trade tensions. "
    "President Christine Lagarde said the bank was in a good place but stood ready to act.",
)
BANKS = (
    "Regulators tell banks to build bigger capital buffers",
    "Britain's bank regulator asked lenders to hold larger capital buffers against a possible downturn in "
    "commercial property, raising the countercyclical buffer rate for the first time since 2023.",
)
TIMEZONES = (
    "Why the EU still cannot agree on ending clock changes",
    "Seven years after the European Parliament voted to stop changing the clocks, member states still "
    "disagree on which time zones they would keep, and the proposal remains stuck in the Council.",
)
STORM = (
    "Storm brings flooding and power cuts to western Britain",
    "Heavy rain and gusts of up to 90 mph brought flooding and power cuts to Wales and the west of England "
    "overnight, with the Met Office issuing amber warnings and rail services cancelled.",
)
GERMAN = (
    "Selenskyj weist russische Pläne für eine Pufferzone zurück",
    "Der ukrainische Präsident Wolodymyr Selenskyj hat die russischen Pläne für eine Pufferzone im Norden "
    "des Landes zurückgewiesen. Die Ukraine werde keine Gebiete abtreten, sagte er am Freitag in Kyjiw.",
)
WILDFIRE = (
    "Wildfire forces evacuations near Marseille",
    "A wildfire fanned by strong winds forced the evacuation of hundreds of residents north of Marseille "
    "on Tuesday, and flights at the city's airport were briefly suspended.",
)
OLD = (
    "Ukraine and Russia exchange prisoners of war",
    "Ukraine and Russia exchanged hundreds of prisoners of war on Monday in a swap mediated by the "
    "United Arab Emirates, the largest in months.",
)

SOURCES = [
    # name, domain, language, in registry
    ("Reuters", "www.reuters.com", "en", True),
    ("Yahoo News", "news.yahoo.com", "en", True),
    ("MSN", "www.msn.com", "en", True),
    ("US News", "www.usnews.com", "en", True),
    ("Kyiv Post", "www.kyivpost.com", "en", True),
    ("BBC News", "www.bbc.co.uk", "en", True),
    ("Deutsche Welle", "www.dw.com", "de", True),
]


def build_sample_warehouse(engine: Engine, now: datetime | None = None) -> dict:
    """Fill an (upgraded, empty) warehouse; returns ids and expectations for tests."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    day0 = now.replace(hour=0, minute=0, second=0) - timedelta(days=2)  # the buffer-zones story's day
    out: dict = {"now": now, "story_day": day0.date()}
    with engine.begin() as conn:
        src = {}
        for name, domain, lang, reg in SOURCES:
            src[name] = conn.execute(insert(schema.sources).values(
                name=name, domain=domain, homepage=f"https://{domain}/", language=lang, in_registry=reg,
                created_at=now - timedelta(days=60)).returning(schema.sources.c.id)).scalar_one()
        out["sources"] = src

        feeds = {}
        feed_specs = {
            # key: source, url, active, disabled_reason, consecutive_failures, last_status
            "reuters": ("Reuters", "https://www.reuters.com/world/rss", True, None, 0, 200),
            "yahoo": ("Yahoo News", "https://news.yahoo.com/rss/world", True, None, 0, 304),
            "msn": ("MSN", "https://www.msn.com/en-us/news/world/rss", True, None, 3, 503),
            "usnews": ("US News", "https://www.usnews.com/topics/subjects/world/rss", True, None, 0, 200),
            "kyivpost": ("Kyiv Post", "https://www.kyivpost.com/feed", False, "HTTP 410 Gone for 14 days", 9, 410),
            "bbc": ("BBC News", "https://feeds.bbci.co.uk/news/uk/rss.xml", True, None, 0, 200),
            "dw": ("Deutsche Welle", "https://rss.dw.com/rdf/rss-de-all", True, None, 0, None),
        }
        for key, (source, url, active, reason, fails, status) in feed_specs.items():
            feeds[key] = conn.execute(
                insert(schema.feeds)
                .values(
                    source_id=src[source],
                    url=url,
                    kind="feed",
                    active=active,
                    disabled_reason=reason,
                    consecutive_failures=fails,
                    failure_score=float(fails),
                    last_status=status,
                    last_error="HTTP 503 Service Unavailable"
                    if key == "msn"
                    else ("HTTP 410 Gone" if key == "kyivpost" else None),
                    last_polled_at=None if key == "dw" else now - timedelta(minutes=10),
                    last_success_at=None if key in ("dw",) else now - timedelta(hours=1 if key != "msn" else 4),
                    next_poll_at=now + timedelta(minutes=5),
                    created_at=now - timedelta(days=60),
                )
                .returning(schema.feeds.c.id)
            ).scalar_one()
        out["feeds"] = feeds

        polls = []

        def poll(key, ago, outcome, status=200, new=0, entries=20, error=None, kind=None):
            polls.append(dict(feed_id=feeds[key], run_key=f"sample/{len(polls)}", polled_at=now - ago,
                              outcome=outcome, status_code=status, bytes=48_000 if outcome == "ok" else 0,
                              latency_ms=180, entries=entries, new_entries=new, error_kind=kind, error=error))

        for h in range(0, 24, 3):  # Reuters: healthy, 8 polls in the last 24h, new entries
            poll("reuters", timedelta(hours=h, minutes=10), "ok", new=2 if h % 6 == 0 else 0)
        poll("reuters", timedelta(days=3), "ok", new=5)
        poll("reuters", timedelta(days=10), "ok", new=7)  # outside the 7-day window
        for h in range(0, 24, 6):  # Yahoo: mostly 304s
            poll("yahoo", timedelta(hours=h, minutes=10), "not_modified" if h else "ok", status=304 if h else 200,
                 new=0 if h else 3)
        for h, outcome in [(20, "ok"), (12, "error"), (6, "error"), (0, "error")]:  # MSN: failing since noon
            poll("msn", timedelta(hours=h, minutes=10), outcome, status=200 if outcome == "ok" else 503,
                 new=1 if outcome == "ok" else 0, entries=20 if outcome == "ok" else None,
                 error=None if outcome == "ok" else "HTTP 503 Service Unavailable",
                 kind=None if outcome == "ok" else "http_5xx")
        poll("usnews", timedelta(hours=2), "ok", new=1)
        poll("usnews", timedelta(hours=14), "unchanged", new=0)
        poll("kyivpost", timedelta(days=5), "error", status=410, entries=None, error="HTTP 410 Gone", kind="http_4xx")
        poll("bbc", timedelta(hours=1), "ok", new=0)  # polled, nothing new this week: stale
        poll("bbc", timedelta(days=9), "ok", new=4)
        conn.execute(insert(schema.poll_log), polls)
        out["polls"] = len(polls)

        articles = {}

        def article(key, source, feed, title_text, published, slug, language="en", author=None):
            title, body = title_text
            domain = dict((n, d) for n, d, _, _ in SOURCES)[source]
            url = f"https://{domain}/{slug}"
            page_id = conn.execute(insert(schema.pages).values(
                url=url, seen_url=url, source_id=src[source], feed_id=feeds[feed] if feed else None,
                origin="feed", state="extracted", attempts=1, discovered_at=published + timedelta(minutes=5),
                fetched_at=published + timedelta(minutes=6), http_status=200, final_url=url,
                content_type="text/html; charset=utf-8", entry_published_at=published,
            ).returning(schema.pages.c.id)).scalar_one()
            articles[key] = conn.execute(insert(schema.articles).values(
                page_id=page_id, source_id=src[source], url=url, canonical_url=url, domain=domain, title=title,
                text=body, clean_text=body, author=author, published_at=published, sitename=source,
                language=language, word_count=len(body.split()),
                text_sha256=hashlib.sha256(body.encode()).hexdigest(), extractor="trafilatura",
                extracted_at=published + timedelta(minutes=7), dedup_state="pending",
            ).returning(schema.articles.c.id)).scalar_one()

        t = day0 + timedelta(hours=9, minutes=12)
        article(
            "buffer",
            "Reuters",
            "reuters",
            BUFFER_ORIGINAL,
            t,
            "world/europe/putin-says-russia-creating-buffer-zones-inside-ukraine-2026-05-22/",
            author="Reuters staff",
        )
        article("buffer_yahoo", "Yahoo News", "yahoo", BUFFER_ORIGINAL, t + timedelta(minutes=40),
                "putin-says-russia-creating-buffer-091200123.html")
        article("buffer_msn", "MSN", "msn", (BUFFER_ORIGINAL[0], NEAR_TEXT), t + timedelta(hours=1, minutes=5),
                "en-us/news/world/putin-says-russia-creating-buffer-zones-inside-ukraine/ar-AA1F2x")
        article("buffer_usnews", "US News", "usnews", (BUFFER_ORIGINAL[0], NEAR_TEXT), t + timedelta(hours=2),
                "news/world/articles/2026-05-22/putin-says-russia-creating-buffer-zones-inside-ukraine")
        article("buffer_kyivpost", "Kyiv Post", "kyivpost", PARAPHRASE, t + timedelta(hours=5),
                "post/52231-putin-russian-troops-carving-out-buffer-zone")
        article("ecb", "Reuters", "reuters", ECB, t - timedelta(days=1, hours=-3),
                "markets/europe/ecb-holds-rates-steady-inflation-cools/")
        article("ecb_yahoo", "Yahoo News", "yahoo", ECB, t - timedelta(days=1, hours=-4),
                "ecb-holds-interest-rates-steady-131500456.html")
        article("banks", "BBC News", "bbc", BANKS, t + timedelta(days=1), "news/business-capital-buffers")
        article("timezones", "BBC News", "bbc", TIMEZONES, t - timedelta(days=3), "news/world-europe-clock-change")
        article("storm", "BBC News", "bbc", STORM, t + timedelta(hours=14), "news/uk-wales-storm-flooding")
        article("german", "Deutsche Welle", None, GERMAN, t + timedelta(days=1, hours=2),
                "de/selenskyj-weist-pufferzone-zurueck/a-7260", language="de")
        article("wildfire", "Reuters", "reuters", WILDFIRE, now - timedelta(hours=3),
                "world/europe/wildfire-forces-evacuations-near-marseille/")
        article("old", "Reuters", "reuters", OLD, t - timedelta(days=25), "world/europe/ukraine-russia-prisoner-swap/")
        out["articles"] = articles

        groups = {
            "buffer": [("buffer_yahoo", "exact", 1.0), ("buffer_msn", "near", 0.962),
                       ("buffer_usnews", "near", 0.958), ("buffer_kyivpost", "paraphrase", 0.71)],
            "ecb": [("ecb_yahoo", "exact", 1.0)],
            "banks": [], "timezones": [], "storm": [], "german": [], "old": [],
        }  # "wildfire" is still waiting for dedup
        clusters = {}
        for orig, copies in groups.items():
            cid = conn.execute(insert(schema.clusters).values(
                original_article_id=articles[orig], created_at=now, updated_at=now,
            ).returning(schema.clusters.c.id)).scalar_one()
            clusters[orig] = cid
            conn.execute(update(schema.articles).where(schema.articles.c.id == articles[orig]).values(
                cluster_id=cid, relation="original", similarity=1.0, dedup_state="done"))
            for key, relation, sim in copies:
                conn.execute(update(schema.articles).where(schema.articles.c.id == articles[key]).values(
                    cluster_id=cid, relation=relation, similarity=sim, dedup_state="done"))
                conn.execute(insert(schema.dedup_links).values(
                    article_id=articles[key], original_article_id=articles[orig], relation=relation,
                    similarity=sim, method="sample", evidence={}, decided_at=now))
        out["clusters"] = clusters
    return out
