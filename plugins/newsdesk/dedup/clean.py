"""Cleaning an article's text before comparison (pure functions).

Removes what a republisher adds or changes around the story — the headline repeated
as a first paragraph, "Read more"/"Continue reading"/"Click here" lines, attribution
lines (kept apart, in ``attribution``), agency datelines, and site boilerplate that
the caller has learned for the domain (see ``boilerplate.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .text import h63, normalise, words

# A line is only treated as navigation/attribution when it is short.
MAX_LINE_WORDS = 16
# Promo text after a closing attribution line ("Source: X" then "234Radio is ...") is dropped
# when it is this short; a longer tail is kept (it may be the story).
MAX_TAIL_WORDS = 60

_READ_MORE = re.compile(
    r"^\s*(?:\W\s*)?(?:read more|read also|also read|continue reading|click here|read the full (?:story|article)"
    r"|full story|read the original|more on this story|related\s*:|see also\s*:)\b",
    re.I,
)
_ATTRIBUTION = [
    re.compile(r"^\s*(?:sources?|via)\s*[:\-]\s*(?P<name>.+?)\s*\.?\s*$", re.I),
    re.compile(r"^\s*(?:this (?:article|story|post|piece|report) )?(?:was )?(?:originally|first) "
               r"(?:published|appeared|posted) (?:by|on|in|at)\s+(?P<name>.+?)\s*\.?\s*$", re.I),
    re.compile(r"^\s*this (?:article|story|post|piece|report) (?:first|originally) appeared (?:on|in|at)\s+"
               r"(?P<name>.+?)\s*\.?\s*$", re.I),
    re.compile(r"^\s*courtesy\s*(?:of\s+|[:\-]\s*)(?P<name>.+?)\s*\.?\s*$", re.I),
    re.compile(r"^\s*(?:republished|reprinted|reproduced) (?:with permission )?(?:from|by)\s+(?P<name>.+?)\s*\.?\s*$",
               re.I),
    # "（来源：新华社）", "本文转载自：人民网 责任编辑：王明", "出典：共同通信" (after NFKC: ASCII brackets and colon)
    re.compile(r"^\s*[(\[\u3010]?\s*(?:文章|本文|新闻|新聞|稿件)?(?:来源|來源|出处|出處|转自|轉自|转载自|轉載自|出典)\s*:\s*"
               r"(?P<name>[^\s)\]\u3011\u3002]+)(?:\s+(?:责任编辑|責任編輯|责编|编辑|編輯|編集)\s*:\s*\S+?)?"
               r"\s*[)\]\u3011]?\s*[\u3002.]?\s*$"),
]
# "KYIV (Reuters) - ", "(AP) — ", "LONDON, May 3 (AFP) -"
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Za-z .,'/-]{0,40}?\s*)?\((?P<name>Reuters|AP|AFP|Bloomberg|AP Photo|UPI|dpa|ANI|PTI|IANS|Xinhua)\)"
    r"\s*[-\u2013\u2014:]+\s*"
)


@dataclass
class Cleaned:
    text: str  # paragraphs joined by "\n\n"
    attribution: str | None
    removed: dict = field(default_factory=dict)  # rule -> count, for provenance


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]


# Paragraph -> hash, remembered: a site's furniture and a story's copies repeat paragraphs
# verbatim across articles (bounded: cleared when full).
_HASH_CACHE: dict[str, int] = {}
_HASH_CACHE_MAX = 50_000  # ~20 MB of paragraphs


def paragraph_hash(paragraph: str) -> int:
    """Identity of a paragraph for boilerplate learning (case, quotes and spacing ignored)."""
    h = _HASH_CACHE.get(paragraph)
    if h is None:
        h = h63(" ".join(words(paragraph)).encode("utf-8"))
        if len(_HASH_CACHE) >= _HASH_CACHE_MAX:
            _HASH_CACHE.clear()
        _HASH_CACHE[paragraph] = h
    return h


def _same_words(a: str, b: str) -> bool:
    wa, wb = words(a), words(b)
    return bool(wa) and wa == wb


def parse_attribution(line: str) -> str | None:
    """The outlet named by an attribution line, or None if the line is not one."""
    if len(line.split()) > MAX_LINE_WORDS:
        return None
    for pattern in _ATTRIBUTION:
        m = pattern.match(normalise(line))
        if m:
            name = m.group("name").strip(" .\"'")
            if name and len(name.split()) <= 8:
                return name
    return None


def is_read_more(line: str) -> bool:
    return len(line.split()) <= MAX_LINE_WORDS and bool(_READ_MORE.match(normalise(line)))


def clean(text: str, title: str | None = None, boilerplate: frozenset[int] | set[int] = frozenset()) -> Cleaned:
    """Clean an article. ``boilerplate`` holds paragraph hashes learned for the article's domain."""
    paras = paragraphs(text)
    removed: dict[str, int] = {}
    attributions: list[str] = []

    def bump(rule: str) -> None:
        removed[rule] = removed.get(rule, 0) + 1

    # Headline repeated as the first paragraph(s).
    if title:
        while paras and _same_words(paras[0], title):
            paras.pop(0)
            bump("headline")
    # Agency dateline at the start of the story.
    if paras:
        m = _DATELINE.match(normalise(paras[0]))
        if m:
            attributions.append(m.group("name"))
            paras[0] = normalise(paras[0])[m.end():].strip()
            bump("dateline")
    kept: list[str] = []
    last_attribution_at = None
    for para in paras:
        if boilerplate and paragraph_hash(para) in boilerplate:
            bump("boilerplate")
            continue
        if is_read_more(para):
            bump("read_more")
            continue
        name = parse_attribution(para)
        if name:
            attributions.append(name)
            bump("attribution")
            last_attribution_at = len(kept)
            continue
        kept.append(para)
    # A short promo tail after a closing attribution line belongs to the republisher.
    if last_attribution_at is not None and last_attribution_at > 0 and last_attribution_at < len(kept):
        tail = kept[last_attribution_at:]
        if sum(len(p.split()) for p in tail) <= MAX_TAIL_WORDS and last_attribution_at >= len(kept) // 2:
            del kept[last_attribution_at:]
            removed["after_attribution"] = len(tail)
    seen: list[str] = []
    for name in attributions:
        if name not in seen:
            seen.append(name)
    return Cleaned(text="\n\n".join(kept), attribution="; ".join(seen) or None, removed=removed)
