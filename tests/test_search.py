"""One search grammar on SQLite and PostgreSQL: a table of queries over the offline snapshot
must give the same stories on both, and those are the stories the grammar
(``newsdesk.analytics.search``'s docstring) says."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from newsdesk.analytics import search
from newsdesk.storage import search_index
from newsdesk.storage.search_index import ACCENTS, ACCENTS_FOLDED, fold_accents

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))

# The snapshot's stories (a cluster counts once, by its original), by the last part of their URL.
BUFFER = "russia-seeking-to-create-buffer-zones-in-ukraine-says-kremlin"  # Al Jazeera, with 3 copies
ISTANBUL = "talks-last-40-minutes-in-istanbul-as-moscow-speaks-of-buffer-zones"  # Eastern Ledger, own report
WILDFIRES = "thousands-flee-as-wildfires-spread-across-southern-europe-amid-heatwave"
CORAL = "warming-seas-push-coral-reefs-to-record-bleaching-scientists-say"
BARGE = "danube-barge-traffic-resumes-as-water-levels-recover"
AFROBEATS = "five-new-afrobeats-releases-to-add-to-your-weekend-playlist"
LAGOS = "lagos-commuters-turn-to-ferries-as-bridge-repairs-drag-on"
TEA = "kenyan-tea-farmers-look-to-new-markets-as-auction-prices-slip-20250724"
SOLAR = "solar-mini-grids-bring-power-to-remote-villages-20250723"
PHONES = "smartphone-makers-bet-on-repairable-designs.html"
MARATHON = "city-marathon-draws-record-field-despite-summer-heat.html"
EVERY_STORY = {BUFFER, ISTANBUL, WILDFIRES, CORAL, BARGE, AFROBEATS, LAGOS, TEA, SOLAR, PHONES, MARATHON}
NOT_BUFFER = EVERY_STORY - {BUFFER, ISTANBUL}

SEARCH_TABLE = [
    # query, the stories it finds
    ("buffer zones", {BUFFER, ISTANBUL}),
    ('"buffer zones"', {BUFFER, ISTANBUL}),
    ('"buffer zone"', {BUFFER, ISTANBUL}),  # stemmed: zone = zones
    ("zone", {BUFFER, ISTANBUL}),
    ("buffer NOT zones", set()),  # every buffer story speaks of zones
    ("buffer -zones", set()),
    ("-buffer", NOT_BUFFER),  # exclusions alone: every other story
    ("NOT buffer", NOT_BUFFER),
    ("-buffer -the", set()),
    ("buffer OR coral", {BUFFER, ISTANBUL, CORAL}),
    ("buffer or coral", set()),  # lower-case "or" is a word: no story has all three
    ("reefs OR barge OR marathon", {CORAL, BARGE, MARATHON}),
    ("coral OR wildfires -Europe", {CORAL}),
    ("Kremlin’s", {BUFFER, ISTANBUL}),  # the possessive is dropped: Kremlin
    ("Kremlin's", {BUFFER, ISTANBUL}),
    ('"Russia’s"', {BUFFER, ISTANBUL}),  # in a phrase the s stays: "Russia's" and "Russia’s" alike
    ("Russia's", {BUFFER, ISTANBUL}),
    ("l’Istanbul", {BUFFER, ISTANBUL}),  # an elided letter is dropped
    ("Krémlin", {BUFFER, ISTANBUL}),  # accents folded
    ("the", EVERY_STORY),  # no stop words
    ('"to the"', {AFROBEATS, LAGOS, BUFFER, CORAL}),
    ("buff*", {BUFFER, ISTANBUL}),  # prefix
    ("kreml*", {BUFFER, ISTANBUL}),
    ("heat*", {WILDFIRES, CORAL, MARATHON}),  # heat, heatwave
    ("repairs*", {LAGOS, PHONES}),  # stemmed first: repair*
    ("Istanbul talks", {BUFFER, ISTANBUL}),
    ('buffer zones -"Istanbul talks"', {BUFFER, ISTANBUL}),  # not next to each other in either
    ("Ukraine -Kremlin", set()),
    ("EU", {PHONES}),
    ('"world’s largest"', set()),
    ('buffer" OR title:*', {BUFFER, ISTANBUL, MARATHON}),  # buffer OR title*: no FTS5 or tsquery syntax
    ("NEAR(buffer zones)", set()),  # words, not FTS5's NEAR: "near buffer" next to each other, and zones
]


def slug(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]



@pytest.mark.slow
@pytest.mark.parametrize("query, expected", SEARCH_TABLE, ids=[q for q, _ in SEARCH_TABLE])
def test_search_table(snapshot_warehouse, query, expected):
    found = [slug(s.url) for s in search.search(snapshot_warehouse, query, limit=100)]
    assert len(found) == len(set(found))  # a story once, copies collapsed
    assert set(found) == expected


@pytest.mark.slow
def test_search_dash_word_needs_no_double_dash(snapshot_warehouse):
    url = snapshot_warehouse.url.render_as_string(hide_password=False)
    done = subprocess.run([NEWSDESK, "search", "-buffer", "--json", "--limit", "50", "--database", url],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert {slug(s["url"]) for s in json.loads(done.stdout)} == NOT_BUFFER
    two_words = subprocess.run([NEWSDESK, "search", "buffer", "-zones", "--database", url],
                               capture_output=True, text=True, timeout=120)
    assert two_words.stdout.strip() == "no matching stories"


# --- the grammar itself -----------------------------------------------------------------------


def test_fts5_translation_quotes_every_term():
    assert search.fts5_query("buffer zones") == '"buffer" AND "zones"'
    assert search.fts5_query('"buffer zones" Ukraine') == '"buffer zones" AND "Ukraine"'
    assert search.fts5_query("wildfire OR storm") == '("wildfire" OR "storm")'
    assert search.fts5_query("buffer -banks NOT rates") == '(("buffer") NOT "banks") NOT "rates"'
    assert search.fts5_query("buff* Kremlin’s l’Ukraine") == '"buff" * AND "Kremlin" AND "Ukraine"'
    assert search.fts5_query('"Kremlin’s forces" café') == '"Kremlin\'s forces" AND "cafe"'
    assert search.fts5_query('title:"x" NEAR(') == '"title: x" AND "NEAR("'
    assert search.fts5_query("-buffer") == ""  # exclusions alone: handled outside FTS5
    assert search.fts5_query("- ") == "" and search.fts5_query("*") == "" and search.fts5_query("OR") == '"OR"'
    assert not search.parse_query('"" - * ’')


def test_operators_are_capitals_and_bind_to_positive_terms():
    parsed = search.parse_query("a OR b c -d NOT e or f OR")
    assert [[t.text for t in g] for g in parsed.groups] == [["a", "b"], ["c"], ["or"], ["f"]]
    assert [t.text for t in parsed.excluded] == ["d", "e"]
    parsed = search.parse_query("x -a OR b")  # OR after an exclusion is a word
    assert [[t.text for t in g] for g in parsed.groups] == [["x"], ["OR"], ["b"]]


def test_postgres_tsquery_is_built_from_the_same_terms():
    parsed = search.parse_query('buff* OR "a b" -c')
    names = {term: f"t{i}" for i, term in enumerate([*parsed.groups[0], *parsed.excluded])}
    assert search.pg_tsquery(parsed, "'simple'::regconfig", names) == (
        "((to_tsquery('simple'::regconfig, :t0) || phraseto_tsquery('simple'::regconfig, :t1)) && "
        "!!phraseto_tsquery('simple'::regconfig, :t2))")
    assert search._pg_param(parsed.groups[0][0]) == "buff:*"


def test_accents_fold_as_sqlite_folds_them(engine):
    """PostgreSQL's newsdesk_fold and the query side (Python) fold exactly the letters SQLite's
    unicode61 remove_diacritics 2 folds, to the same letters."""
    fts = sqlite3.connect(":memory:")
    fts.execute("CREATE VIRTUAL TABLE f USING fts5(t, tokenize='unicode61 remove_diacritics 2')")
    fts.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
    letters = [chr(c) for c in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)] if chr(c).isalpha()]
    fts.executemany("INSERT INTO f(rowid, t) VALUES (?, ?)", [(i, f"q{ch}q") for i, ch in enumerate(letters)])
    sqlite_folds = {letters[doc]: term[1:-1] for term, doc in fts.execute("SELECT term, doc FROM v")}
    assert {ch: fold_accents(ch).lower() for ch in letters} == sqlite_folds
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            assert conn.execute(text("SELECT newsdesk_fold(:s)"), {"s": ACCENTS}).scalar() == fold_accents(ACCENTS)


def test_postgres_fold_gives_the_whole_translate_on_any_text(pg_engine):
    """newsdesk_fold translates only the accented letters a text holds (fast on English text):
    the same result as translate() over the whole list, whatever the text holds — no accent,
    a few, more distinct ones than MAX_FOLD_LETTERS, other scripts, combining marks, NULL."""
    rng = random.Random(7)
    texts = ["", "plain ASCII text, no accents at all. " * 40, "Café in São Paulo, Łódź and Ærøskøbing — “quoted”.",
             "中文文本，没有重音。日本語のテキスト。" * 30, ACCENTS[::-1] * 2, "e\u0301 combining, ſ long s, ẛ",
             "".join(rng.choice(ACCENTS[:search_index.MAX_FOLD_LETTERS - 5] + "ab c") for _ in range(3000)),
             "".join(rng.choice(ACCENTS + "ab c中\U0001F600") for _ in range(3000)), None]
    with pg_engine.connect() as conn:
        for value in texts:
            folded = conn.execute(text("SELECT newsdesk_fold(:s), translate(:s, :a, :f)"),
                                  {"s": value, "a": ACCENTS, "f": ACCENTS_FOLDED}).one()
            assert folded[0] == folded[1] == (fold_accents(value) if value is not None else None)
