"""Verifying candidate pairs for a batch: cheap prefilters first, ``verify.compare`` on the texts last.

An LSH-only candidate whose MinHash estimates are far below any verdict is not verified
(``worth_verifying``); a pair whose estimated containment is far below ``near`` and that lacks
the numbers and names a paraphrase needs is settled without loading the original's text
(``Verifier.settled``). Verdicts depend on the two texts only, so a batch keeps them: the
search before the decision lock computes most of them, and the decisions reuse them. The
rules themselves (exact, near, paraphrase) are ``verify``'s.
"""

from __future__ import annotations

import numpy as np

from .original import canonical_or_none
from .overlay import Overlay, Sketch
from .signatures import Signature, estimate, set_size, signature
from .verify import Doc, Verdict, compare, lacks_paraphrase_evidence

CANONICAL_MIN_SIMILARITY = 0.3
# Verification is skipped for an LSH-only candidate whose estimated Jaccard is below both
# (a truncated copy keeps shingle Jaccard >= ~0.3, a reworded one content-word Jaccard >= ~0.35)
# and whose estimated content-word containment is below PREFILTER_LEXICAL_CONTAINMENT: a
# condensed third, an excerpt or an expanded rewrite keeps content-word Jaccard at 0.05-0.2
# but >= ~0.46 of the smaller text's content words (bench/dedup_quality.py's realistic corpus).
PREFILTER_SHINGLE = 0.12
PREFILTER_LEXICAL = 0.22
PREFILTER_LEXICAL_CONTAINMENT = 0.35
# A candidate found through anchor bands alone (names and numbers, no band of words) is verified
# only when the pair shares at least this share of the smaller anchor set (numbers and names
# together; true pairs of the realistic corpus: >= 0.5): one story's city, weekday and ministry
# are found again in another story of that place.
PREFILTER_ANCHORS = 0.5
# A pair whose shingle containment, estimated from the MinHash signatures and set sizes, is below
# this (near needs 0.6) and that lacks the numbers/names a paraphrase needs is not compared.
PREFILTER_CONTAINMENT = 0.35


def signed(clean_text: str) -> tuple[Signature, Doc]:
    """The signature of a clean text and its verification doc, sharing one tokenisation and 3-gram set."""
    sig = signature(clean_text)
    doc = Doc(clean_text)
    doc.tokens, doc.shingles = sig.tokens, sig.shingles
    return sig, doc


def canonical_link(a, b) -> bool:
    """One article's canonical URL names the other's URL (or both name the same document)."""
    ca, cb = canonical_or_none(a.canonical_url), canonical_or_none(b.canonical_url)
    if not (ca or cb):  # most candidate pairs: no need to canonicalise their URLs
        return False
    ua, ub = canonical_or_none(a.url), canonical_or_none(b.url)
    return bool((ca and ca == ub) or (cb and cb == ua) or (ca and cb and ca == cb and (ca != ua or cb != ub)))


def estimates_worth_verifying(mine: Sketch, theirs: Sketch | None) -> bool:
    """Cheap filter on MinHash estimates before comparing texts."""
    if theirs is None:
        return True
    js = estimate(mine[0], theirs[0])
    jl = estimate(mine[1], theirs[1])
    if js is None or jl is None:
        return True
    return (js >= PREFILTER_SHINGLE or jl >= PREFILTER_LEXICAL
            or lexical_containment(jl, set_size(mine[1]), set_size(theirs[1])) >= PREFILTER_LEXICAL_CONTAINMENT)


def lexical_containment(jaccard: float, size_a: float | None, size_b: float | None) -> float:
    """|A∩B| / min(|A|, |B|) from a Jaccard estimate and the two sets' (estimated) sizes."""
    if not size_a or not size_b:
        return 1.0
    return jaccard * (size_a + size_b) / ((1 + jaccard) * min(size_a, size_b))


def verify_pair(copy_row, copy_doc: Doc, original_row, original_doc: Doc) -> Verdict:
    """``verify.compare`` of a copy with an original (rows: ``url``, ``canonical_url``); a
    canonical link between them is evidence of its own and lowers what a match needs."""
    linked = canonical_link(copy_row, original_row)
    verdict = compare(copy_doc, original_doc, quick=not linked)
    if linked:
        if verdict.matched:
            verdict.evidence["verified_by"] = verdict.method
            verdict.method = "canonical-url"
        elif verdict.similarity >= CANONICAL_MIN_SIMILARITY:
            verdict.evidence["verified_by"] = "canonical-url"
            verdict = Verdict("near", verdict.similarity, "canonical-url", verdict.evidence)
    return verdict


class Verifier:
    """Verdicts of (article, original) pairs for one batch, with what the prefilters found."""

    def __init__(self, overlay: Overlay):
        self.overlay = overlay
        self.verdicts: dict[tuple[int, int], Verdict] = {}
        self.passes_prefilter: dict[tuple[int, int], bool] = {}  # (article, original) -> MinHash prefilter
        self.needs_text: set[tuple[int, int]] = set()  # pairs the prefilters could not rule out
        self.shingle_jaccard: dict[tuple[int, int], float] = {}  # (article, original) -> MinHash estimate

    def signature_changed(self, article_id: int) -> None:
        """A batch article was cleaned again (rare: boilerplate learned mid-batch): what was
        estimated and decided from its old text is forgotten."""
        self.passes_prefilter.clear()
        self.needs_text.clear()
        self.shingle_jaccard.clear()
        if self.verdicts:
            self.verdicts = {k: v for k, v in self.verdicts.items() if article_id not in k}

    def forget_articles(self, gone: set[int]) -> None:
        """Forget every pair involving articles another worker changed."""
        self.verdicts = {k: v for k, v in self.verdicts.items() if gone.isdisjoint(k)}
        self.passes_prefilter = {k: v for k, v in self.passes_prefilter.items() if gone.isdisjoint(k)}
        self.shingle_jaccard = {k: v for k, v in self.shingle_jaccard.items() if gone.isdisjoint(k)}
        self.needs_text = {k for k in self.needs_text if gone.isdisjoint(k)}

    def worth_verifying(self, article_id: int, original_ids, anchored=frozenset()) -> dict[int, bool]:
        """``estimates_worth_verifying`` for one article against many originals: one numpy
        comparison for all of them, and remembered for the batch; those in ``anchored`` (found
        through anchor bands only) must also share PREFILTER_ANCHORS of their anchors."""
        out = self._worth(article_id, original_ids)
        for oid in anchored:
            if out.get(oid):
                out[oid] = self.shares_anchors(article_id, oid)
        return out

    def shares_anchors(self, article_id: int, original_id: int) -> bool:
        """The two share PREFILTER_ANCHORS of the smaller anchor set (stored features)."""
        (a_numbers, a_names), (b_numbers, b_names) = (self.overlay.features(article_id),
                                                      self.overlay.features(original_id))
        smaller = min(len(a_numbers) + len(a_names), len(b_numbers) + len(b_names))
        shared = len(a_numbers & b_numbers) + len(a_names & b_names)
        return smaller == 0 or shared >= PREFILTER_ANCHORS * smaller

    def _worth(self, article_id: int, original_ids) -> dict[int, bool]:
        sketches, remembered = self.overlay.sketches, self.passes_prefilter
        mine = sketches[article_id]
        out: dict[int, bool] = {}
        stack: list[int] = []
        for oid in original_ids:
            known = remembered.get((article_id, oid))
            if known is not None:
                out[oid] = known
                continue
            theirs = sketches.get(oid)
            if (theirs is None or mine[0] is None or mine[1] is None or theirs[0] is None or theirs[1] is None
                    or len(theirs[0]) != len(mine[0]) or len(theirs[1]) != len(mine[1])):
                out[oid] = remembered[(article_id, oid)] = estimates_worth_verifying(mine, theirs)
            else:
                stack.append(oid)
        if stack:
            js = (np.stack([sketches[o][0] for o in stack]) == mine[0]).mean(axis=1)
            jl = (np.stack([sketches[o][1] for o in stack]) == mine[1]).mean(axis=1)
            # the content-word sets' sizes, estimated from the minima, give the containment
            lexicals = np.stack([sketches[o][1] for o in stack]).astype(np.float64)
            theirs = (lexicals.shape[1] - 1) / np.maximum(lexicals.sum(axis=1) / 2.0**32, 1e-12)
            mine_size = set_size(mine[1]) or 1.0
            contained = jl * (theirs + mine_size) / ((1 + jl) * np.minimum(theirs, mine_size))
            by_jaccard = (js >= PREFILTER_SHINGLE) | (jl >= PREFILTER_LEXICAL)
            by_containment = contained >= PREFILTER_LEXICAL_CONTAINMENT
            for oid, j, jaccard, containment in zip(stack, js.tolist(), by_jaccard.tolist(), by_containment.tolist()):
                # through containment alone (a condensed or expanded rewrite, or another story of
                # the same place and vocabulary): the anchors must be shared too
                ok = jaccard or (containment and self.shares_anchors(article_id, oid))
                out[oid] = remembered[(article_id, oid)] = ok
                self.shingle_jaccard[(article_id, oid)] = j
        return out

    def hopeless(self, article_id: int, original_id: int) -> bool:
        """Neither near (MinHash-estimated containment far below the threshold) nor paraphrase
        (the numbers/names a paraphrase verdict needs are missing): no need for the texts.
        Decided from signatures and stored features when the original has them."""
        overlay = self.overlay
        a, b = overlay.sketches.get(article_id), overlay.sketches.get(original_id)
        if a is None or b is None or a[0] is None or b[0] is None:
            return False
        if canonical_link(overlay.articles[article_id],
                          overlay.articles.get(original_id) or overlay.addresses[original_id]):
            return False
        j = self.shingle_jaccard.get((article_id, original_id))
        if j is None:
            j = estimate(a[0], b[0])
        containment = j * (a[2] + b[2]) / ((1 + j) * min(a[2], b[2]))
        if containment >= PREFILTER_CONTAINMENT:
            return False
        (mine_numbers, mine_names), (their_numbers, their_names) = (overlay.features(article_id),
                                                                    overlay.features(original_id))
        return lacks_paraphrase_evidence(mine_numbers, their_numbers, mine_names, their_names)

    def settled(self, article_id: int, original_id: int) -> bool:
        """The verdict is known without the original's text: already decided, or ruled out by
        the prefilter (remembered as a verdict)."""
        key = (article_id, original_id)
        if key in self.verdicts:
            return True
        overlay = self.overlay
        if key in self.needs_text or not (original_id in overlay.articles or original_id in overlay.addresses):
            return False
        if self.hopeless(article_id, original_id):
            self.verdicts[key] = Verdict(None, 0.0, "prefilter", {})
            return True
        self.needs_text.add(key)
        return False

    def verdict(self, article_id: int, original_id: int) -> Verdict:
        """The verdict of the pair: remembered, settled by the prefilter, or verified on the texts
        (both rows loaded)."""
        if self.settled(article_id, original_id):
            return self.verdicts[(article_id, original_id)]
        overlay = self.overlay
        verdict = self.verdicts[(article_id, original_id)] = verify_pair(
            overlay.articles[article_id], overlay.doc(article_id), overlay.articles[original_id],
            overlay.doc(original_id))
        return verdict
