"""Feed bytes to entries: RSS 0.9x/1.0/2.0, Atom, RDF, JSON Feed and (news) sitemaps.

``parse_feed(body, url, content_type)`` detects the format by content (servers
mislabel feeds constantly), returns a ``ParsedFeed`` whose entries carry absolute
http(s) URLs and tz-aware UTC dates, and raises ``FeedParseError`` for anything
that is not a feed (an HTML page, an empty body, garbage). Feeds that feedparser
flags as malformed ("bozo") are accepted as long as they produced entries or a
recognised version.
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
    entries = []
    for item in parsed.entries:
        entry = _entry_from_feedparser(item, url)
        if entry:
            entries.append(entry)
    ttl = _int(parsed.feed.get("ttl"))
    return ParsedFeed(title=_clean(parsed.feed.get("title")), entries=entries, ttl_minutes=ttl,
                      kind=version or "unknown")


def _mojibake(parsed) -> bool:
    probe = " ".join(str(e.get("title", "")) for e in parsed.entries[:20]) + str(parsed.feed.get("title", ""))
    return "\ufffd" in probe


def _entry_from_feedparser(item, feed_url: str) -> FeedEntry | None:
    guid = _clean(item.get("id"))
    link = _clean(item.get("link"))
    if not link:
        for candidate in item.get("links", []) or []:
            if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                link = candidate["href"]
                break
    if not link and guid and (item.get("guidislink") or _is_http(guid)):
        link = guid
    url = _absolute(link, feed_url)
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
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        guid = str(item["id"]) if item.get("id") is not None else None
        link = item.get("url") or item.get("external_url")
        if not link and guid and _is_http(guid):
            link = guid
        absolute = _absolute(link if isinstance(link, str) else None, urljoin(url, base))
        if not absolute:
            continue
        published = _iso_date(item.get("date_published") or item.get("date_modified"))
        entries.append(FeedEntry(url=absolute, guid=guid, title=_clean(item.get("title")), published_at=published))
    version = str(data.get("version")).rstrip("/").rsplit("/", 1)[-1]
    return ParsedFeed(title=_clean(data.get("title")), entries=entries, ttl_minutes=None, kind=f"jsonfeed{version}")


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
    has_news = False
    child = "sitemap" if local == "sitemapindex" else "url"
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != child:
            continue
        loc = _child_text(node, "loc")
        absolute = _absolute(loc, url)
        if not absolute:
            continue
        title = None
        published = _iso_date(_child_text(node, "lastmod"))
        news = next((n for n in node if isinstance(n.tag, str) and etree.QName(n).localname == "news"), None)
        if news is not None:
            has_news = True
            title = _clean(_child_text(news, "title"))
            published = _iso_date(_child_text(news, "publication_date")) or published
        entries.append(FeedEntry(url=absolute, guid=None, title=title, published_at=published))
    kind = "sitemapindex" if local == "sitemapindex" else ("news-sitemap" if has_news else "sitemap")
    return ParsedFeed(title=None, entries=entries, ttl_minutes=None, kind=kind)


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
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


def _iso_date(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        struct = feedparser._parse_date(value) if hasattr(feedparser, "_parse_date") else None
        return _from_struct(struct)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)
