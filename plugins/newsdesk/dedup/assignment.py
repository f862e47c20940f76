"""Assigning one article to a cluster, in the batch's overlay.

Candidates count through their clusters: an article is verified against each candidate
cluster's ORIGINAL (never against members), joins the matching cluster — merging several if
it matches their originals — and the cluster's original is chosen again. When that changes,
the cluster is re-pointed: every member is verified again against the new original, and
members that no longer match are put back to pending (processed again in the same run).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from .candidates import ANCHOR, Candidate, banded
from .original import ONLY_MEMBER, Member, choose_original, original_reason, rank_keys
from .overlay import ArticleRow, Overlay
from .verification import Verifier
from .verify import Verdict
from .writes import drop_index_entries

MAX_CLUSTERS = 25


def member(row: ArticleRow) -> Member:
    """An article as choosing the original sees it."""
    length = row.length
    if length is None:  # counted once per row: a cluster's members are ranked again with every new copy
        length = row.length = len((row.clean_text or "").split())
    return Member(id=row.id, url=row.url, canonical_url=row.canonical_url, domain=row.domain,
                  source_name=row.source_name, attribution=row.attribution, published_at=row.published_at,
                  length=length)


def rank_clusters(overlay: Overlay, candidates: dict[int, Candidate]) -> list[tuple[int, Candidate]]:
    """Candidate articles -> the MAX_CLUSTERS best candidate clusters (through the overlay),
    most hits first, then oldest cluster: [(cluster id, what its members' routes credited)]."""
    by_cluster: dict[int, Candidate] = {}
    rows, unloaded, deleted = overlay.articles, overlay.unloaded_cluster_of, overlay.clusters.deleted
    for article_id, found in candidates.items():
        row = rows.get(article_id)  # cluster_of, inlined: called for every candidate, twice
        cid = row.cluster_id if row is not None else unloaded.get(article_id)
        if cid is None or cid in deleted:
            continue
        cluster = by_cluster.get(cid)
        if cluster is None:
            cluster = by_cluster[cid] = Candidate(0, set())
        cluster.hits += found.hits
        cluster.routes |= found.routes
    ranked = sorted(by_cluster.items(), key=lambda kv: (-kv[1].hits, abs(kv[0]) + (1 << 62) * (kv[0] < 0)))
    return ranked[:MAX_CLUSTERS]


class Assignment:
    """The batch's decisions, article by article, written into its overlay."""

    def __init__(self, conn: Connection, overlay: Overlay, verifier: Verifier, now: datetime):
        self.conn = conn
        self.overlay = overlay
        self.verifier = verifier
        self.now = now  # decided_at of the links

    def new_cluster(self, original_id: int) -> int:
        """A cluster founded in this batch (provisional negative id) with ``original_id`` as original."""
        clusters = self.overlay.clusters
        cid = -(len(clusters.created) + 1)
        clusters.created.append(cid)
        clusters.original[cid] = original_id
        clusters.reason[cid] = ONLY_MEMBER
        clusters.members[cid] = set()
        return cid

    def set_relation(self, article_id: int, cluster_id: int, original_id: int, verdict: Verdict | None) -> None:
        """The article belongs to ``cluster_id`` as the original (``verdict`` None) or as a copy."""
        if verdict is None or article_id == original_id:
            relation, similarity, method, evidence = "original", 1.0, "original", {}
        else:
            relation, similarity, method, evidence = (verdict.relation, verdict.similarity, verdict.method,
                                                      verdict.evidence)
        self.overlay.move(article_id, cluster_id)
        writes = self.overlay.writes
        writes.article_values.setdefault(article_id, {}).update(cluster_id=cluster_id, relation=relation,
                                                                similarity=similarity, dedup_state="done")
        writes.links[article_id] = dict(article_id=article_id, original_article_id=original_id, relation=relation,
                                         similarity=similarity, method=method, evidence=evidence,
                                         decided_at=self.now)

    def requeue(self, article_id: int) -> None:
        """The article leaves its cluster and goes back to pending (a warehouse article's index
        entries are dropped now: it is signed again when processed)."""
        self.overlay.move(article_id, None)
        writes = self.overlay.writes
        writes.article_values.setdefault(article_id, {}).update(dedup_state="pending", cluster_id=None,
                                                                relation=None, similarity=None)
        writes.links[article_id] = None
        if article_id in self.overlay.batch_ids:
            writes.requeued_batch_articles.add(article_id)
        else:
            drop_index_entries(self.conn, [article_id])

    def matching_clusters(self, article_id: int, candidates: dict[int, Candidate]) -> dict[int, Verdict]:
        """The candidate clusters whose original the article matches, with the verdicts (their
        evidence noting how the cluster was found)."""
        overlay, verifier, clusters = self.overlay, self.verifier, self.overlay.clusters
        ranked = rank_clusters(overlay, candidates)
        overlay.load_clusters([c for c, _ in ranked])
        overlay.load_sketches([clusters.original[c] for c, _ in ranked if c in clusters.original])
        lsh_only = [clusters.original[c] for c, found in ranked
                    if banded(found.routes) and clusters.original.get(c) is not None]
        worth = verifier.worth_verifying(article_id, lsh_only, {clusters.original[c] for c, found in ranked
                                                               if found.routes == {ANCHOR}})
        todo = []
        for cid, found in ranked:
            oid = clusters.original.get(cid)
            if oid is None:
                continue
            if banded(found.routes) and not worth[oid]:
                continue
            todo.append((cid, found, oid))
        overlay.load_articles([oid for _, _, oid in todo if not verifier.settled(article_id, oid)])
        matched: dict[int, Verdict] = {}
        for cid, found, oid in todo:
            if oid not in overlay.articles and (article_id, oid) not in verifier.verdicts:  # the original is gone
                continue
            verdict = verifier.verdict(article_id, oid)
            if verdict.matched:
                verdict = Verdict(verdict.relation, verdict.similarity, verdict.method, dict(verdict.evidence))
                verdict.evidence["routes"] = sorted(found.routes)
                verdict.evidence["candidate_hits"] = found.hits
                matched[cid] = verdict
        return matched

    def assign(self, article_id: int, candidates: dict[int, Candidate]) -> tuple[str, int]:
        """Decide one article: returns its relation (``original`` when it founds a cluster) and
        how many members of its cluster went back to pending."""
        matched = self.matching_clusters(article_id, candidates)
        if not matched:
            cid = self.new_cluster(article_id)
            self.set_relation(article_id, cid, article_id, None)
            return "original", 0
        overlay, clusters = self.overlay, self.overlay.clusters
        target = min(matched, key=lambda c: (c < 0, abs(c)))  # the oldest cluster
        overlay.load_members(list(matched))
        members = sorted({m for c in matched for m in clusters.members.get(c, ())} - {article_id})
        everyone = [overlay.articles[m] for m in members] + [overlay.articles[article_id]]
        ranked_members = [member(r) for r in everyone]
        keys = rank_keys(ranked_members)  # pairwise over the members: computed once for both uses
        best = choose_original(ranked_members, keys)
        current = clusters.original[target]
        if len(matched) == 1 and best.id == current:
            self.set_relation(article_id, target, current, matched[target])
            reason = original_reason(ranked_members, current, keys)
            if reason != clusters.reason.get(target):
                clusters.reason[target] = reason
                clusters.reason_changed.add(target)
            return matched[target].relation, 0
        return self._merge_or_repoint(article_id, matched, target, best.id, everyone, ranked_members, keys)

    def _merge_or_repoint(self, article_id: int, matched: dict[int, Verdict], target: int, best_id: int,
                          everyone: list[ArticleRow], ranked_members: list[Member], keys: dict) -> tuple[str, int]:
        """The matched clusters become ``target`` around the original ``best_id``: every member is
        verified again against it."""
        clusters = self.overlay.clusters
        clusters.original[target] = best_id
        clusters.repointed.add(target)
        relation = "original"
        requeued = 0
        left: set[int] = set()  # members that do not stay in the cluster
        for row in everyone:
            if row.id == best_id:
                self.set_relation(row.id, target, best_id, None)
                continue
            verdict = self.verifier.verdict(row.id, best_id)
            if verdict.matched:
                self.set_relation(row.id, target, best_id, verdict)
                if row.id == article_id:
                    relation = verdict.relation
            elif row.id == article_id:
                relation = None
                left.add(row.id)
            else:
                self.requeue(row.id)
                requeued += 1
                left.add(row.id)
        # members that left change the others' keys (who attributes or points to whom): ranked again
        stayed = [m for m in ranked_members if m.id not in left]
        clusters.reason[target] = original_reason(stayed, best_id, None if left else keys)
        for c in matched:
            if c != target:
                clusters.deleted.add(c)
                clusters.merged_into[c] = target
                clusters.members.pop(c, None)
        if relation is None:
            cid = self.new_cluster(article_id)
            self.set_relation(article_id, cid, article_id, None)
            relation = "original"
        return relation, requeued
