"""Whether a response is an HTML page, from its declared type and, where that says nothing, its body.

Servers label pages ``text/plain`` or ``application/octet-stream``, and old crawls often
recorded no type at all, so an unspecific label lets the body decide; a specific non-HTML
label (an image, a feed, JSON) is believed. The archive importer and the live fetch stage
apply the same rule.
"""

from __future__ import annotations

import re

HTML_TYPES = ("text/html", "application/xhtml+xml")
UNSPECIFIC_TYPES = ("", "text/plain", "application/octet-stream", "binary/octet-stream", "application/unknown",
                    "application/x-unknown", "unknown/unknown", "application/x-download", "*/*", "text")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title")
_XML_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<urlset", b"<sitemapindex", b"<opml", b"<svg")
_DOCUMENT_TAG = re.compile(rb"<(?:html|head|body)[\s>]")


def mime_of(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def is_html_type(content_type: str | None) -> bool:
    mime = mime_of(content_type)
    return any(t in mime for t in HTML_TYPES)


def may_be_html(content_type: str | None) -> bool:
    """Worth reading the body of: declared HTML, or a label that says nothing."""
    return is_html_type(content_type) or mime_of(content_type) in UNSPECIFIC_TYPES


def looks_like_html(body: bytes) -> bool:
    """Whether a body starts like an HTML document (after a BOM, blanks and comments), or opens
    with a tag and has the document's tags in its first 2 kB: a feed, a sitemap, JSON or plain
    text does not."""
    head = body[:2048]
    if head.startswith(_UTF8_BOM):
        head = head[3:]
    elif head.startswith(_UTF16_BOMS):
        head = head[2:].replace(b"\x00", b"")
    head = head.lstrip().lower()
    while head.startswith(b"<!--") and b"-->" in head:
        head = head[head.index(b"-->") + 3:].lstrip()
    if head.startswith(b"<?xml"):  # XHTML only, not any XML
        return b"<html" in head or b"<!doctype html" in head
    if head.startswith(_HTML_STARTS):
        return True
    # pages that open with a script or a stylesheet; feeds may quote HTML inside
    return head.startswith(b"<") and not head.startswith(_XML_ROOTS) and _DOCUMENT_TAG.search(head) is not None


def html_content_type(content_type: str | None, body: bytes, sniffed_type: str | None = None) -> str | None:
    """The content type to store for an HTML page (the declared one, or ``text/html`` with the
    declared parameters when the label was unspecific), or None when the response is not one.
    ``sniffed_type`` is a crawler's own identification of the payload (Common Crawl's
    ``WARC-Identified-Payload-Type``), which overrides a wrong label."""
    content_type = (content_type or "").strip()
    if is_html_type(content_type):
        return content_type
    if mime_of(sniffed_type) not in HTML_TYPES:
        if mime_of(content_type) not in UNSPECIFIC_TYPES or not looks_like_html(body):
            return None
    params = content_type.partition(";")[2].strip()  # keep a declared charset
    return f"text/html; {params}" if params else "text/html"
