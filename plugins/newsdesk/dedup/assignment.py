"""Assigning one article to a cluster, in the batch's overlay.

Candidates count through their clusters: an article is verified against each candidate
cluster's original and, when that fails, against the cluster's other members (up to
MAX_MEMBERS_COMPARED, the MinHash prefilter first): a rewrite of a copy, far from the
original, is still a copy of the story. It joins the matching cluster — merging several if it
matches them — and the cluster's original is chosen again. When that changes, the cluster is
re-pointed: every member is verified again against the new original, or else against a member
that stays, and members that match neither are put back to pending (processed again in the
same run). The verifier's precision is what keeps the links between members from chaining
different stories together (no pair of different stories of one event verified on the
benchmarks' corpora).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection

from .candidates import LSH_ONLY, Candidate
from .original import ONLY_MEMBER, Member, choose_original, original_reason, rank_keys
from .overlay import ArticleRow, Overlay
from .verification import Verifier
from .verify import PARAPHRASE_STRONG, REWRITE_ORDERED_SHORT, Verdict, lacks_paraphrase_evidence
from .writes import drop_index_entries

MAX_CLUSTERS = 25
# Members (besides the original) an article is compared with when a candidate cluster's original
# does not match it, most recent first: bounds the texts loaded for a much-copied story.
MAX_MEMBERS_COMPARED = 12
# ... and only in the best MAX_CLUSTERS_VIA_MEMBERS candidate clusters that share two or more
# bands with it (one shared band is mostly chance: at scale, most candidates).
MAX_CLUSTERS_VIA_MEMBERS = 4


def member(row: ArticleRow) -> Member:
    """An article as choosing the original sees it."""
    length = row.length
    if length is None:  # counted once per row: a cluster's members are ranked again with every new copy
        length = row.length = len((row.clean_text or "").split())
    return Member(id=row.id, url=row.url, canonical_url=row.canonical_url, domain=row.domain,
                  source_name=row.source_name, attribution=row.attribution, published_at=row.published_at,
                  length=length)


def strong(verdict: Verdict) -> bool:
    """A verdict that may link an article to a cluster through a member (two hops, so errors
    add up): exact, near, or a paraphrase with margin — most sentences aligned, or a rewrite
    whose ordered coverage would do for a short text. A borderline alignment of template-built
    sentences (one story's copy and another story of the same place) is not enough."""
    if not verdict.matched:
        return False
    if verdict.relation in ("exact", "near"):
        return True
    evidence = verdict.evidence
    if verdict.method == "rewrite-alignment":
        return verdict.similarity >= REWRITE_ORDERED_SHORT
    return max(evidence.get("aligned_fraction", 0.0), evidence.get("aligned_fraction_rev", 0.0)) >= PARAPHRASE_STRONG


def noted(verdict: Verdict, found: Candidate, via_member: int | None = None) -> Verdict:
    """A copy of a verdict whose evidence notes how the cluster was found (and through which
    member, when not its original)."""
    out = Verdict(verdict.relation, verdict.similarity, verdict.method, dict(verdict.evidence))
    out.evidence["routes"] = sorted(found.routes)
    out.evidence["candidate_hits"] = found.hits
    if via_member is not None:
        out.evidence["via_member"] = via_member
    return out


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
        ranked_position = {c: i for i, (c, _) in enumerate(ranked)}
        overlay.load_clusters([c for c, _ in ranked])
        overlay.load_sketches([clusters.original[c] for c, _ in ranked if c in clusters.original])
        lsh_only = [clusters.original[c] for c, found in ranked
                    if found.routes == LSH_ONLY and clusters.original.get(c) is not None]
        worth = verifier.worth_verifying(article_id, lsh_only)
        todo, missed = [], []
        for cid, found in ranked:
            oid = clusters.original.get(cid)
            if oid is None:
                continue
            if found.routes == LSH_ONLY and not worth[oid]:
                missed.append((cid, found, oid))  # the original is far: a member may not be
                continue
            todo.append((cid, found, oid))
        overlay.load_articles([oid for _, _, oid in todo if not verifier.settled(article_id, oid)])
        matched: dict[int, Verdict] = {}
        for cid, found, oid in todo:
            if oid not in overlay.articles and (article_id, oid) not in verifier.verdicts:  # the original is gone
                continue
            verdict = verifier.verdict(article_id, oid)
            if verdict.matched:
                matched[cid] = noted(verdict, found)
            else:
                missed.append((cid, found, oid))
        missed = [m for m in missed if m[1].hits >= 2]
        if missed:
            missed.sort(key=lambda m: ranked_position[m[0]])
            self._match_members(article_id, missed[:MAX_CLUSTERS_VIA_MEMBERS], matched)
        return matched

    def _match_members(self, article_id: int, missed: list[tuple[int, Candidate, int]],
                       matched: dict[int, Verdict]) -> None:
        """Candidate clusters whose original did not match: the article against their other
        members (ids first, then the MinHash prefilter, then the texts of those it lets through)."""
        overlay, verifier = self.overlay, self.verifier
        # the original's numbers and names still speak: a text they rule out as its paraphrase
        # (another story's figures, other people) is not a copy of the story through a member
        mine = overlay.features(article_id)
        missed = [(cid, found, oid) for cid, found, oid in missed
                  if not lacks_paraphrase_evidence(mine[0], overlay.features(oid)[0], mine[1],
                                                   overlay.features(oid)[1])]
        members = overlay.member_ids([cid for cid, _, _ in missed])
        others = {cid: sorted(members.get(cid, set()) - {oid, article_id}, reverse=True)[:MAX_MEMBERS_COMPARED]
                  for cid, _, oid in missed}
        every = [m for ms in others.values() for m in ms]
        if not every:
            return
        overlay.load_sketches(every)
        worth = verifier.worth_verifying(article_id, every)
        others = {cid: [m for m in ms if worth[m]] for cid, ms in others.items()}
        overlay.load_articles([m for ms in others.values() for m in ms if not verifier.settled(article_id, m)])
        for cid, found, _ in missed:
            for m in others[cid]:
                if m not in overlay.articles and (article_id, m) not in verifier.verdicts:
                    continue
                verdict = verifier.verdict(article_id, m)
                if strong(verdict):
                    matched[cid] = noted(verdict, found, via_member=m)
                    break

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

    def _verdicts_in_cluster(self, everyone: list[ArticleRow], best_id: int) -> dict[int, Verdict]:
        """The members (rows loaded) that stay around the original ``best_id``: those matching it,
        then, until none is added, those matching one that stays (up to MAX_MEMBERS_COMPARED of
        them, the MinHash prefilter first). Returns their verdicts."""
        verifier = self.verifier
        out: dict[int, Verdict] = {}
        staying = [best_id]
        pending = []
        for row in everyone:
            if row.id == best_id:
                continue
            verdict = verifier.verdict(row.id, best_id)
            if verdict.matched:
                out[row.id] = verdict
                staying.append(row.id)
            else:
                pending.append(row.id)
        added = True
        while pending and added:
            added = False
            for aid in list(pending):
                others = [o for o in staying if o != best_id][-MAX_MEMBERS_COMPARED:]
                worth = verifier.worth_verifying(aid, others)
                for other in others:
                    if worth[other]:
                        verdict = verifier.verdict(aid, other)
                        if strong(verdict):
                            verdict = Verdict(verdict.relation, verdict.similarity, verdict.method,
                                              dict(verdict.evidence, via_member=other))
                            out[aid] = verdict
                            staying.append(aid)
                            pending.remove(aid)
                            added = True
                            break
        return out

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
        verdicts = self._verdicts_in_cluster(everyone, best_id)
        for row in everyone:
            if row.id == best_id:
                self.set_relation(row.id, target, best_id, None)
                continue
            verdict = verdicts.get(row.id)
            if verdict is not None:
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
