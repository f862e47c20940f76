"""Clustering pending articles against the warehouse index, in batches.

``dedup_pending`` claims up to ``BATCH`` pending articles per transaction (id order):

1. claim (PostgreSQL: ``FOR UPDATE SKIP LOCKED LIMIT n``; SQLite: the write lock);
2. clean every text with its domain's learned boilerplate (one query per batch) and
   compute signatures;
3. ``gather``, no lock held: candidates for the whole batch in a few queries — same
   clean-text hash, canonical-URL links, LSH bands (word shingles and content words) within
   ±``dedup_window_days`` (each distinct band, bucket and window probed once; PostgreSQL:
   unnest arrays joined LATERAL to ``lsh_buckets``; SQLite: temp tables); a bucket holding
   more than ``MAX_BUCKET`` articles of the window (a band of common words) is ignored,
   which bounds the rows read per band; an article keeps up to ``MAX_LSH_CANDIDATES`` sharing
   two or more bands and the ``MAX_WEAK_CANDIDATES`` single-band ones nearest in day. Then
   the candidate clusters' originals: signatures and stored numbers/names first — an
   LSH-only candidate whose MinHash estimates are far
   below any verdict is dropped, and so is a pair whose estimated containment is far below
   ``near`` and that lacks the numbers/names a paraphrase needs — and texts only for the
   rest, which are verified, against warehouse originals and against the batch's own
   earlier articles that will be originals if nothing changes meanwhile;
4. PostgreSQL: take a transaction advisory lock, which serialises decisions across
   workers; re-read the site boilerplate other workers committed meanwhile (articles it
   concerns are cleaned again) and catch up with the articles their batches changed (dedup
   epochs): they become candidates, and the clusters they changed are read again;
5. ``assign``, in id order, in Python: verify against each candidate cluster's ORIGINAL
   (never against members; most verdicts are ready from step 3), join the matching cluster
   — merging several if the article matches their originals — choose the cluster's original
   again, and re-point the cluster when it changed: every member is re-verified against the
   new original; members that no longer match are put back to pending (processed again in
   the same run); articles earlier in the batch are candidates too (an in-memory index);
6. bulk writes, stamped with the next dedup epoch: articles, links, clusters, signatures,
   bands (of clusters' originals only: candidates are verified against originals), site
   boilerplate.

The decisions are those of processing the articles one by one in id order: the batch
keeps an overlay (cluster of each touched article, original and members of each
touched cluster) that later articles of the batch see. Nothing is kept between batches.
"""

from __future__ import annotations

import gc
import logging
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import chain
from types import SimpleNamespace

import numpy as np
from sqlalchemy import BigInteger, Text, any_, bindparam, cast, delete, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import NullType
from sqlalchemy.engine import Connection, Engine

from ..cjk import has_cjk
from ..config import Settings
from ..storage.loads import insert_ignore, upsert, utcnow
from ..storage.schema import (articles, cluster_merges, clusters, dedup_epoch, dedup_links, dedup_signatures,
                              lsh_buckets, pages, site_boilerplate, site_paragraphs, sources)
from .boilerplate import HEAD, MIN_ARTICLES, MIN_WORDS, TAIL
from .clean import clean, paragraph_hash, paragraphs
from .original import ONLY_MEMBER, Member, choose_original, original_reason, rank_keys
from .original import canonical_or_none as _canon
from .signatures import (LEXICAL_SCHEME0, estimate, feature_set, from_bytes, signature,
                         signature_buckets, to_bytes)
from .verify import EXACT_MIN_WORDS, Doc, Verdict, compare, lacks_paraphrase_evidence

log = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x6E657773_64656475 & ((1 << 63) - 1)  # "newsdedu"
BATCH = 400
FIRST_BATCH = 25
MAX_LSH_CANDIDATES = 60
# Candidates sharing a single band are mostly chance collisions of common words: at 1M indexed,
# ~50 per article, nearly all of a new article's candidates. True copies share 2+ bands (all but
# ~1 % of truncated and 0.3 % of reworded copies in bench/dedup_eval), so only the few nearest
# in publication day are kept (republication follows the original within days; the rest were,
# at scale, a lottery by id under MAX_LSH_CANDIDATES anyway).
MAX_WEAK_CANDIDATES = 8
MAX_BUCKET = 40  # articles per LSH bucket within the window beyond which the bucket is ignored
MAX_CLUSTERS = 25
CANONICAL_MIN_SIMILARITY = 0.3
# Verification is skipped for an LSH-only candidate whose estimated Jaccard is below both:
# a truncated copy keeps shingle Jaccard >= ~0.3, a reworded one content-word Jaccard >= ~0.35.
PREFILTER_SHINGLE = 0.12
PREFILTER_LEXICAL = 0.22
# A pair whose shingle containment, estimated from the MinHash signatures and set sizes, is below
# this (near needs 0.6) and that lacks the numbers/names a paraphrase needs is not compared.
PREFILTER_CONTAINMENT = 0.35
_IN_CHUNK = 5000  # ids per IN list


def _pub_day(published_at: datetime | None, fetched_at: datetime | None, extracted_at: datetime | None) -> int:
    """The day that places an article in time windows: its publication, else when its page was
    fetched (an archived page: its capture, which a backfill may place years back), else when
    it was extracted."""
    when = published_at or fetched_at or extracted_at or utcnow()
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() // 86400)


def _rank_lsh(found, day: int) -> list[tuple[int, int]]:
    """LSH candidates as (id, shared bands, pub_day) -> those kept, best first, as (id, shared
    bands): the MAX_LSH_CANDIDATES sharing most bands (then lowest id), of which those sharing
    one band only are the MAX_WEAK_CANDIDATES nearest to ``day`` (then lowest id)."""
    strong = sorted((t for t in found if t[1] >= 2), key=lambda t: (-t[1], t[0]))
    weak = sorted((t for t in found if t[1] < 2), key=lambda t: (abs(t[2] - day), t[0]))[:MAX_WEAK_CANDIDATES]
    return [(c, n) for c, n, _ in (strong + weak)[:MAX_LSH_CANDIDATES]]


def _rank_found(use_i, use_k, use_day, found_k, found_id, found_day, exclude) -> dict[int, list[tuple[int, int]]]:
    """``_rank_lsh`` for a whole batch at once (numpy): what every asking article keeps of the
    index entries its probes found, best first, as (candidate id, shared bands).

    ``use_*``: article ``use_i`` (published on day ``use_day``) asked probe ``use_k``;
    ``found_*``: the index entries probe ``found_k`` read (candidate id, its pub_day). Candidates
    in ``exclude`` (the batch's own articles) are dropped before ranking. Done here rather than
    in SQL: the server grouped and ranked ~55,000 (article, candidate) rows per batch at 1M
    indexed for ~40 % of the probe query's time; numpy does it in a few milliseconds."""
    found_k = np.asarray(found_k, dtype=np.int64)
    if not len(found_k):
        return {}
    use_k = np.asarray(use_k, dtype=np.int64)
    by_k = np.argsort(use_k, kind="stable")
    use_k = use_k[by_k]
    use_i, use_day = np.asarray(use_i, dtype=np.int64)[by_k], np.asarray(use_day, dtype=np.int64)[by_k]
    # every entry found once per article that asked its probe
    first = np.searchsorted(use_k, found_k, "left")
    askers = np.searchsorted(use_k, found_k, "right") - first
    entry = np.repeat(np.arange(len(found_k)), askers)
    use = np.repeat(first - (np.cumsum(askers) - askers), askers) + np.arange(len(entry))
    asker, day = use_i[use], use_day[use]
    cand, cand_day = np.asarray(found_id, dtype=np.int64)[entry], np.asarray(found_day, dtype=np.int64)[entry]
    if exclude:
        keep = ~np.isin(cand, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
        asker, day, cand, cand_day = asker[keep], day[keep], cand[keep], cand_day[keep]
        if not len(cand):
            return {}
    # one row per (asker, candidate): the bands they share
    order = np.lexsort((cand, asker))
    asker, day, cand, cand_day = asker[order], day[order], cand[order], cand_day[order]
    starts = np.flatnonzero(_run_starts(asker, cand))
    hits = np.diff(np.r_[starts, len(cand)])
    asker, day, cand, cand_day = asker[starts], day[starts], cand[starts], cand_day[starts]
    # _rank_lsh's order: per asker, strong (2+ bands) by bands then id, then weak by distance in days then id
    weak = hits < 2
    distance = np.where(weak, np.abs(cand_day - day), 0)
    order = np.lexsort((cand, distance, -hits, weak, asker))
    asker, cand, hits, weak = asker[order], cand[order], hits[order], weak[order]
    keep = _rank_within(asker, weak) < np.where(weak, MAX_WEAK_CANDIDATES, MAX_LSH_CANDIDATES)
    asker, cand, hits = asker[keep], cand[keep], hits[keep]
    keep = _rank_within(asker) < MAX_LSH_CANDIDATES
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for a, c, n in zip(asker[keep].tolist(), cand[keep].tolist(), hits[keep].tolist()):
        out[a].append((c, n))
    return out


def _distinct_probes(ids: list[int], bands_of: dict, day_of: dict, window: int):
    """The LSH probes of a batch's articles, each distinct one numbered once.

    Copies in one batch share most bands (and usually the window): each distinct (band,
    bucket, window) is read once, numbered k from 1 in key order (so the server descends the
    index in order: fewer cache misses). Returns ``(use_i, use_k, use_day, keys)``: article
    ``use_i[j]``, published on day ``use_day[j]``, asks probe ``use_k[j]`` (articles in ``ids``
    order, each one's bands in order), and ``keys`` holds the probes' (scheme, bucket, lo, hi)
    as four arrays in k order; None when no article has bands. The numbering sorted Python
    tuples gave, in numpy: ~70 instead of ~140 us per article."""
    per_article = [np.array(bands_of[a], dtype=np.int64).reshape(-1, 2) for a in ids]
    counts = np.fromiter(map(len, per_article), dtype=np.int64, count=len(ids))
    if not counts.sum():
        return None
    scheme_bucket = np.concatenate(per_article)
    scheme, bucket = scheme_bucket[:, 0], scheme_bucket[:, 1]
    use_i = np.repeat(np.array(ids, dtype=np.int64), counts)
    use_day = np.repeat(np.fromiter((day_of[a] for a in ids), dtype=np.int64, count=len(ids)), counts)
    lo, hi = use_day - window, use_day + window
    order = np.lexsort((hi, lo, bucket, scheme))
    keys = [scheme[order], bucket[order], lo[order], hi[order]]
    first = _run_starts(*keys)
    use_k = np.empty(len(order), dtype=np.int64)
    use_k[order] = np.cumsum(first)
    return use_i, use_k, use_day, tuple(key[first] for key in keys)


def _run_starts(*keys: np.ndarray) -> np.ndarray:
    """Rows sorted by ``keys``: True where a run of equal keys begins."""
    change = np.zeros(len(keys[0]), dtype=bool)
    if len(change):
        change[0] = True
        for k in keys:
            change[1:] |= k[1:] != k[:-1]
    return change


def _rank_within(*keys: np.ndarray) -> np.ndarray:
    """Position of each row within its run of equal ``keys`` (rows sorted by them)."""
    change = _run_starts(*keys)
    if not len(change):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(change)
    return np.arange(len(change)) - np.repeat(starts, np.diff(np.r_[starts, len(change)]))


def _observable(paras: list[str]) -> list[int]:
    """Indexes of the paragraphs boilerplate learning observes: the first HEAD and the last TAIL,
    of MIN_WORDS words or more."""
    n = len(paras)
    return [i for i in list(range(min(HEAD, n))) + list(range(max(HEAD, n - TAIL), n))
            if len(paras[i].split()) >= MIN_WORDS]


def _chunks(seq, size=_IN_CHUNK):
    seq = list(seq)
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _pg_array(values) -> str:
    """An integer array literal: much faster to send than a list adapted element by element."""
    return "{" + ",".join(map(str, values)) + "}"


def _pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _among(conn: Connection, column, values):
    """``column IN (values)``. PostgreSQL: ``= ANY`` of one array parameter, so the statement's
    text, and the driver's parsing of it, does not grow with the list (thousands of ids)."""
    values = list(values)
    if not _pg(conn):
        return column.in_(values)
    if values and isinstance(values[0], int):
        # An untyped parameter: the server parses the literal into bigint[] once. Typed as
        # VARCHAR, it was converted again for every row a sequential scan filtered (160 ms for
        # 2,000 ids over 2,400 clusters).
        return column == any_(cast(bindparam(None, _pg_array(values), type_=NullType()), ARRAY(BigInteger)))
    return column == any_(bindparam(None, values, type_=ARRAY(Text)))


# ---------------------------------------------------------------------------------- claim

# when the article's page was fetched (captured, for an archive), for _pub_day
_FETCHED_AT = select(pages.c.fetched_at).where(pages.c.id == articles.c.page_id).scalar_subquery().label("fetched_at")
_CLAIM_COLS = (articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.domain, articles.c.title,
               articles.c.text, articles.c.published_at, _FETCHED_AT, articles.c.extracted_at, articles.c.source_id)


def _claim(conn: Connection, n: int) -> list:
    q = select(*_CLAIM_COLS).where(articles.c.dedup_state == "pending").order_by(articles.c.id).limit(n)
    if _pg(conn):
        return conn.execute(q.with_for_update(skip_locked=True, of=articles)).all()
    # SQLite: a (no-op) write first takes the database write lock for this transaction,
    # so two processes cannot claim the same rows.
    conn.execute(update(articles).where(articles.c.id == -1).values(dedup_state="pending"))
    return conn.execute(q).all()


def _epoch(conn: Connection) -> int:
    """The epoch of the last committed dedup batch."""
    return conn.execute(select(dedup_epoch.c.epoch).where(dedup_epoch.c.id == 1)).scalar() or 0


def _advance_epoch(conn: Connection) -> int:
    """The epoch this transaction's changes are stamped with (called under the decision lock)."""
    new = conn.execute(update(dedup_epoch).where(dedup_epoch.c.id == 1).values(epoch=dedup_epoch.c.epoch + 1)
                       .returning(dedup_epoch.c.epoch)).scalar()
    if new is None:  # a warehouse created without migration 0005's row
        conn.execute(insert(dedup_epoch).values(id=1, epoch=1))
        new = 1
    return new


def _serialise(conn: Connection) -> bool:
    """PostgreSQL: hold the advisory lock that serialises cluster decisions across workers until
    the transaction ends; True once held (SQLite's write lock, taken at the claim, does that)."""
    if not _pg(conn):
        return False
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    return True


# ---------------------------------------------------------------------------------- index


def _stored_buckets(sig) -> list[tuple[int, int]]:
    """(scheme, bucket) pairs of a ``dedup_signatures`` row: a stored MinHash passed the
    feature-count thresholds when it was written, so they are not applied again."""
    mh, lx = from_bytes(sig.minhash), from_bytes(sig.lexhash)
    return signature_buckets(mh, lx, 1 << 30 if mh is not None else 0, 1 << 30 if lx is not None else 0)


def _drop_index_entries(conn: Connection, article_ids) -> None:
    ids = list(article_ids)
    if not ids:
        return
    for chunk in _chunks(ids):
        sigs = conn.execute(select(dedup_signatures).where(dedup_signatures.c.article_id.in_(chunk))).all()
        for sig in sigs:
            pairs = _stored_buckets(sig)
            if pairs:
                conn.execute(delete(lsh_buckets).where(
                    lsh_buckets.c.article_id == sig.article_id,
                    tuple_(lsh_buckets.c.scheme, lsh_buckets.c.bucket).in_(pairs)))
        if sigs:
            conn.execute(delete(dedup_signatures).where(
                dedup_signatures.c.article_id.in_([s.article_id for s in sigs])))


def _index_from_signatures(conn: Connection, article_ids: list[int]) -> None:
    """Bucket rows for already-signed articles that lack them (their stored signatures suffice)."""
    for chunk in _chunks(article_ids):
        rows = []
        for sig in conn.execute(select(dedup_signatures).where(dedup_signatures.c.article_id.in_(chunk))):
            rows.extend((s, b, sig.article_id, sig.pub_day) for s, b in _stored_buckets(sig))
        if rows:
            insert_ignore(conn, lsh_buckets, [dict(scheme=s, bucket=b, article_id=a, pub_day=d) for s, b, a, d in rows],
                          ["scheme", "bucket", "pub_day", "article_id"])


def _insert_index(conn: Connection, sig_rows: list[dict], bucket_rows: list[tuple]) -> None:
    if sig_rows:
        conn.execute(insert(dedup_signatures), sig_rows)
    if not bucket_rows:
        return
    if _pg(conn):
        cols = list(zip(*bucket_rows))
        conn.execute(text(
            "INSERT INTO lsh_buckets (scheme, bucket, article_id, pub_day) "
            "SELECT * FROM unnest(CAST(:s AS integer[]), CAST(:b AS bigint[]), CAST(:a AS bigint[]), "
            "CAST(:d AS integer[]))"), {"s": _pg_array(cols[0]), "b": _pg_array(cols[1]), "a": _pg_array(cols[2]),
                                        "d": _pg_array(cols[3])})
    else:
        conn.execute(insert(lsh_buckets), [dict(scheme=s, bucket=b, article_id=a, pub_day=d)
                                           for s, b, a, d in bucket_rows])


def _signed(clean_text: str):
    """The signature of a clean text and its verification doc, sharing one tokenisation and 3-gram set."""
    sig = signature(clean_text)
    doc = Doc(clean_text)
    doc.tokens, doc.shingles = sig.tokens, sig.shingles
    return sig, doc


def _signature_row(aid: int, sig, doc: Doc, day: int) -> dict:
    """A ``dedup_signatures`` row: a MinHash is kept only when the text had enough features to be banded."""
    buckets = sig.buckets  # shingle bands first, then content-word bands
    has_mh = bool(buckets) and buckets[0][0] < LEXICAL_SCHEME0
    has_lx = bool(buckets) and buckets[-1][0] >= LEXICAL_SCHEME0
    numbers, names = doc.feature_hashes
    return dict(article_id=aid, minhash=to_bytes(sig.minhash) if has_mh else None,
                lexhash=to_bytes(sig.lexhash) if has_lx else None, pub_day=day, token_count=len(sig.tokens),
                numbers=numbers, names=names)


def _reclean_teachers(conn: Connection, teachers: dict[str, set[int]], epoch: int, exclude: set[int]) -> set[int]:
    """Warehouse articles that taught their site a paragraph just learned as boilerplate.

    They were cleaned before it was known, so their clean text, signature and index entries
    still hold it: those of ``teachers``' domains and clusters (the clusters that observed the
    paragraph, or those they were merged into since) are cleaned again (``_reclean``).
    Decisions stand, as for the batch's own articles (``reclean_decided``). Returns those
    cleaned again."""
    found = []
    for domain, cids in teachers.items():
        for chunk in _chunks(sorted(_merged_into(conn, {c for c in cids if c is not None and c > 0}))):
            found += conn.execute(select(articles.c.id, articles.c.domain, articles.c.clean_text).where(
                articles.c.domain == domain, articles.c.cluster_id.in_(chunk), articles.c.dedup_state == "done")).all()
    return _reclean(conn, [r for r in found if r.id not in exclude], epoch)


def _learned_lines(conn: Connection, domains) -> dict[str, frozenset[int]]:
    """Every boilerplate paragraph hash learned for the given domains (a site has a few dozen at most)."""
    out: dict[str, set[int]] = defaultdict(set)
    for chunk in _chunks(sorted(d for d in set(domains) if d)):
        for d, h in conn.execute(select(site_boilerplate.c.domain, site_boilerplate.c.paragraph_hash).where(
                site_boilerplate.c.domain.in_(chunk))):
            out[d].add(h)
    return {d: frozenset(hs) for d, hs in out.items()}


def _reclean(conn: Connection, rows, epoch: int) -> set[int]:
    """Of the given articles (id, domain, clean_text), those whose clean text still holds a
    paragraph their site has learned as boilerplate are cleaned again with everything it has
    learned: clean text, signature and (for an original) LSH bands. Returns their ids."""
    learned = _learned_lines(conn, {r.domain for r in rows})
    dirty = [r.id for r in rows if learned.get(r.domain)
             and any(paragraph_hash(p) in learned[r.domain] for p in paragraphs(r.clean_text or ""))]
    if not dirty:
        return set()
    full, originals = [], set()
    for chunk in _chunks(dirty):
        full += conn.execute(select(articles.c.id, articles.c.domain, articles.c.title, articles.c.text,
                                    articles.c.published_at, _FETCHED_AT, articles.c.extracted_at).where(
            articles.c.id.in_(chunk))).all()
        originals |= set(conn.execute(select(clusters.c.original_article_id).where(
            clusters.c.original_article_id.in_(chunk))).scalars())
    _drop_index_entries(conn, dirty)
    sig_rows, bucket_rows, params = [], [], []
    for r in full:
        text_ = r.text or ""
        known = frozenset(h for h in map(paragraph_hash, paragraphs(text_)) if h in learned[r.domain])
        cleaned = clean(text_, r.title, known)
        sig, doc = _signed(cleaned.text)
        day = _pub_day(r.published_at, r.fetched_at, r.extracted_at)
        sig_rows.append(_signature_row(r.id, sig, doc, day))
        if r.id in originals:
            bucket_rows.extend((s, b, r.id, day) for s, b in sig.buckets)
        params.append(dict(aid_=r.id, v_clean_text=cleaned.text, v_attribution=cleaned.attribution,
                           v_clean_sha256=doc.key, v_dedup_epoch=epoch))
    _update_articles(conn, ("clean_text", "attribution", "clean_sha256", "dedup_epoch"), params)
    _insert_index(conn, sig_rows, bucket_rows)
    return set(dirty)


def _merged_into(conn: Connection, cids: set[int]) -> set[int]:
    """The given clusters and those they were merged into, chains of merges followed."""
    out, frontier = set(cids), set(cids)
    while frontier:
        found = set()
        for chunk in _chunks(sorted(frontier)):
            found |= set(conn.execute(select(cluster_merges.c.merged_into).where(
                cluster_merges.c.cluster_id.in_(chunk))).scalars())
        frontier = found - out
        out |= found
    return out


def _compare_again(conn: Connection, recleaned: set[int], epoch: int, now: datetime) -> None:
    """The links whose texts changed under them (a copy cleaned again, or its cluster's original):
    compared again, so that relation and similarity describe the clean texts. Membership stands:
    a pair that no longer matches keeps its link as decided. The evidence says the scores were
    recomputed."""
    if not recleaned:
        return
    cluster_of = {}
    for chunk in _chunks(sorted(recleaned)):
        cluster_of.update(conn.execute(select(articles.c.id, articles.c.cluster_id).where(
            articles.c.id.in_(chunk), articles.c.cluster_id.is_not(None), articles.c.dedup_state == "done")).all())
    original_of = {}
    for chunk in _chunks(sorted(set(cluster_of.values()))):
        original_of.update(conn.execute(select(clusters.c.id, clusters.c.original_article_id).where(
            clusters.c.id.in_(chunk))).all())
    pairs = {(a, original_of[c]) for a, c in cluster_of.items() if original_of.get(c) not in (None, a)}
    recleaned_originals = {c: o for c, o in original_of.items() if o in recleaned}
    for chunk in _chunks(sorted(recleaned_originals)):
        for aid, cid in conn.execute(select(articles.c.id, articles.c.cluster_id).where(
                articles.c.cluster_id.in_(chunk), articles.c.dedup_state == "done")):
            if aid != recleaned_originals[cid]:
                pairs.add((aid, recleaned_originals[cid]))
    if not pairs:
        return
    rows, links = {}, {}
    for chunk in _chunks(sorted({i for pair in pairs for i in pair})):
        rows.update((r.id, r) for r in conn.execute(select(
            articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.clean_text).where(
            articles.c.id.in_(chunk))))
        links.update((r.article_id, r) for r in conn.execute(select(dedup_links).where(
            dedup_links.c.article_id.in_(chunk))))
    docs: dict[int, Doc] = {}
    article_params, link_params = [], []
    for aid, oid in sorted(pairs):
        copy, orig, link = rows.get(aid), rows.get(oid), links.get(aid)
        if copy is None or orig is None or link is None or link.original_article_id != oid:
            continue
        for r in (copy, orig):
            if r.id not in docs:
                docs[r.id] = Doc(r.clean_text or "")
        verdict = _verify(copy, docs[aid], orig, docs[oid])
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
        _update_articles(conn, ("relation", "similarity", "dedup_epoch"), article_params)
        conn.execute(update(dedup_links).where(dedup_links.c.article_id == bindparam("aid_")).values(
            {c: bindparam(f"v_{c}") for c in ("relation", "similarity", "method", "evidence", "decided_at")}),
            link_params)


# ---------------------------------------------------------------------------------- helpers


_MEMBER_COLS = (articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.domain, articles.c.attribution,
                articles.c.published_at, articles.c.clean_text, articles.c.cluster_id, sources.c.name)


def _member(r) -> Member:
    length = getattr(r, "length", None)
    if length is None:  # counted once per row: a cluster's members are ranked again with every new copy
        length = r.length = len((r.clean_text or "").split())
    return Member(id=r.id, url=r.url, canonical_url=r.canonical_url, domain=r.domain, source_name=r.name,
                  attribution=r.attribution, published_at=r.published_at, length=length)


def _canonical_link(a, b) -> bool:
    """One article's canonical URL names the other's URL (or both name the same document)."""
    ca, cb = _canon(a.canonical_url), _canon(b.canonical_url)
    if not (ca or cb):  # most candidate pairs: no need to canonicalise their URLs
        return False
    ua, ub = _canon(a.url), _canon(b.url)
    return bool((ca and ca == ub) or (cb and cb == ua) or (ca and cb and ca == cb and (ca != ua or cb != ub)))


def _worth_verifying(mine: tuple, theirs: tuple | None) -> bool:
    """Cheap filter on MinHash estimates before comparing texts."""
    if theirs is None:
        return True
    js = estimate(mine[0], theirs[0])
    jl = estimate(mine[1], theirs[1])
    if js is None or jl is None:
        return True
    return js >= PREFILTER_SHINGLE or jl >= PREFILTER_LEXICAL


def _verify(copy_row, copy_doc: Doc, orig_row, orig_doc: Doc) -> Verdict:
    linked = _canonical_link(copy_row, orig_row)
    verdict = compare(copy_doc, orig_doc, quick=not linked)
    if linked:
        if verdict.matched:
            verdict.evidence["verified_by"] = verdict.method
            verdict.method = "canonical-url"
        elif verdict.similarity >= CANONICAL_MIN_SIMILARITY:
            verdict.evidence["verified_by"] = "canonical-url"
            verdict = Verdict("near", verdict.similarity, "canonical-url", verdict.evidence)
    return verdict


def _requeue(conn: Connection, article_id: int, epoch: int) -> None:
    _drop_index_entries(conn, [article_id])
    conn.execute(delete(dedup_links).where(dedup_links.c.article_id == article_id))
    conn.execute(update(articles).where(articles.c.id == article_id).values(
        dedup_state="pending", cluster_id=None, relation=None, similarity=None, dedup_epoch=epoch))


# SQL element types of the article columns dedup writes (PostgreSQL array updates).
_ARTICLE_ARRAY_TYPES = {"clean_text": "text", "attribution": "text", "clean_sha256": "text", "cluster_id": "bigint",
                        "relation": "text", "similarity": "float8", "dedup_state": "text", "dedup_epoch": "bigint"}


def _update_articles(conn: Connection, cols: tuple[str, ...], params: list[dict]) -> None:
    """Article columns ``cols`` from params ``{"aid_": id, "v_<col>": value}``, many rows at once."""
    if _pg(conn) and set(cols) <= _ARTICLE_ARRAY_TYPES.keys():
        _update_articles_pg(conn, cols, params)
    else:
        conn.execute(update(articles).where(articles.c.id == bindparam("aid_")).values(
            {c: bindparam(f"v_{c}") for c in cols}), params)


def _update_articles_pg(conn: Connection, cols: tuple[str, ...], params: list[dict]) -> None:
    """One UPDATE ... FROM unnest(arrays) for many articles: one statement, not one per row
    (the decisions are written while the advisory lock is held)."""
    values = {"ids": _pg_array(p["aid_"] for p in params)}
    values.update({c: [p[f"v_{c}"] for p in params] for c in cols})
    conn.execute(text(
        "UPDATE articles AS a SET " + ", ".join(f"{c} = v.{c}" for c in cols)
        + " FROM unnest(CAST(:ids AS bigint[]), "
        + ", ".join(f"CAST(:{c} AS {_ARTICLE_ARRAY_TYPES[c]}[])" for c in cols)
        + ") AS v(id, " + ", ".join(cols) + ") WHERE a.id = v.id"), values)


# (domain, paragraph hash) pairs as rows: the batch's few distinct domains sent once and
# numbered, so that no list of thousands of strings is adapted parameter by parameter.
_WANTED_PARAGRAPHS = ("(SELECT (CAST(:domains AS text[]))[u.n] AS domain, u.paragraph_hash "
                      "FROM unnest(CAST(:n AS integer[]), CAST(:h AS bigint[])) AS u(n, paragraph_hash)) w")


def _wanted_params(pairs) -> dict:
    pairs = sorted(pairs)
    domains = sorted({d for d, _ in pairs})
    number = {d: i for i, d in enumerate(domains, 1)}
    return {"domains": domains, "n": _pg_array(number[d] for d, _ in pairs), "h": _pg_array(h for _, h in pairs)}


# ---------------------------------------------------------------------------------- batch


class _MemoryIndex:
    """Exact-hash keys, URLs and LSH bands of articles held in memory, looked up like the
    warehouse: a batch's own processed articles, and those other workers committed meanwhile."""

    def __init__(self):
        self.keys: dict[str, list[int]] = defaultdict(list)
        self.urls: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.day: dict[int, int] = {}

    def add(self, aid: int, key: str, row, bands, day: int) -> None:
        """``bands``: those of an original only (like the warehouse index), else empty."""
        for pair in bands:
            self.buckets[pair].append(aid)
        self.day[aid] = day
        self.keys[key].append(aid)
        # what another article's lookups match: ("u", url) for articles.url, ("c", canonical_url)
        self.urls[("u", row.url)].append(aid)
        if row.canonical_url:
            self.urls[("c", row.canonical_url)].append(aid)

    def candidates(self, key: str, row, bands, day: int, ok) -> dict[int, list]:
        """{candidate id: [hits, routes]} as ``db_candidates`` scores them; ``ok`` filters."""
        out: dict[int, list] = {}
        for other in self.keys.get(key, ()):
            if ok(other):
                info = out.setdefault(other, [0, set()])
                info[0] += 1000
                info[1].add("exact-hash")
        own, canonical = _canon(row.url), _canon(row.canonical_url)
        mine_keys = {("c", row.url)}
        if own and own != row.url:
            mine_keys |= {("c", own), ("u", own)}
        if canonical and canonical != own:
            mine_keys |= {("u", canonical), ("u", row.canonical_url), ("c", canonical)}
        for k in mine_keys:
            for other in self.urls.get(k, ()):
                if ok(other):
                    info = out.setdefault(other, [0, set()])
                    info[0] += 500
                    info[1].add("canonical-url")
        # counted in C: called twice per article, against every band of the batch's originals
        hits = Counter(chain.from_iterable(filter(None, map(self.buckets.get, bands))))
        for other, n in _rank_lsh([(o, n, self.day[o]) for o, n in hits.items() if ok(o)], day):
            info = out.setdefault(other, [0, set()])
            info[0] += n
            info[1].add("lsh")
        return out


class _Batch:
    """One claimed batch: its articles, the overlay of the warehouse it touches, pending writes."""

    def __init__(self, conn: Connection, claimed: list, settings: Settings):
        self.conn = conn
        self.window = settings.dedup_window_days
        self.now = utcnow()
        self.ids = [r.id for r in claimed]
        self.mine = set(self.ids)
        self.rows: dict[int, SimpleNamespace] = {}  # article id -> member fields (overlay, authoritative)
        self.docs: dict[int, Doc] = {}
        self.sigs: dict[int, tuple] = {}  # article id -> (minhash, lexhash) for the prefilter
        self.corig: dict[int, int] = {}  # cluster id -> original article id (overlay)
        self.creason: dict[int, str | None] = {}  # cluster id -> why its original leads (overlay)
        self.reason_changed: set[int] = set()  # clusters whose reason changed, their original not
        self.cmembers: dict[int, set[int]] = {}  # cluster id -> member ids, for clusters fully loaded
        self.deleted_clusters: set[int] = set()
        self.merged_into: dict[int, int] = {}  # deleted cluster -> the one it was merged into
        self.new_clusters: list[int] = []  # provisional ids (negative), creation order
        self.touched: dict[int, dict] = {}  # article id -> column values to write
        self.links: dict[int, dict | None] = {}  # article id -> link row, None: delete
        self.requeued_mine: set[int] = set()
        self.recleaned: set[int] = set()  # articles cleaned again after their site learned boilerplate
        self.verdicts: dict[tuple[int, int], Verdict] = {}
        self.batch_sig = {}
        self.memory = _MemoryIndex()
        self.names = {}
        self.known: dict[int, frozenset[int]] = {}
        self.pub_day: dict[int, int] = {}
        self.bk: dict[int, list[tuple[int, int]]] = {}
        self.sig_loaded: set[int] = set()
        # article id -> (numbers, names) as CRC-32 sets: stored ones for warehouse articles, so that
        # a candidate original is ruled out without its text; computed from the doc otherwise
        self.feats: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
        self.addresses: dict[int, SimpleNamespace] = {}  # article id -> url, canonical_url (no text loaded)
        self.touched_clusters: set[int] = set()
        self._worth: dict[tuple[int, int], bool] = {}  # (article, original) -> passes the MinHash prefilter
        self._needs_text: set[tuple[int, int]] = set()  # pairs the prefilter could not rule out
        self._jaccard: dict[tuple[int, int], float] = {}  # (article, original) -> shingle MinHash estimate
        self._cluster_of: dict[int, int | None] = {}
        self.claimed = {r.id: r for r in claimed}
        self.stats = Counter()

    # ----------------------------------------------------------------- preparation

    def prepare(self) -> None:
        conn = self.conn
        src_ids = {r.source_id for r in self.claimed.values() if r.source_id is not None}
        if src_ids:
            self.names = dict(conn.execute(select(sources.c.id, sources.c.name).where(sources.c.id.in_(src_ids))).all())
        # Site boilerplate known for the batch's domains and paragraphs, and the observations so far.
        self.paras = {}
        want, observable = set(), set()
        for r in self.claimed.values():
            ps = paragraphs(r.text)
            hs = [paragraph_hash(p) for p in ps]
            self.paras[r.id] = (ps, hs)
            if r.domain:
                want |= {(r.domain, h) for h in hs}
                observable |= {(r.domain, hs[i]) for i in _observable(ps)}
        self.want = want  # learned boilerplate is stripped wherever it stands: every paragraph
        self.observable = observable  # observations are counted for edge paragraphs only: half as many
        self.new_boilerplate: list[dict] = []
        self.new_observations: list[tuple[str, int, int]] = []  # (domain, hash, article id)
        self.load_site_knowledge()
        for aid in self.ids:
            self._clean(aid)
        _drop_index_entries(conn, self.ids)  # articles processed before (reset) leave no stale bands

    def load_site_knowledge(self) -> None:
        """Learned boilerplate and paragraph observations of the batch's domains, as committed.

        Read in ``prepare`` (no lock held) and again once the advisory lock is held: another
        worker may have committed what it learned in between, and a batch must decide with it
        exactly as if the batches had run one after the other (articles cleaned with knowledge
        that arrived since are cleaned again by ``relearned``)."""
        self.learned: dict[str, set[int]] = defaultdict(set)
        self.observed: dict[tuple[str, int], set[int]] = defaultdict(set)
        if not self.want:
            return
        want = self.want
        if _pg(self.conn):
            # The wanted (domain, hash) pairs joined to each table's key: one index probe per pair.
            # (domain = ANY(...) AND hash = ANY(...) would probe every combination of the two.)
            for d, h in self.conn.execute(text(
                    "SELECT b.domain, b.paragraph_hash FROM " + _WANTED_PARAGRAPHS + " JOIN site_boilerplate b "
                    "ON b.domain = w.domain AND b.paragraph_hash = w.paragraph_hash"), _wanted_params(want)):
                self.learned[d].add(h)
            # Observations matter only for edge paragraphs not learned yet (a learned one is skipped
            # before they are consulted); a learned paragraph's can be many rows.
            pairs = [(d, h) for d, h in self.observable if h not in self.learned.get(d, ())]
            if pairs:
                for d, h, c in self.conn.execute(text(
                        "SELECT p.domain, p.paragraph_hash, p.cluster_id FROM " + _WANTED_PARAGRAPHS + " JOIN "
                        "site_paragraphs p ON p.domain = w.domain AND p.paragraph_hash = w.paragraph_hash"),
                        _wanted_params(pairs)):
                    self.observed[(d, h)].add(c)
            return
        domains = sorted({d for d, _ in want})
        for hs in _chunks(sorted({h for _, h in want})):
            for d, h in self.conn.execute(select(site_boilerplate.c.domain, site_boilerplate.c.paragraph_hash).where(
                    site_boilerplate.c.domain.in_(domains), site_boilerplate.c.paragraph_hash.in_(hs))):
                if (d, h) in want:
                    self.learned[d].add(h)
            for d, h, c in self.conn.execute(select(site_paragraphs).where(
                    site_paragraphs.c.domain.in_(domains), site_paragraphs.c.paragraph_hash.in_(hs))):
                if (d, h) in self.observable:
                    self.observed[(d, h)].add(c)

    def _clean(self, aid: int) -> None:
        cleaned, doc = self._cleaned(aid)
        r = self.claimed[aid]
        self.rows[aid] = SimpleNamespace(
            id=aid, url=r.url, canonical_url=r.canonical_url, domain=r.domain, attribution=cleaned.attribution,
            published_at=r.published_at, clean_text=cleaned.text, cluster_id=None, name=self.names.get(r.source_id))
        self.touched[aid] = dict(clean_text=cleaned.text, attribution=cleaned.attribution, clean_sha256=doc.key)
        self.pub_day[aid] = _pub_day(r.published_at, r.fetched_at, r.extracted_at)

    def _cleaned(self, aid: int):
        """The article cleaned with the boilerplate learned so far, and its signature and doc."""
        self._worth.clear()  # a signature changes (rare: boilerplate learned mid-batch)
        self._needs_text.clear()
        self._jaccard.clear()
        self.feats.pop(aid, None)
        if self.verdicts:
            self.verdicts = {k: v for k, v in self.verdicts.items() if aid not in k}
        r = self.claimed[aid]
        hs = self.paras[aid][1]
        known = frozenset(h for h in hs if h in self.learned.get(r.domain, ())) if r.domain else frozenset()
        cleaned = clean(r.text, r.title, known)
        sig, doc = _signed(cleaned.text)
        self.known[aid] = known
        self.bk[aid] = sig.buckets
        self.docs[aid] = doc
        self.batch_sig[aid] = sig
        self.sigs[aid] = (sig.minhash, sig.lexhash, len(sig.shingles))
        return cleaned, doc

    def reclean_decided(self) -> None:
        """Batch articles decided before the batch learned one of their paragraphs (those that
        taught it, mostly) are cleaned again; their decisions stand. Boilerplate only pads a
        text, which the verification tolerates, but the clean text analysts read and the index
        future articles are compared with must not keep it."""
        if not self.new_boilerplate:
            return
        for aid in self.ids:
            domain = self.claimed[aid].domain
            now_known = self.learned.get(domain, ()) if domain else ()
            if not any(h in now_known and h not in self.known[aid] for h in self.paras[aid][1]):
                continue
            cleaned, doc = self._cleaned(aid)
            row = self.rows[aid]
            if cleaned.text == row.clean_text:  # the paragraph was removed by another rule already
                continue
            row.clean_text, row.attribution, row.length = cleaned.text, cleaned.attribution, None
            self.touched.setdefault(aid, {}).update(clean_text=cleaned.text, attribution=cleaned.attribution,
                                                    clean_sha256=doc.key)
            self.recleaned.add(aid)

    # ----------------------------------------------------------------- candidates

    def worth_verifying(self, aid: int, oids) -> dict[int, bool]:
        """``_worth_verifying`` for one article against many originals: one numpy comparison
        for all of them, and remembered for the batch."""
        mine = self.sigs[aid]
        out: dict[int, bool] = {}
        stack: list[int] = []
        for oid in oids:
            known = self._worth.get((aid, oid))
            if known is not None:
                out[oid] = known
                continue
            theirs = self.sigs.get(oid)
            if (theirs is None or mine[0] is None or mine[1] is None or theirs[0] is None or theirs[1] is None
                    or len(theirs[0]) != len(mine[0]) or len(theirs[1]) != len(mine[1])):
                out[oid] = self._worth[(aid, oid)] = _worth_verifying(mine, theirs)
            else:
                stack.append(oid)
        if stack:
            js = (np.stack([self.sigs[o][0] for o in stack]) == mine[0]).mean(axis=1)
            jl = (np.stack([self.sigs[o][1] for o in stack]) == mine[1]).mean(axis=1)
            for oid, j, ok in zip(stack, js.tolist(), ((js >= PREFILTER_SHINGLE) | (jl >= PREFILTER_LEXICAL)).tolist()):
                out[oid] = self._worth[(aid, oid)] = ok
                self._jaccard[(aid, oid)] = j
        return out

    def db_candidates(self, ids: list[int]) -> dict[int, dict[int, list]]:
        """Warehouse candidates of the given batch articles: aid -> {candidate id: [hits, routes]}."""
        conn = self.conn
        out: dict[int, dict[int, list]] = {aid: {} for aid in ids}
        lo = {aid: self.pub_day[aid] - self.window for aid in ids}
        hi = {aid: self.pub_day[aid] + self.window for aid in ids}
        # exact clean-text hash
        keys = defaultdict(list)
        for aid in ids:
            keys[self.docs[aid].key].append(aid)
        for chunk in _chunks(keys):
            q = (select(articles.c.id, articles.c.clean_sha256, dedup_signatures.c.pub_day)
                 .join(dedup_signatures, dedup_signatures.c.article_id == articles.c.id)
                 .where(_among(conn, articles.c.clean_sha256, chunk), articles.c.dedup_state == "done",
                        articles.c.cluster_id.is_not(None)))
            for cid_, key, day in conn.execute(q):
                for aid in keys[key]:
                    if cid_ != aid and cid_ not in self.mine and lo[aid] <= day <= hi[aid]:
                        info = out[aid].setdefault(cid_, [0, set()])
                        info[0] += 1000
                        info[1].add("exact-hash")
        # canonical-url links
        look_url: dict[str, set[int]] = defaultdict(set)  # value of articles.url -> batch ids
        look_canon: dict[str, set[int]] = defaultdict(set)  # value of articles.canonical_url -> batch ids
        for aid in ids:
            r = self.rows[aid]
            own, canonical = _canon(r.url), _canon(r.canonical_url)
            look_canon[r.url].add(aid)
            if own and own != r.url:
                look_canon[own].add(aid)
                look_url[own].add(aid)
            if canonical and canonical != own:
                look_url[canonical].add(aid)
                look_url[r.canonical_url].add(aid)
                look_canon[canonical].add(aid)
        if look_url or look_canon:
            conds = []
            if look_url:
                conds.append(_among(conn, articles.c.url, look_url))
            if look_canon:
                conds.append(_among(conn, articles.c.canonical_url, look_canon))
            q = select(articles.c.id, articles.c.url, articles.c.canonical_url).where(
                articles.c.dedup_state == "done", articles.c.cluster_id.is_not(None), or_(*conds))
            for cid_, url, canonical in conn.execute(q):
                if cid_ in self.mine:
                    continue
                for aid in look_url.get(url, set()) | look_canon.get(canonical, set()):
                    info = out[aid].setdefault(cid_, [0, set()])
                    info[0] += 500
                    info[1].add("canonical-url")
        # LSH bands, for the articles whose exact text is not already clustered in their window
        probes = _distinct_probes(self._needing_bands(ids, out), self.bk, self.pub_day, self.window)
        if probes is not None:
            use_i, use_k, use_day, (ds, db_, dlo, dhi) = probes
            # A bucket shared by more than MAX_BUCKET articles in the window is uninformative (a
            # band of common words): it is skipped, found by reading at most MAX_BUCKET + 1 entries.
            if _pg(conn):
                # No JIT for the rest of this transaction: compiling costs more than it saves on
                # this many-probe join. What the probes found comes back as one row of three
                # arrays (the driver parses them in C) and is ranked in numpy.
                conn.execute(text("SET LOCAL jit = off"))
                found = conn.execute(text(
                    "SELECT array_agg(p.k), array_agg(x.article_id), array_agg(x.pub_day) "
                    "FROM unnest(CAST(:s AS integer[]), "
                    "CAST(:b AS bigint[]), CAST(:lo AS integer[]), CAST(:hi AS integer[])) "
                    "WITH ORDINALITY AS p(scheme, bucket, lo, hi, k) "
                    "CROSS JOIN LATERAL (SELECT y.article_id, y.pub_day, count(*) OVER () AS n FROM ("
                    "SELECT b.article_id, b.pub_day FROM lsh_buckets b WHERE b.scheme = p.scheme "
                    "AND b.bucket = p.bucket AND b.pub_day BETWEEN p.lo AND p.hi LIMIT :cap) y) x "
                    "WHERE x.n < :cap"),
                    {"s": _pg_array(ds.tolist()), "b": _pg_array(db_.tolist()), "lo": _pg_array(dlo.tolist()),
                     "hi": _pg_array(dhi.tolist()), "cap": MAX_BUCKET + 1}).one()
                found = found if found[0] is not None else ((), (), ())
            else:
                conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS dedup_band "
                                  "(k INTEGER PRIMARY KEY, scheme INTEGER, bucket BIGINT, lo INTEGER, hi INTEGER)"))
                conn.execute(text("DELETE FROM dedup_band"))
                conn.execute(text("INSERT INTO dedup_band VALUES (:k, :s, :b, :lo, :hi)"),
                             [dict(k=k, s=s_, b=b_, lo=lo_, hi=hi_) for k, s_, b_, lo_, hi_ in zip(
                                 range(1, len(ds) + 1), ds.tolist(), db_.tolist(), dlo.tolist(), dhi.tolist())])
                conn.execute(text(
                    "DELETE FROM dedup_band WHERE EXISTS (SELECT 1 FROM lsh_buckets b "
                    "WHERE b.scheme = dedup_band.scheme AND b.bucket = dedup_band.bucket "
                    "AND b.pub_day BETWEEN dedup_band.lo AND dedup_band.hi LIMIT 1 OFFSET :cap)"),
                    {"cap": MAX_BUCKET})
                rows = conn.execute(text(
                    "SELECT p.k, b.article_id, b.pub_day FROM dedup_band p JOIN lsh_buckets b "
                    "ON b.scheme = p.scheme AND b.bucket = p.bucket AND b.pub_day BETWEEN p.lo AND p.hi")).all()
                found = tuple(zip(*rows)) if rows else ((), (), ())
            ranked = _rank_found(use_i, use_k, use_day, *found, exclude=self.mine)  # the same, whichever the database
            for aid, kept in ranked.items():
                cands = out[aid]
                for cand, n in kept:
                    info = cands.get(cand)
                    if info is None:
                        cands[cand] = [n, {"lsh"}]
                    else:
                        info[0] += n
                        info[1].add("lsh")
        return out

    def _needing_bands(self, ids: list[int], found: dict[int, dict[int, list]]) -> list[int]:
        """``ids`` less the articles whose exact text (long enough to be an ``exact`` copy) is in a
        warehouse cluster within their window, or in an earlier article of the batch within it:
        such an article joins that text's cluster, and its bands would find what that text's own
        bands found, so they are not probed (in step A at 1M, a third of the articles are exact
        copies). It differs only where that text's own search saw something else: a cluster at
        the edge of two different windows, or a search made before its site's boilerplate was
        learned (the twin was cleaned again later, its clusters standing)."""
        earlier: dict[str, list[int]] = defaultdict(list)  # text key -> days of earlier batch articles
        out = []
        for aid in ids:
            doc, day = self.docs[aid], self.pub_day[aid]
            twin = (any("exact-hash" in routes for _, routes in found[aid].values())
                    or any(abs(day - d) <= self.window for d in earlier.get(doc.key, ())))
            if not (twin and len(doc.tokens) >= EXACT_MIN_WORDS):
                out.append(aid)
            earlier[doc.key].append(day)
        return out

    def batch_candidates(self, aid: int) -> dict[int, list]:
        """Candidates among the batch's articles already processed and the articles other workers
        committed meanwhile (``catch_up``): an in-memory index."""
        lo, hi = self.pub_day[aid] - self.window, self.pub_day[aid] + self.window
        return self.memory.candidates(
            self.docs[aid].key, self.rows[aid], self.bk[aid], self.pub_day[aid],
            lambda other: other != aid and lo <= self.pub_day[other] <= hi and self.cluster_of(other) is not None)

    def index_in_batch(self, aid: int, original: bool) -> None:
        self.memory.add(aid, self.docs[aid].key, self.rows[aid], self.bk[aid] if original else (), self.pub_day[aid])

    # ----------------------------------------------------------------- overlay loads

    def load_articles(self, ids) -> None:
        missing = [i for i in set(ids) if i not in self.rows]
        for chunk in _chunks(missing):
            q = (select(*_MEMBER_COLS, dedup_signatures.c.minhash, dedup_signatures.c.lexhash,
                        dedup_signatures.c.token_count, dedup_signatures.c.numbers, dedup_signatures.c.names)
                 .select_from(articles.outerjoin(sources, sources.c.id == articles.c.source_id)
                              .outerjoin(dedup_signatures, dedup_signatures.c.article_id == articles.c.id))
                 .where(_among(self.conn, articles.c.id, chunk)))
            for r in self.conn.execute(q):
                self.rows[r.id] = SimpleNamespace(
                    id=r.id, url=r.url, canonical_url=r.canonical_url, domain=r.domain, attribution=r.attribution,
                    published_at=r.published_at, clean_text=r.clean_text, cluster_id=r.cluster_id, name=r.name)
                if r.minhash is not None or r.lexhash is not None:
                    self.sigs[r.id] = (from_bytes(r.minhash), from_bytes(r.lexhash), max(1, (r.token_count or 3) - 2))
                self._stored_features(r.id, r.numbers, r.names)

    def load_cluster_ids(self, ids) -> None:
        """Cluster of warehouse articles (cheap: no texts)."""
        missing = [i for i in set(ids) if i not in self.rows and i not in self._cluster_of]
        for chunk in _chunks(missing):
            for aid, cid in self.conn.execute(select(articles.c.id, articles.c.cluster_id).where(
                    _among(self.conn, articles.c.id, chunk))):
                self._cluster_of[aid] = cid

    def load_sigs(self, ids) -> None:
        """Signatures, stored features and addresses of warehouse articles: what the prefilters
        need, without the texts."""
        missing = [i for i in set(ids) if i not in self.sig_loaded and i not in self.mine]
        for chunk in _chunks(missing):
            for aid, mh, lx, n, numbers, names, url, canonical in self.conn.execute(select(
                    dedup_signatures.c.article_id, dedup_signatures.c.minhash, dedup_signatures.c.lexhash,
                    dedup_signatures.c.token_count, dedup_signatures.c.numbers, dedup_signatures.c.names,
                    articles.c.url, articles.c.canonical_url)
                    .join(articles, articles.c.id == dedup_signatures.c.article_id)
                    .where(_among(self.conn, dedup_signatures.c.article_id, chunk))):
                self._remember_sig(aid, mh, lx, n, numbers, names, url, canonical)
        self.sig_loaded.update(missing)

    def _remember_sig(self, aid: int, mh, lx, token_count, numbers, names, url, canonical) -> None:
        self.sigs[aid] = (from_bytes(mh), from_bytes(lx), max(1, (token_count or 3) - 2))
        self._stored_features(aid, numbers, names)
        self.addresses[aid] = SimpleNamespace(url=url, canonical_url=canonical)
        self.sig_loaded.add(aid)

    def _stored_features(self, aid: int, numbers: bytes | None, names: bytes | None) -> None:
        if numbers is not None and names is not None and aid not in self.mine:
            self.feats[aid] = (feature_set(numbers), feature_set(names))

    def features(self, aid: int) -> tuple[frozenset[int], frozenset[int]]:
        """(numbers, names) of an article as CRC-32 sets, as ``dedup_signatures`` stores them."""
        f = self.feats.get(aid)
        if f is None:
            if aid not in self.rows:
                self.load_articles([aid])
            doc = self.doc(aid)
            f = self.feats[aid] = tuple(map(feature_set, doc.feature_hashes))
        return f

    def cluster_of(self, aid: int) -> int | None:
        r = self.rows.get(aid)
        return r.cluster_id if r is not None else self._cluster_of.get(aid)

    def load_clusters(self, cids) -> None:
        missing = [c for c in set(cids) if c not in self.corig and c not in self.deleted_clusters and c > 0]
        for chunk in _chunks(missing):
            for cid, oid, reason in self.conn.execute(
                    select(clusters.c.id, clusters.c.original_article_id, clusters.c.original_reason).where(
                        _among(self.conn, clusters.c.id, chunk))):
                self.corig[cid] = oid
                self.creason[cid] = reason

    def load_members(self, cids) -> None:
        missing = [c for c in set(cids) if c not in self.cmembers and c > 0 and c not in self.deleted_clusters]
        if not missing:
            return
        found: dict[int, set[int]] = {c: set() for c in missing}
        for chunk in _chunks(missing):
            ids = self.conn.execute(select(articles.c.id, articles.c.cluster_id).where(
                _among(self.conn, articles.c.cluster_id, chunk))).all()
            self.load_articles([i for i, _ in ids])
            for aid, cid in ids:
                if self.rows[aid].cluster_id == cid:
                    found[cid].add(aid)
        for aid, r in self.rows.items():  # articles moved into these clusters in this batch
            if r.cluster_id in found:
                found[r.cluster_id].add(aid)
        self.cmembers.update(found)

    def doc(self, aid: int) -> Doc:
        d = self.docs.get(aid)
        if d is None:
            d = self.docs[aid] = Doc(self.rows[aid].clean_text or "")
        return d

    # ----------------------------------------------------------------- writes (overlay)

    def _new_cluster(self, original_id: int) -> int:
        cid = -(len(self.new_clusters) + 1)
        self.new_clusters.append(cid)
        self.corig[cid] = original_id
        self.creason[cid] = ONLY_MEMBER
        self.cmembers[cid] = set()
        return cid

    def _move(self, aid: int, cid: int | None) -> None:
        r = self.rows[aid]
        if r.cluster_id in self.cmembers:
            self.cmembers[r.cluster_id].discard(aid)
        r.cluster_id = cid
        if cid is not None and cid in self.cmembers:
            self.cmembers[cid].add(aid)

    def set_relation(self, aid: int, cid: int, original_id: int, verdict: Verdict | None) -> None:
        if verdict is None or aid == original_id:
            relation, similarity, method, evidence = "original", 1.0, "original", {}
        else:
            relation, similarity, method, evidence = (verdict.relation, verdict.similarity, verdict.method,
                                                      verdict.evidence)
        self._move(aid, cid)
        self.touched.setdefault(aid, {}).update(cluster_id=cid, relation=relation, similarity=similarity,
                                                dedup_state="done")
        self.links[aid] = dict(article_id=aid, original_article_id=original_id, relation=relation,
                               similarity=similarity, method=method, evidence=evidence, decided_at=self.now)

    def requeue(self, aid: int) -> None:
        self._move(aid, None)
        self.touched.setdefault(aid, {}).update(dedup_state="pending", cluster_id=None, relation=None,
                                                similarity=None)
        self.links[aid] = None
        if aid in self.mine:
            self.requeued_mine.add(aid)
        else:
            _drop_index_entries(self.conn, [aid])

    def _hopeless(self, aid: int, oid: int) -> bool:
        """Neither near (MinHash-estimated containment far below the threshold) nor paraphrase
        (the numbers/names a paraphrase verdict needs are missing): no need for the texts.
        Decided from signatures and stored features when the original has them."""
        a, b = self.sigs.get(aid), self.sigs.get(oid)
        if a is None or b is None or a[0] is None or b[0] is None:
            return False
        if _canonical_link(self.rows[aid], self.rows.get(oid) or self.addresses[oid]):
            return False
        j = self._jaccard.get((aid, oid))
        if j is None:
            j = estimate(a[0], b[0])
        containment = j * (a[2] + b[2]) / ((1 + j) * min(a[2], b[2]))
        if containment >= PREFILTER_CONTAINMENT:
            return False
        (mine_numbers, mine_names), (their_numbers, their_names) = self.features(aid), self.features(oid)
        return lacks_paraphrase_evidence(mine_numbers, their_numbers, mine_names, their_names)

    def settled(self, aid: int, oid: int) -> bool:
        """The verdict is known without the original's text: already decided, or ruled out by
        the prefilter (remembered as a verdict)."""
        key = (aid, oid)
        if key in self.verdicts:
            return True
        if key in self._needs_text or not (oid in self.rows or oid in self.addresses):
            return False
        if self._hopeless(aid, oid):
            self.verdicts[key] = Verdict(None, 0.0, "prefilter", {})
            return True
        self._needs_text.add(key)
        return False

    def verdict(self, aid: int, oid: int) -> Verdict:
        if self.settled(aid, oid):
            return self.verdicts[(aid, oid)]
        v = self.verdicts[(aid, oid)] = _verify(self.rows[aid], self.doc(aid), self.rows[oid], self.doc(oid))
        return v

    # ----------------------------------------------------------------- one article

    def rank_clusters(self, cands: dict[int, list]) -> list[tuple[int, list]]:
        """Candidate articles -> the MAX_CLUSTERS best candidate clusters (through the overlay),
        most hits first, then oldest cluster: [(cluster id, [hits, routes])]."""
        by_cluster: dict[int, list] = {}
        rows, cluster_ids, deleted = self.rows, self._cluster_of, self.deleted_clusters
        for cand, (hits, routes) in cands.items():
            row = rows.get(cand)  # cluster_of, inlined: called for every candidate, twice
            cid = row.cluster_id if row is not None else cluster_ids.get(cand)
            if cid is None or cid in deleted:
                continue
            info = by_cluster.setdefault(cid, [0, set()])
            info[0] += hits
            info[1] |= routes
        ranked = sorted(by_cluster.items(), key=lambda kv: (-kv[1][0], abs(kv[0]) + (1 << 62) * (kv[0] < 0)))
        return ranked[:MAX_CLUSTERS]

    def process(self, aid: int, cands: dict[int, list]) -> tuple[str, int]:
        ranked = self.rank_clusters(cands)
        self.load_clusters([c for c, _ in ranked])
        self.load_sigs([self.corig[c] for c, _ in ranked if c in self.corig])
        worth = self.worth_verifying(aid, [self.corig[c] for c, (_, routes) in ranked
                                           if routes == {"lsh"} and self.corig.get(c) is not None])
        todo = []
        for cid, (hits, routes) in ranked:
            oid = self.corig.get(cid)
            if oid is None:
                continue
            if routes == {"lsh"} and not worth[oid]:
                continue
            todo.append((cid, hits, routes, oid))
        self.load_articles([t[3] for t in todo if not self.settled(aid, t[3])])
        row = self.rows[aid]
        matched: dict[int, Verdict] = {}
        for cid, hits, routes, oid in todo:
            if oid not in self.rows and (aid, oid) not in self.verdicts:  # the original is gone
                continue
            verdict = self.verdict(aid, oid)
            if verdict.matched:
                verdict = Verdict(verdict.relation, verdict.similarity, verdict.method, dict(verdict.evidence))
                verdict.evidence["routes"] = sorted(routes)
                verdict.evidence["candidate_hits"] = hits
                matched[cid] = verdict

        requeued = 0
        if not matched:
            cid = self._new_cluster(aid)
            self.set_relation(aid, cid, aid, None)
            return "original", 0
        target = min(matched, key=lambda c: (c < 0, abs(c)))  # the oldest cluster
        self.load_members(list(matched))
        members = sorted({m for c in matched for m in self.cmembers.get(c, ())} - {aid})
        everyone = [self.rows[m] for m in members] + [row]
        ranked_members = [_member(r) for r in everyone]
        keys = rank_keys(ranked_members)  # pairwise over the members: computed once for both uses
        best = choose_original(ranked_members, keys)
        current = self.corig[target]
        if len(matched) == 1 and best.id == current:
            self.set_relation(aid, target, current, matched[target])
            reason = original_reason(ranked_members, current, keys)
            if reason != self.creason.get(target):
                self.creason[target] = reason
                self.reason_changed.add(target)
            return matched[target].relation, 0
        # Merge and/or re-point: every member is verified again against the new original.
        self.corig[target] = best.id
        self.touched_clusters.add(target)
        relation = "original"
        left: set[int] = set()  # members that do not stay in the cluster
        for r in everyone:
            if r.id == best.id:
                self.set_relation(r.id, target, best.id, None)
                continue
            verdict = self.verdict(r.id, best.id)
            if verdict.matched:
                self.set_relation(r.id, target, best.id, verdict)
                if r.id == aid:
                    relation = verdict.relation
            elif r.id == aid:
                relation = None
                left.add(r.id)
            else:
                self.requeue(r.id)
                requeued += 1
                left.add(r.id)
        # members that left change the others' keys (who attributes or points to whom): ranked again
        stayed = [m for m in ranked_members if m.id not in left]
        self.creason[target] = original_reason(stayed, best.id, None if left else keys)
        for c in matched:
            if c != target:
                self.deleted_clusters.add(c)
                self.merged_into[c] = target
                self.cmembers.pop(c, None)
        if relation is None:
            cid = self._new_cluster(aid)
            self.set_relation(aid, cid, aid, None)
            relation = "original"
        return relation, requeued

    # ----------------------------------------------------------------- boilerplate

    def observe(self, aid: int) -> None:
        r = self.claimed[aid]
        if not r.domain:
            return
        paras, hs = self.paras[aid]
        already = self.known[aid]
        cid = self.rows[aid].cluster_id
        seen = set()
        for i in _observable(paras):
            h = hs[i]
            if h in already or h in seen:
                continue
            seen.add(h)
            key = (r.domain, h)
            self.new_observations.append((r.domain, h, aid))
            self.observed[key].add(cid)
            if len(self.observed[key]) >= MIN_ARTICLES and h not in self.learned[r.domain]:
                self.learned[r.domain].add(h)
                self.new_boilerplate.append(dict(domain=r.domain, paragraph_hash=h, count=len(self.observed[key]),
                                                 sample=paras[i][:500], learned_at=self.now))

    def relearned(self, aid: int) -> bool:
        """Boilerplate learned earlier in this batch appears in this article: clean it again."""
        r = self.claimed[aid]
        if not r.domain:
            return False
        now_known = {h for h in self.paras[aid][1] if h in self.learned.get(r.domain, ())}
        if now_known <= self.known[aid]:
            return False
        self._clean(aid)
        return True

    # ----------------------------------------------------------------- run + flush

    def decide(self) -> Counter:
        """Candidates and verdicts first, then, serialised with other workers, the decisions
        and the writes."""
        self.gather()
        return self.decide_serialised()

    def decide_serialised(self) -> Counter:
        if _serialise(self.conn):
            # Other workers may have committed since prepare and gather: decide with that.
            self.load_site_knowledge()
            epoch = _epoch(self.conn)
            if epoch != self.epoch0:
                self.catch_up(self.epoch0, epoch)
        return self.assign()

    def gather(self) -> None:
        """Before the decision lock (PostgreSQL): the warehouse candidates of every article, what
        verifying them needs — clusters, originals' signatures, and the texts of the originals
        that the MinHash and feature prefilters cannot rule out — and the verdicts against each
        article's best clusters. Verdicts depend on the two texts only, so ``assign`` reuses
        them; what other workers commit meanwhile is taken in by ``catch_up``."""
        self.epoch0 = _epoch(self.conn)
        db_cands = self.db_cands = self.db_candidates(self.ids)
        all_cands = {c for d in db_cands.values() for c in d}
        self.load_cluster_ids(all_cands)
        self.load_clusters({self.cluster_of(c) for c in all_cands} - {None})
        self.load_sigs(set(self.corig.values()))
        ranked_db: dict[int, list[tuple[int, int, set]]] = {}  # article -> best clusters as (original, hits, routes)
        need = set()
        for aid, cands in db_cands.items():
            ranked = [(self.corig[cid], hits, routes) for cid, (hits, routes) in self.rank_clusters(cands)
                      if self.corig.get(cid) is not None]
            ranked_db[aid] = ranked
            worth = self.worth_verifying(aid, [oid for oid, _, routes in ranked if routes == {"lsh"}])
            need.update(oid for oid, _, routes in ranked
                        if (routes != {"lsh"} or worth[oid]) and not self.settled(aid, oid))
        self.load_articles(need)
        # In id order, as ``assign`` goes: each article against the MAX_CLUSTERS best of its warehouse
        # clusters and of the batch's earlier articles that will be originals if nothing changes
        # meanwhile (those that matched nothing) — the pairs ``process`` verifies in the common case.
        provisional = _MemoryIndex()
        original_of: dict[int, int] = {}  # earlier batch article -> its provisional original
        for aid in self.ids:
            lo, hi = self.pub_day[aid] - self.window, self.pub_day[aid] + self.window
            cands = provisional.candidates(self.docs[aid].key, self.rows[aid], self.bk[aid], self.pub_day[aid],
                                           lambda other: other != aid and lo <= self.pub_day[other] <= hi)
            merged: dict[int, list] = {oid: [hits, routes] for oid, hits, routes in ranked_db.get(aid, ())}
            for other, (hits, routes) in cands.items():  # a copy stands for its original, as in clusters
                info = merged.setdefault(original_of.get(other, other), [0, set()])
                info[0] += hits
                info[1] = info[1] | routes
            top = sorted(merged.items(), key=lambda kv: (-kv[1][0], kv[0]))[:MAX_CLUSTERS]
            worth = self.worth_verifying(aid, [oid for oid, (_, routes) in top if routes == {"lsh"}])
            matched = False
            for oid, (_, routes) in top:
                if ((routes != {"lsh"} or worth[oid]) and (oid in self.rows or self.settled(aid, oid))
                        and self.verdict(aid, oid).matched):
                    matched = True
                    if oid in self.mine:
                        original_of.setdefault(aid, oid)
            provisional.add(aid, self.docs[aid].key, self.rows[aid], () if matched else self.bk[aid],
                            self.pub_day[aid])

    def catch_up(self, since: int, until: int) -> None:
        """Take in the batches other workers committed after ``gather`` started (epochs
        ``since`` < e <= ``until``): what this batch read of the articles they changed is
        forgotten (re-read when needed), and so is every cluster it read that they may have
        changed (merged away, re-pointed, members added or removed), and their articles become
        candidates through the in-memory index the batch keeps of its own articles — as if they
        had been committed before this batch searched.

        A batch changes a cluster only by stamping the articles it moves in or out, and a
        re-pointed cluster's members all (its new original among them): so the clusters to read
        again are those the changed articles were in, as this batch knew them, or are in now,
        and those whose original or loaded members changed. Everything else this batch holds —
        verdicts and prefilter results of pairs of unchanged articles, other clusters — stays:
        with two workers each catches up with every batch of the other, and forgetting it all
        made each redo prefilters and reload cluster members (~2 % of its CPU at 1M indexed)."""
        changed = self.conn.execute(
            select(articles.c.id, articles.c.cluster_id, articles.c.clean_sha256, articles.c.url,
                   articles.c.canonical_url, clusters.c.original_article_id, dedup_signatures)
            .select_from(articles.outerjoin(clusters, clusters.c.id == articles.c.cluster_id)
                         .outerjoin(dedup_signatures, dedup_signatures.c.article_id == articles.c.id))
            .where(articles.c.dedup_epoch > since, articles.c.dedup_epoch <= until)).all()
        changed = [r for r in changed if r.id not in self.mine]  # (claimed here: no one else changes them)
        gone = {r.id for r in changed}
        stale = {r.cluster_id for r in changed} | {self.cluster_of(r.id) for r in changed}
        stale |= {c for c, oid in self.corig.items() if oid in gone}
        stale |= {c for c, members in self.cmembers.items() if not members.isdisjoint(gone)}
        for r in changed:
            for cache in (self.rows, self.docs, self.sigs, self.feats, self.addresses):
                cache.pop(r.id, None)
            self.sig_loaded.discard(r.id)
            self._cluster_of[r.id] = r.cluster_id
            if r.pub_day is not None:  # read with the changes: not asked for again, one by one, under the lock
                self._remember_sig(r.id, r.minhash, r.lexhash, r.token_count, r.numbers, r.names, r.url,
                                   r.canonical_url)
        self.verdicts = {k: v for k, v in self.verdicts.items() if gone.isdisjoint(k)}
        self._worth = {k: v for k, v in self._worth.items() if gone.isdisjoint(k)}
        self._jaccard = {k: v for k, v in self._jaccard.items() if gone.isdisjoint(k)}
        self._needs_text = {k for k in self._needs_text if gone.isdisjoint(k)}
        stale = {c for c in stale if c is not None and c > 0}
        for c in stale:
            self.corig.pop(c, None)
            self.creason.pop(c, None)
            self.cmembers.pop(c, None)
        self.load_clusters(stale)
        for r in changed:
            if r.cluster_id is None or r.pub_day is None:  # put back to pending
                continue
            self.pub_day[r.id] = r.pub_day
            self.memory.add(r.id, r.clean_sha256, r, _stored_buckets(r) if r.original_article_id == r.id else (),
                            r.pub_day)
        self.stats["caught_up"] += len(changed)

    def assign(self) -> Counter:
        """In id order: each article joins a cluster or founds one (the overlay), then the writes."""
        db_cands = self.db_cands
        for aid in self.ids:
            if self.relearned(aid):
                db_cands[aid] = self.db_candidates([aid])[aid]
                extra = set(db_cands[aid])
                self.load_cluster_ids(extra)
            cands = dict(db_cands[aid])
            for other, info in self.batch_candidates(aid).items():
                cands[other] = info
            relation, requeued = self.process(aid, cands)
            self.index_in_batch(aid, relation == "original")
            self.observe(aid)
            self.stats["processed"] += 1
            self.stats["originals" if relation == "original" else relation] += 1
            self.stats["requeued"] += requeued
        self.reclean_decided()
        self.flush()
        return self.stats

    def flush(self) -> None:
        conn = self.conn
        now = self.now
        epoch = _advance_epoch(conn)
        # clusters: provisional ids become real ones
        real: dict[int, int] = {}
        live_new = [c for c in self.new_clusters if c not in self.deleted_clusters]
        if live_new:
            stmt = clusters.insert().returning(clusters.c.id, sort_by_parameter_order=True)
            got = conn.execute(stmt, [dict(original_article_id=self.corig[c], original_reason=self.creason.get(c),
                                           created_at=now, updated_at=now) for c in live_new]).scalars().all()
            real = dict(zip(live_new, got))

        def fix(cid):
            return real.get(cid, cid) if cid is not None and cid < 0 else cid

        changed = sorted(c for c in self.touched_clusters | self.reason_changed
                         if c > 0 and c not in self.deleted_clusters)
        if changed:
            conn.execute(update(clusters).where(clusters.c.id == bindparam("cid")).values(
                original_article_id=bindparam("oid"), original_reason=bindparam("why"), updated_at=bindparam("ts")),
                [dict(cid=c, oid=self.corig[c], why=self.creason.get(c), ts=now) for c in changed])
        # articles
        groups: dict[tuple, list] = defaultdict(list)
        for aid, vals in self.touched.items():
            vals = dict(vals, dedup_epoch=epoch)
            if "cluster_id" in vals:
                vals["cluster_id"] = fix(vals["cluster_id"])
            groups[tuple(sorted(vals))].append(dict({f"v_{k}": v for k, v in vals.items()}, aid_=aid))
        for cols, params in groups.items():
            _update_articles(conn, cols, params)
        # links
        drop = [a for a, v in self.links.items() if v is None]
        for chunk in _chunks(drop):
            conn.execute(delete(dedup_links).where(dedup_links.c.article_id.in_(chunk)))
        keep = [v for v in self.links.values() if v is not None]
        if keep:
            upsert(conn, dedup_links, keep, ["article_id"],
                   ["original_article_id", "relation", "similarity", "method", "evidence", "decided_at"])
        deleted = [c for c in self.deleted_clusters if c > 0]
        for chunk in _chunks(deleted):
            conn.execute(delete(clusters).where(clusters.c.id.in_(chunk)))
        merges = [dict(cluster_id=c, merged_into=fix(t), merged_at=now) for c, t in self.merged_into.items() if c > 0]
        if merges:
            insert_ignore(conn, cluster_merges, merges, ["cluster_id"])
        # Index: every article keeps its signature, but only clusters' originals get LSH bucket
        # rows. Candidates are verified against originals only, so a copy's bands add nothing but
        # rows (an exact copy's are its original's, again) — and a story copied dozens of times
        # would fill its own buckets past MAX_BUCKET and stop being found at all.
        originals = {o for c, o in self.corig.items() if c not in self.deleted_clusters}
        sig_rows, bucket_rows = [], []
        for aid in self.ids:
            if aid in self.requeued_mine and self.rows[aid].cluster_id is None:
                continue
            sig_rows.append(_signature_row(aid, self.batch_sig[aid], self.docs[aid], self.pub_day[aid]))
            if aid in originals:
                bucket_rows.extend((s, b, aid, self.pub_day[aid]) for s, b in self.bk[aid])
        _insert_index(conn, sig_rows, bucket_rows)
        # Earlier articles that became their cluster's original in this batch (re-pointing);
        # one that was an original before still has its rows (the insert ignores them).
        promoted = sorted({self.corig[c] for c in self.touched_clusters if c not in self.deleted_clusters} - self.mine)
        if promoted:
            _index_from_signatures(conn, promoted)
        # site boilerplate
        if self.new_observations:
            rows = {}
            for d, h, aid in self.new_observations:
                cid = fix(self.rows[aid].cluster_id)
                if cid is not None:
                    rows[(d, h, cid)] = dict(domain=d, paragraph_hash=h, cluster_id=cid)
            if _pg(conn) and rows:
                d, h, c = zip(*rows)
                conn.execute(text(
                    "INSERT INTO site_paragraphs (domain, paragraph_hash, cluster_id) SELECT * FROM "
                    "unnest(CAST(:d AS text[]), CAST(:h AS bigint[]), CAST(:c AS bigint[])) ON CONFLICT DO NOTHING"),
                    {"d": list(d), "h": _pg_array(h), "c": _pg_array(c)})
            else:
                insert_ignore(conn, site_paragraphs, list(rows.values()), ["domain", "paragraph_hash", "cluster_id"])
        if self.new_boilerplate:
            insert_ignore(conn, site_boilerplate, self.new_boilerplate, ["domain", "paragraph_hash"])
            teachers = defaultdict(set)  # domain -> clusters whose articles taught it a paragraph now learned
            for b in self.new_boilerplate:
                teachers[b["domain"]] |= {fix(c) for c in self.observed[(b["domain"], b["paragraph_hash"])]}
            self.recleaned |= _reclean_teachers(conn, teachers, epoch, self.mine)
            _compare_again(conn, self.recleaned, epoch, now)
            self.stats["recleaned"] += len(self.recleaned)


# ---------------------------------------------------------------------------------- API


def dedup_pending(engine: Engine, settings: Settings | None = None, limit: int | None = None,
                  batch: int = BATCH) -> dict:
    """Cluster pending articles (id order, ``batch`` per transaction). Safe to run from several
    workers on PostgreSQL; running it again with nothing pending changes nothing."""
    settings = settings or Settings.from_env()
    stats = Counter(processed=0, originals=0, exact=0, near=0, paraphrase=0, requeued=0, recleaned=0)
    size = min(batch, FIRST_BATCH)
    with _rare_collections():
        while limit is None or stats["processed"] < limit:
            n = size if limit is None else min(size, limit - stats["processed"])
            size = min(batch, size * 2)  # small first batches leave work for workers starting alongside
            with engine.begin() as conn:
                if _pg(conn):
                    # A batch's commit does not wait for its WAL to reach the disk (~60 MB of mostly
                    # full-page images of the bucket index per 400 articles at 1M): a server crash
                    # can lose the last batches' decisions, never half of one, and their articles,
                    # still pending, are decided again by the next run. +2-3 % with two workers.
                    conn.execute(text("SET LOCAL synchronous_commit = off"))
                claimed = _claim(conn, n)
                if not claimed:
                    break
                b = _Batch(conn, claimed, settings)
                b.prepare()
                stats.update(b.decide())
    return dict(stats)


@contextmanager
def _rare_collections():
    """Cyclic garbage collection far less often while dedup runs. A batch allocates hundreds of
    thousands of short-lived containers (token lists, sets, rows) that reference counting frees,
    yet each allocation burst triggered a collection, and the full ones walk every live object:
    27 % of dedup's CPU at 100k indexed (2.9 of 10.6 s), 8 % with these thresholds. Restored afterwards."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), max(old[1], 20), max(old[2], 20))
    try:
        yield
    finally:
        gc.set_threshold(*old)


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
            _serialise(conn)  # before reading: a worker's reset or re-pointing lands before or after, whole
            rows = conn.execute(select(articles.c.id, articles.c.domain, articles.c.clean_text).where(
                articles.c.id > last, articles.c.dedup_state == "done", articles.c.domain.is_not(None))
                .order_by(articles.c.id).limit(batch)).all()
            if not rows:
                break
            last = rows[-1].id
            stats["checked"] += len(rows)
            epoch = _advance_epoch(conn)
            ids = _reclean(conn, rows, epoch)
            _compare_again(conn, ids, epoch, utcnow())
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
        _serialise(conn)
        epoch = _advance_epoch(conn)
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
