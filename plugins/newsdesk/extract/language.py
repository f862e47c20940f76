"""Language codes: normalise declared tags, and identify the language of undeclared (or
wrongly declared) pages with py3langid, which knows 97 languages in every script."""

from __future__ import annotations

import re
import threading

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from .text import word_count

_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)*\s*$")
# ISO 639-2/3 codes seen in lang attributes, mapped to 639-1.
_THREE_TO_TWO = {
    "eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "spa": "es", "por": "pt", "ita": "it",
    "nld": "nl", "dut": "nl", "ara": "ar", "rus": "ru", "zho": "zh", "chi": "zh", "jpn": "ja", "kor": "ko",
    "pol": "pl", "tur": "tr", "swe": "sv", "dan": "da", "nor": "no", "nob": "no", "nno": "no", "fin": "fi",
    "ell": "el", "gre": "el", "heb": "he", "hin": "hi", "ukr": "uk", "ces": "cs", "cze": "cs", "ron": "ro",
    "rum": "ro", "hun": "hu", "ind": "id", "vie": "vi", "cat": "ca", "fas": "fa", "per": "fa",
}
_OLD_CODES = {"iw": "he", "in": "id", "ji": "yi", "nb": "no", "nn": "no"}

# py3langid (langid.py's model: 97 languages, character n-grams, naive Bayes): news prose of a
# few sentences is enough; shorter text gets no answer rather than a guess.
_SAMPLE_CHARS = 600       # its first sentences: right on all 93 dev-set pages, in 1 ms
_MIN_WORDS = 5            # Han and kana characters count one each (text.word_count)
_MIN_PROBABILITY = 0.5


_IDENTIFIER: LanguageIdentifier | None = None
_LOADING = threading.Lock()


def load_model() -> LanguageIdentifier:
    """The model (about 0.5 s to load, 75 MB), loaded once per process on first need, not when
    the package is imported: a process that imports extraction but never extracts (the archive
    importer's parent, which only writes what its workers extract) does without it.
    ``extract_article`` calls this before a page's time limit starts (inside it the load could
    be cut off, and be tried again on every page), and the import pool's forkserver loads it
    (``extract.preloaded``), so its workers start with the model in place, shared."""
    global _IDENTIFIER
    if _IDENTIFIER is None:
        with _LOADING:
            if _IDENTIFIER is None:
                _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _IDENTIFIER


def normalise_language(tag: str | None) -> str | None:
    """``en-GB`` / ``en_US`` / ``eng`` / ``EN`` -> ``en``; anything unparseable -> None."""
    if not tag:
        return None
    match = _TAG.match(tag)
    if not match:
        return None
    code = match.group(1).lower()
    if len(code) == 3:
        return _THREE_TO_TWO.get(code)
    return _OLD_CODES.get(code, code)


def detect_language(text: str) -> tuple[str | None, float]:
    """Return ``(code, probability)``; ``(None, 0.0)`` when the text is too short or the
    model is unsure."""
    sample = text[:_SAMPLE_CHARS]
    if word_count(sample) < _MIN_WORDS:
        return None, 0.0
    code, probability = load_model().classify(sample)
    code = normalise_language(code)
    if code is None or probability < _MIN_PROBABILITY:
        return None, 0.0
    return code, float(probability)
