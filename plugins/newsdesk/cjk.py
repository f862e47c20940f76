"""Han and kana: the scripts written without spaces between words.

One character carries about a morpheme, so where other scripts count and compare words,
these count and compare characters (extraction's word counts, dedup's tokens). Hangul is
written with spaces and is not included; neither are kana punctuation marks (``・``).
"""

from __future__ import annotations

import re

CJK_RANGES = "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
CJK = re.compile(f"[{CJK_RANGES}]")


def has_cjk(text: str) -> bool:
    """Han or kana in the text."""
    return not text.isascii() and CJK.search(text) is not None


_WORD = re.compile(r"\w")


def count_words(text: str) -> int:
    """``articles.word_count``: words between spaces, and in Chinese and Japanese every Han or
    kana character (as word processors count them; a clause has no spaces to count by)."""
    if not has_cjk(text):
        return len(text.split())
    return len(CJK.findall(text)) + sum(1 for w in CJK.sub(" ", text).split() if _WORD.search(w))
