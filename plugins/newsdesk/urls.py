"""URL canonicalisation shared by feed polling, archive import and dedup.

One document should have one URL in the warehouse, whatever tracking decoration
a feed or a share button added to it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import tldextract

# Parameters that identify a campaign or a click, never the document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "mc_cid", "mc_eid", "yclid", "igshid",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "rb_clickid",
        "s_cid", "vero_conv", "vero_id", "wickedid", "twclid", "ttclid", "li_fat_id", "ref_src",
        "cmpid", "ncid", "sr_share", "ocid", "at_medium", "at_campaign", "ito",
        "xtor", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee", "ftag",
        "taid", "guccounter", "guce_referrer", "guce_referrer_sig", "smid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "at_", "stm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Longer URLs are not pages: browsers stop near 2,000 characters, and a URL is a key of the
# warehouse (a B-tree entry of PostgreSQL holds at most 2,704 bytes).
MAX_URL_CHARS = 2000
# The public suffix list as tldextract ships it: never fetched, never cached on disk, so a
# publisher is the same on every machine running one version. Private suffixes count
# (foo.github.io and bar.github.io are two publishers).
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def url_problem(url) -> str | None:
    """Why ``url`` cannot be a page of the warehouse (not http(s), no host, a port out of range,
    a broken IPv6 literal, spaces or control characters in the host), or None when it can.
    Feeds, sitemaps and archives check every item's URL with it, so a bad one is set aside
    with this reason instead of failing its neighbours in ``canonicalize_url``."""
    if not isinstance(url, str) or not url.strip():
        return "no URL"
    if len(url) > MAX_URL_CHARS:
        return f"URL longer than {MAX_URL_CHARS} characters"
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid URL: a lone surrogate, not Unicode text"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a port out of range or not a number
        host = parts.hostname
    except ValueError as exc:
        return f"invalid URL: {exc}"
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return f"not an http(s) URL: scheme {parts.scheme!r}" if parts.scheme else "not an absolute URL"
    if not host:
        return "URL without a host"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in host):
        return "invalid URL: spaces or control characters in the host"
    return None


def canonicalize_url(url: str) -> str:
    """Normalise a URL for identity: lower-case scheme and host, no default port,
    no fragment, no tracking parameters, sorted query, normalised percent-encoding.

    The path keeps its case and trailing slash: servers differ on both. ValueError for a URL
    that cannot be split (a port out of range or not a number, a broken IPv6 literal).
    """
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if host and not host.isascii() else host
    except UnicodeError:
        pass
    port = parts.port if parts.port and _DEFAULT_PORTS.get(scheme) != parts.port else None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = quote(unquote(parts.path or "/"), safe="/:@!$&'()*+,;=-._~%")
    path = re.sub(r"/{2,}", "/", path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def domain_of(url: str) -> str:
    """Host without a leading ``www.``: the unit analysts group outlets by."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


@lru_cache(maxsize=65536)
def publisher_of(host_or_url: str) -> str:
    """The registrable domain of a host or URL (``edition.cnn.com`` -> ``cnn.com``,
    ``www.bbc.co.uk`` -> ``bbc.co.uk``): the unit that owns an outlet's hosts. A host under
    no known public suffix (``localhost``, an IP address, ``site.example``) is its own
    publisher, without a leading ``www.``."""
    value = host_or_url.strip().lower()
    host = domain_of(value) if "/" in value else value.removeprefix("www.")
    host = host.rstrip(".")
    return _SUFFIXES(host).top_domain_under_public_suffix or host
