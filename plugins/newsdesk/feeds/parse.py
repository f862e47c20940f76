"""Feed bytes to entries: RSS 0.9x/1.0/2.0, Atom, RDF, JSON Feed and (news) sitemaps.

``parse_feed(body, url, content_type)`` detects the format by content (servers
mislabel feeds constantly), returns a ``ParsedFeed`` whose entries carry absolute
http(s) URLs and tz-aware UTC dates, and raises ``FeedParseError`` for anything
that is not a feed (an HTML page, an empty body, garbage). Feeds that feedparser
flags as malformed ("bozo") are accepted as long as they produced entries or a
recognised version.

Each entry is read on its own: one that cannot be a page (a link with a port out of range,
a broken IPv6 literal) or whose reading fails is set aside in ``ParsedFeed.rejected`` with
its reason, and the feed's other entries stand. A date that is malformed or out of range
(year 0, year 10000, an offset past 9999) is unknown (None), never an error.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree

from ..charset import decode_html
from ..times import parse_timestamp, to_utc
from ..urls import url_problem

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_ROOT_TAG = re.compile(rb"<\s*([A-Za-z_][\w.:-]*)")
_HTML_HINT = re.compile(rb"<\s*(!doctype\s+html|html|head|body)\b", re.I)


class FeedParseError(Exception):
    """The body is not a feed we can read."""


@dataclass
class FeedEntry:
    url: str
    guid: str | None = None
    title: str | None = None
    published_at: datetime | None = None  # tz-aware UTC


@dataclass
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    ttl_minutes: int | None = None
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (link or position, reason)
    kind: str = (
        "feed"  # feedparser version (rss20, atom10, rss10, rss091u, ...), jsonfeed, news-sitemap, sitemap, sitemapindex
    )


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    if not body or not body.strip():
        raise FeedParseError(f"empty body, not a feed ({url})")
    head = _strip_bom(body[:4096]).lstrip()
    if head[:1] in (b"{", b"[") or (content_type and "json" in content_type.lower() and head[:1] != b"<"):
        return _parse_json_feed(body, url)
    root = _root_tag(head)
    if root in ("urlset", "sitemapindex"):
        return _parse_sitemap(body, url)
    return _parse_with_feedparser(body, url, content_type)


# -- feedparser formats ---------------------------------------------------------

def _parse_with_feedparser(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        if _HTML_HINT.search(body[:4096]):
            raise FeedParseError(f"not a feed: got an HTML page ({url})")
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a feed: {reason or 'no RSS/Atom/RDF structure found'} ({url})")
    if parsed.get("bozo") and parsed.get("encoding") and _mojibake(parsed):
        # feedparser trusted a wrong charset declaration; decode ourselves and retry.
        text = decode_html(body, content_type)
        parsed = feedparser.parse(text, response_headers={"content-location": url}, sanitize_html=False,
                                  resolve_relative_uris=False)
    entries: list[FeedEntry] = []
    rejected: list[tuple[str, str]] = []
    raw_links = _lost_links(parsed, body, content_type)
    for index, item in enumerate(parsed.entries):
        raw_link = raw_links.get(index)
        _isolated(index, item, lambda it, raw=raw_link: _entry_from_feedparser(it, url, raw), entries, rejected)
    ttl = _int(parsed.feed.get("ttl"))
    return ParsedFeed(title=_clean(parsed.feed.get("title")), entries=entries, ttl_minutes=ttl,
                      kind=version or "unknown", rejected=rejected)


class _Rejected(Exception):
    """An entry that cannot be a page; the message is the reason and ``link`` what it gave."""

    def __init__(self, link: str, reason: str):
        super().__init__(reason)
        self.link = link


def _isolated(index: int, item, read, entries: list, rejected: list) -> None:
    """``read(item)`` appended to ``entries``; a failure is set aside with its reason, never
    raised: an exception never crosses an entry's boundary."""
    try:
        entry = read(item)
    except _Rejected as exc:
        rejected.append((exc.link, str(exc)))
        return
    except Exception as exc:  # a quirk nobody foresaw costs this entry only
        rejected.append((f"entry {index}", f"{exc.__class__.__name__}: {exc}"[:500]))
        return
    if entry is not None:
        entries.append(entry)


def _mojibake(parsed) -> bool:
    probe = " ".join(str(e.get("title", "")) for e in parsed.entries[:20]) + str(parsed.feed.get("title", ""))
    return "\ufffd" in probe


def _lost_links(parsed, body: bytes, content_type: str | None) -> dict[int, str]:
    """Links feedparser blanked because it could not resolve them against the feed's URL (a
    broken IPv6 literal): read again without a base, by entry position, so that such an entry
    is set aside with its reason instead of vanishing. Empty for almost every feed."""
    lost = [i for i, item in enumerate(parsed.entries)
            if not item.get("link") and any(isinstance(link, dict) and not link.get("href")
                                            for link in item.get("links") or [])]
    if not lost:
        return {}
    headers = {"content-type": content_type} if content_type else {}
    raw = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    if len(raw.entries) != len(parsed.entries):
        return {}
    return {i: link for i in lost if (link := _clean(raw.entries[i].get("link")))}


def _entry_from_feedparser(item, feed_url: str, raw_link: str | None = None) -> FeedEntry | None:
    guid = _clean(item.get("id"))
    link = _clean(item.get("link")) or raw_link
    if not link:
        for candidate in item.get("links", []) or []:
            if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                link = candidate["href"]
                break
    if not link and guid and (item.get("guidislink") or _is_http(guid)):
        link = guid
    url = _page_url(link, feed_url)
    if not url:
        return None
    published = item.get("published_parsed") or item.get("updated_parsed") or item.get("created_parsed")
    return FeedEntry(url=url, guid=guid, title=_clean(item.get("title")), published_at=_from_struct(published))


# -- JSON Feed -------------------------------------------------------------------

def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        data = json.loads(_strip_bom(body).decode("utf-8", "replace"))
    except ValueError as exc:
        raise FeedParseError(f"not a feed: invalid JSON ({exc}) ({url})") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FeedParseError(f"not a feed: JSON without a jsonfeed.org version ({url})")
    items = data.get("items")
    if not isinstance(items, list):
        raise FeedParseError(f"not a feed: JSON Feed without an items list ({url})")
    base = data.get("feed_url") if isinstance(data.get("feed_url"), str) else url
    try:
        base = urljoin(url, base)
    except ValueError:
        base = url
    entries: list[FeedEntry] = []
    rejected: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        _isolated(index, item, lambda it: _json_entry(it, base), entries, rejected)
    version = str(data.get("version")).rstrip("/").rsplit("/", 1)[-1]
    return ParsedFeed(title=_clean(data.get("title")), entries=entries, ttl_minutes=None, kind=f"jsonfeed{version}",
                      rejected=rejected)


def _json_entry(item, base: str) -> FeedEntry | None:
    if not isinstance(item, dict):
        raise _Rejected(repr(item)[:300], f"item is a {type(item).__name__}, not a JSON object")
    guid = str(item["id"]) if item.get("id") is not None else None
    link = item.get("url") or item.get("external_url")
    if not link and guid and _is_http(guid):
        link = guid
    if link is not None and not isinstance(link, str):
        raise _Rejected(repr(link)[:300], f"url is a {type(link).__name__}, not a string")
    absolute = _page_url(link, base)
    if not absolute:
        return None
    published = _iso_date(item.get("date_published")) or _iso_date(item.get("date_modified"))
    return FeedEntry(url=absolute, guid=guid, title=_clean(item.get("title")), published_at=published)


# -- sitemaps --------------------------------------------------------------------

def _parse_sitemap(body: bytes, url: str) -> ParsedFeed:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(_strip_bom(body), parser)
    except etree.XMLSyntaxError as exc:
        raise FeedParseError(f"not a feed: broken sitemap XML ({exc}) ({url})") from None
    if root is None:
        raise FeedParseError(f"not a feed: empty sitemap ({url})")
    local = etree.QName(root).localname
    entries: list[FeedEntry] = []
    rejected: list[tuple[str, str]] = []
    news_nodes = [0]
    child = "sitemap" if local == "sitemapindex" else "url"

    def read(node) -> FeedEntry | None:
        if not isinstance(node.tag, str) or etree.QName(node).localname != child:
            return None
        absolute = _page_url(_child_text(node, "loc"), url)
        if not absolute:
            return None
        title = None
        published = _iso_date(_child_text(node, "lastmod"))
        news = next((n for n in node if isinstance(n.tag, str) and etree.QName(n).localname == "news"), None)
        if news is not None:
            news_nodes[0] += 1
            title = _clean(_child_text(news, "title"))
            published = _iso_date(_child_text(news, "publication_date")) or published
        return FeedEntry(url=absolute, guid=None, title=title, published_at=published)

    for index, node in enumerate(root):
        _isolated(index, node, read, entries, rejected)
    kind = "sitemapindex" if local == "sitemapindex" else ("news-sitemap" if news_nodes[0] else "sitemap")
    return ParsedFeed(title=None, entries=entries, ttl_minutes=None, kind=kind, rejected=rejected)


def _child_text(node, name: str) -> str | None:
    for child in node:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return (child.text or "").strip() or None
    return None


# -- helpers ---------------------------------------------------------------------

def _strip_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _root_tag(head: bytes) -> str | None:
    """Local name of the first element, skipping the prolog, comments and doctype."""
    text = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", head, flags=re.S | re.I)
    match = _ROOT_TAG.search(text)
    if not match:
        return None
    return match.group(1).decode("ascii", "ignore").rsplit(":", 1)[-1].lower()


def _is_http(value: str | None) -> bool:
    return bool(value) and value.lower().startswith(("http://", "https://"))


def _absolute(link: str | None, base: str) -> str | None:
    if not link:
        return None
    try:
        absolute = urljoin(base, link.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _page_url(link: str | None, base: str) -> str | None:
    """The entry's absolute http(s) URL; None without one (not an entry: an image, a
    ``mailto:``); ``_Rejected`` when it gives one that cannot be a page."""
    absolute = _absolute(link, base)
    if absolute is None:
        if link and _is_http(str(link).strip()):
            raise _Rejected(str(link)[:2000], url_problem(str(link).strip()) or "invalid URL")
        return None
    problem = url_problem(absolute)
    if problem is not None:
        raise _Rejected(absolute[:2000], problem)
    return absolute


def _clean(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _int(value) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _from_struct(value) -> datetime | None:
    if not value:
        return None
    try:
        return to_utc(datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc))
    except (OverflowError, ValueError, TypeError, OSError):
        return None


def _iso_date(value) -> datetime | None:
    """An entry's date: ISO 8601, else any format feedparser reads; None when absent, malformed
    or out of range (never an error)."""
    if not value or not isinstance(value, str):
        return None
    parsed = parse_timestamp(value)
    if parsed is not None:
        return parsed
    try:
        struct = feedparser._parse_date(value) if hasattr(feedparser, "_parse_date") else None
    except Exception:  # feedparser's date handlers on a hostile string
        return None
    return _from_struct(struct)
