"""dedup_pending against real warehouses (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import sys
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.dedup_eval.generate import build  # noqa: E402
from bench.dedup_eval.load import insert_articles, partition  # noqa: E402

from newsdesk.dedup import dedup_pending, reset_dedup  # noqa: E402
from newsdesk.storage import db  # noqa: E402
from newsdesk.storage.schema import articles, clusters, dedup_links, lsh_buckets, site_boilerplate  # noqa: E402

DATA = Path(__file__).parent / "data" / "dedup"
T0 = datetime(2025, 6, 5, 8, tzinfo=timezone.utc)


def art(url, text, *, title="", domain=None, source=None, published=None, canonical=None):
    domain = domain or url.split("/")[2].removeprefix("www.")
    return dict(url=url, text=text, title=title, domain=domain, source_name=source or domain,
                published_at=published, canonical_url=canonical)


def fixture_article(name):
    title, body = (DATA / name).read_text().split("\n\n", 1)
    return title, body


def by_url(engine):
    with engine.connect() as conn:
        return {r.url: r for r in conn.execute(select(articles))}


def original_url(engine, url):
    with engine.connect() as conn:
        cid = conn.execute(select(articles.c.cluster_id).where(articles.c.url == url)).scalar_one()
        oid = conn.execute(select(clusters.c.original_article_id).where(clusters.c.id == cid)).scalar_one()
        return conn.execute(select(articles.c.url).where(articles.c.id == oid)).scalar_one()


def reason_of(engine, url):
    """Why the cluster holding ``url`` has its original, as ``v_clusters`` tells analysts."""
    with engine.connect() as conn:
        cid = conn.execute(select(articles.c.cluster_id).where(articles.c.url == url)).scalar_one()
        return conn.execute(text("SELECT original_reason FROM v_clusters WHERE cluster_id = :c"),
                            {"c": cid}).scalar_one()


def reasons(engine) -> dict[frozenset[str], str]:
    with engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, articles.c.cluster_id)).all()
        why = dict(conn.execute(select(clusters.c.id, clusters.c.original_reason)).all())
    groups: dict[int, set[str]] = {}
    for url, cid in rows:
        groups.setdefault(cid, set()).add(url)
    return {frozenset(g): why[cid] for cid, g in groups.items()}


def seed_set():
    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    stitle, spun = fixture_article("seed_spun_aljazeera_buffer_zones.txt")
    ititle, ind = fixture_article("independent_same_event_buffer_zones.txt")
    return [
        art("https://www.aljazeera.com/news/2025/6/5/buffer-zones", orig, title=title, source="Aljazeera",
            published=T0),
        art("https://234radio.com/russia-buffer-zones", spun, title=stitle, published=T0 + timedelta(hours=5)),
        art("https://www.kyivdispatch.ua/istanbul-talks", ind, title=ititle, published=T0 + timedelta(hours=1)),
    ]


def test_seed_spun_copy_clusters_with_original_and_independent_article_does_not(engine):
    insert_articles(engine, seed_set())
    stats = dedup_pending(engine)
    assert stats["processed"] == 3 and stats["paraphrase"] == 1
    rows = by_url(engine)
    spun = rows["https://234radio.com/russia-buffer-zones"]
    orig = rows["https://www.aljazeera.com/news/2025/6/5/buffer-zones"]
    ind = rows["https://www.kyivdispatch.ua/istanbul-talks"]
    assert spun.cluster_id == orig.cluster_id != ind.cluster_id
    assert (spun.relation, orig.relation, ind.relation) == ("paraphrase", "original", "original")
    assert spun.attribution == "Aljazeera" and "234Radio" not in spun.clean_text
    with engine.connect() as conn:
        link = conn.execute(select(dedup_links).where(dedup_links.c.article_id == spun.id)).one()
        assert link.original_article_id == orig.id and link.method == "sentence-alignment"
        assert link.evidence["aligned_fraction"] >= 0.7 and "lsh" in link.evidence["routes"]
        view = conn.execute(text("SELECT original_url, relation FROM v_articles WHERE article_id = :i"),
                            {"i": spun.id}).one()
        assert view.original_url == orig.url
        vc = conn.execute(text("SELECT size, domains, original_url FROM v_clusters WHERE cluster_id = :c"),
                          {"c": orig.cluster_id}).one()
        assert vc.size == 2 and vc.domains == "234radio.com,aljazeera.com" and vc.original_url == orig.url
        syn = conn.execute(text("SELECT * FROM v_syndication")).all()
        assert [(r.republisher, r.original_publisher, r.copies, r.paraphrase) for r in syn] == [
            ("234radio.com", "aljazeera.com", 1, 1)]
    # 234Radio's "Source: Aljazeera" line names it (the copy is also later: the first rule decides)
    assert reason_of(engine, orig.url) == "attribution"
    assert reason_of(engine, ind.url) == "only_member"


def test_chinese_copies_cluster_by_characters_and_an_independent_report_does_not(engine):
    """Han text has no spaces: its tokens are characters, so a truncated copy and a lightly edited
    one with an agency line are found (LSH) and verified as near copies; another paper's report of
    the same meeting, sharing its numbers and phrases, stays apart."""
    title, original = fixture_article("zh_state_council_original.txt")
    ititle, independent = fixture_article("zh_state_council_independent.txt")
    edited = (original.replace("三千亿元", "3000亿元").replace("周一", "星期一").replace("认真落实", "切实落实")
              + "\n\n（本文来源：新华网 责任编辑：王明）")
    paragraphs = original.split("\n\n")
    truncated = "\n\n".join(paragraphs[:2])
    insert_articles(engine, [
        art("https://www.news.cn/politics/20250605/state-council", original, title=title, published=T0),
        art("https://finance.example.cn/a/1001", edited, title=title, published=T0 + timedelta(hours=3)),
        art("https://portal.example.com.cn/news/2002", truncated, title=title, published=T0 + timedelta(hours=5)),
        art("https://daily.example.cn/paper/3003", independent, title=ititle, published=T0 + timedelta(hours=1)),
    ])
    dedup_pending(engine)
    rows = by_url(engine)
    orig = rows["https://www.news.cn/politics/20250605/state-council"]
    edited_row, truncated_row = rows["https://finance.example.cn/a/1001"], rows["https://portal.example.com.cn/news/2002"]
    ind = rows["https://daily.example.cn/paper/3003"]
    assert edited_row.cluster_id == truncated_row.cluster_id == orig.cluster_id != ind.cluster_id
    assert (orig.relation, edited_row.relation, truncated_row.relation, ind.relation) == (
        "original", "near", "near", "original")
    assert edited_row.similarity > 0.9 and truncated_row.similarity == 1.0
    with engine.connect() as conn:
        routes = conn.execute(select(dedup_links.c.evidence).where(dedup_links.c.article_id == truncated_row.id)
                              ).scalar_one()["routes"]
    assert "lsh" in routes


def test_newsdesk_dedup_redo_cjk_repairs_chinese_articles_signed_on_clauses(engine, monkeypatch):
    """A warehouse deduplicated when Han text was tokenised by clauses had missed a truncated copy;
    ``newsdesk dedup --redo-cjk`` (``reset_cjk`` + a run) puts it with its original."""
    from newsdesk.dedup import reset_cjk, signatures, verify
    from newsdesk.dedup import text as dtext

    title, original = fixture_article("zh_state_council_original.txt")
    truncated = "\n\n".join(original.split("\n\n")[:2])
    english_title, english = fixture_article("aljazeera_buffer_zones_original.txt")
    insert_articles(engine, [
        art("https://www.news.cn/politics/20250605/state-council", original, title=title, published=T0),
        art("https://portal.example.com.cn/news/2002", truncated, title=title, published=T0 + timedelta(hours=5)),
        art("https://www.aljazeera.com/news/2025/6/5/buffer-zones", english, title=english_title, published=T0),
    ])
    with monkeypatch.context() as m:  # earlier versions: runs of word characters, no CJK sentences or pairs
        m.setattr(dtext, "_WORD_CJK", dtext._WORD)
        for module in (dtext, signatures, verify):
            m.setattr(module, "has_cjk", lambda text: False)
        dedup_pending(engine)
    rows = by_url(engine)
    assert rows["https://portal.example.com.cn/news/2002"].cluster_id != rows[
        "https://www.news.cn/politics/20250605/state-council"].cluster_id
    english_cluster = rows["https://www.aljazeera.com/news/2025/6/5/buffer-zones"].cluster_id
    assert reset_cjk(engine) == 2  # the Chinese articles only
    dedup_pending(engine)
    rows = by_url(engine)
    copy, orig = rows["https://portal.example.com.cn/news/2002"], rows["https://www.news.cn/politics/20250605/state-council"]
    assert copy.cluster_id == orig.cluster_id and copy.relation == "near"
    assert rows["https://www.aljazeera.com/news/2025/6/5/buffer-zones"].cluster_id == english_cluster
    assert reset_cjk(engine) == 2 and dedup_pending(engine)["processed"] == 2  # run again: the same result
    assert by_url(engine)["https://portal.example.com.cn/news/2002"].relation == "near"


def test_idempotent_second_run_changes_nothing(engine):
    insert_articles(engine, seed_set())
    dedup_pending(engine)
    before = {u: (r.cluster_id, r.relation, r.similarity) for u, r in by_url(engine).items()}
    with engine.connect() as conn:
        n_buckets = conn.execute(select(func.count()).select_from(lsh_buckets)).scalar_one()
    assert dedup_pending(engine)["processed"] == 0
    assert {u: (r.cluster_id, r.relation, r.similarity) for u, r in by_url(engine).items()} == before
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lsh_buckets)).scalar_one() == n_buckets


def test_reset_dedup_reprocesses_to_the_same_partition(engine):
    insert_articles(engine, seed_set())
    dedup_pending(engine)
    parts, origs = partition(engine)
    rows = by_url(engine)
    n = reset_dedup(engine, [rows["https://www.aljazeera.com/news/2025/6/5/buffer-zones"].id])
    assert n == 2  # the original takes its cluster back to pending
    assert by_url(engine)["https://234radio.com/russia-buffer-zones"].dedup_state == "pending"
    dedup_pending(engine)
    assert partition(engine) == (parts, origs)


def test_better_original_arriving_later_repoints_the_cluster(engine):
    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    paras = orig.split("\n\n")
    copies = [
        art("https://copy-one.com/a", "\n\n".join(paras[:8]) + "\n\nSource: Aljazeera", title=title,
            published=T0 + timedelta(hours=3)),
        art("https://copy-two.com/b", title + "\n\n" + orig, title=title, published=T0 + timedelta(hours=4)),
    ]
    insert_articles(engine, copies)
    dedup_pending(engine)
    # No member is named by the attribution yet: the earliest copy is the original for now.
    assert original_url(engine, "https://copy-two.com/b") == "https://copy-one.com/a"
    assert reason_of(engine, "https://copy-two.com/b") == "earliest"
    # The backfilled original: earlier, and named by copy-one's attribution line.
    insert_articles(engine, [art("https://www.aljazeera.com/x", orig, title=title, source="Aljazeera",
                                 published=T0)])
    dedup_pending(engine)
    rows = by_url(engine)
    assert len({r.cluster_id for r in rows.values()}) == 1
    assert original_url(engine, "https://copy-one.com/a") == "https://www.aljazeera.com/x"
    assert rows["https://www.aljazeera.com/x"].relation == "original"
    assert rows["https://copy-two.com/b"].relation == "exact"
    assert rows["https://copy-one.com/a"].relation == "near"
    with engine.connect() as conn:
        links = {r.article_id: r.original_article_id for r in conn.execute(select(dedup_links))}
    assert set(links.values()) == {rows["https://www.aljazeera.com/x"].id}
    assert reason_of(engine, "https://copy-one.com/a") == "attribution"


def test_canonical_url_names_the_original(engine):
    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    insert_articles(engine, [
        art("https://partner.com/story", orig, title=title, published=T0,
            canonical="https://www.aljazeera.com/news/original"),
        art("https://www.aljazeera.com/news/original", orig, title=title, published=T0 + timedelta(hours=2)),
    ])
    dedup_pending(engine)
    assert original_url(engine, "https://partner.com/story") == "https://www.aljazeera.com/news/original"
    with engine.connect() as conn:
        method = conn.execute(select(dedup_links.c.method).where(dedup_links.c.relation == "exact")).scalar_one()
    assert method == "canonical-url"
    assert reason_of(engine, "https://partner.com/story") == "canonical"


def test_the_reason_for_an_original_follows_the_members_that_join(engine):
    """A cluster of one, then copies in later runs that leave its original in place: the reason
    is rewritten when the members change it (earliest, then longest), not only on re-pointing."""
    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    paras = orig.split("\n\n")
    insert_articles(engine, [art("https://first.example/story", orig, title=title, published=T0)])
    dedup_pending(engine)
    assert reason_of(engine, "https://first.example/story") == "only_member"
    insert_articles(engine, [art("https://later.example/story", orig, title=title, published=T0 + timedelta(hours=3))])
    dedup_pending(engine)
    assert original_url(engine, "https://later.example/story") == "https://first.example/story"
    assert reason_of(engine, "https://first.example/story") == "earliest"
    # A truncated copy published at the same time: the date no longer separates the leader from
    # the member ranked next to it, the length does.
    insert_articles(engine, [art("https://same-time.example/story", "\n\n".join(paras[:8]), title=title,
                                 published=T0)])
    dedup_pending(engine)
    assert original_url(engine, "https://same-time.example/story") == "https://first.example/story"
    assert reason_of(engine, "https://first.example/story") == "longest"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(clusters)).scalar_one() == 1


@pytest.mark.parametrize(("credit", "agency_url"), [
    ("WASHINGTON (AP) — ", "https://apnews.com/article/buffer-zones-1a2b3c"),
    ("Source: Agence France-Presse", "https://www.afp.com/en/news/buffer-zones"),
    ("（来源：新华社）", "https://english.news.cn/20250605/buffer-zones"),
])
def test_an_agency_credited_by_initials_or_full_name_is_the_original(engine, credit, agency_url):
    """Agencies are credited as "(AP)", "Agence France-Presse", "新华社"; their sites are apnews.com,
    afp.com, news.cn. A partner that dated its copy earlier does not become the original."""
    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    credited = credit + orig if credit.endswith("— ") else orig + "\n\n" + credit
    insert_articles(engine, [
        art("https://localpaper.com/world/buffer-zones", credited, title=title, published=T0),
        art(agency_url, orig, title=title, published=T0 + timedelta(hours=2)),
    ])
    dedup_pending(engine)
    assert original_url(engine, "https://localpaper.com/world/buffer-zones") == agency_url
    rows = by_url(engine)
    assert rows[agency_url].relation == "original"
    assert rows["https://localpaper.com/world/buffer-zones"].relation in ("exact", "near")


def test_site_boilerplate_is_learned_and_never_merges_articles(engine):
    arts = [a for a in build(3, 32) if a["kind"] == "base"]  # outlets 0 and 1 have four articles each
    insert_articles(engine, arts)
    dedup_pending(engine)
    rows = by_url(engine)
    assert len({r.cluster_id for r in rows.values()}) == len(arts)
    with engine.connect() as conn:
        learned = conn.execute(select(site_boilerplate)).all()
    # Outlets with >= 3 articles learned their header and footer; nothing else was learned.
    per_domain = {}
    for a in arts:
        per_domain[a["domain"]] = per_domain.get(a["domain"], 0) + 1
    assert {r.domain for r in learned} == {d for d, n in per_domain.items() if n >= 3}
    assert all("All rights reserved" in r.sample or "social media" in r.sample
               or "independent news service" in r.sample for r in learned)
    fourth = max((r for r in rows.values() if r.domain == "aljazeera.com"), key=lambda r: r.id)
    assert "All rights reserved" in fourth.text and "All rights reserved" not in fourth.clean_text
    assert "social media" not in fourth.clean_text


def _learned_lines_left(engine) -> int:
    """Articles whose clean text holds a paragraph their site has learned as boilerplate."""
    from newsdesk.dedup.clean import paragraph_hash, paragraphs

    with engine.connect() as conn:
        learned = set(conn.execute(select(site_boilerplate.c.domain, site_boilerplate.c.paragraph_hash)).all())
        return sum(any((r.domain, paragraph_hash(p)) in learned for p in paragraphs(r.clean_text or ""))
                   for r in conn.execute(select(articles.c.domain, articles.c.clean_text)))


def _assert_signatures_bands_and_links_follow_clean_texts(engine) -> list:
    """Every article's signature is its clean text's, an original's bands are its signature's,
    and every link's relation and similarity are those of the two clean texts as they stand."""
    from newsdesk.dedup.signatures import signature, to_bytes
    from newsdesk.dedup.verification import verify_pair
    from newsdesk.dedup.verify import Doc
    from newsdesk.dedup.writes import stored_buckets
    from newsdesk.storage.schema import dedup_signatures

    rows = {r.id: r for r in by_url(engine).values()}
    with engine.connect() as conn:
        sigs = {s.article_id: s for s in conn.execute(select(dedup_signatures))}
        bands = {}
        for b in conn.execute(select(lsh_buckets)):
            bands.setdefault(b.article_id, set()).add((b.scheme, b.bucket))
        originals = set(conn.execute(select(clusters.c.original_article_id)).scalars())
        links = conn.execute(select(dedup_links).where(dedup_links.c.relation != "original")).all()
    for r in rows.values():
        sig = signature(r.clean_text)
        assert sigs[r.id].minhash == to_bytes(sig.minhash) and sigs[r.id].token_count == len(sig.tokens)
        assert bands.get(r.id, set()) == (set(stored_buckets(sigs[r.id])) if r.id in originals else set())
    for link in links:
        copy_row, orig_row = rows[link.article_id], rows[link.original_article_id]
        verdict = verify_pair(copy_row, Doc(copy_row.clean_text), orig_row, Doc(orig_row.clean_text))
        assert (link.relation, round(link.similarity, 6)) == (verdict.relation, round(verdict.similarity, 6))
    return links


@pytest.mark.parametrize("batch", [400, 2])
def test_articles_that_taught_a_site_its_boilerplate_are_cleaned_again(engine, batch):
    """A site's footer is learned from its third article: the articles it was learned from were
    cleaned before that, in the same batch or in earlier ones (``batch=2``). They are cleaned
    again, their signatures and index entries with them, and keep their decisions."""
    arts = [a for a in build(3, 32) if a["kind"] == "base"]
    site = [a for a in arts if a["domain"] == "aljazeera.com"]
    assert len(site) == 4 and all("All rights reserved" in a["text"] for a in site)
    copy = dict(site[0], url="https://partner.example/copy", domain="partner.example", source_name="Partner",
                published_at=site[0]["published_at"] + timedelta(hours=3))
    first = arts.index(site[0]) + 1  # the copy is decided against the original before the footer is learned
    insert_articles(engine, arts[:first] + [copy] + arts[first:])
    stats = dedup_pending(engine, batch=batch)
    per_domain = Counter(a["domain"] for a in arts)
    taught = [d for d, n in per_domain.items() if n >= 3]
    assert stats["recleaned"] == 3 * len(taught)  # each site's first three articles; the fourth was clean at once
    rows = by_url(engine)
    with engine.connect() as conn:
        assert set(conn.execute(select(site_boilerplate.c.domain)).scalars()) == set(taught)
    assert _learned_lines_left(engine) == 0
    for a in site:
        r = rows[a["url"]]
        assert "All rights reserved" in r.text and "All rights reserved" not in r.clean_text
    assert rows[copy["url"]].cluster_id == rows[site[0]["url"]].cluster_id
    links = _assert_signatures_bands_and_links_follow_clean_texts(engine)
    assert any("compared_again" in (link.evidence or {}) for link in links)
    assert dedup_pending(engine) == dict(processed=0, originals=0, exact=0, near=0, paraphrase=0, requeued=0,
                                         recleaned=0)


@pytest.mark.parametrize("batch", [400, 2])
def test_a_teacher_whose_cluster_was_merged_away_is_cleaned_again(engine, batch):
    """An article observed a site's footer in its own cluster, which a later article merged into
    an older one; when the footer is learned, the teacher is found through ``cluster_merges``."""
    from newsdesk.storage.schema import cluster_merges

    title, story = fixture_article("aljazeera_buffer_zones_original.txt")
    paras = story.split("\n\n")
    footer = "Follow X Daily Report on every platform for the latest headlines, analysis and video."
    others = [a for a in build(3, 32) if a["kind"] == "base"][:2]
    first_half = art("https://z.example/half", "\n\n".join(paras[:8]), title=title, published=T0 + timedelta(hours=1))
    teacher = art("https://x.example/half", "\n\n".join(paras[8:] + [footer]), title=title,
                  published=T0 + timedelta(hours=2))
    original = art("https://www.aljazeera.com/full", story, title=title, published=T0)
    later = [dict(a, url=f"https://x.example/other-{i}", domain="x.example", source_name="x.example",
                  text=a["text"] + "\n\n" + footer) for i, a in enumerate(others)]
    # the two halves found two clusters; the full story joins both, merging the teacher's away
    insert_articles(engine, [first_half, teacher, original] + later)
    dedup_pending(engine, batch=batch)
    rows = by_url(engine)
    assert len({rows[u].cluster_id for u in (first_half["url"], teacher["url"], original["url"])}) == 1
    with engine.connect() as conn:
        merges = conn.execute(select(cluster_merges)).all()
        # only a committed cluster is recorded (one batch: the merge happened in memory)
        assert [m.merged_into for m in merges] == ([rows[original["url"]].cluster_id] if batch == 2 else [])
        assert conn.execute(select(site_boilerplate.c.sample).where(site_boilerplate.c.domain == "x.example")
                            ).scalars().all() == [footer]
    for a in [teacher] + later:
        assert footer in rows[a["url"]].text and footer not in rows[a["url"]].clean_text


@pytest.mark.slow
def test_newsdesk_dedup_reclean_repairs_a_warehouse_whose_teachers_kept_their_boilerplate(engine, monkeypatch):
    """A warehouse deduplicated by an earlier version (its teachers kept the lines they taught):
    ``newsdesk dedup --reclean`` cleans them as dedup now would, and changes nothing when run again."""
    import json
    import subprocess

    from newsdesk.dedup import batch as dedup_batch

    arts = [a for a in build(3, 32) if a["kind"] != "brief"]
    insert_articles(engine, arts)
    with monkeypatch.context() as m:  # the earlier version
        m.setattr(dedup_batch.Batch, "reclean_decided", lambda self: None)
        m.setattr(dedup_batch, "reclean_teachers", lambda *args: set())
        dedup_pending(engine, batch=50)
    left = _learned_lines_left(engine)
    assert left > 0
    clusters_before = {u: r.cluster_id for u, r in by_url(engine).items()}
    newsdesk = str(Path(sys.executable).with_name("newsdesk"))
    url = engine.url.render_as_string(hide_password=False)

    def cli(*args) -> dict:
        done = subprocess.run([newsdesk, "dedup", *args, "--database", url], capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert cli("--reclean") == dict(checked=len(arts), recleaned=left)
    assert _learned_lines_left(engine) == 0
    assert {u: r.cluster_id for u, r in by_url(engine).items()} == clusters_before
    _assert_signatures_bands_and_links_follow_clean_texts(engine)
    assert cli("--reclean") == dict(checked=len(arts), recleaned=0)
    assert cli()["processed"] == 0


def test_an_articles_own_text_is_never_boilerplate(engine):
    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    # The same story posted three times by one site (tracking variants) stays a story.
    insert_articles(engine, [art(f"https://www.aljazeera.com/x?v={i}", orig, title=title, published=T0)
                             for i in range(4)])
    dedup_pending(engine)
    rows = by_url(engine)
    assert all(len(r.clean_text) > 1000 for r in rows.values())
    assert len({r.cluster_id for r in rows.values()}) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(site_boilerplate)).scalar_one() == 0


def _story_set():
    arts = [a for a in build(11, 6) if a["kind"] != "brief"]
    seed = seed_set()
    for a, story in zip(seed, ("seed", "seed", "seed-independent")):
        a["story"] = story
    return arts + seed


def _run_in_order(url, arts):
    engine = db.get_engine(url)
    db.upgrade(engine)
    insert_articles(engine, arts)
    dedup_pending(engine)
    return (*partition(engine), reasons(engine))


_REFERENCE = {}


def _reference(tmp_path_factory):
    if "ref" not in _REFERENCE:
        _REFERENCE["ref"] = _run_in_order(f"sqlite:///{tmp_path_factory.mktemp('ref')}/w.db", _story_set())
    return _REFERENCE["ref"]


@pytest.mark.slow
@hsettings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.permutations(range(len(_story_set()))))
def test_any_ingestion_order_gives_the_same_clusters_and_originals(tmp_path_factory, order):
    arts = _story_set()
    reference = _reference(tmp_path_factory)
    got = _run_in_order(f"sqlite:///{tmp_path_factory.mktemp('shuf')}/w.db", [arts[i] for i in order])
    db.dispose_all()
    assert got[0] == reference[0]
    assert got[1] == reference[1]
    assert got[2] == reference[2]  # and why each original leads
    stories = {a["url"]: a["story"] for a in arts if "story" in a}
    for group in reference[0]:  # and the reference itself is right
        assert len({stories.get(u, u) for u in group}) == 1


@pytest.mark.slow
def test_shuffled_order_on_postgres_matches(pg_engine, tmp_path):
    arts = _story_set()
    reference = _run_in_order(f"sqlite:///{tmp_path}/ref.db", arts)
    shuffled = list(arts)
    random.Random(5).shuffle(shuffled)
    insert_articles(pg_engine, shuffled)
    dedup_pending(pg_engine)
    assert (*partition(pg_engine), reasons(pg_engine)) == reference


@pytest.mark.slow
def test_concurrent_workers_on_postgres_do_not_split_clusters(pg_engine):
    arts = [a for a in build(5, 10) if a["kind"] != "brief"]
    insert_articles(pg_engine, arts)
    results, errors = [], []

    def work():
        try:
            results.append(dedup_pending(pg_engine))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(r["processed"] for r in results) >= len(arts)
    assert all(r["processed"] > 0 for r in results) or len(arts) < 3
    rows = by_url(pg_engine)
    assert all(r.dedup_state == "done" for r in rows.values())
    cluster_of_story = {}
    for a in arts:
        cluster_of_story.setdefault(a["story"], set()).add(rows[a["url"]].cluster_id)
    assert all(len(c) == 1 for c in cluster_of_story.values()), cluster_of_story
    assert len({rows[a["url"]].cluster_id for a in arts}) == len(cluster_of_story)
    with pg_engine.connect() as conn:  # every cluster row has members, every member a link
        assert conn.execute(text("SELECT count(*) FROM clusters c WHERE NOT EXISTS "
                                 "(SELECT 1 FROM articles a WHERE a.cluster_id = c.id)")).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(dedup_links)).scalar_one() == len(arts)
    # every original's reason was written by the decision that last changed its cluster
    assert all((why == "only_member") == (len(members) == 1) and why is not None
               for members, why in reasons(pg_engine).items())


def _bucket_rows(engine, url) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(lsh_buckets).join(
            articles, articles.c.id == lsh_buckets.c.article_id).where(articles.c.url == url)).scalar_one()


def test_only_originals_hold_lsh_buckets_and_a_promoted_member_gains_them(engine):
    """Copies keep their signature but add no bucket rows (candidates are verified against originals);
    an earlier member that becomes the original when a later article names it gets its rows: 40
    bands of each MinHash and 12 of the anchors (numbers and names)."""
    from newsdesk.dedup.signatures import ANCHOR_BANDS, LEXICAL_BANDS, SHINGLE_BANDS
    from newsdesk.storage.schema import dedup_signatures

    every_band = SHINGLE_BANDS + LEXICAL_BANDS + ANCHOR_BANDS

    title, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    early, source, late = "https://early-copy.com/a", "https://www.aljazeera.com/x", "https://late-copy.com/c"
    insert_articles(engine, [art(early, orig, title=title, published=T0 + timedelta(hours=1))])
    dedup_pending(engine)
    # the outlet's own page, published later and not named by anyone yet: the earliest copy stays original
    insert_articles(engine, [art(source, orig, title=title, source="Aljazeera", published=T0 + timedelta(hours=2))])
    dedup_pending(engine)
    assert original_url(engine, source) == early
    assert _bucket_rows(engine, early) == every_band == 92 and _bucket_rows(engine, source) == 0
    # a copy naming Al Jazeera makes the outlet's page the original: it gains the bucket rows
    insert_articles(engine, [art(late, "\n\n".join(orig.split("\n\n")[:8]) + "\n\nSource: Aljazeera", title=title,
                                 published=T0 + timedelta(hours=5))])
    dedup_pending(engine)
    assert original_url(engine, early) == source
    assert _bucket_rows(engine, source) == every_band and _bucket_rows(engine, late) == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(dedup_signatures)).scalar_one() == 3
    # and the next copy is found through them
    insert_articles(engine, [art("https://next-copy.com/d", "\n\n".join(orig.split("\n\n")[2:]), title=title,
                                 published=T0 + timedelta(hours=6))])
    dedup_pending(engine)
    assert original_url(engine, "https://next-copy.com/d") == source


def test_a_batch_decides_with_boilerplate_another_worker_learned_while_it_waited(pg_engine):
    """Worker B claims and cleans its batch, then waits for the lock while worker A learns a
    site's footer and commits. B must decide with that footer known, exactly as if A's batch
    had run before B's claim: its article's clean text loses the footer."""
    from newsdesk.config import Settings
    from newsdesk.dedup.batch import Batch
    from newsdesk.dedup.claim import claim

    site = [a for a in build(3, 32) if a["kind"] == "base" and a["domain"] == "aljazeera.com"]
    assert len(site) == 4
    ids = insert_articles(pg_engine, site)
    settings = Settings.from_env()
    with pg_engine.connect() as conn_a, pg_engine.connect() as conn_b:
        trans_a = conn_a.begin()
        batch_a = Batch(conn_a, claim(conn_a, 3), settings)
        trans_b = conn_b.begin()
        claimed_b = claim(conn_b, 3)  # skips A's locked rows: the fourth article only
        assert [r.id for r in claimed_b] == [ids[site[3]["url"]]]
        batch_b = Batch(conn_b, claimed_b, settings)
        batch_b.prepare()  # nothing learned yet
        assert "All rights reserved" in batch_b.overlay.articles[ids[site[3]["url"]]].clean_text
        batch_a.prepare()
        batch_a.decide()
        trans_a.commit()  # A learned the footer from its three articles
        batch_b.decide()
        trans_b.commit()
    fourth = by_url(pg_engine)[site[3]["url"]]
    assert "All rights reserved" in fourth.text and "All rights reserved" not in fourth.clean_text


@pytest.mark.slow
def test_signatures_keep_numbers_and_names_and_rows_without_them_decide_alike(tmp_path):
    """Originals' numbers and names are stored (hashed) so candidates are ruled out without their
    texts; rows written before migration 0004 have none, and dedup decides the same from the texts."""
    from newsdesk.dedup.signatures import ANCHOR_SCHEME0, feature_bytes
    from newsdesk.dedup.verify import Doc
    from newsdesk.storage.schema import dedup_signatures

    arts = [a for a in build(11, 12) if a["kind"] != "brief"]
    first, later = arts[: len(arts) // 2], arts[len(arts) // 2:]
    results = []
    for stored in (True, False):
        engine = db.get_engine(f"sqlite:///{tmp_path}/w{int(stored)}.db")
        db.upgrade(engine)
        insert_articles(engine, first)
        dedup_pending(engine)
        with engine.begin() as conn:
            rows = conn.execute(select(articles.c.clean_text, dedup_signatures.c.numbers, dedup_signatures.c.names)
                                .join(dedup_signatures, dedup_signatures.c.article_id == articles.c.id)).all()
            assert len(rows) == len(first)
            for clean_text, numbers, names in rows:
                doc = Doc(clean_text)
                assert (numbers, names) == (feature_bytes(doc.numbers), feature_bytes(doc.names))
            assert any(len(n) > 0 for _, n, _ in rows) and any(len(m) > 0 for _, _, m in rows)
            if not stored:  # as written before migration 0004: no features, so no anchor bands either
                conn.execute(dedup_signatures.update().values(numbers=None, names=None))
                conn.execute(lsh_buckets.delete().where(lsh_buckets.c.scheme >= ANCHOR_SCHEME0))
        insert_articles(engine, later)
        dedup_pending(engine)
        results.append(partition(engine))
        with engine.connect() as conn:
            results[-1] += (sorted(conn.execute(select(articles.c.url, articles.c.relation, articles.c.similarity))),)
    assert results[0] == results[1]
    stories = {a["url"]: a["story"] for a in arts}
    assert all(len({stories[u] for u in group}) == 1 for group in results[0][0])


def _story(seed=3, kinds=("base", "template", "truncated")):
    arts = build(seed, 4)
    first = arts[0]["story"]
    return [a for a in arts if a["story"] == first and a["kind"] in kinds]


def test_a_batch_takes_in_what_another_worker_committed_after_it_searched(pg_engine):
    """Worker B searches candidates for its copy before worker A has committed the original;
    A commits; B then decides under the lock. B must find A's original (the epochs tell it
    what changed) and join its cluster, as if A's batch had been committed first."""
    from newsdesk.config import Settings
    from newsdesk.dedup.batch import Batch
    from newsdesk.dedup.claim import claim

    base, template, truncated = _story()
    insert_articles(pg_engine, [base, template, truncated])
    settings = Settings.from_env()
    with pg_engine.connect() as conn_a, pg_engine.connect() as conn_b:
        trans_a = conn_a.begin()
        batch_a = Batch(conn_a, claim(conn_a, 1), settings)  # the base
        trans_b = conn_b.begin()
        batch_b = Batch(conn_b, claim(conn_b, 2), settings)  # the two copies
        batch_b.prepare()
        batch_b.gather()  # the warehouse has no candidate yet
        assert not any(batch_b.warehouse_found.values())
        batch_a.prepare()
        batch_a.decide()
        trans_a.commit()
        stats = batch_b.decide_serialised()
        trans_b.commit()
    assert stats["caught_up"] == 1
    rows = by_url(pg_engine)
    assert rows[template["url"]].cluster_id == rows[truncated["url"]].cluster_id == rows[base["url"]].cluster_id
    assert rows[base["url"]].relation == "original"
    assert original_url(pg_engine, truncated["url"]) == base["url"]


def test_a_cluster_deleted_by_another_worker_after_the_search_is_not_joined(pg_engine):
    """B reads a cluster while searching; before B decides, the cluster is dissolved (its
    original re-extracted and reset). B must not attach its copy to the deleted cluster, and
    the next runs rebuild the story as one cluster."""
    from newsdesk.config import Settings
    from newsdesk.dedup.batch import Batch
    from newsdesk.dedup.claim import claim

    base, template, truncated = _story()
    ids = insert_articles(pg_engine, [base, template])
    dedup_pending(pg_engine)
    insert_articles(pg_engine, [truncated])
    with pg_engine.connect() as conn_b:
        trans_b = conn_b.begin()
        batch_b = Batch(conn_b, claim(conn_b, 5), Settings.from_env())
        batch_b.prepare()
        batch_b.gather()
        assert batch_b.warehouse_found[batch_b.ids[0]]  # found the cluster through its members
        assert reset_dedup(pg_engine, [ids[base["url"]]]) == 2  # commits: the cluster is gone
        stats = batch_b.decide_serialised()
        trans_b.commit()
    assert stats["caught_up"] == 2
    with pg_engine.connect() as conn:
        dangling = conn.execute(text("SELECT count(*) FROM articles a LEFT JOIN clusters c ON c.id = a.cluster_id "
                                     "WHERE a.cluster_id IS NOT NULL AND c.id IS NULL")).scalar_one()
    assert dangling == 0
    dedup_pending(pg_engine)
    rows = by_url(pg_engine)
    assert len({rows[a["url"]].cluster_id for a in (base, template, truncated)}) == 1
    assert original_url(pg_engine, truncated["url"]) == base["url"]


def test_a_cluster_re_pointed_by_another_worker_after_the_search_is_seen_with_its_new_original(pg_engine):
    """B reads a cluster (a copy as its provisional original) while searching; before B decides,
    A's batch brings the story's real original, earlier published, and re-points the cluster.
    B must catch up with the cluster it already read and compare its copy with the new original."""
    from newsdesk.config import Settings
    from newsdesk.dedup.batch import Batch
    from newsdesk.dedup.claim import claim, last_epoch, serialise

    base, template, truncated = _story()
    assert base["published_at"] < template["published_at"]
    insert_articles(pg_engine, [template])
    dedup_pending(pg_engine)  # the cluster, with the template copy as its original for now
    insert_articles(pg_engine, [truncated, base])  # in id order: B claims the copy, A the base
    settings = Settings.from_env()
    with pg_engine.connect() as conn_a, pg_engine.connect() as conn_b:
        trans_b = conn_b.begin()
        batch_b = Batch(conn_b, claim(conn_b, 1), settings)
        trans_a = conn_a.begin()
        batch_a = Batch(conn_a, claim(conn_a, 1), settings)
        batch_b.prepare()
        batch_b.gather()
        cluster = next(iter(batch_b.overlay.clusters.original))
        assert batch_b.overlay.articles[batch_b.overlay.clusters.original[cluster]].url == template["url"]
        batch_a.prepare()
        batch_a.decide()
        trans_a.commit()  # the base is the cluster's original now
        # decide_serialised, step by step: the catch-up must read the cluster again
        assert serialise(conn_b)
        batch_b.catch_up(batch_b.epoch_at_search, last_epoch(conn_b))
        assert batch_b.stats["caught_up"] == 2  # the base, and the template copy re-pointed to it
        original = batch_b.overlay.clusters.original[cluster]
        assert conn_b.execute(select(articles.c.url).where(articles.c.id == original)).scalar_one() == base["url"]
        stats = batch_b.assign()
        trans_b.commit()
    assert stats["processed"] == 1
    rows = by_url(pg_engine)
    assert len({rows[a["url"]].cluster_id for a in (base, template, truncated)}) == 1
    assert original_url(pg_engine, truncated["url"]) == base["url"]
    assert rows[truncated["url"]].relation in ("near", "exact")


@contextmanager
def _probe_batch(engine, indexed: int):
    """``indexed`` done articles (their ids) and a batch holding one pending probe article,
    inside a transaction rolled back afterwards: (ids, connection, batch, probe id, probe day)."""
    from newsdesk.config import Settings
    from newsdesk.dedup.batch import Batch
    from newsdesk.dedup.claim import claim

    stored = insert_articles(engine, [art(f"https://w{i}.example/a", f"Story number {i} about nothing.")
                                      for i in range(indexed)])
    with engine.begin() as conn:
        conn.execute(articles.update().values(dedup_state="done"))
    insert_articles(engine, [art("https://probe.example/a", "The probe article.", published=T0)])
    with engine.connect() as conn:
        trans = conn.begin()
        batch = Batch(conn, claim(conn, 1), Settings.from_env())
        batch.prepare()
        probe = batch.ids[0]
        yield list(stored.values()), conn, batch, probe, batch.days[probe]
        trans.rollback()


def test_lsh_lookup_skips_crowded_buckets_and_reads_only_the_window(engine, monkeypatch):
    """A bucket holding more than MAX_BUCKET articles inside the window is uninformative and
    skipped; entries outside the ±window days neither count nor come back. Both backends."""
    from newsdesk.dedup import candidates

    monkeypatch.setattr(candidates, "MAX_BUCKET", 5)
    with _probe_batch(engine, 18) as (ids, conn, batch, probe, day):
        crowded, full, windowed, outside = ids[0:6], ids[6:11], ids[11:14], ids[14:18]
        rows = ([dict(scheme=0, bucket=111, article_id=a, pub_day=day) for a in crowded]
                + [dict(scheme=1, bucket=222, article_id=a, pub_day=day + 3) for a in full]
                + [dict(scheme=2, bucket=333, article_id=a, pub_day=day - 14) for a in windowed]
                + [dict(scheme=2, bucket=333, article_id=a, pub_day=day - 15) for a in outside])
        conn.execute(lsh_buckets.insert(), rows)
        batch.bands[probe] = [(0, 111), (1, 222), (2, 333)]
        found = batch.search.in_warehouse([probe])[probe]
    assert set(found) == set(full) | set(windowed)
    assert all(c.routes == {"lsh"} and c.hits == 1 for c in found.values())


def test_an_exact_copy_of_a_text_clustered_in_its_window_is_not_probed_again(engine, monkeypatch):
    """An article whose exact text is already clustered within its window (in the warehouse, or
    earlier in its batch) joins that text's cluster without probing the LSH index; a twin
    outside the window, a near copy and a new text are probed as before. Both backends."""
    from newsdesk.dedup import candidates

    _, orig = fixture_article("aljazeera_buffer_zones_original.txt")
    _, other = fixture_article("independent_same_event_buffer_zones.txt")
    truncated = "\n\n".join(orig.split("\n\n")[: max(2, len(orig.split("\n\n")) * 2 // 3)])
    insert_articles(engine, [art("https://a.example/orig", orig, published=T0)])
    dedup_pending(engine)
    probed: list[int] = []
    real = candidates.distinct_probes

    def spy(ids, *args):
        probed.extend(ids)
        return real(ids, *args)

    monkeypatch.setattr(candidates, "distinct_probes", spy)
    insert_articles(engine, [
        art("https://b.example/twin", orig, published=T0 + timedelta(days=1)),
        art("https://c.example/far-twin", orig, published=T0 + timedelta(days=20)),
        art("https://d.example/truncated", truncated, published=T0 + timedelta(days=1)),
        art("https://e.example/new", other, published=T0 + timedelta(days=2)),
        art("https://f.example/new-twin", other, published=T0 + timedelta(days=3)),
    ])
    dedup_pending(engine)
    rows = by_url(engine)
    skipped = {u for u, r in rows.items() if r.id not in probed} - {"https://a.example/orig"}
    assert skipped == {"https://b.example/twin", "https://f.example/new-twin"}
    assert rows["https://b.example/twin"].cluster_id == rows["https://a.example/orig"].cluster_id
    assert rows["https://d.example/truncated"].cluster_id == rows["https://a.example/orig"].cluster_id
    assert rows["https://f.example/new-twin"].cluster_id == rows["https://e.example/new"].cluster_id
    assert rows["https://f.example/new-twin"].relation == rows["https://b.example/twin"].relation == "exact"
    with engine.connect() as conn:
        link = conn.execute(select(dedup_links).where(dedup_links.c.article_id == rows["https://b.example/twin"].id)).one()
    assert link.original_article_id == rows["https://a.example/orig"].id and link.evidence["routes"] == ["exact-hash"]


@pytest.mark.slow
def test_pipeline_dedup_runs_several_processes_on_postgres(pg_engine, pg_url):
    """NEWSDESK_DEDUP_WORKERS=3: three dedup processes share the pending articles; the
    clusters are those of one process."""
    from newsdesk import pipeline
    from newsdesk.config import Settings

    arts = [a for a in build(6, 12) if a["kind"] != "brief"]
    insert_articles(pg_engine, arts)
    stats = pipeline.dedup(pg_engine, Settings.from_env(database_url=pg_url, dedup_workers=3))
    assert stats["processed"] >= len(arts)
    rows = by_url(pg_engine)
    assert all(r.dedup_state == "done" for r in rows.values())
    stories: dict[str, set] = {}
    for a in arts:
        stories.setdefault(a["story"], set()).add(rows[a["url"]].cluster_id)
    assert all(len(c) == 1 for c in stories.values())
    assert len({rows[a["url"]].cluster_id for a in arts}) == len(stories)


def test_single_band_candidates_are_only_the_nearest_in_day_and_both_indexes_agree(engine):
    """Candidates sharing two or more bands all come back (up to MAX_LSH_CANDIDATES); of those
    sharing one band, only the MAX_WEAK_CANDIDATES nearest in publication day (ties: lowest id).
    The warehouse lookup (either database) and the batch's in-memory index choose the same."""
    from types import SimpleNamespace

    from newsdesk.dedup.candidates import MAX_WEAK_CANDIDATES, MemoryIndex

    with _probe_batch(engine, 24) as (ids, conn, batch, probe, day):
        strong, weak = ids[:3], ids[3:]
        offsets = [(-1) ** i * (i // 2) for i in range(len(weak))]  # 0, 0, -1, 1, -2, 2, ...: two per distance
        rows = [dict(scheme=s, bucket=10 + s, article_id=a, pub_day=day + 5) for a in strong for s in (0, 1)]
        rows += [dict(scheme=2 + i, bucket=100 + i, article_id=a, pub_day=day + off)
                 for i, (a, off) in enumerate(zip(weak, offsets))]
        conn.execute(lsh_buckets.insert(), rows)
        batch.bands[probe] = sorted({(r["scheme"], r["bucket"]) for r in rows})
        found = batch.search.in_warehouse([probe])[probe]
    nearest = sorted(zip(weak, offsets), key=lambda t: (abs(t[1]), t[0]))[:MAX_WEAK_CANDIDATES]
    assert set(found) == set(strong) | {a for a, _ in nearest}
    assert all(found[a].hits == 2 for a in strong), found

    memory = MemoryIndex()
    for r in rows:
        memory.add(r["article_id"], f"key{r['article_id']}", SimpleNamespace(url=f"https://m/{r['article_id']}",
                                                                             canonical_url=None),
                   [(r["scheme"], r["bucket"])], r["pub_day"])
    in_memory = memory.candidates("probe", SimpleNamespace(url="https://probe.example/a", canonical_url=None),
                                  batch.bands[probe], day, lambda other: True)
    assert set(in_memory) == set(found)


@hsettings(max_examples=200, deadline=None)
@example([(1, k, c, c % 7) for c in range(100, 175) for k in (1, 2)] + [(1, 3, c, 1) for c in range(200, 211)]
         + [(2, 3, c, 0) for c in range(100, 120)], set())
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 40), st.integers(100, 400), st.integers(-20, 20)),
                max_size=300),
       st.sets(st.integers(100, 400), max_size=5))
def test_batch_ranking_of_found_entries_is_rank_lsh_per_article(entries, exclude):
    """``rank_found`` (numpy, the whole batch at once) keeps, for every asking article, exactly what
    ``rank_lsh`` keeps from that article's own candidates, in the same order — with ties in bands
    and in days, strong and single-band candidates, and more than the caps can hold (the
    explicit example: 75 candidates sharing two bands with one article, and 11 sharing one)."""
    from newsdesk.dedup.candidates import rank_found, rank_lsh

    # entries: (asking article, probe, candidate, candidate's day offset); probes are distinct per
    # article, and a probe holds a candidate once
    uses = sorted({(i, k) for i, k, _, _ in entries})
    found = sorted({(k, c): off for _, k, c, off in entries}.items())
    day = {i: 1000 + 3 * i for i, _ in uses}
    cand_day = {c: 1000 + off for (_, c), off in found}  # a candidate has one publication day
    # every third probe is of anchor bands, the others of words
    word_probe = [k % 3 != 0 for k in range(1, max((k for _, k in uses), default=0) + 1)]
    got = rank_found([i for i, _ in uses], [k for _, k in uses], [day[i] for i, _ in uses],
                      [k for (k, _), _ in found], [c for (_, c), _ in found], [cand_day[c] for (_, c), _ in found],
                      exclude=exclude, word_probe=word_probe)
    want = {}
    for i in sorted({i for i, _ in uses}):
        probes = {k for j, k in uses if j == i}
        hits, words = {}, {}
        for (k, c), _ in found:
            if k in probes and c not in exclude:
                hits[c] = hits.get(c, 0) + 1
                words[c] = words.get(c, 0) + (k % 3 != 0)
        ranked = rank_lsh([(c, n, cand_day[c], words[c]) for c, n in hits.items()], day[i])
        if ranked:
            want[i] = ranked
    assert dict(got) == want


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from([0, 1, 100, 139]), st.integers(0, 4) | st.just((1 << 63) - 1)),
                         max_size=6),
                max_size=8),
       st.lists(st.integers(19_990, 20_010), min_size=8, max_size=8))
@pytest.mark.slow
def test_batch_probes_are_numbered_like_sorted_tuples(bands, days):
    """``distinct_probes`` (numpy) numbers a batch's probes as sorting the distinct (scheme, bucket,
    lo, hi) tuples in Python does, and says which article asked which, in article and band order —
    with bands shared between articles, repeated windows, articles without bands and the largest
    bucket value."""
    from newsdesk.dedup.candidates import distinct_probes

    ids = [10 + 7 * n for n in range(len(bands))]
    bands_of = dict(zip(ids, bands))
    day_of = dict(zip(ids, days))
    window = 14
    probes = [(s, b, a, day_of[a] - window, day_of[a] + window) for a in ids for s, b in bands_of[a]]
    got = distinct_probes(ids, bands_of, day_of, window)
    if not probes:
        assert got is None
        return
    keys = sorted({(s, b, lo, hi) for s, b, _, lo, hi in probes})
    number = {key: k for k, key in enumerate(keys, 1)}
    use_i, use_k, use_day, distinct = got
    assert use_i.tolist() == [p[2] for p in probes]
    assert use_k.tolist() == [number[(s, b, lo, hi)] for s, b, _, lo, hi in probes]
    assert use_day.tolist() == [day_of[p[2]] for p in probes]
    assert list(zip(*(column.tolist() for column in distinct))) == keys
