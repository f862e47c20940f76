"""Page metadata that trafilatura does not give in the form the warehouse needs."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

from lxml import etree

from newsdesk.urls import canonicalize_url


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
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return resolved


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
            return canonicalize_url(resolved)
    return None


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


def parse_datetime(value: str | None) -> datetime | None:
    """ISO-ish timestamp (``YYYY-MM-DD`` with optional time and offset) -> aware UTC datetime."""
    if not value:
        return None
    value = value.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def not_in_future(value: datetime | None, now: datetime | None = None) -> datetime | None:
    now = now or datetime.now(timezone.utc)
    if value is None or value > now:
        return None
    return value
