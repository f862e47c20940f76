"""Sentence alignment by meaning: what a rewrite keeps of its source (pure functions).

A rewrite — condensed, expanded, regrouped, machine-reworded — says what its source says, in
the source's order, in fewer or more words of its own. Its sentences each have a counterpart
in the source that shares their content words, above all the rare ones (a minute of a goal, a
sum, a place), while an independent report of the same event shares the topic's names and a
few key facts but tells them with details of its own.

* Terms: the words of a sentence less English function words, cut to a prefix (``PREFIX``) so
  that inflections meet ("Islamabadu"/"Islamabadzie"); numbers whole, without a glued-on
  ending ("9'u", "10th"); Han and kana as character pairs. Other languages' function words need
  no list: see the weights.
* Weights: IDF over the sentences of the two texts together, squared, ``log(1 + N / df)^2``: a
  word in most sentences of the pair (a function word, the story's main name) weighs little,
  one in a single sentence of each text (a detail both tell) weighs most.
* Coverage of a sentence: the weight of its terms found in a sentence of the other text, or in
  two adjacent ones (rewrites merge and split sentences), over its own weight — counted only
  when the two share one of its names or numbers and do not each name different people or
  places (the same phrasing about others: a template, a site's furniture).
* A text's coverage by the other: its sentences' coverages (those below ``FLOOR`` count as
  nothing) weighted by the sentences' weights, without the sentences at its start and end that
  share almost nothing with the other text (what a republisher adds around a story: a promo
  line, a newsletter box); ``ordered``: the same over the heaviest chain of sentences whose
  counterparts come in the same order (a longest-increasing-subsequence over sentence pairs).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from ..cjk import CJK
from .text import STOPWORDS, normalise, sentences, words_normalised

PREFIX = 6
MIN_TERMS = 3  # a shorter fragment ("27." cut from "27. Minute") is joined to the sentence before
FLOOR = 0.3  # a sentence covered less than this counts as not covered
TRIM = 0.1  # start and end sentences covered less than this are not the story's (at most half are cut)

# Opening and closing marks of quotations after ``normalise`` (straight double quotes, and the
# marks NFKC keeps: „ “ ” « » 「 」 『 』).
_OPEN = "\"\u201c\u201e\u00ab\u300c\u300e"
_CLOSE = "\"\u201d\u201c\u00bb\u300d\u300f"
_QUOTE = re.compile(f"[{_OPEN}]([^{_OPEN}{_CLOSE}]{{12,}}?)[{_CLOSE}]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def terms(sentence: str) -> list[str]:
    """The sentence's terms (see the module docstring), in order, repeats kept."""
    return _terms(normalise(sentence))


_NUMBER_WITH_SUFFIX = re.compile(r"(\d+)[^\W\d_]+$")


def _terms(text: str) -> list[str]:
    # a number with a case ending or ordinal glued on ("9'u", "6'sının", "10th") is the number
    tokens = [m.group(1) if t[0].isdigit() and (m := _NUMBER_WITH_SUFFIX.fullmatch(t)) else t
              for t in words_normalised(text)]
    out = [t if t.isdigit() else t[:PREFIX] for t in tokens
           if t.isdigit() or (len(t) > 2 and t not in STOPWORDS and not CJK.match(t))]
    if CJK.search(text):
        out += [a + b for a, b in zip(tokens, tokens[1:])
                if len(a) == 1 and len(b) == 1 and CJK.match(a) and CJK.match(b)]
    return out


_CAPITALISED = re.compile(r"(?<!^)(?<![.!?:]\s)\b[^\W\d_][\w'-]*", re.UNICODE)


def names(sentence: str) -> set[str]:
    """Terms of the capitalised words of a sentence, its first word aside (names; in German every noun)."""
    return _names(normalise(sentence))


def _names(text: str) -> set[str]:
    return {w.lower()[:PREFIX] for w in _CAPITALISED.findall(text.strip(" \"'(\u201c\u201e\u00ab"))
            if w[0].isupper() and len(w) > 2}


@dataclass(frozen=True)
class Sentence:
    terms: frozenset[str]
    names: frozenset[str]
    cjk: bool = False


def sentence_terms(text: str) -> list[Sentence]:
    """Each sentence of a clean text as its terms and names; fragments joined to the sentence before."""
    out: list[tuple[set[str], set[str]]] = []
    for s in sentences(text):  # normalised already
        ts = set(_terms(s))
        if not ts:
            continue
        if out and len(ts) < MIN_TERMS:
            out[-1][0].update(ts)
            out[-1][1].update(_names(s))
        else:
            out.append((ts, _names(s)))
    cjk = bool(CJK.search(text))
    return [Sentence(frozenset(ts), frozenset(ns & ts), cjk) for ts, ns in out if len(ts) >= MIN_TERMS]


def quotations(text: str) -> list[str]:
    """Quoted passages of at least four words, as lower-case words."""
    out = []
    for m in _QUOTE.finditer(normalise(text)):
        ws = words_normalised(m.group(1).lower())
        if len(ws) >= 4:
            out.append(" ".join(ws))
    return out


def number_sequence(text: str) -> list[str]:
    """The numbers of a text in order of appearance, separators dropped ("1,000" = "1000")."""
    return [re.sub(r"[.,]", "", m) for m in _NUMBER.findall(normalise(text))]


def weights(a: list[Sentence], b: list[Sentence]) -> dict[str, float]:
    """Squared pair-local IDF of every term of the two texts' sentences."""
    df: dict[str, int] = defaultdict(int)
    for s in a:
        for t in s.terms:
            df[t] += 1
    for s in b:
        for t in s.terms:
            df[t] += 1
    n = len(a) + len(b)
    return {t: math.log(1.0 + n / d) ** 2 for t, d in df.items()}


@dataclass
class Coverage:
    """How much of one text the other says (shares of the text's weight, 0..1)."""

    any_order: float
    ordered: float
    covered: int  # sentences covered at least FLOOR
    in_order: int  # sentences in the ordered chain
    sentences: int  # sentences counted (after trimming the unrelated start and end)
    trimmed: int


def _rows(a: list[Sentence], b: list[Sentence], weight: dict[str, float]):
    """Per sentence of ``a``: (its weight, {j: coverage by b[j] (or b[j] with b[j+1])}, best coverage).
    A pair of sentences counts only when it shares a name or a number of ``a``'s sentence (Han and
    kana text, without capitals, aside), and not when both name someone and share none of those
    names: the same phrasing about other people (a template, a site's furniture naming its site,
    "Reproduction without permission is prohibited") is not the same statement."""
    postings: dict[str, list[int]] = defaultdict(list)
    for j, s in enumerate(b):
        for t in s.terms:
            postings[t].append(j)
    out = []
    for s in a:
        own = sum(weight[t] for t in s.terms) or 1e-9
        hit: dict[int, set[str]] = defaultdict(set)
        for t in s.terms:
            for j in postings.get(t, ()):
                hit[j].add(t)
        cover: dict[int, float] = {}
        for j, ts in hit.items():
            nxt = hit.get(j + 1)
            shared = ts | nxt if nxt else ts  # a sentence the rewrite split, or two it merged
            other_names = b[j].names | b[j + 1].names if nxt else b[j].names
            if s.names and other_names and not (s.names & shared):
                continue
            if not s.cjk and not any(t in s.names or t[0].isdigit() for t in shared):
                continue  # nothing of the story's own (a name, a number) is shared: furniture, a template
            cover[j] = sum(weight[t] for t in shared) / own
        out.append((own, cover, max(cover.values(), default=0.0)))
    return out


def coverage(a: list[Sentence], b: list[Sentence], weight: dict[str, float] | None = None) -> Coverage:
    """How much of ``a`` is said by ``b``, in any order and in the same order."""
    if not a or not b:
        return Coverage(0.0, 0.0, 0, 0, len(a), 0)
    weight = weight or weights(a, b)
    rows = _rows(a, b, weight)
    lo, hi = 0, len(rows)
    while lo < hi and rows[lo][2] < TRIM:
        lo += 1
    while hi > lo and rows[hi - 1][2] < TRIM:
        hi -= 1
    if 2 * (hi - lo) < len(rows):
        lo, hi = 0, len(rows)
    rows = rows[lo:hi]
    total = sum(own for own, _, _ in rows) or 1.0
    any_order = sum(own * best for own, _, best in rows if best >= FLOOR) / total
    covered = sum(1 for _, _, best in rows if best >= FLOOR)
    # Heaviest chain of (i, j), i increasing and j non-decreasing, each pair weighing own * coverage:
    # a prefix-maximum tree over j (Fenwick), updated after each sentence of ``a`` (used once).
    size = len(b)
    tree = [(0.0, 0)] * (size + 1)
    top = (0.0, 0)
    for own, cover, _ in rows:
        here = []
        for j, c in cover.items():
            if c < FLOOR:
                continue
            k, prev = j + 1, (0.0, 0)
            while k > 0:
                if tree[k] > prev:
                    prev = tree[k]
                k -= k & -k
            here.append((j, (prev[0] + own * c, prev[1] + 1)))
        for j, chain in here:
            top = max(top, chain)
            k = j + 1
            while k <= size:
                if chain > tree[k]:
                    tree[k] = chain
                k += k & -k
    return Coverage(any_order, top[0] / total, covered, top[1], len(rows), len(a) - len(rows))


def common_subsequence(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (numbers, names in the order a text gives them)."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def shared_quotations(a: list[str], b: list[str]) -> int:
    """Quotations of ``a`` found in ``b``'s (one inside the other: a rewrite may cut a quote short)."""
    return sum(1 for q in a if any(q in r or r in q for r in b))
