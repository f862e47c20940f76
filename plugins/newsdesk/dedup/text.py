"""Text normalisation and tokens shared by cleaning, signatures and verification.

Pure functions, deterministic across processes (no Python ``hash()``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib

from ..cjk import CJK, CJK_RANGES, has_cjk

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
})
# str.translate looks every character of a non-ASCII text up in the table (0.4 ms for an average
# article, the most of normalise): the few characters it changes are found by a regex instead.
_QUOTE_CHARS = re.compile("[" + "".join(chr(c) for c in _QUOTES) + "]")
_QUOTE_MAP = {chr(c): v for c, v in _QUOTES.items()}
# "1,000", "1, 000" (spinners break separators) and "1 000" all become "1000".
_THOUSANDS = re.compile(r"(?<=\d)[,\s]\s?(?=\d{3}\b)")
_DIGIT_GAP = re.compile(r"\d[,\s]\s?\d")  # every _THOUSANDS match sits inside one of these
_SPACES = re.compile(r"[ \t\r\f\v]+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_WORD_LOWER_ASCII = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)?")  # _WORD in lower-cased ASCII text: ~20 % faster
_ASCII_WORD_BYTES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122 or c == 39) else 32 for c in range(256))
_LOOSE_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])|'[a-z0-9]+'")  # not one apostrophe inside a word
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
# Han and kana: no spaces between words, about a morpheme per character. Each character is a
# token (shingles of three characters, like a few words); as clause-long tokens, a 500-character
# Chinese story had 28 tokens and its truncated copy matched nothing. Hangul is spaced: untouched.
_WORD_CJK = re.compile(f"[{CJK_RANGES}]|(?:(?![{CJK_RANGES}])[^\\W_])+(?:'(?:(?![{CJK_RANGES}])[^\\W_])+)?")
# A CJK sentence ends at 。！？ (NFKC makes the full-width ! and ? ASCII), with no space after it.
_SENTENCE_END_CJK = re.compile(r"(?<=[\u3002!?])[\u300d\u300f\"')\]]*\s*|(?<=[.])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves said says say told according one two three mr mrs ms per cent percent
    would could may might must shall us new also however since still yet""".split()
)


def normalise(text: str) -> str:
    """Unicode NFKC, straight quotes and dashes, joined thousand separators, single spaces."""
    if not text.isascii():  # NFKC and the quote table change nothing in ASCII text (most news prose)
        text = _QUOTE_CHARS.sub(_quote, unicodedata.normalize("NFKC", text))
    # Each substitution only when its pattern can match: most paragraphs have neither a
    # separated number nor a run of blanks, and the two scans cost a quarter of the regexes.
    if _DIGIT_GAP.search(text):
        text = _THOUSANDS.sub("", text)
    if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


def _quote(match: re.Match) -> str:
    return _QUOTE_MAP[match.group()]


def words(text: str) -> list[str]:
    """Lower-cased word tokens of normalised text (apostrophes inside words dropped)."""
    return words_normalised(normalise(text))


def words_normalised(text: str) -> list[str]:
    """``words`` for text that has already been through ``normalise``."""
    if text.isascii():  # one lower() and no per-token work; the same tokens as below
        text = text.lower()
        # Every byte that is not [a-z0-9'] becomes a blank and the C split cuts the words: the
        # regex's tokens at twice its speed. The regex's own rules for apostrophes are needed only
        # where one is not a single apostrophe inside a word ("'quoted'", "rock'n'roll").
        spaced = text.encode("ascii").translate(_ASCII_WORD_BYTES)
        if "'" not in text:
            return spaced.decode("ascii").split()
        if _LOOSE_APOSTROPHE.search(text) is None:
            return spaced.replace(b"'", b"").decode("ascii").split()
        return [w.replace("'", "") for w in _WORD_LOWER_ASCII.findall(text)]
    # Lower-casing can change a non-ASCII text's length and word boundaries ("İ"): per token.
    pattern = _WORD_CJK if CJK.search(text) else _WORD
    return [w.lower().replace("'", "") for w in pattern.findall(text)]


def stem(word: str) -> str:
    """A deliberately light suffix stripper: enough to align 'strikes'/'struck' no, 'drones'/'drone' yes."""
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _content_word(token: str) -> str:
    """The token's content word ("" when it carries none)."""
    return stem(token) if token.isdigit() or (len(token) > 2 and token not in STOPWORDS) else ""


# Token -> content word, remembered: a vocabulary repeats across articles far more than it grows
# (bounded: cleared when full).
_CONTENT_CACHE: dict[str, str] = {}
_CONTENT_CACHE_MAX = 200_000  # ~20 MB


def content_words(tokens: list[str], cjk: bool = False) -> list[str]:
    """Tokens that carry meaning: not stopwords, numbers always kept. ``cjk`` (the text has Han
    or kana): single characters are too short to count, their adjacent pairs count instead
    (most Chinese and Japanese words are two characters)."""
    if cjk:
        return _content_words(tokens) + [a + b for a, b in zip(tokens, tokens[1:])
                                         if len(a) == 1 and len(b) == 1 and CJK.match(a) and CJK.match(b)]
    return _content_words(tokens)


def _content_words(tokens: list[str]) -> list[str]:
    cache = _CONTENT_CACHE
    new = {t for t in tokens if t not in cache}
    if new:
        if len(cache) + len(new) > _CONTENT_CACHE_MAX:
            cache.clear()
            new = set(tokens)
        for t in new:
            cache[t] = _content_word(t)
    return [c for c in map(cache.__getitem__, tokens) if c]


def sentences(text: str) -> list[str]:
    """Split clean text (paragraphs separated by blank lines) into sentences."""
    out: list[str] = []
    splitter = _SENTENCE_END_CJK if has_cjk(text) else _SENTENCE_END
    for para in text.split("\n\n"):
        para = para.strip()
        if not para:
            continue
        out.extend(s.strip() for s in splitter.split(normalise(para)) if s.strip())
    return out


def shingles(tokens: list[str], n: int = 3) -> set[str]:
    if len(tokens) < n:
        return {" ".join(tokens)} if tokens else set()
    if n == 3:  # the signatures' size: the same set, without a slice per position
        return set(map(" ".join, zip(tokens, tokens[1:], tokens[2:])))
    return {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def h32(s: str) -> int:
    """Deterministic 32-bit hash of a string (CRC-32)."""
    return zlib.crc32(s.encode("utf-8"))


def h63(data: bytes) -> int:
    """Deterministic non-negative 63-bit hash, fits a signed BIGINT."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") & ((1 << 63) - 1)


def text_key(text: str) -> str:
    """SHA-256 of the normalised word sequence: the identity used for exact copies."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()


def name_key(name: str) -> str:
    """'Al Jazeera' / 'aljazeera.com' / 'AlJazeera' -> 'aljazeera' for attribution matching; Han
    and kana are kept ('新华社' is its own key)."""
    return _NOT_NAME.sub("", unicodedata.normalize("NFKD", name).lower())


_NOT_NAME = re.compile(f"[^a-z0-9{CJK_RANGES}]")
