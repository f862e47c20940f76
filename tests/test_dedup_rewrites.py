"""Rewrites as news sites publish them, and independent reports of the same event.

One invented wire story (a flooded rail tunnel) and what other sites make of it, in
tests/data/dedup: condensed (lightly and heavily reworded), expanded with background,
regrouped, a trimmed copy and a rewrite of that copy, a machine-spun copy, a two-paragraph
excerpt, and two other outlets' own reports of the flood that share its figures and one quote;
and a German story with a condensed rewrite and an independent report. Pure verification
first, then the pipeline on both warehouses.
"""

from __future__ import annotations

import itertools
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dedup_eval.load import insert_articles, partition  # noqa: E402

from newsdesk.dedup import align, dedup_pending  # noqa: E402
from newsdesk.dedup.clean import clean  # noqa: E402
from newsdesk.dedup.signatures import ANCHOR_SCHEME0, anchor_buckets  # noqa: E402
from newsdesk.dedup.verification import signed  # noqa: E402
from newsdesk.dedup.verify import Doc, compare, rewrite  # noqa: E402
from newsdesk.storage.schema import articles, dedup_signatures, lsh_buckets  # noqa: E402

DATA = Path(__file__).parent / "data" / "dedup"
T0 = datetime(2025, 6, 3, 17, 30, tzinfo=timezone.utc)

SOURCE = "rewrite_source_wire_story_tunnel_flood"
REWRITES = [
    "rewrite_condensed_to_a_third_new_headline",
    "rewrite_condensed_heavily_reworded_keeps_figures",
    "rewrite_expanded_with_background_paragraphs",
    "rewrite_reordered_closure_news_first",
    "spun_copy_about_forty_percent_words_swapped",
]
TRIMMED_COPY = "chain_copy_first_four_paragraphs_with_source_line"
CHAIN = "chain_rewrite_of_the_trimmed_copy"
EXCERPT = "excerpt_first_two_paragraphs_read_more"
INDEPENDENT = ["independent_same_event_passengers_story", "independent_same_event_council_row"]
DE_SOURCE, DE_CONDENSED = "rewrite_de_original_stellwerk_brand", "rewrite_de_condensed_stellwerk_brand"
DE_INDEPENDENT = "independent_de_same_event_pendler_chaos"


def read(name: str) -> tuple[str, str]:
    title, body = (DATA / f"{name}.txt").read_text(encoding="utf-8").split("\n\n", 1)
    return title, body


def doc(name: str) -> Doc:
    title, body = read(name)
    return Doc(clean(body, title).text)


# ----------------------------------------------------------------------------- pure verification

@pytest.mark.parametrize("name", REWRITES + [CHAIN])
def test_each_rewrite_is_a_paraphrase_of_the_wire_story(name):
    for a, b in [(doc(name), doc(SOURCE)), (doc(SOURCE), doc(name))]:
        v = compare(a, b)
        assert v.relation == "paraphrase", v.evidence
    matched, evidence = rewrite(doc(name), doc(SOURCE))
    assert matched, evidence


def test_a_heavily_reworded_condensed_copy_is_found_by_its_facts_in_order():
    """Few of its sentences share enough words with the source for the word-overlap alignment;
    the rewrite route finds every one of them, in order, by the names and figures they keep."""
    v = compare(doc("rewrite_condensed_heavily_reworded_keeps_figures"), doc(SOURCE))
    assert v.method == "rewrite-alignment", v.evidence
    found = v.evidence["rewrite"]
    assert found["in_order"] == found["sentences"] >= 5
    assert found["numbers_in_order"] >= 5 and found["shared_quotes"] == 1


def test_a_rewrite_of_a_trimmed_copy_matches_the_copy_it_was_made_from():
    v = compare(doc(CHAIN), doc(TRIMMED_COPY))
    assert v.relation == "paraphrase", v.evidence
    assert compare(doc(TRIMMED_COPY), doc(SOURCE)).relation == "near"


def test_an_excerpt_with_a_read_more_line_is_near_the_wire_story():
    v = compare(doc(EXCERPT), doc(SOURCE))
    assert v.relation == "near" and v.evidence["containment_copy"] > 0.9


def test_a_german_condensed_rewrite_is_a_paraphrase():
    assert compare(doc(DE_CONDENSED), doc(DE_SOURCE)).relation == "paraphrase"
    matched, evidence = rewrite(doc(DE_CONDENSED), doc(DE_SOURCE))
    assert matched, evidence


@pytest.mark.parametrize("independent,story", [(i, s) for i in INDEPENDENT
                                               for s in [SOURCE, TRIMMED_COPY, CHAIN, EXCERPT] + REWRITES]
                         + [(DE_INDEPENDENT, DE_SOURCE), (DE_INDEPENDENT, DE_CONDENSED)])
def test_independent_reports_of_the_same_event_stay_apart(independent, story):
    """Another outlet's report of the flood shares its figures (1,200 passengers, 1987, £42 million),
    names and a quote, in its own order and with its own details: never a copy, either way."""
    for a, b in [(doc(independent), doc(story)), (doc(story), doc(independent))]:
        v = compare(a, b)
        assert v.relation is None, v.evidence
        assert not rewrite(a, b)[0]


BRIDGE, BRIDGE_FREE = "rewrite_source_bridge_collapse", "rewrite_condensed_freely_names_kept"
BRIDGE_INDEPENDENT = "independent_same_event_bridge_names_shared"


def test_a_free_rewrite_naming_the_same_people_needs_less_of_the_story_in_order():
    """A four-sentence condensed rewrite in its own words: only a third of it is said, in order,
    by the story (below what a text of its length needs), but it names the same people and places
    as the story, so a third is enough; either way round."""
    from newsdesk.dedup.verify import REWRITE_ORDERED_AGREE_SHORT, REWRITE_ORDERED_SHORT

    for a, b in [(doc(BRIDGE_FREE), doc(BRIDGE)), (doc(BRIDGE), doc(BRIDGE_FREE))]:
        v = compare(a, b)
        assert (v.relation, v.method) == ("paraphrase", "rewrite-alignment"), v.evidence
        found = v.evidence["rewrite"]
        assert found["names_agree"] and found["sentences"] == 4
        assert REWRITE_ORDERED_AGREE_SHORT <= found["ordered"] < REWRITE_ORDERED_SHORT


@pytest.mark.parametrize("story", [BRIDGE, BRIDGE_FREE])
def test_a_report_naming_the_same_people_with_its_own_facts_stays_apart(story):
    """Another outlet's follow-up names the governor, the authority and its director, and the
    ferry from Tuesday, but tells its own facts and figures: not a copy of either text."""
    for a, b in [(doc(BRIDGE_INDEPENDENT), doc(story)), (doc(story), doc(BRIDGE_INDEPENDENT))]:
        v = compare(a, b)
        assert v.relation is None, v.evidence
        assert v.evidence["shared_names"] >= 0.7


def test_a_number_with_a_glued_ending_is_the_number():
    """Turkish case endings after an apostrophe and English ordinals: the figure a rewrite keeps."""
    assert {"9", "6"} <= set(align.terms("Savcılık 9'u tutuklama, 6'sı ise adli kontrol talep etti."))
    assert "10" in align.terms("Forensic police found the 10th victim inside the building.")
    assert "2024" in align.terms("Prices rose throughout 2024, the statistics office said.")


def test_the_decision_does_not_depend_on_which_text_comes_first():
    names = [SOURCE, TRIMMED_COPY, CHAIN, EXCERPT] + REWRITES + INDEPENDENT
    for a, b in itertools.combinations(names, 2):
        assert compare(doc(a), doc(b)).relation == compare(doc(b), doc(a)).relation, (a, b)


def test_the_same_lines_about_other_sites_are_not_the_same_statement():
    """Site furniture naming its own site, and template sentences about other people, do not align."""
    a = "\n\n".join(["Follow Harbour Herald on social media for breaking news alerts and the latest updates.",
                     "Harbour Herald is an independent news service bringing you the stories that matter.",
                     "Reproduction without permission is prohibited. All rights reserved."])
    b = a.replace("Harbour Herald", "Valley Voice")
    cov = align.coverage(align.sentence_terms(a), align.sentence_terms(b))
    assert cov.covered == 0 and cov.ordered == 0.0
    people = "Mayor Anna Kovacs said the budget would be approved by the council after a long debate about spending."
    others = people.replace("Anna Kovacs", "Tomas Lindqvist")
    assert align.coverage(align.sentence_terms(people), align.sentence_terms(others)).covered == 0
    assert align.coverage(align.sentence_terms(people), align.sentence_terms(people)).covered == 1


def test_a_promo_line_around_a_rewrite_does_not_count_against_it():
    title, body = read("rewrite_condensed_to_a_third_new_headline")
    promo = "\n\nSign up for our free morning newsletter and never miss a headline from our newsroom."
    source = align.sentence_terms(doc(SOURCE).text)
    plain = align.coverage(align.sentence_terms(clean(body, title).text), source)
    padded = align.coverage(align.sentence_terms(clean(body + promo, title).text), source)
    # (the added line changes the pair's sentence count, so the weights move a little)
    assert padded.trimmed == 1 and padded.ordered == pytest.approx(plain.ordered, abs=0.01)


def test_order_is_what_separates_a_rewrite_from_the_same_facts_regrouped():
    condensed = align.sentence_terms(doc("rewrite_condensed_heavily_reworded_keeps_figures").text)
    source = align.sentence_terms(doc(SOURCE).text)
    forward = align.coverage(condensed, source)
    backward = align.coverage(condensed[::-1], source)
    assert backward.any_order == pytest.approx(forward.any_order)
    assert backward.ordered < forward.ordered / 2


def test_names_are_the_capitalised_words_after_the_first():
    assert align.names("Pilar Bernabé told journalists in València on Saturday.") == {"bernab", "valènc", "saturd"}
    assert align.names("„Wir waren nicht gut genug“, sagte Jürgen Klopp bei „Sky“.") == {"jürgen", "klopp", "sky"}


# ----------------------------------------------------------------------------- the pipeline

def _set(names_hours: list[tuple[str, int]], dated: dict[str, object] | None = None) -> list[dict]:
    out = []
    for name, hours in names_hours:
        title, body = read(name)
        domain = f"{name.split('_')[0]}-{hours}.example"
        published = (dated or {}).get(name, T0 + timedelta(hours=hours))
        out.append(dict(url=f"https://{domain}/news/{name}", text=body, title=title, domain=domain,
                        source_name=domain, published_at=published, canonical_url=None,
                        fetched_at=T0 + timedelta(hours=hours, minutes=40)))
    return out


STORY = [(SOURCE, 0), (EXCERPT, 1), (TRIMMED_COPY, 2)] + [(n, 3 + i) for i, n in enumerate(REWRITES)]
NEGATIVES = [(INDEPENDENT[0], 4), (INDEPENDENT[1], 26)]


@pytest.mark.parametrize("order", ["id", "reversed"])
def test_rewrites_join_the_wire_story_and_independent_reports_stay_apart(engine, order):
    arts = _set(STORY + NEGATIVES)
    insert_articles(engine, arts if order == "id" else arts[::-1])
    dedup_pending(engine)
    parts, originals = partition(engine)
    story = {a["url"] for a in arts[:len(STORY)]}
    assert frozenset(story) in parts
    assert originals[frozenset(story)] == arts[0]["url"]
    for a in arts[len(STORY):]:
        assert frozenset({a["url"]}) in parts
    with engine.connect() as conn:
        relation = dict(conn.execute(select(articles.c.url, articles.c.relation)).all())
    assert {relation[a["url"]] for a in arts[3:len(STORY)]} == {"paraphrase"}


@pytest.mark.parametrize("order", ["id", "reversed"])
def test_a_free_rewrite_naming_the_same_people_joins_its_story(engine, order):
    arts = _set([(BRIDGE, 0), (BRIDGE_FREE, 6), (BRIDGE_INDEPENDENT, 30)])
    insert_articles(engine, arts if order == "id" else arts[::-1])
    dedup_pending(engine)
    parts, originals = partition(engine)
    pair = frozenset(a["url"] for a in arts[:2])
    assert pair in parts and originals[pair] == arts[0]["url"]
    assert frozenset({arts[2]["url"]}) in parts


def test_an_excerpt_arriving_first_gives_way_to_the_full_story(engine):
    arts = _set([(EXCERPT, 1), (SOURCE, 0), ("rewrite_condensed_heavily_reworded_keeps_figures", 5)])
    insert_articles(engine, arts)
    dedup_pending(engine)
    parts, originals = partition(engine)
    whole = frozenset(a["url"] for a in arts)
    assert whole in parts and originals[whole] == arts[1]["url"]


def test_a_rewrite_of_a_trimmed_copy_joins_the_story(engine):
    arts = _set([(SOURCE, 0), (TRIMMED_COPY, 2), (CHAIN, 12)])
    insert_articles(engine, arts)
    dedup_pending(engine)
    parts, _ = partition(engine)
    assert frozenset(a["url"] for a in arts) in parts


def test_a_copy_whose_date_was_guessed_from_its_text_joins_the_story(engine):
    arts = _set([(SOURCE, 0), (TRIMMED_COPY, 30)],
                dated={TRIMMED_COPY: datetime(1987, 1, 1, tzinfo=timezone.utc)})
    arts[1]["date_source"] = "text"
    insert_articles(engine, arts)
    dedup_pending(engine)
    parts, originals = partition(engine)
    assert frozenset(a["url"] for a in arts) in parts


def test_a_guessed_date_does_not_make_a_copy_the_original(engine):
    """The copy arrives first with a date guessed from a year in its text (1987, years before the
    story): it is placed by its capture, and the story's own dated page becomes the original."""
    arts = _set([(TRIMMED_COPY, 30), (SOURCE, 0)],
                dated={TRIMMED_COPY: datetime(1987, 1, 1, tzinfo=timezone.utc)})
    arts[0]["date_source"] = "text"
    insert_articles(engine, arts)
    dedup_pending(engine)
    parts, originals = partition(engine)
    whole = frozenset(a["url"] for a in arts)
    assert whole in parts and originals[whole] == arts[1]["url"]


def _in_runs(engine, runs: list[list[dict]]) -> None:
    """Each run's articles inserted and deduplicated before the next run's: later ones find the
    earlier ones through the warehouse's index, not the batch's memory."""
    for run in runs:
        insert_articles(engine, run)
        dedup_pending(engine)


@pytest.mark.parametrize("name", ["rewrite_condensed_to_a_third_new_headline",
                                  "rewrite_condensed_heavily_reworded_keeps_figures",
                                  "rewrite_expanded_with_background_paragraphs",
                                  "rewrite_reordered_closure_news_first",
                                  "spun_copy_about_forty_percent_words_swapped",
                                  EXCERPT])
def test_a_later_rewrite_finds_the_indexed_story(engine, name):
    """Each kind of rewrite deduplicated in a later run than the wire story: found through the
    warehouse's bands (names and numbers for those that share few words), beside the
    independent reports, which stay apart."""
    story = _set([(SOURCE, 0)] + NEGATIVES)
    later = _set([(name, 5)])
    _in_runs(engine, [story, later])
    parts, originals = partition(engine)
    pair = frozenset({story[0]["url"], later[0]["url"]})
    assert pair in parts and originals[pair] == story[0]["url"]
    for a in story[1:]:
        assert frozenset({a["url"]}) in parts


def test_a_rewrite_sharing_no_word_band_is_found_by_the_names_and_numbers_it_keeps(engine):
    """The chain's rewrite shares no band of word 3-grams or content words with the wire story
    (content-word Jaccard 0.2): the anchor bands, rebuilt from the warehouse's stored features,
    make the story a candidate."""
    name = CHAIN
    sig_a, doc_a = signed(doc(SOURCE).text)
    sig_b, doc_b = signed(doc(name).text)
    assert not set(sig_a.buckets) & set(sig_b.buckets)
    shared = set(anchor_buckets(*doc_a.feature_hashes)) & set(anchor_buckets(*doc_b.feature_hashes))
    assert len(shared) >= 2 and all(s >= ANCHOR_SCHEME0 for s, _ in shared)
    story, later = _set([(SOURCE, 0)]), _set([(name, 6)])
    _in_runs(engine, [story, later])
    parts, _ = partition(engine)
    assert frozenset({story[0]["url"], later[0]["url"]}) in parts
    with engine.connect() as conn:
        stored = conn.execute(select(dedup_signatures).where(dedup_signatures.c.article_id == select(
            articles.c.id).where(articles.c.url == story[0]["url"]).scalar_subquery())).one()
        indexed = set(conn.execute(select(lsh_buckets.c.scheme, lsh_buckets.c.bucket).where(
            lsh_buckets.c.scheme >= ANCHOR_SCHEME0)).all())
    assert set(anchor_buckets(stored.numbers, stored.names)) == indexed >= shared


def test_an_excerpt_indexed_first_gives_way_to_the_full_wire_story(engine):
    """The wire's two-paragraph excerpt is deduplicated alone (it founds the cluster); the full
    story arrives in a later run, joins through the excerpt's bands and becomes the original,
    and a rewrite of the full story arriving after that joins it too."""
    excerpt, full, rewrite_ = (_set([(EXCERPT, 1)]), _set([(SOURCE, 0)]),
                               _set([("rewrite_condensed_to_a_third_new_headline", 9)]))
    _in_runs(engine, [excerpt, full, rewrite_])
    parts, originals = partition(engine)
    whole = frozenset(a["url"] for a in excerpt + full + rewrite_)
    assert whole in parts and originals[whole] == full[0]["url"]
    with engine.connect() as conn:
        relation = dict(conn.execute(select(articles.c.url, articles.c.relation)).all())
    assert relation[full[0]["url"]] == "original" and relation[excerpt[0]["url"]] == "near"


def test_an_undated_copy_is_placed_by_its_capture(engine):
    """A copy without any date metadata, captured two days after the story, arrives first: it is
    placed by its capture, joins the story in a later run, and the dated story is the original."""
    undated, story = _set([(TRIMMED_COPY, 48)], dated={TRIMMED_COPY: None}), _set([(SOURCE, 0)])
    _in_runs(engine, [undated, story])
    parts, originals = partition(engine)
    whole = frozenset(a["url"] for a in undated + story)
    assert whole in parts and originals[whole] == story[0]["url"]
