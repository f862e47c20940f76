"""HTML page -> article text and metadata. Pure functions; needs only ``newsdesk.urls``.

    >>> from newsdesk.extract import extract_article
    >>> art = extract_article(body_bytes, "https://example.com/news/1", "text/html; charset=utf-8")
    >>> art.as_fields()["text"].split("\\n\\n")   # paragraphs
"""

from .article import EXTRACTOR_VERSION, Extracted, extract_article
from .decode import decode_html
from .errors import ExtractionError
from .language import detect_language, normalise_language

__all__ = [
    "EXTRACTOR_VERSION",
    "ExtractionError",
    "Extracted",
    "decode_html",
    "detect_language",
    "extract_article",
    "normalise_language",
]
