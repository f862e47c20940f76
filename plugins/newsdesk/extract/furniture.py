"""Lines of the page's furniture that extractors keep inside the article text: the headline
printed again (alone, or with a kicker before it or the programme's name after it), the byline,
the date line, "Read also: <link>" lines, newsletter and copyright notices, the contact line at
the end, and labels and buttons ("Transport", "Listen", "Share") before or after the story.
Each is recognised by what the page says elsewhere (its headlines, its authors, its link texts)
or by a shape no paragraph of a story has; no site is named.
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"\w+")
_KICKER_WORDS = 6       # "Premier League", "Umbau des Weissen Hauses": a kicker before the headline
_HEAD_PARAGRAPHS = 3    # where a repeated headline and kicker stand
_BYLINE_WORDS = 15
_DATE_LINE_WORDS = 8
_READ_ALSO_WORDS = 25   # the label and a headline
_NOTICE_WORDS = 40
_CONTACT_TAIL = 3       # contact lines stand among the last paragraphs ...
_CONTACT_WORDS = 30     # ... and are short
_LABEL_WORDS = 3        # "Transport", "2 min read", "Listen", "Save": labels and buttons at either end
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]['\")\u201d\u2019\u00bb]*$")

# "Read also:" in the languages of the sites we import; the rest of the line is a headline.
_READ_ALSO = re.compile(
    r"^(?:read (?:more|also|next)|also read|more|see also|related(?: articles?| stories)?|"
    r"lesen sie (?:auch|mehr)|lies auch|auch interessant|mehr zum thema|weiterlesen|"
    r"les også|læs også|läs också|lees ook|lue myös|lire aussi|à lire aussi|a lire aussi|voir aussi|"
    r"lee también|leer más|leia também|leia mais|leggi anche|czytaj (?:więcej|też|także)|"
    r"přečtěte si (?:také|též)|čtěte také|читайте также|читайте також|noticia relacionada|"
    r"daha fazla|ayrıca|関連記事)\b\s*:?\s*",
    re.I,
)
# A whole date: 22.04.2024, 2024-04-22, 30. Januar 2024, March 5, 2024.
_FULL_DATE = re.compile(r"\b(?:\d{1,2}[./]\s?\d{1,2}[./]\s?\d{2,4}|\d{4}-\d{2}-\d{2})\b|"
                        r"\b\d{1,2}\.?\s+[^\W\d_]{3,}\.?,?\s+\d{4}\b|\b[^\W\d_]{3,}\.?\s+\d{1,2},?\s+\d{4}\b")
_SEPARATOR = re.compile(r"\s+[-|\u2013\u2014\u00b7\u2022:]\s+|\s*\uff5c\s*")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_NEWSLETTER = re.compile(r"newsletter|in your inbox|in ihr postfach", re.I)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)", re.I)
_BY_LABEL = re.compile(r"^(?:(?:written\s+)?by|von|par|por|di|door|av|af|autor(?:in)?|author|text)\b\s*:?\s*",
                       re.I)


def _key(text: str) -> str:
    """Lower-cased word characters only: what a reader would call "the same words"."""
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFKC", text).casefold().replace("\u00ad", "")))


def _is_headline(paragraph: str, key: str, headlines: set[str], at_head: bool) -> bool:
    """The headline again: alone anywhere; at the head also with a kicker or a programme's name
    beside it ("Premiere in Eisenhüttenstadt - <headline>", "<headline> | wdr aktuell"), or a
    kicker run into it ("Premier League <headline>")."""
    if key in headlines:
        return True
    if not at_head:
        return False
    for match in _SEPARATOR.finditer(paragraph):
        if _key(paragraph[:match.start()]) in headlines or _key(paragraph[match.end():]) in headlines:
            return True
    words = key.split()
    return any(len(headline.split()) >= 4 and key.endswith(headline) and len(words) - len(headline.split())
               <= _KICKER_WORDS for headline in headlines)


def _is_byline(key: str, author_words: set[str]) -> bool:
    words = [w for w in _BY_LABEL.sub("", key).split() if w not in ("and", "und", "y", "et", "e", "og", "och")]
    return bool(words) and len(words) <= _BYLINE_WORDS and all(w in author_words for w in words)


def _is_date_line(paragraph: str) -> bool:
    """A date and at most a label around it: "18.05.2026", "Stand: 22.04.2024, 06:00 Uhr"."""
    if len(paragraph.split()) > _DATE_LINE_WORDS or not _FULL_DATE.search(paragraph):
        return False
    letters = [w for w in re.findall(r"[^\W\d_]+", paragraph) if len(w) > 1]
    return len(letters) <= 4  # "Updated", "on", a month's name, "Uhr"


def _is_read_also(paragraph: str, link_texts: frozenset[str]) -> bool:
    match = _READ_ALSO.match(paragraph.strip(" -•*▶►"))
    if not match:
        return False
    rest = paragraph.strip(" -•*▶►")[match.end():].strip()
    if not rest:
        return True
    # "More: <headline>" only when it reads like a label: a colon, capitals, or a link's text
    labelled = ":" in paragraph[:match.end() + 2] or paragraph.lstrip(" -•*▶►")[:match.end()].isupper()
    return len(rest.split()) <= _READ_ALSO_WORDS and (labelled or " ".join(rest.lower().split()) in link_texts)


def drop_furniture(paragraphs: list[str], headlines: list[str | None], authors: list[str],
                   link_texts: frozenset[str] = frozenset()) -> list[str]:
    """``paragraphs`` without the page furniture described above.

    ``headlines``: every statement of the headline the page makes (JSON-LD, og:title, h1,
    <title>, the chosen one); ``authors``: the byline's names; ``link_texts``: the page's
    normalised anchor texts (``PageProfile.link_texts``)."""
    heads = {_key(h) for h in headlines if h and len(_key(h).split()) >= 2}
    author_words = {w for name in authors for w in _key(name).split()}
    # a paragraph longer than any furniture line is story: most of them, kept without a look
    longest = max([len(h.split()) + _KICKER_WORDS for h in heads] + [_NOTICE_WORDS, _READ_ALSO_WORDS + 4])
    kept: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if paragraph.count(" ") >= longest:
            kept.append(paragraph)
            continue
        key = _key(paragraph)
        words = len(key.split())
        if not key:
            continue
        if heads and _is_headline(paragraph, key, heads, index < _HEAD_PARAGRAPHS):
            continue
        if author_words and words <= _BYLINE_WORDS and _is_byline(key, author_words):
            continue
        if _is_date_line(paragraph) or _is_read_also(paragraph, link_texts):
            continue
        if words <= _NOTICE_WORDS and (_NEWSLETTER.search(paragraph) or _COPYRIGHT.match(paragraph.strip())):
            continue
        kept.append(paragraph)
    # the contact line among the last paragraphs once the other furniture is gone
    tail = len(kept) - _CONTACT_TAIL
    kept = [p for i, p in enumerate(kept) if i < tail or p.count(" ") >= _CONTACT_WORDS or not _EMAIL.search(p)]
    return _trim_labels(kept)


def _is_label(paragraph: str) -> bool:
    return len(_key(paragraph).split()) <= _LABEL_WORDS and not _SENTENCE_END.search(paragraph.strip())


def _trim_labels(paragraphs: list[str]) -> list[str]:
    """Without the runs of labels and buttons before the story's first sentence and after its
    last; short lines between paragraphs (subheadings) stay."""
    start, end = 0, len(paragraphs)
    while start < end and _is_label(paragraphs[start]):
        start += 1
    while end > start and _is_label(paragraphs[end - 1]):
        end -= 1
    return paragraphs[start:end]
