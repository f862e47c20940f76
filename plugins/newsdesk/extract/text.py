"""Paragraph text from HTML trees, and the measures the failover rule compares."""

from __future__ import annotations

import re

from lxml import etree

from ..cjk import CJK, CJK_RANGES

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead "
    "tr ul".split()
)
INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "object", "head")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


# ASCII word characters ([A-Za-z0-9_], what \w means in ASCII) -> "a", everything else -> " ".
_ASCII_WORD_MASK = bytes(ord("a") if chr(i).isalnum() or chr(i) == "_" else ord(" ") if i < 128 else ord(" ")
                         for i in range(256))


# A Han or kana character, or a run of other word characters.
_WORD_CJK = re.compile(f"[{CJK_RANGES}]|(?:(?![{CJK_RANGES}])\\w)+")


def word_count(text: str) -> int:
    """Runs of word characters (``\\w``), every Han or kana character counting as one: Chinese
    and Japanese have no spaces, and a whole clause would count as a word (a 500-character
    story as 28). ASCII text (most paragraphs) is counted with a byte mask: the same count as
    the regex in half the time."""
    if text.isascii():
        return len(text.encode("ascii").translate(_ASCII_WORD_MASK).split())
    return len((_WORD_CJK if CJK.search(text) else _WORD).findall(text))


def norm(text: str) -> str:
    return " ".join(text.split()).lower()


def html_to_paragraphs(root: etree._Element) -> list[str]:
    """Block-level structure of ``root`` as a list of paragraphs (inline text joined)."""
    paragraphs: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            para = _WS.sub(" ", "".join(buf)).strip()
            if para:
                paragraphs.append(para)
            buf.clear()

    def walk(el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in INVISIBLE_TAGS:
            if el.tail:
                buf.append(el.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
        if el.text and tag:
            buf.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            buf.append(el.tail)

    walk(root)
    flush()
    return paragraphs


def paragraphs_of(text: str) -> list[str]:
    return [p for p in (" ".join(line.split()) for line in text.split("\n")) if p]


def join_paragraphs(paragraphs: list[str]) -> str:
    return "\n\n".join(paragraphs)


class PageProfile:
    """What the failover rule needs to know about the whole page (visible words computed lazily)."""

    def __init__(self, root: etree._Element | None = None, *, visible_words: int | None = None,
                 link_texts: frozenset[str] | None = None) -> None:
        self._root = root
        self._visible_words = visible_words
        self._paragraphs: list[str] | None = None
        if link_texts is None:
            link_texts = (
                frozenset(t for t in (norm(a.text_content()) for a in root.iter("a")) if t)
                if root is not None
                else frozenset()
            )
        self.link_texts = link_texts  # normalised anchor texts of the page
        self.longest_link_words = max((t.count(" ") + 1 for t in link_texts), default=0)

    @property
    def paragraphs(self) -> list[str]:
        """The page's visible paragraphs in order (computed once, on the tree as it is then)."""
        if self._paragraphs is None:
            self._paragraphs = html_to_paragraphs(self._root) if self._root is not None else []
        return self._paragraphs

    @property
    def visible_words(self) -> int:
        if self._visible_words is None:
            self._visible_words = sum(word_count(p) for p in self.paragraphs)
        return self._visible_words


def profile_page(tree: etree._Element) -> PageProfile:
    """Profile of ``tree``: anchor texts now (before pruning removes link lists), visible
    words lazily (only the failover test needs them; they are counted on the pruned tree)."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    return PageProfile(root)


_TRAILER_WORDS = 5  # "25 Jul 2025", "(video)", "3 comments": what index pages print after a link


def _is_link_line(paragraph: str, link_texts: frozenset[str], longest_link_words: int | None = None) -> bool:
    """The paragraph is a link's text, alone or followed by a short trailer (a date, a count)."""
    words = norm(paragraph.lstrip("-•* ")).split()
    if longest_link_words is not None and len(words) > longest_link_words + _TRAILER_WORDS:
        return False  # longer than any link text plus a trailer: most paragraphs of a story
    for cut in range(len(words), max(len(words) - _TRAILER_WORDS, 0) - 1, -1):
        if cut and " ".join(words[:cut]) in link_texts:
            return True
    return False


def link_density(paragraphs: list[str], profile: PageProfile, counts: list[int] | None = None) -> float:
    """Share of words in paragraphs that are the text of a link on the page (index pages, menus).

    ``counts``: the paragraphs' word counts, when the caller has them already."""
    counts = counts if counts is not None else [word_count(p) for p in paragraphs]
    total = sum(counts)
    if not total:
        return 1.0
    linked = sum(n for p, n in zip(paragraphs, counts)
                 if _is_link_line(p, profile.link_texts, profile.longest_link_words))
    return linked / total


def short_line_share(paragraphs: list[str], max_words: int = 4, counts: list[int] | None = None) -> float:
    """Share of paragraphs with at most ``max_words`` words: menus, tag clouds, button labels."""
    if not paragraphs:
        return 1.0
    counts = counts if counts is not None else [word_count(p) for p in paragraphs]
    return sum(1 for n in counts if n <= max_words) / len(paragraphs)
