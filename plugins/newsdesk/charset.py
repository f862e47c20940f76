"""Bytes to text for HTML and XML bodies whose declared charset may be missing or wrong.

One policy for every stage (feeds, robots.txt, article extraction), WHATWG-flavoured:
a BOM is unambiguous; then the Content-Type header; then an XML prolog or ``<meta>``
in the first 2 KB; latin-1/ascii labels mean windows-1252; a declared charset that
does not decode is skipped; the last resort is windows-1252 with replacement.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.I)
_XML_PROLOG = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
# Single-byte legacy charsets that servers and CMSs declare for text that is really UTF-8.
_LEGACY = {"iso8859-1", "latin-1", "cp1252", "ascii", "iso8859-15"}
SNIFF_BYTES = 2048


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        info = codecs.lookup(name.strip().strip("\"'"))
    except LookupError:
        return None
    # WHATWG: latin-1 and ascii labels mean windows-1252, the GB family means GB18030.
    if info.name in ("iso8859-1", "latin-1", "ascii"):
        return "cp1252"
    if info.name in ("gb2312", "gbk"):
        return "gb18030"
    if info.name in ("utf-16", "utf-32"):
        return None  # a BOM would have told us; a declared utf-16 in an ASCII prolog is a lie
    return info.name


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return _codec(match.group(1)) if match else None


def sniff_charset(body: bytes) -> str | None:
    """Charset from a BOM, an XML prolog or a ``<meta charset>``/http-equiv in the first 2 KB."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    head = body[:SNIFF_BYTES]
    for pattern in (_XML_PROLOG, _META_CHARSET):
        match = pattern.search(head)
        if match:
            codec = _codec(match.group(1).decode("ascii", "ignore"))
            if codec:
                return codec
    return None


def _looks_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not body.isascii()


def decode(body: bytes, content_type_header: str | None = None) -> tuple[str, str]:
    """Decode an HTML/XML body; returns ``(text, charset used)``.

    Order: a BOM; the charset in the Content-Type header, then XML prolog, ``<meta charset>``
    or http-equiv in the first 2 KB; a declared charset that does not decode is
    skipped, and a declared legacy single-byte charset loses to text that is valid
    UTF-8. Fallback: UTF-8, then windows-1252 with replacement characters.
    """
    candidates: list[str] = []
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, "replace"), name
    for name in (charset_from_content_type(content_type_header), sniff_charset(body)):
        if name and name not in candidates:
            candidates.append(name)
    if candidates and candidates[0] in _LEGACY and _looks_utf8(body):
        candidates.insert(0, "utf-8")
    for name in candidates + ["utf-8"]:
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("cp1252", "replace"), "cp1252"


def decode_html(body: bytes, content_type_header: str | None = None) -> str:
    """The text of an HTML/XML body (see ``decode``)."""
    return decode(body, content_type_header)[0]
