"""The warehouse as one batch sees it: what it read, and the decisions it has made so far.

The overlay is authoritative for the batch: an article's row (with the cluster this batch put
it in), each touched cluster's original, reason and members, and the writes waiting for the
flush. Later articles of the batch see the earlier ones' decisions through it, as if the
articles were processed one by one. Warehouse rows are read on demand: the cheap columns
(cluster ids, signatures, stored features, addresses) for every candidate, the texts only
for the originals a prefilter cannot rule out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..storage.schema import articles, clusters, dedup_signatures, sources
from .claim import stated_date
from .signatures import feature_set, from_bytes
from .sql import among, chunks
from .verify import Doc

Features = tuple[frozenset[int], frozenset[int]]  # (numbers, names) as CRC-32 sets

MEMBER_COLUMNS = (articles.c.id, articles.c.url, articles.c.canonical_url, articles.c.domain, articles.c.attribution,
                  articles.c.published_at, articles.c.date_source, articles.c.clean_text, articles.c.cluster_id,
                  sources.c.name)


@dataclass(slots=True)
class ArticleRow:
    """What choosing an original and verifying need of an article; ``cluster_id`` as decided so far."""

    id: int
    url: str
    canonical_url: str | None
    domain: str | None
    attribution: str | None
    published_at: datetime | None
    clean_text: str | None
    cluster_id: int | None
    source_name: str | None
    length: int | None = None  # words of clean text, counted when the article is first ranked


class Sketch(NamedTuple):
    """What the MinHash prefilters need of an article (no text)."""

    minhash: np.ndarray | None
    lexhash: np.ndarray | None
    shingle_count: int


class Address(NamedTuple):
    """An article's URLs, for canonical links, when its row is not loaded."""

    url: str
    canonical_url: str | None


@dataclass
class ClusterOverlay:
    """Clusters as this batch knows them. Provisional ids of clusters created in the batch are
    negative (creation order); they become real ones at the flush."""

    original: dict[int, int] = field(default_factory=dict)  # cluster id -> original article id
    reason: dict[int, str | None] = field(default_factory=dict)  # cluster id -> why its original leads
    members: dict[int, set[int]] = field(default_factory=dict)  # member ids, of clusters fully loaded
    reason_changed: set[int] = field(default_factory=set)  # their reason changed, their original not
    repointed: set[int] = field(default_factory=set)  # original chosen again (merge or better original)
    deleted: set[int] = field(default_factory=set)
    merged_into: dict[int, int] = field(default_factory=dict)  # deleted cluster -> the one it went into
    created: list[int] = field(default_factory=list)  # provisional ids, creation order


@dataclass
class PendingWrites:
    """What the flush writes besides clusters: article columns and links, by article id."""

    article_values: dict[int, dict] = field(default_factory=dict)  # article id -> column values to write
    links: dict[int, dict | None] = field(default_factory=dict)  # article id -> link row, None: delete it
    requeued_batch_articles: set[int] = field(default_factory=set)  # the batch's own, put back to pending
    recleaned: set[int] = field(default_factory=set)  # cleaned again after their site learned boilerplate


class Overlay:
    """Articles and clusters as the batch sees them, loaded from the warehouse on demand."""

    def __init__(self, conn: Connection, batch_ids: set[int]):
        self.conn = conn
        self.batch_ids = batch_ids
        self.articles: dict[int, ArticleRow] = {}  # loaded rows and the batch's own (authoritative)
        self.unloaded_cluster_of: dict[int, int | None] = {}  # cluster of warehouse articles not loaded
        self.docs: dict[int, Doc] = {}
        self.sketches: dict[int, Sketch] = {}
        # (numbers, names): stored ones for warehouse articles, so that a candidate original is
        # ruled out without its text; computed from the doc otherwise
        self.feature_sets: dict[int, Features] = {}
        self.addresses: dict[int, Address] = {}  # of articles whose signature was read without the row
        self.sketches_read: set[int] = set()  # warehouse articles whose signature row was asked for
        self.clusters = ClusterOverlay()
        self.writes = PendingWrites()

    # ----------------------------------------------------------------- reads

    def load_articles(self, ids) -> None:
        """Rows (texts included), signatures and stored features of articles not loaded yet."""
        missing = [i for i in set(ids) if i not in self.articles]
        for chunk in chunks(missing):
            query = (select(*MEMBER_COLUMNS, dedup_signatures.c.minhash, dedup_signatures.c.lexhash,
                            dedup_signatures.c.token_count, dedup_signatures.c.numbers, dedup_signatures.c.names)
                     .select_from(articles.outerjoin(sources, sources.c.id == articles.c.source_id)
                                  .outerjoin(dedup_signatures, dedup_signatures.c.article_id == articles.c.id))
                     .where(among(self.conn, articles.c.id, chunk)))
            for r in self.conn.execute(query):
                self.articles[r.id] = ArticleRow(
                    id=r.id, url=r.url, canonical_url=r.canonical_url, domain=r.domain, attribution=r.attribution,
                    published_at=stated_date(r.published_at, r.date_source), clean_text=r.clean_text,
                    cluster_id=r.cluster_id, source_name=r.name)
                if r.minhash is not None or r.lexhash is not None:
                    self.sketches[r.id] = stored_sketch(r.minhash, r.lexhash, r.token_count)
                self._store_features(r.id, r.numbers, r.names)

    def load_cluster_ids(self, ids) -> None:
        """Cluster of warehouse articles (cheap: no texts)."""
        missing = [i for i in set(ids) if i not in self.articles and i not in self.unloaded_cluster_of]
        for chunk in chunks(missing):
            for aid, cid in self.conn.execute(select(articles.c.id, articles.c.cluster_id).where(
                    among(self.conn, articles.c.id, chunk))):
                self.unloaded_cluster_of[aid] = cid

    def load_sketches(self, ids) -> None:
        """Signatures, stored features and addresses of warehouse articles: what the prefilters
        need, without the texts."""
        missing = [i for i in set(ids) if i not in self.sketches_read and i not in self.batch_ids]
        for chunk in chunks(missing):
            for aid, mh, lx, n, numbers, names, url, canonical in self.conn.execute(select(
                    dedup_signatures.c.article_id, dedup_signatures.c.minhash, dedup_signatures.c.lexhash,
                    dedup_signatures.c.token_count, dedup_signatures.c.numbers, dedup_signatures.c.names,
                    articles.c.url, articles.c.canonical_url)
                    .join(articles, articles.c.id == dedup_signatures.c.article_id)
                    .where(among(self.conn, dedup_signatures.c.article_id, chunk))):
                self.remember_sketch(aid, mh, lx, n, numbers, names, url, canonical)
        self.sketches_read.update(missing)

    def remember_sketch(self, article_id: int, minhash: bytes | None, lexhash: bytes | None,
                        token_count: int | None, numbers: bytes | None, names: bytes | None, url: str,
                        canonical_url: str | None) -> None:
        """Keep a warehouse article's ``dedup_signatures`` row and its addresses."""
        self.sketches[article_id] = stored_sketch(minhash, lexhash, token_count)
        self._store_features(article_id, numbers, names)
        self.addresses[article_id] = Address(url=url, canonical_url=canonical_url)
        self.sketches_read.add(article_id)

    def _store_features(self, article_id: int, numbers: bytes | None, names: bytes | None) -> None:
        """Stored features of a warehouse article (rows written before migration 0004 have none)."""
        if numbers is not None and names is not None and article_id not in self.batch_ids:
            self.feature_sets[article_id] = (feature_set(numbers), feature_set(names))

    def features(self, article_id: int) -> Features:
        """(numbers, names) of an article as CRC-32 sets, as ``dedup_signatures`` stores them."""
        found = self.feature_sets.get(article_id)
        if found is None:
            if article_id not in self.articles:
                self.load_articles([article_id])
            doc = self.doc(article_id)
            found = self.feature_sets[article_id] = tuple(map(feature_set, doc.feature_hashes))
        return found

    def doc(self, article_id: int) -> Doc:
        """The verification doc of a loaded article (made from its clean text when first asked)."""
        doc = self.docs.get(article_id)
        if doc is None:
            doc = self.docs[article_id] = Doc(self.articles[article_id].clean_text or "")
        return doc

    def cluster_of(self, article_id: int) -> int | None:
        """The article's cluster as decided so far (None: not clustered, or not known)."""
        row = self.articles.get(article_id)
        return row.cluster_id if row is not None else self.unloaded_cluster_of.get(article_id)

    def load_clusters(self, cluster_ids) -> None:
        """Original and reason of warehouse clusters not known yet."""
        known = self.clusters
        missing = [c for c in set(cluster_ids) if c not in known.original and c not in known.deleted and c > 0]
        for chunk in chunks(missing):
            for cid, oid, reason in self.conn.execute(
                    select(clusters.c.id, clusters.c.original_article_id, clusters.c.original_reason).where(
                        among(self.conn, clusters.c.id, chunk))):
                known.original[cid] = oid
                known.reason[cid] = reason

    def load_members(self, cluster_ids) -> None:
        """Every member of warehouse clusters (their rows loaded), with the batch's moves applied."""
        known = self.clusters
        missing = [c for c in set(cluster_ids) if c not in known.members and c > 0 and c not in known.deleted]
        if not missing:
            return
        found: dict[int, set[int]] = {c: set() for c in missing}
        for chunk in chunks(missing):
            ids = self.conn.execute(select(articles.c.id, articles.c.cluster_id).where(
                among(self.conn, articles.c.cluster_id, chunk))).all()
            self.load_articles([i for i, _ in ids])
            for aid, cid in ids:
                if self.articles[aid].cluster_id == cid:
                    found[cid].add(aid)
        for aid, row in self.articles.items():  # articles moved into these clusters in this batch
            if row.cluster_id in found:
                found[row.cluster_id].add(aid)
        known.members.update(found)

    def forget(self, article_id: int) -> None:
        """Drop what was read of a warehouse article (another worker changed it): read again when needed."""
        for cache in (self.articles, self.docs, self.sketches, self.feature_sets, self.addresses):
            cache.pop(article_id, None)
        self.sketches_read.discard(article_id)

    # ----------------------------------------------------------------- decisions

    def move(self, article_id: int, cluster_id: int | None) -> None:
        """Put a loaded article in a cluster (None: in none), keeping loaded member sets in step."""
        row = self.articles[article_id]
        members = self.clusters.members
        if row.cluster_id in members:
            members[row.cluster_id].discard(article_id)
        row.cluster_id = cluster_id
        if cluster_id is not None and cluster_id in members:
            members[cluster_id].add(article_id)


def stored_sketch(minhash: bytes | None, lexhash: bytes | None, token_count: int | None) -> Sketch:
    """The prefilter's view of a ``dedup_signatures`` row (3-grams: tokens less two)."""
    return Sketch(from_bytes(minhash), from_bytes(lexhash), max(1, (token_count or 3) - 2))
