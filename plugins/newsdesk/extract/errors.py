from __future__ import annotations

KINDS = ("no_text", "not_html", "decode", "blocked", "extract_timeout")


class ExtractionError(Exception):
    """Extraction gave up on a page; ``kind`` is one of ``KINDS`` and is what the pipeline records."""

    def __init__(self, kind: str, message: str = "") -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown extraction error kind {kind!r}")
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
