"""Page metadata: trafilatura's, gathered more cheaply, plus what it does not give in the
form the warehouse needs."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from htmldate import find_date
from lxml import etree
from trafilatura import metadata as tm
from trafilatura.baseline import block_text
from trafilatura.settings import Document
from trafilatura.utils import line_processing

from newsdesk.times import parse_timestamp, to_utc
from newsdesk.urls import canonicalize_url, url_problem

LOGGER = logging.getLogger(__name__)

# trafilatura's category and tag XPaths (xpaths.CATEGORIES_XPATHS / TAGS_XPATHS) with each
# EXSLT ``re:test(@class, '^(?:a|b)')`` written as ``starts-with()``: the same elements
# match, but libxml2 tests them in C instead of calling Python's ``re`` for every element,
# which made tags and categories cost 0.5 ms of every page (a sixth of an import).
_META_PREFIXES = ("postinfo", "post-info", "postmeta", "post-meta", "meta", "entry-meta", "entry-info",
                  "entry-utility")


def _class_starts_with(prefixes: tuple[str, ...]) -> str:
    return " or ".join(f"starts-with(@class, '{prefix}')" for prefix in prefixes)


_CATEGORY_XPATHS = [
    etree.XPath(f"//div[{_class_starts_with(_META_PREFIXES)} or starts-with(@id, 'postpath')]//a[@href]"),
    etree.XPath("""//p[starts-with(@class, 'postmeta') or starts-with(@class, 'entry-categories') or
     @class='postinfo' or @id='filedunder']//a[@href]"""),
    etree.XPath("""//footer[starts-with(@class, 'entry-meta') or starts-with(@class, 'entry-footer')]//a[@href]"""),
    etree.XPath("""//*[self::li or self::span][@class='post-category' or @class='postcategory' or
     @class='entry-category' or contains(@class, 'cat-links')]//a[@href]"""),
    etree.XPath("""//header[@class='entry-header']//a[@href]"""),
    etree.XPath("""//div[@class='row' or @class='tags']//a[@href]"""),
]
_TAG_XPATHS = [
    etree.XPath("""//div[@class='tags']//a[@href]"""),
    etree.XPath("""//p[starts-with(@class, 'entry-tags')]//a[@href]"""),
    etree.XPath(f"""//div[@class='row' or @class='jp-relatedposts' or @class='entry-utility' or
     {_class_starts_with(("tag", "postmeta", "meta"))}]//a[@href]"""),
    etree.XPath("""//*[@class='entry-meta' or contains(@class, 'topics') or
     contains(@class, 'tags-links')]//a[@href]"""),
]


# Every link those expressions keep has "/categor" or "/tag" in its href (the patterns below):
# one scan for such a link spares the four or six scans on pages that have none.
_HAS_LINK_TO = {
    "category": etree.XPath("boolean(//a[contains(@href, '/categor')])"),
    "tag": etree.XPath("boolean(//a[contains(@href, '/tag')])"),
}
_HREF_PATTERNS = {kind: re.compile("/" + kind.rstrip("y") + "(?:y|ies|s)?/") for kind in _HAS_LINK_TO}


def _categories_or_tags(metatype: str, tree: etree._Element) -> list[str]:
    """``trafilatura.metadata.extract_catstags`` on the XPaths above."""
    results: list[str] = []
    href_pattern = _HREF_PATTERNS[metatype]
    if _HAS_LINK_TO[metatype](tree):
        for expression in _CATEGORY_XPATHS if metatype == "category" else _TAG_XPATHS:
            results.extend(block_text(el) for el in expression(tree) if href_pattern.search(el.attrib["href"]))
            if results:
                break
    if metatype == "category" and not results:
        results.extend(
            el.attrib["content"]
            for el in tree.xpath('.//head//meta[@property="article:section" or contains(@name, "subject")][@content]')
        )
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


def page_metadata(tree: etree._Element, url: str | None, date_params: dict[str, Any]) -> Document:
    """``trafilatura.extract_metadata`` (same steps, same trafilatura helpers, same results for
    every field we store) without its licence scan, which the warehouse has no column for, and
    with the C-only category/tag XPaths. ``tree`` is not modified."""
    metadata = tm.examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = tm.extract_meta_json(tree, metadata)
    except Exception as exc:
        LOGGER.debug("JSON-LD metadata of %s: %s", url, exc)
    if not metadata.title:
        metadata.title = tm.extract_title(tree)
    if not metadata.author:
        metadata.author = tm.extract_author(tree)
    if not metadata.url:
        metadata.url = tm.extract_url(tree, url)
    if metadata.url:
        metadata.hostname = tm.extract_domain(metadata.url, fast=True)
    metadata.date = find_date(tree, **{**date_params, "url": metadata.url})
    if not metadata.sitename:
        metadata.sitename = tm.extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = tm.META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    if not metadata.categories:
        metadata.categories = _categories_or_tags("category", tree)
    if not metadata.tags:
        metadata.tags = _categories_or_tags("tag", tree)
    metadata.filedate = date_params.get("max_date")
    metadata.clean_and_trim()
    return metadata


def absolute_http_url(href: str | None, base: str) -> str | None:
    """``href`` resolved against ``base``; None unless the result is http(s) with a host."""
    if not href:
        return None
    href = href.strip()
    if not href:
        return None
    try:
        resolved = urljoin(base, href)
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or url_problem(resolved):
        return None
    return resolved


def meta_tags(tree: etree._Element) -> dict[str, str]:
    """Every ``<meta>`` of the page by its ``property``, ``name`` or ``itemprop`` (lower-cased),
    the first non-empty content of each, whitespace collapsed: one walk for all look-ups."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        content = el.get("content")
        if not content or not content.strip():
            continue
        for attr in ("property", "name", "itemprop"):
            key = el.get(attr)
            if key:
                found.setdefault(key.strip().lower(), " ".join(content.split()))
    return found


def _meta_content(tree: etree._Element, *keys: str) -> str | None:
    for key in keys:
        for attr in ("property", "name", "itemprop"):
            for el in tree.xpath(f'//meta[@{attr}="{key}"]'):
                content = (el.get("content") or "").strip()
                if content:
                    return content
    return None


def canonical_url(tree: etree._Element, url: str) -> str | None:
    """``<link rel=canonical>`` then ``og:url``, absolute and canonicalised; http(s) only."""
    candidates = [
        el.get("href")
        for el in tree.xpath("//link[@rel]")
        if "canonical" in (el.get("rel") or "").lower().split()
    ]
    candidates.append(_meta_content(tree, "og:url"))
    for href in candidates:
        resolved = absolute_http_url(href, url)
        if resolved:
            try:
                return canonicalize_url(resolved)
            except (ValueError, UnicodeError):  # not a URL after all: the next candidate
                continue
    return None


_ACCESSIBLE_FOR_FREE = re.compile(r'"isAccessibleForFree"\s*:\s*"?\s*(true|false)\b', re.I)


def declared_paywall(tree: etree._Element) -> bool | None:
    """Whether the page says its content is not free: schema.org ``isAccessibleForFree``
    (JSON-LD or microdata, the markup Google asks of paywalled sites) or Facebook's
    ``article:content_tier`` ``locked``. True: paywalled, so the text may be a teaser; False:
    declared free; None: not declared (``metered`` says neither)."""
    values, tier = [], None
    for el in tree.iter("script", "meta"):  # one walk: most pages have a few dozen of these
        if el.tag == "script":
            if el.get("type") == "application/ld+json" and "isAccessibleForFree" in (el.text or ""):
                values += [v.lower() == "true" for v in _ACCESSIBLE_FOR_FREE.findall(el.text)]
        elif el.get("itemprop") == "isAccessibleForFree":
            value = (el.get("content") or "").strip().lower()
            if value in ("true", "false"):
                values.append(value == "true")
        elif tier is None and "article:content_tier" in (el.get("property"), el.get("name")):
            tier = (el.get("content") or "").strip().lower()
    if values:
        return not all(values)
    return {"locked": True, "free": False}.get(tier or "")


_TITLE_SEPARATOR = re.compile(r"\s+(?:[-|\u2013\u2014\u00b7\u2022\u00bb:]{1,2}|//)\s+")


def _site_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.lower())


def strip_site_name(title: str | None, sitename: str | None, url: str) -> str | None:
    """The headline without the site's name that ``<title>`` and ``og:title`` often carry
    ("Headline - 234Radio", "Al Jazeera | Headline"): a last (or first) part of the title
    that is the declared site name or the domain's name is dropped. Anything else stays."""
    separators = list(_TITLE_SEPARATOR.finditer(title or ""))
    if not separators:
        return title
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    labels = host.split(".")
    names = {_site_key(host), _site_key(labels[0])} | ({_site_key(labels[-2])} if len(labels) >= 2 else set())
    if sitename:
        names.add(_site_key(sitename))
    names.discard("")
    last, first = separators[-1], separators[0]
    if _site_key(title[last.end():]) in names:
        return title[:last.start()].strip() or title
    if _site_key(title[:first.start()]) in names:
        return title[first.end():].strip() or title
    return title


def declared_language(tree: etree._Element) -> str | None:
    """``<html lang>``, then Content-Language / og:locale / dc.language meta, as declared."""
    root = tree.getroottree().getroot() if hasattr(tree, "getroottree") else tree
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang and lang.strip():
        return lang.strip()
    for el in tree.xpath('//meta[@http-equiv]'):
        if (el.get("http-equiv") or "").lower() == "content-language" and el.get("content"):
            return el.get("content").split(",")[0].strip()
    return _meta_content(tree, "og:locale", "language", "dc.language", "DC.language", "inLanguage")


def date_guessed_from_text(tree: etree._Element, url: str | None, date_params: dict[str, Any], found: str) -> bool:
    """True when htmldate reached ``found`` only through its extensive search of the page's free
    text (a year the story mentions, "since 2022"): a guess, not a date the page states. The
    page is searched again without that step; ``tree`` is not modified."""
    return find_date(tree, **{**date_params, "url": url, "extensive_search": False}) != found


def parse_datetime(value: str | None) -> datetime | None:
    """ISO-ish timestamp (``YYYY-MM-DD`` with optional time and offset) -> aware UTC datetime;
    None when malformed or not representable in UTC (never an error)."""
    if not value or not isinstance(value, str):
        return None
    parsed = parse_timestamp(value)
    if parsed is not None:
        return parsed
    try:
        return to_utc(datetime.strptime(value.strip(), "%Y-%m-%dT%H:%M:%S%z"))
    except ValueError:
        return None
