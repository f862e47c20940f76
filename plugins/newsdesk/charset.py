"""Bytes to text for HTML and XML bodies whose declared charset may be missing or wrong.

One policy for every stage (feeds, robots.txt, article extraction), WHATWG-flavoured:
a BOM is unambiguous; then the Content-Type header; then an XML prolog or ``<meta>``
in the first 2 KB; latin-1/ascii labels mean windows-1252; a declared charset that
does not decode is skipped unless its text is only sparsely damaged (a UTF-8 page cut
inside a character keeps its thousands of good ones). Undeclared bytes that are not
UTF-8 go to a detector for non-Latin scripts (Cyrillic, Greek, Arabic, CJK legacy
charsets); Latin-script bytes stay windows-1252, the web's default, which detectors
cannot tell from its neighbours (Portuguese in cp1250, a pound sign in cp775).
"""

from __future__ import annotations

import codecs
import logging
import re

log = logging.getLogger(__name__)

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
# Replacement characters allowed per good non-ASCII character for a damaged body to keep
# its declared (or evident) charset: a wrong charset damages nearly every non-ASCII byte.
_MAX_DAMAGE = 0.05
# The detector reads a sample: its cost stays bounded on hostile, huge bodies.
DETECT_BYTES = 256 * 1024
# Below this many non-ASCII bytes a page is Latin-script text with a few odd bytes, and
# detectors guess wildly on it (a mostly English page came out as Arabic cp1256).
_DETECT_MIN_NON_ASCII = 64
_ASCII_BYTES = bytes(range(128))
# A detected charset loses to windows-1252 when that decodes the bytes about as sanely.
_CP1252_CHAOS_MARGIN = 0.1


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


def _sparsely_damaged(body: bytes, name: str) -> str | None:
    """``body`` decoded with replacement when its damage is sparse (see ``_MAX_DAMAGE``)."""
    try:
        text = body.decode(name, "replace")
    except LookupError:
        return None
    damaged = text.count("\ufffd")
    good = len(text) - len(text.encode("ascii", "ignore")) - damaged
    return text if damaged <= good * _MAX_DAMAGE else None


def detect_charset(body: bytes) -> str | None:
    """A legacy non-Latin charset for undeclared bytes that are not UTF-8, or None (then
    windows-1252 applies): the detector's best match, unless windows-1252 reads the sample
    about as sanely."""
    from charset_normalizer import from_bytes

    sample = body[:DETECT_BYTES]
    if len(sample.translate(None, _ASCII_BYTES)) < _DETECT_MIN_NON_ASCII:
        return None
    try:
        matches = from_bytes(sample)
    except Exception as exc:
        log.debug("charset detection failed: %s", exc)
        return None
    best = matches.best()
    if best is None or best.encoding in ("ascii", "utf_8"):
        return None
    for match in matches:
        if ((match.encoding == "cp1252" or "cp1252" in match.could_be_from_charset)
                and match.chaos <= best.chaos + _CP1252_CHAOS_MARGIN):
            return None
    return _codec(best.encoding)


def decode(body: bytes, content_type_header: str | None = None) -> tuple[str, str]:
    """Decode an HTML/XML body; returns ``(text, charset used)``.

    Order: a BOM; the charset in the Content-Type header, then XML prolog, ``<meta charset>``
    or http-equiv in the first 2 KB; a declared charset that does not decode is
    skipped, and a declared legacy single-byte charset loses to text that is valid
    UTF-8. Then: a declared charset (or UTF-8) whose damage is sparse, with replacement;
    the detector's non-Latin charset; windows-1252 with replacement.
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
    for name in candidates + ["utf-8"]:
        text = _sparsely_damaged(body, name)
        if text is not None:
            return text, name
    detected = detect_charset(body)  # undeclared, or declared wrongly
    if detected:
        return body.decode(detected, "replace"), detected
    return body.decode("cp1252", "replace"), "cp1252"


def decode_html(body: bytes, content_type_header: str | None = None) -> str:
    """The text of an HTML/XML body (see ``decode``)."""
    return decode(body, content_type_header)[0]
