"""What the page says about itself in schema.org JSON-LD: its article object's headline, body,
authors, dates and description, read once per page.

Publishers write this block for search engines, so it is usually the cleanest statement of
the headline and the byline; the body it carries may be cut short, or be the whole text.
Callers decide how far to trust each field (``article`` compares the body with the page).
"""

from __future__ import annotations

import html
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

LOGGER = logging.getLogger(__name__)

# schema.org types of an article (CreativeWork > Article and its news subtypes, postings).
ARTICLE_TYPES = frozenset(
    "article newsarticle reportagenewsarticle analysisnewsarticle opinionnewsarticle backgroundnewsarticle "
    "reviewnewsarticle askpublicnewsarticle satiricalarticle advertisercontentarticle report techarticle "
    "scholarlyarticle medicalscholarlyarticle blogposting liveblogposting socialmediaposting "
    "discussionforumposting".split()
)
_TAGS = re.compile(r"<[^>]{0,2000}>")
_BLOCK_TAGS = re.compile(r"</?(?:p|br|div|h[1-6]|li|blockquote)\b[^>]{0,2000}>", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# "A and B", "A, B & C", "A und B": one byline naming several people.
_AUTHOR_SPLIT = re.compile(r"\s*(?:[;,/|&]|\s(?:and|und|et|y|e|og|och|en)\s)\s*", re.I)
# A byline's label ("By", "Von", "Autor:", "Text:") and a trailing handle or initials ("(obe)").
_BY = re.compile(r"^(?:(?:written\s+)?by|von|par|por|di|door|av|af|from|autor(?:in)?|author|text|reporter)"
                 r"(?:\s*:\s*|\s+)", re.I)
_TRAILING_NOTE = re.compile(r"\s*\([^()]{1,20}\)$")
_MAX_AUTHOR_WORDS = 6


@dataclass
class StructuredData:
    """The page's JSON-LD article object, reduced to the fields extraction uses."""

    is_article: bool = False               # an object of an article type was found
    headline: str | None = None
    body: str | None = None                # articleBody, tags stripped, paragraphs kept where marked
    authors: list[str] = field(default_factory=list)
    published: str | None = None           # datePublished as written
    description: str | None = None
    publisher: str | None = None


def _clean(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    text = " ".join(html.unescape(_TAGS.sub(" ", value)).split())
    return text or None


def _body_text(value: Any) -> str | None:
    """articleBody keeps its paragraph breaks: newlines or block tags, when it has any."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _BLOCK_TAGS.sub("\n", value)
    text = html.unescape(_TAGS.sub(" ", text))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line) or None


def _types(node: dict) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.lower() for v in values if isinstance(v, str)}


def _nodes(data: Any, depth: int = 0) -> Iterator[tuple[int, dict]]:
    """Every JSON object in ``data`` with its depth, breadth of @graph flattened."""
    if isinstance(data, dict):
        yield depth, data
        for key, value in data.items():
            yield from _nodes(value, depth + (0 if key == "@graph" else 1))
    elif isinstance(data, list):
        for value in data:
            yield from _nodes(value, depth)


def _load(text: str) -> Any:
    text = text.strip()
    if text.startswith("<!--"):
        text = text.removeprefix("<!--").removesuffix("-->")
    text = text.strip().removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    try:
        return json.loads(_CONTROL.sub(" ", text), strict=False)
    except ValueError:
        return None


def _author_names(value: Any, by_id: dict[str, dict]) -> list[str]:
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = by_id.get(item["@id"], item)
        if isinstance(item, dict):
            name = item.get("name")
            if name is None and (item.get("givenName") or item.get("familyName")):
                name = " ".join(filter(None, (item.get("givenName"), item.get("familyName"))))
        else:
            name = item
        if isinstance(name, list):
            name = ", ".join(n for n in name if isinstance(n, str))
        name = _clean(name)
        if name:
            names.extend(_AUTHOR_SPLIT.split(name))
    return clean_authors(names)


def clean_authors(names: list[str]) -> list[str]:
    """Names as written, without "By ", links, e-mail addresses, repeats (compared without
    case and punctuation: "Chuck Ross" and "chuck-ross") or sentences posing as names."""
    seen: dict[str, str] = {}
    for name in names:
        name = _TRAILING_NOTE.sub("", _BY.sub("", " ".join(name.split()))).strip(" ,;:-|")
        if not name or "@" in name or name.lower().startswith(("http:", "https:", "www.")):
            continue
        if len(name.split()) > _MAX_AUTHOR_WORDS:
            continue
        key = re.sub(r"[\W_]+", "", name.casefold())
        if key and key not in seen:
            seen[key] = name
    return list(seen.values())


def _article_node(nodes: list[tuple[int, dict]]) -> dict | None:
    """The page's own article: the shallowest article-typed object, a fuller one first
    (a live blog's updates are articles too, one level down)."""
    articles = [(depth, node) for depth, node in nodes if _types(node) & ARTICLE_TYPES]
    if not articles:
        return None
    return min(articles, key=lambda dn: (dn[0], -sum(k in dn[1] for k in ("headline", "articleBody", "author",
                                                                          "datePublished"))))[1]


def read_structured(tree: etree._Element) -> StructuredData:
    """The JSON-LD article object of ``tree`` (an empty record when there is none)."""
    nodes: list[tuple[int, dict]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        data = _load(script.text)
        if data is not None:
            nodes.extend(_nodes(data))
    article = _article_node(nodes)
    if article is None:
        return StructuredData()
    by_id = {node["@id"]: node for _, node in nodes if isinstance(node.get("@id"), str) and "name" in node}
    publisher = article.get("publisher")
    if isinstance(publisher, list):
        publisher = publisher[0] if publisher else None
    if isinstance(publisher, dict) and "name" not in publisher and isinstance(publisher.get("@id"), str):
        publisher = by_id.get(publisher["@id"], publisher)
    return StructuredData(
        is_article=True,
        headline=_clean(article.get("headline")) or _clean(article.get("name")),
        body=_body_text(article.get("articleBody")),
        authors=_author_names(article.get("author"), by_id) if article.get("author") else [],
        published=_clean(article.get("datePublished")),
        description=_clean(article.get("description")),
        publisher=_clean(publisher.get("name")) if isinstance(publisher, dict) else _clean(publisher),
    )


_WORD = re.compile(r"\w+")
_LD_MIN_WORDS = 50     # an articleBody shorter than this is a summary, not the text
_LD_END_WORDS = 8      # the articleBody's last words, found in the text: it is the whole story
_LD_SHARED = 0.8       # ... and this share of its words is in the text too


def _words_key(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold().replace("\u00ad", "")))


def cut_after_body(paragraphs: list[str], article_body: str | None) -> list[str]:
    """``paragraphs`` without the ones after the story's end that the page's JSON-LD articleBody
    does not have: what follows the last paragraph of the story there is template (a sidebar,
    a subscription overlay, a sign-up box). Only when the articleBody is the whole text: long,
    ending where a paragraph of ``paragraphs`` ends (not cut short mid-paragraph), most of it
    found there. Paragraphs before the end stay
    (subheadings and standfirsts are often left out of articleBody)."""
    if not article_body or not paragraphs:
        return paragraphs
    body_key = _words_key(article_body)
    body_words = body_key.split()
    if len(body_words) < _LD_MIN_WORDS:
        return paragraphs
    keys = [_words_key(p) for p in paragraphs]
    last = max((i for i, key in enumerate(keys) if key and key in body_key), default=None)
    # the articleBody ends where a paragraph ends: not one cut short at a character limit
    if last is None or not keys[last].endswith(" ".join(body_words[-_LD_END_WORDS:])):
        return paragraphs
    shared = sum(len(key.split()) for key in keys[:last + 1] if key and key in body_key)
    if shared < _LD_SHARED * len(body_words):
        return paragraphs
    return paragraphs[:last + 1] + [p for p, key in zip(paragraphs[last + 1:], keys[last + 1:]) if key in body_key]
