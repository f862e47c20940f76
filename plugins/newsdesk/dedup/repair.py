"""Putting articles back to pending, and repairs of a warehouse deduplicated by earlier rules.

``reset_dedup`` re-queues articles (with the whole cluster of an original); ``reset_cjk``
re-queues Chinese and Japanese articles signed before their characters became tokens;
``reclean_learned`` cleans again the articles whose clean text kept a line their site has
learned as boilerplate since. The cleaning-again functions are also what a batch calls for
the articles that taught their site a paragraph it has just learned.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection, Engine

from ..cjk import has_cjk
from ..storage.loads import utcnow
from ..storage.schema import articles, cluster_merges, clusters, dedup_links
from .boilerplate import learned_lines
from .claim import FETCHED_AT, advance_epoch, publication_day, serialise
from .clean import clean, paragraph_hash, paragraphs
from .signatures import index_buckets
from .sql import chunks
from .verification import signed, verify_pair
from .verify import Doc
from .writes import drop_index_entries, insert_index, signature_row, update_articles


def reclean_teachers(conn: Connection, teachers: dict[str, set[int]], epoch: int, exclude: set[int]) -> set[int]:
    """Warehouse articles that taught their site a paragraph just learned as boilerplate.

    They were cleaned before it was known, so their clean text, signature and index entries
    still hold it: those of ``teachers``' domains and clusters (the clusters that observed the
    paragraph, or those they were merged into since) are cleaned again (``reclean``).
    Decisions stand, as for the batch's own articles (``Batch.reclean_decided``). Returns those
    cleaned again."""
    found = []
    for domain, cluster_ids in teachers.items():
        for chunk in chunks(sorted(merged_into(conn, {c for c in cluster_ids if c is not None and c > 0}))):
            found += conn.execute(select(articles.c.id, articles.c.domain, articles.c.clean_text).where(
                articles.c.domain == domain, articles.c.cluster_id.in_(chunk), articles.c.dedup_state == "done")).all()
    return reclean(conn, [r for r in found if r.id not in exclude], epoch)


def reclean(conn: Connection, rows, epoch: int) -> set[int]:
    """Of the given articles (id, domain, clean_text), those whose clean text still holds a
    paragraph their site has learned as boilerplate are cleaned again with everything it has
    learned: clean text, signature and (for an original) LSH bands. Returns their ids."""
    learned = learned_lines(conn, {r.domain for r in rows})
    dirty = [r.id for r in rows if learned.get(r.domain)
             and any(paragraph_hash(p) in learned[r.domain] for p in paragraphs(r.clean_text or ""))]
    if not dirty:
        return set()
    full, originals = [], set()
    for chunk in chunks(dirty):
        full += conn.execute(select(articles.c.id, articles.c.domain, articles.c.title, articles.c.text,
                                    articles.c.published_at, FETCHED_AT, articles.c.extracted_at,
                                    articles.c.date_source).where(
            articles.c.id.in_(chunk))).all()
        originals |= set(conn.execute(select(clusters.c.original_article_id).where(
            clusters.c.original_article_id.in_(chunk))).scalars())
    drop_index_entries(conn, dirty)
    signature_rows, bucket_rows, params = [], [], []
    for r in full:
        text_ = r.text or ""
        known = frozenset(h for h in map(paragraph_hash, paragraphs(text_)) if h in learned[r.domain])
        cleaned = clean(text_, r.title, known)
        sig, doc = signed(cleaned.text)
        day = publication_day(r.published_at, r.fetched_at, r.extracted_at, r.date_source)
        signature_rows.append(signature_row(r.id, sig, doc, day))
        if r.id in originals:
            bucket_rows.extend((s, b, r.id, day) for s, b in index_buckets(sig, doc.feature_hashes))
        params.append(dict(aid_=r.id, v_clean_text=cleaned.text, v_attribution=cleaned.attribution,
                           v_clean_sha256=doc.key, v_dedup_epoch=epoch))
    update_articles(conn, ("clean_text", "attribution", "clean_sha256", "dedup_epoch"), params)
    insert_index(conn, signature_rows, bucket_rows)
    return set(dirty)


def merged_into(conn: Connection, cluster_ids: set[int]) -> set[int]:
    """The given clusters and those they were merged into, chains of merges followed."""
    out, frontier = set(cluster_ids), set(cluster_ids)
    while frontier:
        found = set()
        for chunk in chunks(sorted(frontier)):
            found |= set(conn.execute(select(cluster_merges.c.merged_into).where(
                cluster_merges.c.cluster_id.in_(chunk))).scalars())
        frontier = found - out
        out |= found
    return out


def compare_again(conn: Connection, recleaned: set[int], epoch: int, now: datetime) -> None:
    """The links whose texts changed under them (a copy cleaned again, or its cluster's original):
    compared again, so that relation and similarity describe the clean texts. Membership stands:
    a pair that no longer matches keeps its link as decided. The evidence says the scores were
    recomputed."""
    if not recleaned:
        return
    cluster_of = {}
    for chunk in chunks(sorted(recleaned)):
        cluster_of.update(conn.execute(select(articles.c.id, articles.c.cluster_id).where(
            articles.c.id.in_(chunk), articles.c.cluster_id.is_not(None), articles.c.dedup_state == "done")).all())
    original_of = {}
    for chunk in chunks(sorted(set(cluster_of.values()))):
        original_of.update(conn.execute(select(clusters.c.id, clusters.c.original_article_id).where(
            clusters.c.id.in_(chunk))).all())
    pairs = {(a, original_of[c]) for a, c in cluster_of.items() if original_of.get(c) not in (None, a)}
    recleaned_originals = {c: o for c, o in original_of.items() if o in recleaned}
    for chunk in chunks(sorted(recleaned_originals)):
        for aid, cid in conn.execute(select(articles.c.id, articles.c.cluster_id).where(
                articles.c.cluster_id.in_(chunk), articles.c.dedup_state == "done")):
            if aid != recleaned_originals[cid]:
                pairs.add((aid, recleaned_originals[cid]))
    if not pairs:
        return
    rows, links = {}, {}
    for chunk in chunks(sorted({i for pair in pairs for i in pair})):
        rows.update((r.id, r) for r in conn.execute(select(
            articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.clean_text).where(
            articles.c.id.in_(chunk))))
        links.update((r.article_id, r) for r in conn.execute(select(dedup_links).where(
            dedup_links.c.article_id.in_(chunk))))
    docs: dict[int, Doc] = {}
    article_params, link_params = [], []
    for aid, oid in sorted(pairs):
        copy, original, link = rows.get(aid), rows.get(oid), links.get(aid)
        if copy is None or original is None or link is None or link.original_article_id != oid:
            continue
        for r in (copy, original):
            if r.id not in docs:
                docs[r.id] = Doc(r.clean_text or "")
        verdict = verify_pair(copy, docs[aid], original, docs[oid])
        if not verdict.matched:
            continue
        evidence = dict(verdict.evidence, compared_again="clean text changed: site boilerplate learned")
        for key in ("routes", "candidate_hits"):  # how the candidate was found still holds
            if key in (link.evidence or {}):
                evidence[key] = link.evidence[key]
        article_params.append(dict(aid_=aid, v_relation=verdict.relation, v_similarity=verdict.similarity,
                                   v_dedup_epoch=epoch))
        link_params.append(dict(aid_=aid, v_relation=verdict.relation, v_similarity=verdict.similarity,
                                v_method=verdict.method, v_evidence=evidence, v_decided_at=now))
    if article_params:
        update_articles(conn, ("relation", "similarity", "dedup_epoch"), article_params)
        conn.execute(update(dedup_links).where(dedup_links.c.article_id == bindparam("aid_")).values(
            {c: bindparam(f"v_{c}") for c in ("relation", "similarity", "method", "evidence", "decided_at")}),
            link_params)


def reclean_learned(engine: Engine, batch: int = 2000) -> dict:
    """Repair: articles whose clean text still holds a paragraph their site has learned as
    boilerplate — a warehouse deduplicated before the articles that taught a site its
    boilerplate were cleaned again — are cleaned again (text, signature, bands) and their
    links compared again; clusters stand. Goes through the deduplicated articles in id order,
    ``batch`` per transaction, serialised with dedup workers; running it again changes nothing."""
    stats = Counter(checked=0, recleaned=0)
    last = 0
    while True:
        with engine.begin() as conn:
            serialise(conn)  # before reading: a worker's reset or re-pointing lands before or after, whole
            rows = conn.execute(select(articles.c.id, articles.c.domain, articles.c.clean_text).where(
                articles.c.id > last, articles.c.dedup_state == "done", articles.c.domain.is_not(None))
                .order_by(articles.c.id).limit(batch)).all()
            if not rows:
                break
            last = rows[-1].id
            stats["checked"] += len(rows)
            epoch = advance_epoch(conn)
            ids = reclean(conn, rows, epoch)
            compare_again(conn, ids, epoch, utcnow())
            stats["recleaned"] += len(ids)
    return dict(stats)


def reset_cjk(engine: Engine, batch: int = 5000) -> int:
    """Repair: deduplicated articles whose clean text has Han or kana go back to pending (with
    their clusters, see ``reset_dedup``), for warehouses deduplicated before those characters
    became tokens of their own: their signatures, bands and text keys were computed on
    clause-long tokens that new articles no longer produce. Returns how many were reset; the
    next dedup run processes them."""
    found: list[int] = []
    last = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(select(articles.c.id, articles.c.clean_text).where(
                articles.c.id > last, articles.c.dedup_state == "done").order_by(articles.c.id).limit(batch)).all()
        if not rows:
            break
        last = rows[-1].id
        found += [r.id for r in rows if r.clean_text and has_cjk(r.clean_text)]
    return reset_dedup(engine, found)


def reset_dedup(engine: Engine, article_ids) -> int:
    """Mark articles pending again (e.g. after re-extraction). An article that is the
    original of a cluster takes its whole cluster back to pending, so that the
    cluster is rebuilt around the right original. Returns how many articles were reset."""
    ids = sorted(set(int(i) for i in article_ids))
    if not ids:
        return 0
    reset = set()
    with engine.begin() as conn:
        serialise(conn)
        epoch = advance_epoch(conn)
        owned = conn.execute(select(clusters.c.id).where(clusters.c.original_article_id.in_(ids))).scalars().all()
        todo = set(ids)
        if owned:
            todo |= set(conn.execute(select(articles.c.id).where(articles.c.cluster_id.in_(owned))).scalars())
        for aid in sorted(todo):
            _requeue(conn, aid, epoch)
            reset.add(aid)
        if owned:
            conn.execute(delete(clusters).where(clusters.c.id.in_(owned)))
    return len(reset)


def _requeue(conn: Connection, article_id: int, epoch: int) -> None:
    """One article back to pending: its index entries and link dropped, its cluster fields cleared."""
    drop_index_entries(conn, [article_id])
    conn.execute(delete(dedup_links).where(dedup_links.c.article_id == article_id))
    conn.execute(update(articles).where(articles.c.id == article_id).values(
        dedup_state="pending", cluster_id=None, relation=None, similarity=None, dedup_epoch=epoch))
