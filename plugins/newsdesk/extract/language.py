"""Language codes: normalise declared tags, and a cheap detector for undeclared pages.

The detector counts very common function words (and, for scripts that identify
a language on their own, characters). It is meant for news prose of a few
hundred words, where it is reliable; on short or mixed text it returns None
rather than guess.
"""

from __future__ import annotations

import re

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

_STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to in is that for it with as was on are be by this have from or at not but "
              "which they were has his her their an been would will there who what said",
        "fr": "le la les de des du et est un une que qui dans pour pas sur au aux avec ce cette sont "
              "il elle ils ont mais par plus ou été leur nous vous se ne",
        "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es an "
              "werden aus er hat dass sie nach wird bei noch wie einer um über",
        "es": "el la los las de del y que en un una es por con para no se su al lo como más pero sus "
              "fue ha este esta son entre cuando muy sin sobre también",
        "pt": "o a os as de do da dos das e que em um uma é para com não se por mais na no ao como "
              "mas foi ele ela seu sua são pelo pela também",
        "it": "il lo la i gli le di del della e che è un una per con non si da in al alla sono come "
              "anche ma più nel nella questo questa ha dei delle",
        "nl": "de het een en van in is dat op te zijn met voor niet aan er die door maar ook als bij "
              "om naar dan wordt nog werd heeft hun",
        "sv": "och att det som en på är av för med till den har inte om ett de var jag vi kan men "
              "från också efter hade när",
        "da": "og at det som en på er af for med til den har ikke om et de var jeg vi kan men fra "
              "også efter havde når hun",
        "no": "og at det som en på er av for med til den har ikke om et de var jeg vi kan men fra "
              "også etter hadde når hun",
        "pl": "i w na z do że się nie to jest jak o co ale po od przez dla czy jego jej są który "
              "została został także",
        "tr": "ve bir bu da de için ile olarak daha çok gibi en ama ya olan kadar sonra değil her "
              "ancak ise göre",
        "id": "dan yang di ke dari untuk dengan ini itu tidak pada adalah dalam akan juga oleh atau "
              "sudah telah karena",
        "ro": "și în de la cu pe că nu este o un din pentru care mai sa au fost ca dar sunt",
        "cs": "a v se na je že to s z do o k ale jako by jsou jeho její pro není také",
        "ru": "и в не на что с по как это он она они из за от но для его к у же был была были также",
        "uk": "і в не на що з по як це він вона вони із за від але для його до у є також був була",
        "bg": "и в на за да се не с от по че е са като това той тя те но също",
    }.items()
}
# word -> languages whose list holds it: one pass over the sample's words scores every language
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _w in _words:
        _LANGUAGES_OF[_w] = _LANGUAGES_OF.get(_w, ()) + (_lang,)
# Scripts that identify a language (or a small family resolved by stopwords above).
_SCRIPT_RANGES = (
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("cyrl", re.compile(r"[\u0400-\u04ff]")),
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
# Every script above starts at U+0370 or later: a sample with no such character is Latin.
_BEYOND_LATIN = re.compile(r"[\u0370-\U0010ffff]")
_SAMPLE_CHARS = 3000
_MIN_HITS = 5


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


def _script_language(sample: str) -> str | None:
    if sample.isascii() or not _BEYOND_LATIN.search(sample):
        return None  # Latin script: the stopword lists decide
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    counts = {lang: len(rx.findall(sample)) for lang, rx in _SCRIPT_RANGES}
    # Kana marks Japanese even when Han characters dominate.
    if counts["ja"] > 0.05 * letters:
        return "ja"
    lang, count = max(counts.items(), key=lambda kv: kv[1])
    if count < 0.3 * letters:
        return None
    return lang


def detect_language(text: str) -> tuple[str | None, float]:
    """Return ``(code, confidence)``; ``(None, 0.0)`` when the text is too short or ambiguous.

    Confidence is the winner's share of stopword hits (1.0 for script-only decisions).
    """
    sample = text[:_SAMPLE_CHARS]
    script = _script_language(sample)
    candidates = _STOPWORDS
    if script and script != "cyrl":
        return script, 1.0
    if script == "cyrl":
        candidates = {k: v for k, v in _STOPWORDS.items() if k in ("ru", "uk", "bg")}
    scores = dict.fromkeys(candidates, 0)
    for word in _WORD.findall(sample.lower()):
        for lang in _LANGUAGES_OF.get(word, ()):
            if lang in scores:
                scores[lang] += 1
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    best, best_score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    total = sum(scores.values())
    if best_score < _MIN_HITS or best_score < 1.3 * runner_up:
        return None, 0.0
    return best, best_score / total
