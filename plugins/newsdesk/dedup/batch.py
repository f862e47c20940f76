"""One claimed batch, step by step: prepare, gather, catch up, assign, flush (see ``run``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from ..config import Settings
from ..storage.loads import utcnow
from ..storage.schema import articles, clusters, dedup_signatures, sources
from .assignment import MAX_CLUSTERS, Assignment, rank_clusters
from .boilerplate import SiteKnowledge
from .candidates import ANCHOR, Candidate, CandidateSearch, MemoryIndex, banded
from .claim import advance_epoch, last_epoch, publication_day, serialise, stated_date
from .clean import Cleaned, clean, paragraph_hash, paragraphs
from .overlay import ArticleRow, Overlay, Sketch
from .repair import compare_again, reclean_teachers
from .signatures import Signature, index_buckets
from .verification import Verifier, signed
from .verify import Doc
from .writes import (
    drop_index_entries,
    resolve,
    stored_buckets,
    write_articles,
    write_clusters,
    write_index,
    write_links,
    write_merges,
    write_site_knowledge,
)


class Batch:
    """One claimed batch: its articles cleaned and signed, the overlay of the warehouse it
    touches, its verdicts, and the decisions it writes at the end."""

    def __init__(self, conn: Connection, claimed: list[Row], settings: Settings):
        self.conn = conn
        self.window = settings.dedup_window_days
        self.now = utcnow()
        self.ids = [r.id for r in claimed]  # id order: the order of the decisions
        self.batch_ids = set(self.ids)
        self.claimed = {r.id: r for r in claimed}
        self.stats: Counter = Counter()
        self.source_names: dict[int, str] = {}
        self.paragraphs: dict[int, list[str]] = {}  # of the claimed texts
        self.paragraph_hashes: dict[int, list[int]] = {}
        self.known_boilerplate: dict[int, frozenset[int]] = {}  # learned paragraphs stripped at the last cleaning
        self.days: dict[int, int] = {}  # publication day, of the batch's articles and those caught up with
        self.bands: dict[int, list[tuple[int, int]]] = {}  # LSH bands of the batch's articles
        self.signatures: dict[int, Signature] = {}
        self.site = SiteKnowledge(self.now)
        self.overlay = Overlay(conn, self.batch_ids)
        self.verifier = Verifier(self.overlay)
        self.assignment = Assignment(conn, self.overlay, self.verifier, self.now)
        self.search = CandidateSearch(conn, self.window, self.days, self.overlay.docs, self.overlay.articles,
                                      self.bands, self.batch_ids)
        self.in_memory = MemoryIndex()  # the batch's decided articles and those caught up with
        self.epoch_at_search = 0  # the last committed epoch when gather started
        self.warehouse_found: dict[int, dict[int, Candidate]] = {}  # article id -> warehouse candidates

    # ----------------------------------------------------------------- preparation

    def prepare(self) -> None:
        """Clean every text with its domain's learned boilerplate and sign it; drop the index
        entries of articles processed before (reset) so that no stale bands stay."""
        conn = self.conn
        source_ids = {r.source_id for r in self.claimed.values() if r.source_id is not None}
        if source_ids:
            self.source_names = dict(conn.execute(select(sources.c.id, sources.c.name).where(
                sources.c.id.in_(source_ids))).all())
        for r in self.claimed.values():
            paras = paragraphs(r.text)
            hashes = [paragraph_hash(p) for p in paras]
            self.paragraphs[r.id], self.paragraph_hashes[r.id] = paras, hashes
            self.site.add_article(r.domain, paras, hashes)
        self.site.load(conn)
        for aid in self.ids:
            self.clean_article(aid)
        drop_index_entries(conn, self.ids)

    def clean_article(self, article_id: int) -> None:
        """The article cleaned and signed with the boilerplate learned so far, its row in the overlay."""
        cleaned, doc = self._sign(article_id)
        r = self.claimed[article_id]
        self.overlay.articles[article_id] = ArticleRow(
            id=article_id, url=r.url, canonical_url=r.canonical_url, domain=r.domain, attribution=cleaned.attribution,
            published_at=stated_date(r.published_at, r.date_source), clean_text=cleaned.text, cluster_id=None,
            source_name=self.source_names.get(r.source_id))
        self.overlay.writes.article_values[article_id] = dict(clean_text=cleaned.text, attribution=cleaned.attribution,
                                                              clean_sha256=doc.key)
        self.days[article_id] = publication_day(r.published_at, r.fetched_at, r.extracted_at, r.date_source)

    def _sign(self, article_id: int) -> tuple[Cleaned, Doc]:
        """The article cleaned with the boilerplate learned so far, and its signature and doc."""
        self.verifier.signature_changed(article_id)
        self.overlay.feature_sets.pop(article_id, None)
        r = self.claimed[article_id]
        known = self.site.known(r.domain, self.paragraph_hashes[article_id])
        cleaned = clean(r.text, r.title, known)
        sig, doc = signed(cleaned.text)
        self.known_boilerplate[article_id] = known
        self.bands[article_id] = index_buckets(sig, doc.feature_hashes)
        self.overlay.docs[article_id] = doc
        self.signatures[article_id] = sig
        self.overlay.sketches[article_id] = Sketch(sig.minhash, sig.lexhash, len(sig.shingles))
        return cleaned, doc

    def _learned_since_cleaned(self, article_id: int) -> bool:
        """The batch has learned boilerplate among the article's paragraphs since it was cleaned."""
        return self.site.learned_since(self.claimed[article_id].domain, self.paragraph_hashes[article_id],
                                       self.known_boilerplate[article_id])

    def relearned(self, article_id: int) -> bool:
        """Boilerplate learned earlier in this batch appears in this article: clean it again."""
        if not self._learned_since_cleaned(article_id):
            return False
        self.clean_article(article_id)
        return True

    def reclean_decided(self) -> None:
        """Batch articles decided before the batch learned one of their paragraphs (those that
        taught it, mostly) are cleaned again; their decisions stand. Boilerplate only pads a
        text, which the verification tolerates, but the clean text analysts read and the index
        future articles are compared with must not keep it."""
        if not self.site.new_boilerplate:
            return
        for aid in self.ids:
            if not self._learned_since_cleaned(aid):
                continue
            cleaned, doc = self._sign(aid)
            row = self.overlay.articles[aid]
            if cleaned.text == row.clean_text:  # the paragraph was removed by another rule already
                continue
            row.clean_text, row.attribution, row.length = cleaned.text, cleaned.attribution, None
            self.overlay.writes.article_values.setdefault(aid, {}).update(
                clean_text=cleaned.text, attribution=cleaned.attribution, clean_sha256=doc.key)
            self.overlay.writes.recleaned.add(aid)

    # ----------------------------------------------------------------- candidates

    def in_batch_candidates(self, article_id: int) -> dict[int, Candidate]:
        """Candidates among the batch's articles already processed and the articles other workers
        committed meanwhile (``catch_up``): an in-memory index."""
        days, overlay = self.days, self.overlay
        lo, hi = days[article_id] - self.window, days[article_id] + self.window
        return self.in_memory.candidates(
            overlay.docs[article_id].key, overlay.articles[article_id], self.bands[article_id], days[article_id],
            lambda other: other != article_id and lo <= days[other] <= hi and overlay.cluster_of(other) is not None)

    def index_in_batch(self, article_id: int, original: bool) -> None:
        """A decided article becomes a candidate of the batch's later ones (bands: an original's only)."""
        self.in_memory.add(article_id, self.overlay.docs[article_id].key, self.overlay.articles[article_id],
                           self.bands[article_id] if original else (), self.days[article_id])

    # ----------------------------------------------------------------- steps

    def decide(self) -> Counter:
        """Candidates and verdicts first, then, serialised with other workers, the decisions
        and the writes."""
        self.gather()
        return self.decide_serialised()

    def decide_serialised(self) -> Counter:
        """Under the decision lock (PostgreSQL): take in what other workers committed since
        ``gather``, then assign and write."""
        if serialise(self.conn):
            # Other workers may have committed since prepare and gather: decide with that.
            self.site.load(self.conn)
            epoch = last_epoch(self.conn)
            if epoch != self.epoch_at_search:
                self.catch_up(self.epoch_at_search, epoch)
        return self.assign()

    def gather(self) -> None:
        """Before the decision lock (PostgreSQL): the warehouse candidates of every article, what
        verifying them needs — clusters, originals' signatures, and the texts of the originals
        that the MinHash and feature prefilters cannot rule out — and the verdicts against each
        article's best clusters. Verdicts depend on the two texts only, so ``assign`` reuses
        them; what other workers commit meanwhile is taken in by ``catch_up``."""
        overlay, verifier, known = self.overlay, self.verifier, self.overlay.clusters
        self.epoch_at_search = last_epoch(self.conn)
        found = self.warehouse_found = self.search.in_warehouse(self.ids)
        every_candidate = {c for by_id in found.values() for c in by_id}
        overlay.load_cluster_ids(every_candidate)
        overlay.load_clusters({overlay.cluster_of(c) for c in every_candidate} - {None})
        overlay.load_sketches(set(known.original.values()))
        best_originals: dict[int, list[tuple[int, Candidate]]] = {}  # article -> its best clusters' originals
        need = set()
        for aid, candidates in found.items():
            ranked = [(known.original[cid], cluster) for cid, cluster in rank_clusters(overlay, candidates)
                      if known.original.get(cid) is not None]
            best_originals[aid] = ranked
            worth = verifier.worth_verifying(aid, [oid for oid, cluster in ranked if banded(cluster.routes)],
                                             {oid for oid, cluster in ranked if cluster.routes == {ANCHOR}})
            need.update(oid for oid, cluster in ranked
                        if (not banded(cluster.routes) or worth[oid]) and not verifier.settled(aid, oid))
        overlay.load_articles(need)
        self._verify_likely_pairs(best_originals)

    def _verify_likely_pairs(self, best_originals: dict[int, list[tuple[int, Candidate]]]) -> None:
        """In id order, as ``assign`` goes: each article against the MAX_CLUSTERS best of its
        warehouse clusters and of the batch's earlier articles that will be originals if nothing
        changes meanwhile (those that matched nothing) — the pairs ``assign`` verifies in the
        common case."""
        overlay, verifier, days = self.overlay, self.verifier, self.days
        provisional = MemoryIndex()
        original_of: dict[int, int] = {}  # earlier batch article -> its provisional original
        for aid in self.ids:
            in_batch = provisional.candidates(overlay.docs[aid].key, overlay.articles[aid], self.bands[aid], days[aid],
                                              self._in_window_of(aid))
            merged = {oid: Candidate(cluster.hits, cluster.routes) for oid, cluster in best_originals.get(aid, ())}
            for other, found in in_batch.items():  # a copy stands for its original, as in clusters
                oid = original_of.get(other, other)
                candidate = merged.get(oid)
                if candidate is None:
                    candidate = merged[oid] = Candidate(0, set())
                candidate.hits += found.hits
                candidate.routes = candidate.routes | found.routes  # a new set: the cluster's is shared
            top = sorted(merged.items(), key=lambda kv: (-kv[1].hits, kv[0]))[:MAX_CLUSTERS]
            worth = verifier.worth_verifying(aid, [oid for oid, candidate in top if banded(candidate.routes)],
                                             {oid for oid, candidate in top if candidate.routes == {ANCHOR}})
            matched = False
            for oid, candidate in top:
                if ((not banded(candidate.routes) or worth[oid])
                        and (oid in overlay.articles or verifier.settled(aid, oid))
                        and verifier.verdict(aid, oid).matched):
                    matched = True
                    if oid in self.batch_ids:
                        original_of.setdefault(aid, oid)
            provisional.add(aid, overlay.docs[aid].key, overlay.articles[aid], () if matched else self.bands[aid],
                            days[aid])

    def _in_window_of(self, article_id: int) -> Callable[[int], bool]:
        """Accepts the other articles published within ``article_id``'s window."""
        days = self.days
        lo, hi = days[article_id] - self.window, days[article_id] + self.window
        return lambda other: other != article_id and lo <= days[other] <= hi

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
        overlay, known = self.overlay, self.overlay.clusters
        changed = self.conn.execute(
            select(articles.c.id, articles.c.cluster_id, articles.c.clean_sha256, articles.c.url,
                   articles.c.canonical_url, clusters.c.original_article_id, dedup_signatures)
            .select_from(articles.outerjoin(clusters, clusters.c.id == articles.c.cluster_id)
                         .outerjoin(dedup_signatures, dedup_signatures.c.article_id == articles.c.id))
            .where(articles.c.dedup_epoch > since, articles.c.dedup_epoch <= until)).all()
        changed = [r for r in changed if r.id not in self.batch_ids]  # (claimed here: no one else changes them)
        gone = {r.id for r in changed}
        stale = {r.cluster_id for r in changed} | {overlay.cluster_of(r.id) for r in changed}
        stale |= {c for c, oid in known.original.items() if oid in gone}
        stale |= {c for c, members in known.members.items() if not members.isdisjoint(gone)}
        for r in changed:
            overlay.forget(r.id)
            overlay.unloaded_cluster_of[r.id] = r.cluster_id
            if r.pub_day is not None:  # read with the changes: not asked for again, one by one, under the lock
                overlay.remember_sketch(r.id, r.minhash, r.lexhash, r.token_count, r.numbers, r.names, r.url,
                                        r.canonical_url)
        self.verifier.forget_articles(gone)
        stale = {c for c in stale if c is not None and c > 0}
        for c in stale:
            known.original.pop(c, None)
            known.reason.pop(c, None)
            known.members.pop(c, None)
        overlay.load_clusters(stale)
        for r in changed:
            if r.cluster_id is None or r.pub_day is None:  # put back to pending
                continue
            self.days[r.id] = r.pub_day
            self.in_memory.add(r.id, r.clean_sha256, r, stored_buckets(r) if r.original_article_id == r.id else (),
                               r.pub_day)
        self.stats["caught_up"] += len(changed)

    def assign(self) -> Counter:
        """In id order: each article joins a cluster or founds one (the overlay), then the writes."""
        found = self.warehouse_found
        for aid in self.ids:
            if self.relearned(aid):
                found[aid] = self.search.in_warehouse([aid])[aid]
                self.overlay.load_cluster_ids(set(found[aid]))
            candidates = dict(found[aid])
            for other, candidate in self.in_batch_candidates(aid).items():
                candidates[other] = candidate
            relation, requeued = self.assignment.assign(aid, candidates)
            self.index_in_batch(aid, relation == "original")
            self.site.observe(self.claimed[aid].domain, self.paragraphs[aid], self.paragraph_hashes[aid],
                              self.known_boilerplate[aid], aid, self.overlay.articles[aid].cluster_id)
            self.stats["processed"] += 1
            self.stats["originals" if relation == "original" else relation] += 1
            self.stats["requeued"] += requeued
        self.reclean_decided()
        self.flush()
        return self.stats

    def flush(self) -> None:
        """The batch's writes, stamped with the next epoch; then the warehouse articles that taught
        their sites what the batch learned are cleaned again."""
        conn, now, overlay = self.conn, self.now, self.overlay
        epoch = advance_epoch(conn)
        real_ids = write_clusters(conn, overlay.clusters, now)
        write_articles(conn, overlay.writes.article_values, epoch, real_ids)
        write_links(conn, overlay.writes.links)
        write_merges(conn, overlay.clusters, real_ids, now)
        write_index(conn, overlay, self.ids, self.signatures, self.bands, self.days)
        write_site_knowledge(conn, self.site.new_observations, self.site.new_boilerplate, overlay, real_ids)
        if self.site.new_boilerplate:
            teachers = self.site.teachers(lambda cluster_id: resolve(real_ids, cluster_id))
            overlay.writes.recleaned |= reclean_teachers(conn, teachers, epoch, self.batch_ids)
            compare_again(conn, overlay.writes.recleaned, epoch, now)
            self.stats["recleaned"] += len(overlay.writes.recleaned)
