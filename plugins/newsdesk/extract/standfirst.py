"""The standfirst: the summary printed between headline and story, which extractors often
leave out because it sits outside the story's container.

A page paragraph is taken as the standfirst when the page's own description (JSON-LD,
``og:description``, ``<meta name=description>``, ``twitter:description``) says the same words
(a dateline such as "Berlin." may precede them; a description cut with an ellipsis may stop
short of them) and it stands before the story's first paragraph. A description that matches
nothing visible, or only text after the story's start, is not used: what the page shows decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_TOKEN = re.compile(r"\w+")
_MIN_WORDS = 4          # a description shorter than this is a label, not a summary
_DATELINE_WORDS = 3     # "Berlin.", "Neuss ·", "LINDI:" before the summary's words
_TRUNCATED_MIN_WORDS = 8
_ELLIPSIS = ("\u2026", "...")


def _key(text: str) -> str:
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold().replace("\u00ad", "")))


def _says(paragraph_key: str, description_key: str, truncated: bool) -> bool:
    if paragraph_key == description_key:
        return True
    extra = len(paragraph_key.split()) - len(description_key.split())
    if 0 < extra <= _DATELINE_WORDS and paragraph_key.endswith(" " + description_key):
        return True
    return (truncated and len(description_key.split()) >= _TRUNCATED_MIN_WORDS
            and paragraph_key.startswith(description_key) and len(paragraph_key) <= 1.5 * len(description_key))


def find_standfirst(page_paragraphs: Callable[[], list[str]], descriptions: list[str | None],
                    body: list[str]) -> str | None:
    """The standfirst among ``page_paragraphs()`` (the page's visible paragraphs in order,
    asked for only when needed) for the article text ``body`` (its paragraphs), or None when
    there is none or ``body`` already holds it."""
    wanted = [(d, _key(d)) for d in descriptions if d]
    wanted = [(d, key) for d, key in wanted if len(key.split()) >= _MIN_WORDS]
    if not body or not wanted:
        return None
    body_key = " ".join(_key(p) for p in body)
    wanted = [(d, key) for d, key in wanted if key not in body_key]
    if not wanted:
        return None  # the text starts with (or holds) what the page describes: the usual case
    first = _key(body[0])
    keys: list[str] = []
    for paragraph in page_paragraphs():  # up to the story's first paragraph
        key = _key(paragraph)
        if key and (key == first or key.startswith(first[:80])):
            break
        keys.append(key)
    else:
        return None
    votes: dict[int, int] = {}
    for description, key in wanted:  # each source votes, so the sources that agree win
        truncated = description.rstrip().endswith(_ELLIPSIS)
        for index in range(len(keys) - 1, -1, -1):  # the nearest before the story
            if keys[index] and _says(keys[index], key, truncated):
                votes[index] = votes.get(index, 0) + 1
                break
    if not votes:
        return None
    best = max(votes, key=lambda index: (votes[index], index))
    if keys[best] in body_key:
        return None
    return page_paragraphs()[best]
