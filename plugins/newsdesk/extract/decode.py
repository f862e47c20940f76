"""Bytes to text for HTML bodies: charset from the header, then BOM, then <meta>.

WHATWG-style: a declared charset wins; labels that browsers treat as
windows-1252 (latin-1, ascii) decode as cp1252; undeclared bodies try UTF-8
and fall back to cp1252 with replacement, so decoding itself never fails.
"""

from __future__ import annotations

import codecs
import re

from .errors import ExtractionError

_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
# <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">
_META_CHARSET = re.compile(rb"<meta[^>]{0,300}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it shares the prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels browsers decode as windows-1252 (WHATWG Encoding Standard).
_AS_CP1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii", "us-ascii", "cp819",
              "ibm819", "iso-ir-100", "csisolatin1", "iso_8859-1", "windows-1252", "x-cp1252"}
_AS_GB18030 = {"gb2312", "gbk", "x-gbk", "chinese", "csgb2312"}
_META_WINDOW = 2048
_GARBAGE = re.compile("[\ufffd\x00-\x08\x0b\x0e-\x1f]")
# Above this share of U+FFFD / control characters the body is not text in the charset we chose.
_MAX_GARBAGE = 0.05


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CT_CHARSET.search(content_type)
    return _normalise_label(match.group(1)) if match else None


def _normalise_label(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    if label in _AS_CP1252:
        return "cp1252"
    if label in _AS_GB18030:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _bom_charset(body: bytes) -> tuple[str | None, int]:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    return None, 0


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:_META_WINDOW])
    if not match:
        return None
    label = _normalise_label(match.group(1).decode("ascii", "ignore"))
    # A page that claims UTF-16 in ASCII-compatible bytes is lying (HTML spec: treat as UTF-8).
    if label and label.startswith("utf-16"):
        return "utf-8"
    return label


def _garbage_share(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:20000]
    return len(_GARBAGE.findall(sample)) / len(sample)


def decode_html(body: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(text, charset_used)``.

    Order: BOM (a BOM is unambiguous and overrides a stale header, as browsers
    do), the Content-Type header's charset, a ``<meta>`` charset in the first
    2 KB, then UTF-8, then cp1252 with replacement.
    Raises ``ExtractionError("decode")`` when the result is mostly garbage.
    """
    if isinstance(body, str):
        return body, "str"
    bom, skip = _bom_charset(body)
    candidates = [c for c in (bom, charset_from_content_type(content_type), _meta_charset(body)) if c]
    if candidates:
        charset = candidates[0]
        text = body[skip if charset == bom else 0:].decode(charset, errors="replace")
    else:
        try:
            charset, text = "utf-8", body.decode("utf-8")
        except UnicodeDecodeError:
            charset, text = "cp1252", body.decode("cp1252", errors="replace")
    if _garbage_share(text) > _MAX_GARBAGE:
        raise ExtractionError("decode", f"body does not decode as {charset}")
    return text, charset
