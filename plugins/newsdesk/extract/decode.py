"""Bytes to text for article pages: the shared charset policy plus a sanity check.

Decoding itself never fails (``newsdesk.charset`` falls back to windows-1252); a body
that is mostly replacement or control characters is not text in any charset, and
extraction reports it instead of storing garbage.
"""

from __future__ import annotations

import re

from ..charset import charset_from_content_type, decode
from .errors import ExtractionError

__all__ = ["charset_from_content_type", "decode_html"]

_GARBAGE = re.compile("[\ufffd\x00-\x08\x0b\x0e-\x1f]")
# Above this share of U+FFFD / control characters the body is not text in the charset we chose.
_MAX_GARBAGE = 0.05


def _garbage_share(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:20000]
    return len(_GARBAGE.findall(sample)) / len(sample)


def decode_html(body: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(text, charset_used)``; raises ``ExtractionError("decode")`` for garbage."""
    if isinstance(body, str):
        return body, "str"
    text, charset = decode(body, content_type)
    if _garbage_share(text) > _MAX_GARBAGE:
        raise ExtractionError("decode", f"body does not decode as {charset}")
    return text, charset
