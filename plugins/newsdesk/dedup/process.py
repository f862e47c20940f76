"""Clustering pending articles against the warehouse index.

``dedup_pending`` takes pending articles in id order, one transaction each:

1. claim the row (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: the write lock);
2. clean the text with the domain's learned boilerplate, compute signatures;
3. PostgreSQL: take a transaction advisory lock, so that candidate search and cluster
   assignment are serialised across workers (the CPU work above is not);
4. candidates: same clean-text hash, canonical-URL links, LSH bands (word shingles and
   content words) within ±``dedup_window_days``;
5. verify against each candidate cluster's ORIGINAL (never against members);
6. join the matching cluster — merging several if the article matches their originals —
   choose the cluster's original again, and re-point the cluster when it changed:
   every member is re-verified against the new original; members that no longer match
   are put back to pending (they are processed again in the same run);
7. store signature, bands, link (method + evidence) and learn site boilerplate.

Nothing is kept in process memory between articles.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone

from sqlalchemy import and_, delete, func, or_, select, text, tuple_, update
from sqlalchemy.dialects import postgresql as pg_dialect, sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine

from ..config import Settings
from ..storage.loads import insert_ignore, upsert, utcnow
from ..storage.schema import articles, clusters, dedup_links, dedup_signatures, lsh_buckets, sources
from ..urls import canonicalize_url
from . import boilerplate
from .clean import clean
from .original import Member, choose_original
from .signatures import estimate, from_bytes, signature, signature_buckets, to_bytes
from .verify import Doc, Verdict, compare

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x6E657773_64656475 & ((1 << 63) - 1)  # "newsdedu"
MAX_LSH_CANDIDATES = 60
MAX_CLUSTERS = 25
CANONICAL_MIN_SIMILARITY = 0.3
# Verification is skipped for an LSH-only candidate whose estimated Jaccard is below both:
# a truncated copy keeps shingle Jaccard >= ~0.3, a reworded one content-word Jaccard >= ~0.35.
PREFILTER_SHINGLE = 0.12
PREFILTER_LEXICAL = 0.22


def _pub_day(published_at: datetime | None, extracted_at: datetime | None) -> int:
    when = published_at or extracted_at or utcnow()
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() // 86400)


def _canon(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return canonicalize_url(url)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- claim


def _claim(conn: Connection):
    cols = (articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.domain, articles.c.title,
            articles.c.text, articles.c.published_at, articles.c.extracted_at)
    q = select(*cols).where(articles.c.dedup_state == "pending").order_by(articles.c.id).limit(1)
    if conn.dialect.name == "postgresql":
        return conn.execute(q.with_for_update(skip_locked=True, of=articles)).first()
    # SQLite: a (no-op) write first takes the database write lock for this transaction,
    # so two processes cannot claim the same row.
    conn.execute(update(articles).where(articles.c.id == -1).values(dedup_state="pending"))
    return conn.execute(q).first()


def _serialise(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})


# ---------------------------------------------------------------------------------- index


def _drop_index_entries(conn: Connection, article_id: int) -> None:
    sig = conn.execute(select(dedup_signatures).where(dedup_signatures.c.article_id == article_id)).first()
    if sig is not None:
        mh, lx = from_bytes(sig.minhash), from_bytes(sig.lexhash)
        pairs = signature_buckets(mh, lx, 1 << 30 if mh is not None else 0, 1 << 30 if lx is not None else 0)
        if pairs:
            conn.execute(delete(lsh_buckets).where(lsh_buckets.c.article_id == article_id,
                                                   tuple_(lsh_buckets.c.scheme, lsh_buckets.c.bucket).in_(pairs)))
        conn.execute(delete(dedup_signatures).where(dedup_signatures.c.article_id == article_id))


def _store_index(conn: Connection, article_id: int, sig, pub_day: int) -> None:
    _drop_index_entries(conn, article_id)
    pairs = sig.buckets
    has_mh = any(s < 100 for s, _ in pairs)
    has_lx = any(s >= 100 for s, _ in pairs)
    conn.execute(dedup_signatures.insert().values(
        article_id=article_id, minhash=to_bytes(sig.minhash) if has_mh else None,
        lexhash=to_bytes(sig.lexhash) if has_lx else None, pub_day=pub_day, token_count=len(sig.tokens)))
    if pairs:  # one multi-row statement, not one round trip per band
        rows = [dict(scheme=s, bucket=b, article_id=article_id, pub_day=pub_day) for s, b in pairs]
        dialect = pg_dialect if conn.dialect.name == "postgresql" else sqlite_dialect
        conn.execute(dialect.insert(lsh_buckets).values(rows).on_conflict_do_nothing())


def _candidates(conn: Connection, row, doc_key: str, sig, pub_day: int, window: int) -> dict[int, dict]:
    """Candidate clusters -> {'hits': n, 'routes': set, 'canonical': bool}."""
    lo, hi = pub_day - window, pub_day + window
    found: dict[int, dict] = {}  # article id -> info

    def add(aid: int, route: str, hits: int = 1):
        info = found.setdefault(aid, {"hits": 0, "routes": set()})
        info["hits"] += hits
        info["routes"].add(route)

    done = and_(articles.c.dedup_state == "done", articles.c.id != row.id, articles.c.cluster_id.is_not(None))
    in_window = and_(dedup_signatures.c.article_id == articles.c.id, dedup_signatures.c.pub_day.between(lo, hi))
    for (aid,) in conn.execute(select(articles.c.id).where(done, articles.c.clean_sha256 == doc_key, in_window)
                               .limit(MAX_LSH_CANDIDATES)):
        add(aid, "exact-hash", 1000)
    own = _canon(row.url)
    canonical = _canon(row.canonical_url)
    conds = [articles.c.canonical_url == row.url]
    if own and own != row.url:
        conds += [articles.c.canonical_url == own, articles.c.url == own]
    if canonical and canonical != own:
        conds += [articles.c.url == canonical, articles.c.url == row.canonical_url,
                  articles.c.canonical_url == canonical]
    for (aid,) in conn.execute(select(articles.c.id).where(done, or_(*conds)).limit(MAX_LSH_CANDIDATES)):
        add(aid, "canonical-url", 500)
    pairs = sig.buckets
    if pairs:
        hits = func.count().label("hits")
        q = (select(lsh_buckets.c.article_id, hits)
             # scheme IN and bucket IN (not row values) lets both backends walk the primary key;
             # a bucket is a hash that includes its band index, so the cross product adds nothing.
             .where(lsh_buckets.c.scheme.in_(sorted({p[0] for p in pairs})),
                    lsh_buckets.c.bucket.in_(sorted({p[1] for p in pairs})),
                    lsh_buckets.c.pub_day.between(lo, hi), lsh_buckets.c.article_id != row.id)
             .group_by(lsh_buckets.c.article_id).order_by(hits.desc(), lsh_buckets.c.article_id)
             .limit(MAX_LSH_CANDIDATES))
        for aid, n in conn.execute(q):
            add(aid, "lsh", n)
    if not found:
        return {}
    by_cluster: dict[int, dict] = {}
    for aid, cid in conn.execute(select(articles.c.id, articles.c.cluster_id).where(
            articles.c.id.in_(list(found)), articles.c.cluster_id.is_not(None))):
        info = by_cluster.setdefault(cid, {"hits": 0, "routes": set()})
        info["hits"] += found[aid]["hits"]
        info["routes"] |= found[aid]["routes"]
    ranked = sorted(by_cluster.items(), key=lambda kv: (-kv[1]["hits"], kv[0]))[:MAX_CLUSTERS]
    return dict(ranked)


# ---------------------------------------------------------------------------------- members


_MEMBER_COLS = (articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.domain, articles.c.attribution,
                articles.c.published_at, articles.c.clean_text, articles.c.cluster_id, sources.c.name)


def _member(r) -> Member:
    return Member(id=r.id, url=r.url, canonical_url=r.canonical_url, domain=r.domain, source_name=r.name,
                  attribution=r.attribution, published_at=r.published_at,
                  length=len((r.clean_text or "").split()))


def _member_rows(conn: Connection, where) -> list:
    return conn.execute(select(*_MEMBER_COLS).select_from(articles.outerjoin(sources, sources.c.id == articles.c.source_id))
                        .where(where).order_by(articles.c.id)).all()


def _canonical_link(a, b) -> bool:
    """One article's canonical URL names the other's URL (or both name the same document)."""
    ua, ub, ca, cb = _canon(a.url), _canon(b.url), _canon(a.canonical_url), _canon(b.canonical_url)
    return bool((ca and ca == ub) or (cb and cb == ua) or (ca and cb and ca == cb and (ca != ua or cb != ub)))


def _worth_verifying(sig, stored) -> bool:
    """Cheap filter on MinHash estimates before reading and comparing texts."""
    if stored is None:
        return True
    js = estimate(sig.minhash, from_bytes(stored.minhash))
    jl = estimate(sig.lexhash, from_bytes(stored.lexhash))
    if js is None or jl is None:
        return True
    return js >= PREFILTER_SHINGLE or jl >= PREFILTER_LEXICAL


def _verify(copy_row, copy_doc: Doc, orig_row, orig_doc: Doc) -> Verdict:
    verdict = compare(copy_doc, orig_doc)
    if _canonical_link(copy_row, orig_row):
        if verdict.matched:
            verdict.evidence["verified_by"] = verdict.method
            verdict.method = "canonical-url"
        elif verdict.similarity >= CANONICAL_MIN_SIMILARITY:
            verdict.evidence["verified_by"] = "canonical-url"
            verdict = Verdict("near", verdict.similarity, "canonical-url", verdict.evidence)
    return verdict


# ---------------------------------------------------------------------------------- writes


def _set_relation(conn: Connection, article_id: int, cluster_id: int, original_id: int, verdict: Verdict | None,
                  now: datetime) -> None:
    if verdict is None or article_id == original_id:
        relation, similarity, method, evidence = "original", 1.0, "original", {}
    else:
        relation, similarity, method, evidence = verdict.relation, verdict.similarity, verdict.method, verdict.evidence
    conn.execute(update(articles).where(articles.c.id == article_id).values(
        cluster_id=cluster_id, relation=relation, similarity=similarity, dedup_state="done"))
    upsert(conn, dedup_links, [dict(article_id=article_id, original_article_id=original_id, relation=relation,
                                    similarity=similarity, method=method, evidence=evidence, decided_at=now)],
           ["article_id"], ["original_article_id", "relation", "similarity", "method", "evidence", "decided_at"])


def _requeue(conn: Connection, article_id: int) -> None:
    _drop_index_entries(conn, article_id)
    conn.execute(delete(dedup_links).where(dedup_links.c.article_id == article_id))
    conn.execute(update(articles).where(articles.c.id == article_id).values(
        dedup_state="pending", cluster_id=None, relation=None, similarity=None))


def _process(conn: Connection, row, settings: Settings) -> tuple[str, int]:
    """Cluster one claimed article; returns (relation, requeued count)."""
    now = utcnow()
    known = boilerplate.known(conn, row.domain, row.text)
    cleaned = clean(row.text, row.title, known)
    doc = Doc(cleaned.text)
    sig = signature(cleaned.text)
    pub_day = _pub_day(row.published_at, row.extracted_at)
    conn.execute(update(articles).where(articles.c.id == row.id).values(
        clean_text=cleaned.text, attribution=cleaned.attribution, clean_sha256=doc.key))

    _serialise(conn)
    cands = _candidates(conn, row, doc.key, sig, pub_day, settings.dedup_window_days)
    matched: dict[int, Verdict] = {}  # cluster id -> verdict against its original
    originals: dict[int, object] = {}
    if cands:
        orig_ids = dict(conn.execute(select(clusters.c.id, clusters.c.original_article_id)
                                     .where(clusters.c.id.in_(list(cands)))).all())
        rows = {r.id: r for r in _member_rows(conn, articles.c.id.in_(list(orig_ids.values())))}
        sigs = {r.article_id: r for r in conn.execute(select(dedup_signatures).where(
            dedup_signatures.c.article_id.in_(list(orig_ids.values()))))}
        for cid in cands:
            orow = rows.get(orig_ids.get(cid))
            if orow is None:
                continue
            if cands[cid]["routes"] == {"lsh"} and not _worth_verifying(sig, sigs.get(orow.id)):
                continue
            verdict = _verify(row, doc, orow, Doc(orow.clean_text or ""))
            if verdict.matched:
                verdict.evidence["routes"] = sorted(cands[cid]["routes"])
                verdict.evidence["candidate_hits"] = cands[cid]["hits"]
                matched[cid] = verdict
                originals[cid] = orow

    requeued = 0
    if not matched:
        cid = conn.execute(clusters.insert().values(original_article_id=row.id, created_at=now, updated_at=now)
                           .returning(clusters.c.id)).scalar_one()
        _set_relation(conn, row.id, cid, row.id, None, now)
        relation = "original"
    else:
        target = min(matched)
        self_row = _member_rows(conn, articles.c.id == row.id)[0]
        members = _member_rows(conn, articles.c.cluster_id.in_(list(matched)))
        everyone = members + [self_row]
        best = choose_original([_member(r) for r in everyone])
        current = originals[target]
        if len(matched) == 1 and best.id == current.id:
            _set_relation(conn, row.id, target, current.id, matched[target], now)
            relation = matched[target].relation
        else:
            # Merge and/or re-point: every member is verified again against the new original.
            best_row = next(r for r in everyone if r.id == best.id)
            best_doc = Doc(best_row.clean_text or "")
            conn.execute(update(clusters).where(clusters.c.id == target).values(
                original_article_id=best.id, updated_at=now))
            relation = "original"
            for r in everyone:
                if r.id == best.id:
                    _set_relation(conn, r.id, target, best.id, None, now)
                    continue
                verdict = doc_verdict = _verify(r, doc if r.id == row.id else Doc(r.clean_text or ""), best_row,
                                                best_doc)
                if verdict.matched:
                    _set_relation(conn, r.id, target, best.id, doc_verdict, now)
                    if r.id == row.id:
                        relation = verdict.relation
                elif r.id == row.id:
                    # Cannot happen for the article itself unless the new original differs from
                    # every matched one; it then starts its own cluster below.
                    relation = None
                else:
                    _requeue(conn, r.id)
                    requeued += 1
            others = [c for c in matched if c != target]
            if others:
                conn.execute(delete(clusters).where(clusters.c.id.in_(others)))
            if relation is None:
                cid = conn.execute(clusters.insert().values(original_article_id=row.id, created_at=now,
                                                            updated_at=now).returning(clusters.c.id)).scalar_one()
                _set_relation(conn, row.id, cid, row.id, None, now)
                relation = "original"
    _store_index(conn, row.id, sig, pub_day)
    cluster_id = conn.execute(select(articles.c.cluster_id).where(articles.c.id == row.id)).scalar_one()
    boilerplate.observe(conn, row.domain, row.text, cluster_id, known)
    return relation, requeued


# ---------------------------------------------------------------------------------- API


def dedup_pending(engine: Engine, settings: Settings | None = None, limit: int | None = None) -> dict:
    """Cluster pending articles (id order, one transaction each). Safe to run from several
    workers on PostgreSQL; running it again with nothing pending changes nothing."""
    settings = settings or Settings.from_env()
    stats = Counter(processed=0, originals=0, exact=0, near=0, paraphrase=0, requeued=0)
    while limit is None or stats["processed"] < limit:
        with engine.begin() as conn:
            row = _claim(conn)
            if row is None:
                break
            relation, requeued = _process(conn, row, settings)
        stats["processed"] += 1
        stats["originals" if relation == "original" else relation] += 1
        stats["requeued"] += requeued
    return dict(stats)


def reset_dedup(engine: Engine, article_ids) -> int:
    """Mark articles pending again (e.g. after re-extraction). An article that is the
    original of a cluster takes its whole cluster back to pending, so that the
    cluster is rebuilt around the right original. Returns how many articles were reset."""
    ids = sorted(set(int(i) for i in article_ids))
    if not ids:
        return 0
    reset = set()
    with engine.begin() as conn:
        _serialise(conn)
        owned = conn.execute(select(clusters.c.id).where(clusters.c.original_article_id.in_(ids))).scalars().all()
        todo = set(ids)
        if owned:
            todo |= set(conn.execute(select(articles.c.id).where(articles.c.cluster_id.in_(owned))).scalars())
        for aid in sorted(todo):
            _requeue(conn, aid)
            reset.add(aid)
        if owned:
            conn.execute(delete(clusters).where(clusters.c.id.in_(owned)))
    return len(reset)
