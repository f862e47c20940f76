"""The article's headline: the page's statements of it compared, the site's name and the date
that ``<title>`` and ``og:title`` often carry taken off.

Order of trust: the JSON-LD article's ``headline`` (written for search engines, without the
site's name), ``og:title``, ``twitter:title``, the article's ``<h1>``, then ``<title>``. A
source that is another source plus a separator and more ("Headline - National", "Headline |
CBC News") gives way to the shorter form the page also shows.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from lxml import etree

# " - ", " | ", " – ", " — ", " :: ", " · ", " • ", " » ", " // ", and the full-width bar of CJK
# sites, which needs no spaces around it.
_SEPARATOR = re.compile(r"\s+(?:[-|\u2013\u2014\u00b7\u2022\u00bb:]{1,2}|//)\s+|\s*\uff5c\s*")
_DATE_PART = re.compile(
    r"^(?:\d{1,2}[./-]\s?\d{1,2}[./-]\s?\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"\d{1,2}\.?\s+\w+\.?\s+\d{4}|\w+\.?\s+\d{1,2},?\s+\d{4})(?:,?\s+\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?)?$",
    re.I,
)
_ELLIPSIS = ("\u2026", "...")
_MIN_LABEL = 4  # a domain label shorter than this ("sz", "rp") is too short to find inside a name


def _site_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name).casefold())


def _site_names(sitename: str | None, url: str) -> tuple[set[str], set[str]]:
    """(names a site part may equal, domain labels a site part may contain)."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    labels = [label for label in host.split(".") if label]
    names = {_site_key(host)} | {_site_key(label) for label in labels[:-1]}
    if sitename:
        names.add(_site_key(sitename))
    names.discard("")
    # the registered name ("jungewelt" of www.jungewelt.de), not "news" of news.example.com
    inside = {_site_key(labels[-2])} if len(labels) >= 2 and len(_site_key(labels[-2])) >= _MIN_LABEL else set()
    return names, inside


def _is_site_part(part: str, names: set[str], inside: set[str]) -> bool:
    key = _site_key(part)
    if not key:
        return False
    if key in names:
        return True
    # "Tageszeitung junge Welt" on jungewelt.de, "SZ.de": short parts that hold the domain's name
    return len(part.split()) <= 5 and any(label in key for label in inside)


def strip_site_name(title: str | None, sitename: str | None, url: str) -> str | None:
    """``title`` without the site's name and a date at either end ("Headline - 234Radio",
    "Al Jazeera | Headline", "Headline – DW – 30.01.2024", "見出し｜日刊ゲンダイDIGITAL"). A part
    is the site's name when it equals the declared site name or the domain's name, or is a
    short part containing the domain's name. Anything else stays ("Headline - Reuters" on
    another outlet's site)."""
    if not title:
        return title
    names, inside = _site_names(sitename, url)
    parts = _SEPARATOR.split(title)
    separators = _SEPARATOR.findall(title)
    start, end = 0, len(parts)
    while end - start > 1:
        last = parts[end - 1].strip()
        if _is_site_part(last, names, inside) or _DATE_PART.match(last):
            end -= 1
            continue
        first = parts[start].strip()
        if _is_site_part(first, names, inside):
            start += 1
            continue
        break
    if (start, end) == (0, len(parts)):
        return title
    text = parts[start]
    for index in range(start + 1, end):
        text += separators[index - 1] + parts[index]
    return text.strip() or title


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _shown_shorter(candidate: str, others: list[str]) -> str:
    """``candidate`` cut to another source's text when that text is one side of a separator in
    it ("Headline - National" where the h1 says "Headline")."""
    for match in _SEPARATOR.finditer(candidate):
        head, tail = candidate[:match.start()].strip(), candidate[match.end():].strip()
        for other in others:
            if _norm(other) == _norm(head):
                return head
            if _norm(other) == _norm(tail):
                return tail
    return candidate


def _untruncated(candidate: str, others: list[str]) -> str:
    """A headline cut with an ellipsis (search engines' length limits) -> the full one."""
    if not candidate.endswith(_ELLIPSIS):
        return candidate
    stem = _norm(candidate.rstrip(".\u2026 "))
    for other in others:
        if len(other) > len(candidate) - 1 and _norm(other).startswith(stem):
            return other
    return candidate


def article_h1(tree: etree._Element) -> str | None:
    """The text of the article's ``<h1>``: the one inside ``<article>``/``<main>``, else the
    page's only one (pages with several use them for logos and section names)."""
    h1s = list(tree.iter("h1"))
    for h1 in h1s:
        if any(anc.tag in ("article", "main") for anc in h1.iterancestors()):
            text = " ".join(h1.text_content().split())
            if text:
                return text
    if len(h1s) == 1:
        return " ".join(h1s[0].text_content().split()) or None
    return None


def choose_headline(tree: etree._Element, metas: dict[str, str], structured_headline: str | None,
                    h1: str | None, fallback: str | None, sitename: str | None, url: str) -> str | None:
    """The headline of the page ``tree`` fetched from ``url``.

    ``metas``: the page's ``meta_tags``; ``structured_headline``: the JSON-LD article's
    headline; ``h1``: ``article_h1`` of the page before anything was pruned from it;
    ``fallback``: a title found by other means (trafilatura's metadata), used when the page
    states none of its own.
    """
    title_el = tree.find(".//title")
    sources = [
        structured_headline,
        metas.get("og:title"),
        metas.get("twitter:title"),
        h1,
        " ".join(title_el.text_content().split()) if title_el is not None else None,
        fallback,
    ]
    cleaned = [strip_site_name(source, sitename, url) for source in sources if source and source.strip()]
    if not cleaned:
        return None
    for index, candidate in enumerate(cleaned):
        others = cleaned[:index] + cleaned[index + 1:]
        candidate = _untruncated(_shown_shorter(candidate, others), others)
        if candidate:
            return candidate
    return None
