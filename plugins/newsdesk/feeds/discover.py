"""Feed autodiscovery: the feeds a homepage advertises with ``<link rel="alternate">``."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from ..charset import decode_html
from ..fetch.address import AddressError, AddressRefused
from .parse import FeedParseError, parse_feed

FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
    "application/json", "application/xml", "text/xml", "application/x.atom+xml", "application/x-atom+xml",
})


def feed_links(page: str | bytes, base_url: str, content_type: str | None = None) -> list[str]:
    """Absolute http(s) feed URLs from ``<link rel="alternate" type="...feed type...">``, in page order."""
    text = decode_html(page, content_type) if isinstance(page, bytes) else page
    if not text.strip():
        return []
    try:
        doc = lxml_html.document_fromstring(text.encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8"))
    except Exception:
        return []
    base = base_url
    for node in doc.iter("base"):
        if node.get("href"):
            base = urljoin(base_url, node.get("href").strip())
            break
    found: list[str] = []
    for node in doc.iter("link"):
        rels = {r.lower() for r in (node.get("rel") or "").split()}
        kind = (node.get("type") or "").split(";", 1)[0].strip().lower()
        href = (node.get("href") or "").strip()
        if "alternate" not in rels or kind not in FEED_TYPES or not href:
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme in ("http", "https") and url not in found:
            found.append(url)
    return found


def discover_feeds(url: str, fetcher, refused: list | None = None) -> list[str]:
    """Fetch ``url`` and return the feeds it links to (the URL itself if it already is a feed).

    Advertised feeds whose address the fetcher's policy refuses (a homepage pointing into the
    bot's own network) are left out, each with its reason appended to ``refused``."""
    result = fetcher.get(url, accept="text/html, application/xhtml+xml;q=0.9, */*;q=0.5")
    found = feed_links(result.body, result.final_url, result.headers.get("content-type"))
    if found:
        allowed = []
        for link in found:
            try:
                fetcher.policy.check_url(link, resolve=True, timeout=fetcher.settings.connect_timeout)
            except AddressRefused as exc:
                if refused is not None:
                    refused.append((link, str(exc)))
                continue
            except AddressError:
                pass  # does not resolve now: still what the page advertises
            allowed.append(link)
        return allowed
    try:
        parse_feed(result.body, result.final_url, result.headers.get("content-type"))
    except FeedParseError:
        return []
    return [result.final_url]
