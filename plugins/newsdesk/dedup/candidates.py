"""Candidate search: the articles a batch article may be a copy of, from the warehouse and from memory.

Three routes, each credited with hits: the same clean-text hash (``exact-hash``, 1000), a
canonical-URL link (``canonical-url``, 500), and LSH bands of word shingles, content words and
anchors (numbers and names) shared within ±``dedup_window_days`` (``lsh``, one per band). A bucket holding more than
``MAX_BUCKET`` articles of the window (a band of common words) is ignored, which bounds the rows
read per band; an article keeps up to ``MAX_LSH_CANDIDATES`` sharing two or more bands and the
``MAX_WEAK_CANDIDATES`` single-band ones nearest in day. Every dialect's SQL for the search is
here; the ranking of what the bands found is numpy, the same whichever the database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import chain

import numpy as np
from sqlalchemy import or_, select, text
from sqlalchemy.engine import Connection

from ..storage.schema import articles, dedup_signatures
from .original import canonical_or_none
from .signatures import ANCHOR_SCHEME0
from .sql import among, chunks, is_postgres, pg_array
from .verify import EXACT_MIN_WORDS, Doc

MAX_LSH_CANDIDATES = 60
# Candidates sharing a single band are mostly chance collisions of common words: at 1M indexed,
# ~50 per article, nearly all of a new article's candidates. True copies share 2+ bands (all but
# ~1 % of truncated and 0.3 % of reworded copies in bench/dedup_eval), so only the few nearest
# in publication day are kept (republication follows the original within days; the rest were,
# at scale, a lottery by id under MAX_LSH_CANDIDATES anyway).
MAX_WEAK_CANDIDATES = 8
MAX_BUCKET = 40  # articles per LSH bucket within the window beyond which the bucket is ignored

EXACT_HASH, CANONICAL_URL, LSH = "exact-hash", "canonical-url", "lsh"
# Found through anchor bands only (names and numbers, no band of words): ``Verifier`` asks more
# of such a pair before comparing the texts.
ANCHOR = "anchor"
EXACT_HASH_HITS, CANONICAL_URL_HITS = 1000, 500


@dataclass(slots=True)
class Candidate:
    """How a candidate was found: ``hits`` (the routes' credits added up) and the ``routes``."""

    hits: int
    routes: set[str]


# A candidate found through shared bands alone (``banded(routes)``): the MinHash prefilter
# decides whether it is verified.
LSH_ONLY = frozenset({LSH})
BANDS = frozenset({LSH, ANCHOR})


def banded(routes) -> bool:
    """Found through shared bands alone (of words, or of anchors only)."""
    return bool(routes) and routes <= BANDS


def band_route(word_bands: int) -> str:
    """The route of a candidate sharing ``word_bands`` bands of words (and maybe anchors)."""
    return LSH if word_bands else ANCHOR


def credit(found: dict[int, Candidate], article_id: int, hits: int, route: str) -> None:
    """Add ``hits`` through ``route`` to the candidate ``article_id`` of ``found``."""
    candidate = found.get(article_id)
    if candidate is None:
        found[article_id] = Candidate(hits, {route})
    else:
        candidate.hits += hits
        candidate.routes.add(route)


# ---------------------------------------------------------------------------------- LSH ranking


def rank_lsh(found, day: int) -> list[tuple[int, int, int]]:
    """LSH candidates as (id, shared bands, pub_day, shared bands of words) -> those kept, best
    first, as (id, shared bands, shared bands of words): the MAX_LSH_CANDIDATES sharing most bands
    (then lowest id), of which those sharing one band only are the MAX_WEAK_CANDIDATES nearest to
    ``day`` (then lowest id)."""
    strong = sorted((t for t in found if t[1] >= 2), key=lambda t: (-t[1], t[0]))
    weak = sorted((t for t in found if t[1] < 2), key=lambda t: (abs(t[2] - day), t[0]))[:MAX_WEAK_CANDIDATES]
    return [(c, n, w) for c, n, _, w in (strong + weak)[:MAX_LSH_CANDIDATES]]


def rank_found(use_i, use_k, use_day, found_k, found_id, found_day, exclude,
               word_probe=None) -> dict[int, list[tuple[int, int, int]]]:
    """``rank_lsh`` for a whole batch at once (numpy): what every asking article keeps of the
    index entries its probes found, best first, as (candidate id, shared bands, of which bands of
    words: ``word_probe[k - 1]`` tells whether probe k is one; all are when it is None).

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
    word = (np.ones(len(cand), dtype=np.int64) if word_probe is None
            else np.asarray(word_probe, dtype=np.int64)[found_k[entry] - 1])
    if exclude:
        keep = ~np.isin(cand, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
        asker, day, cand, cand_day, word = asker[keep], day[keep], cand[keep], cand_day[keep], word[keep]
        if not len(cand):
            return {}
    # one row per (asker, candidate): the bands they share, and of those the bands of words
    order = np.lexsort((cand, asker))
    asker, day, cand, cand_day, word = asker[order], day[order], cand[order], cand_day[order], word[order]
    starts = np.flatnonzero(run_starts(asker, cand))
    hits = np.diff(np.r_[starts, len(cand)])
    words = np.add.reduceat(word, starts)
    asker, day, cand, cand_day = asker[starts], day[starts], cand[starts], cand_day[starts]
    # rank_lsh's order: per asker, strong (2+ bands) by bands then id, then weak by distance in days then id
    weak = hits < 2
    distance = np.where(weak, np.abs(cand_day - day), 0)
    order = np.lexsort((cand, distance, -hits, weak, asker))
    asker, cand, hits, weak, words = asker[order], cand[order], hits[order], weak[order], words[order]
    keep = rank_within(asker, weak) < np.where(weak, MAX_WEAK_CANDIDATES, MAX_LSH_CANDIDATES)
    asker, cand, hits, words = asker[keep], cand[keep], hits[keep], words[keep]
    keep = rank_within(asker) < MAX_LSH_CANDIDATES
    out: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for a, c, n, w in zip(asker[keep].tolist(), cand[keep].tolist(), hits[keep].tolist(), words[keep].tolist()):
        out[a].append((c, n, w))
    return out


def distinct_probes(ids: list[int], bands_of: Mapping, day_of: Mapping, window: int):
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
    first = run_starts(*keys)
    use_k = np.empty(len(order), dtype=np.int64)
    use_k[order] = np.cumsum(first)
    return use_i, use_k, use_day, tuple(key[first] for key in keys)


def run_starts(*keys: np.ndarray) -> np.ndarray:
    """Rows sorted by ``keys``: True where a run of equal keys begins."""
    change = np.zeros(len(keys[0]), dtype=bool)
    if len(change):
        change[0] = True
        for k in keys:
            change[1:] |= k[1:] != k[:-1]
    return change


def rank_within(*keys: np.ndarray) -> np.ndarray:
    """Position of each row within its run of equal ``keys`` (rows sorted by them)."""
    change = run_starts(*keys)
    if not len(change):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(change)
    return np.arange(len(change)) - np.repeat(starts, np.diff(np.r_[starts, len(change)]))


# ---------------------------------------------------------------------------------- in memory


class MemoryIndex:
    """Exact-hash keys, URLs and LSH bands of articles held in memory, looked up like the
    warehouse: a batch's own processed articles, and those other workers committed meanwhile."""

    def __init__(self):
        self.by_text_key: dict[str, list[int]] = defaultdict(list)
        self.by_address: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_bucket: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.day: dict[int, int] = {}

    def add(self, article_id: int, text_key: str, row, bands, day: int) -> None:
        """Index an article (``row``: its ``url`` and ``canonical_url``). ``bands``: those of an
        original only (like the warehouse index), else empty."""
        for pair in bands:
            self.by_bucket[pair].append(article_id)
        self.day[article_id] = day
        self.by_text_key[text_key].append(article_id)
        # what another article's lookups match: ("u", url) for articles.url, ("c", canonical_url)
        self.by_address[("u", row.url)].append(article_id)
        if row.canonical_url:
            self.by_address[("c", row.canonical_url)].append(article_id)

    def candidates(self, text_key: str, row, bands, day: int,
                   accept: Callable[[int], bool]) -> dict[int, Candidate]:
        """The indexed articles ``accept`` lets through, credited as ``CandidateSearch`` credits
        the warehouse's."""
        out: dict[int, Candidate] = {}
        for other in self.by_text_key.get(text_key, ()):
            if accept(other):
                credit(out, other, EXACT_HASH_HITS, EXACT_HASH)
        own, canonical = canonical_or_none(row.url), canonical_or_none(row.canonical_url)
        mine_keys = {("c", row.url)}
        if own and own != row.url:
            mine_keys |= {("c", own), ("u", own)}
        if canonical and canonical != own:
            mine_keys |= {("u", canonical), ("u", row.canonical_url), ("c", canonical)}
        for key in mine_keys:
            for other in self.by_address.get(key, ()):
                if accept(other):
                    credit(out, other, CANONICAL_URL_HITS, CANONICAL_URL)
        # counted in C: called twice per article, against every band of the batch's originals
        hits = Counter(chain.from_iterable(filter(None, map(self.by_bucket.get, bands))))
        words = Counter(chain.from_iterable(filter(None, map(self.by_bucket.get, (
            b for b in bands if b[0] < ANCHOR_SCHEME0)))))
        for other, n, w in rank_lsh([(o, n, self.day[o], words[o]) for o, n in hits.items() if accept(o)], day):
            credit(out, other, n, band_route(w))
        return out


# ---------------------------------------------------------------------------------- warehouse


class CandidateSearch:
    """Warehouse candidates of a batch's articles, from the batch's own mappings (read live:
    an article cleaned again is searched with its new key and bands)."""

    def __init__(self, conn: Connection, window: int, days: Mapping[int, int], docs: Mapping[int, Doc],
                 rows: Mapping, bands: Mapping[int, list[tuple[int, int]]], batch_ids: set[int]):
        self.conn = conn
        self.window = window
        self.days = days  # article id -> publication day
        self.docs = docs  # article id -> verification doc (text key, tokens)
        self.rows = rows  # article id -> url, canonical_url
        self.bands = bands  # article id -> its (scheme, bucket) LSH bands
        self.batch_ids = batch_ids  # never candidates of the warehouse search

    def in_warehouse(self, ids: list[int]) -> dict[int, dict[int, Candidate]]:
        """Warehouse candidates of the given batch articles: article id -> {candidate id: Candidate}."""
        out: dict[int, dict[int, Candidate]] = {aid: {} for aid in ids}
        self._by_text_key(ids, out)
        self._by_canonical_url(ids, out)
        # LSH bands, for the articles whose exact text is not already clustered in their window
        probes = distinct_probes(self.needing_bands(ids, out), self.bands, self.days, self.window)
        if probes is not None:
            use_i, use_k, use_day, keys = probes
            found = self._probe_postgres(*keys) if is_postgres(self.conn) else self._probe_sqlite(*keys)
            ranked = rank_found(use_i, use_k, use_day, *found, exclude=self.batch_ids,
                                word_probe=keys[0] < ANCHOR_SCHEME0)
            for aid, kept in ranked.items():
                found_by = out[aid]
                for other, shared, words in kept:
                    credit(found_by, other, shared, band_route(words))
        return out

    def _by_text_key(self, ids: list[int], out: dict[int, dict[int, Candidate]]) -> None:
        """Clustered articles with the same clean-text hash within each asker's window."""
        conn = self.conn
        askers = defaultdict(list)
        for aid in ids:
            askers[self.docs[aid].key].append(aid)
        for chunk in chunks(askers):
            query = (select(articles.c.id, articles.c.clean_sha256, dedup_signatures.c.pub_day)
                     .join(dedup_signatures, dedup_signatures.c.article_id == articles.c.id)
                     .where(among(conn, articles.c.clean_sha256, chunk), articles.c.dedup_state == "done",
                            articles.c.cluster_id.is_not(None)))
            for candidate, key, day in conn.execute(query):
                for aid in askers[key]:
                    if (candidate != aid and candidate not in self.batch_ids
                            and self.days[aid] - self.window <= day <= self.days[aid] + self.window):
                        credit(out[aid], candidate, EXACT_HASH_HITS, EXACT_HASH)

    def _by_canonical_url(self, ids: list[int], out: dict[int, dict[int, Candidate]]) -> None:
        """Clustered articles whose URL or canonical URL links them with an asker's."""
        look_url: dict[str, set[int]] = defaultdict(set)  # value of articles.url -> batch ids
        look_canon: dict[str, set[int]] = defaultdict(set)  # value of articles.canonical_url -> batch ids
        for aid in ids:
            row = self.rows[aid]
            own, canonical = canonical_or_none(row.url), canonical_or_none(row.canonical_url)
            look_canon[row.url].add(aid)
            if own and own != row.url:
                look_canon[own].add(aid)
                look_url[own].add(aid)
            if canonical and canonical != own:
                look_url[canonical].add(aid)
                look_url[row.canonical_url].add(aid)
                look_canon[canonical].add(aid)
        if not (look_url or look_canon):
            return
        conn = self.conn
        conditions = []
        if look_url:
            conditions.append(among(conn, articles.c.url, look_url))
        if look_canon:
            conditions.append(among(conn, articles.c.canonical_url, look_canon))
        query = select(articles.c.id, articles.c.url, articles.c.canonical_url).where(
            articles.c.dedup_state == "done", articles.c.cluster_id.is_not(None), or_(*conditions))
        for candidate, url, canonical in conn.execute(query):
            if candidate in self.batch_ids:
                continue
            for aid in look_url.get(url, set()) | look_canon.get(canonical, set()):
                credit(out[aid], candidate, CANONICAL_URL_HITS, CANONICAL_URL)

    # A bucket shared by more than MAX_BUCKET articles in the window is uninformative (a band of
    # common words): it is skipped, found by reading at most MAX_BUCKET + 1 entries. Both probes
    # return what they found as three sequences: probe number, article id, its pub_day.

    def _probe_postgres(self, schemes, buckets, los, his) -> tuple:
        """The distinct probes as arrays joined LATERAL to ``lsh_buckets``."""
        # No JIT for the rest of this transaction: compiling costs more than it saves on
        # this many-probe join. What the probes found comes back as one row of three
        # arrays (the driver parses them in C) and is ranked in numpy.
        self.conn.execute(text("SET LOCAL jit = off"))
        found = self.conn.execute(text(
            "SELECT array_agg(p.k), array_agg(x.article_id), array_agg(x.pub_day) "
            "FROM unnest(CAST(:s AS integer[]), "
            "CAST(:b AS bigint[]), CAST(:lo AS integer[]), CAST(:hi AS integer[])) "
            "WITH ORDINALITY AS p(scheme, bucket, lo, hi, k) "
            "CROSS JOIN LATERAL (SELECT y.article_id, y.pub_day, count(*) OVER () AS n FROM ("
            "SELECT b.article_id, b.pub_day FROM lsh_buckets b WHERE b.scheme = p.scheme "
            "AND b.bucket = p.bucket AND b.pub_day BETWEEN p.lo AND p.hi LIMIT :cap) y) x "
            "WHERE x.n < :cap"),
            {"s": pg_array(schemes.tolist()), "b": pg_array(buckets.tolist()), "lo": pg_array(los.tolist()),
             "hi": pg_array(his.tolist()), "cap": MAX_BUCKET + 1}).one()
        return found if found[0] is not None else ((), (), ())

    def _probe_sqlite(self, schemes, buckets, los, his) -> tuple:
        """The distinct probes as rows of a temporary table joined to ``lsh_buckets``."""
        conn = self.conn
        conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS dedup_band "
                          "(k INTEGER PRIMARY KEY, scheme INTEGER, bucket BIGINT, lo INTEGER, hi INTEGER)"))
        conn.execute(text("DELETE FROM dedup_band"))
        conn.execute(text("INSERT INTO dedup_band VALUES (:k, :s, :b, :lo, :hi)"),
                     [dict(k=k, s=s, b=b, lo=lo, hi=hi) for k, s, b, lo, hi in zip(
                         range(1, len(schemes) + 1), schemes.tolist(), buckets.tolist(), los.tolist(), his.tolist())])
        conn.execute(text(
            "DELETE FROM dedup_band WHERE EXISTS (SELECT 1 FROM lsh_buckets b "
            "WHERE b.scheme = dedup_band.scheme AND b.bucket = dedup_band.bucket "
            "AND b.pub_day BETWEEN dedup_band.lo AND dedup_band.hi LIMIT 1 OFFSET :cap)"),
            {"cap": MAX_BUCKET})
        rows = conn.execute(text(
            "SELECT p.k, b.article_id, b.pub_day FROM dedup_band p JOIN lsh_buckets b "
            "ON b.scheme = p.scheme AND b.bucket = p.bucket AND b.pub_day BETWEEN p.lo AND p.hi")).all()
        return tuple(zip(*rows)) if rows else ((), (), ())

    def needing_bands(self, ids: list[int], found: Mapping[int, Mapping[int, Candidate]]) -> list[int]:
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
            doc, day = self.docs[aid], self.days[aid]
            twin = (any(EXACT_HASH in candidate.routes for candidate in found[aid].values())
                    or any(abs(day - d) <= self.window for d in earlier.get(doc.key, ())))
            if not (twin and len(doc.tokens) >= EXACT_MIN_WORDS):
                out.append(aid)
            earlier[doc.key].append(day)
        return out
