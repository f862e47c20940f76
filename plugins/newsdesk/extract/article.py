"""``extract_article``: one HTML page in, one ``Extracted`` record out.

Pipeline: decode -> parse once -> page profile (link texts, visible paragraphs) -> what the
page says about itself (JSON-LD article, meta tags, the article's h1) -> prune boilerplate
blocks (cookie/newsletter/"Most read"/related/share/nav, embedded posts; hidden text, form
widgets, captioned pictures; ruby made inline: ``template``) -> trafilatura
(``fast=True``: its own internal readability/jusText comparison is replaced by our failover,
which runs only when needed) with metadata -> line filter -> failover extractors (trafilatura
recall, readability, the story container, jusText) when the primary text looks wrong -> best
candidate by the rule in ``choose_candidate`` (a page that is an article by its structure keeps
a short text) -> page furniture dropped, text after the end of a whole JSON-LD articleBody
dropped, standfirst put first -> headline, byline and date
(JSON-LD first) -> metadata normalisation (canonical URL, UTC date never after the capture,
2-letter language).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Extractor

from newsdesk.config import Settings
from newsdesk.times import sane_date
from newsdesk.urls import domain_of

from . import boilerplate, deadline
from .decode import decode_html
from .errors import ExtractionError
from .furniture import drop_furniture
from .headline import article_h1, choose_headline
from .interstitial import MAX_WORDS as STAND_IN_MAX_WORDS
from .interstitial import blocking_service, not_found_page
from .language import detect_language, load_model, normalise_language
from .metadata import (
    absolute_http_url,
    canonical_url,
    date_guessed_from_text,
    declared_language,
    declared_paywall,
    meta_tags,
    page_metadata,
    parse_datetime,
)
from .plaintext import unwrap_prose_blocks
from .standfirst import find_standfirst
from .structured import clean_authors, cut_after_body, read_structured
from .template import prune_template
from .text import (
    PageProfile,
    html_to_paragraphs,
    join_paragraphs,
    link_density,
    paragraphs_of,
    profile_page,
    short_line_share,
    word_count,
)

LOGGER = logging.getLogger(__name__)

# Bump whenever the output of extract_article can change for the same input;
# stored in articles.extractor ("trafilatura@<version>") so re-extraction can key on it.
EXTRACTOR_VERSION = "6"  # 6: wrapped plain-text stories in <pre> (mail archives) read as paragraphs
# 5: hidden text, widgets, pictures, teaser cards, ruby, messaging sign-ups,
#    text after the end of the JSON-LD articleBody; dates guessed from the text marked
#    (date_source 'text')
# 4: headline, byline and date from JSON-LD; standfirst; furniture; briefs; py3langid

MIN_WORDS = 25                 # fewer words than this after every fallback: no article text
FAILOVER_SHARE = 0.20          # primary text below this share of the page's visible words ...
FAILOVER_WORDS = 150           # ... and below this many words triggers the fallbacks
FAILOVER_LINK_DENSITY = 0.5    # primary text mostly link text triggers the fallbacks
MAX_LINK_DENSITY = 0.4         # a candidate above this is navigation, not an article
MAX_SHORT_LINES = 0.5          # a candidate with more short lines than this is a menu/tag cloud
REPLACE_MARGIN = 1.10          # a fallback must be this much longer than the current best to win
CONTAINER_WIDENING = 3         # ancestors the story container may widen to
PROSE_WORDS = 10               # a story's sentence: an article page keeps a text with one such paragraph

_NON_HTML_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip",
                   "application/gzip", "application/x-gzip", "application/json", "application/javascript",
                   "text/css", "text/javascript", "application/octet-stream+binary")
_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"\x00\x00\x01\x00")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_TAG_PROBE = re.compile(r"<\s*(?:!doctype|html|head|body|div|p|article|meta|title)\b", re.I)
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_JUSTEXT_STOPLISTS = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "pt": "Portuguese", "it": "Italian",
    "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian_Bokmal", "pl": "Polish", "tr": "Turkish",
    "id": "Indonesian", "ro": "Romanian", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian", "bg": "Bulgarian",
    "ar": "Arabic", "el": "Greek", "he": "Hebrew", "fi": "Finnish", "hu": "Hungarian", "ko": "Korean",
}


@dataclass
class Extracted:
    title: str | None
    text: str
    author: str | None = None            # authors joined by "; "
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None  # aware UTC, never in the future
    date_guessed: bool = False           # published_at read from a date the text mentions, not stated
    sitename: str | None = None
    language: str | None = None          # ISO 639-1
    canonical_url: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    paywalled: bool | None = None        # the page declares its content not free (see declared_paywall)
    extractor: str = "trafilatura"
    url: str = ""                        # the URL the page was fetched from

    @property
    def domain(self) -> str:
        return domain_of(self.url) if self.url else ""

    @property
    def word_count(self) -> int:
        return word_count(self.text)

    def as_fields(self) -> dict:
        """Values for the ``articles`` columns extraction owns."""
        data = asdict(self)
        del data["authors"]
        data["date_source"] = "text" if data.pop("date_guessed") and self.published_at else None
        data["domain"] = self.domain
        return data


@dataclass
class Candidate:
    extractor: str
    paragraphs: list[str]
    words: int = 0
    link_density: float = 1.0
    short_lines: float = 1.0
    longest: int = 0                     # words of the longest paragraph

    @classmethod
    def measure(cls, extractor: str, paragraphs: list[str], profile: PageProfile,
                title: str | None = None) -> Candidate:
        """Clean ``paragraphs`` with the line filter, then measure what is left."""
        paragraphs = boilerplate.filter_paragraphs(paragraphs, title, profile.link_texts)
        counts = [word_count(p) for p in paragraphs]
        return cls(
            extractor=extractor,
            paragraphs=paragraphs,
            words=sum(counts),
            link_density=link_density(paragraphs, profile, counts),
            short_lines=short_line_share(paragraphs, counts=counts),
            longest=max(counts, default=0),
        )

    @property
    def acceptable(self) -> bool:
        return self.acceptable_on(article_page=False)

    def acceptable_on(self, article_page: bool) -> bool:
        """Whether this text can be the article. On a page that is an article by its structure
        (``is_article_page``) any text with a sentence of prose and few link lines is: a brief
        of 60 words among "Listen", "2 min read" and "Share" is still the story. Elsewhere the
        text must also have MIN_WORDS words and at most MAX_SHORT_LINES short paragraphs."""
        if self.link_density > MAX_LINK_DENSITY:
            return False
        if article_page and self.longest >= PROSE_WORDS:
            return True
        return self.words >= MIN_WORDS and self.short_lines <= MAX_SHORT_LINES


def needs_failover(primary: Candidate, profile: PageProfile) -> bool:
    """The primary text is empty, short for the page, or mostly link text."""
    if primary.words == 0:
        return True
    if primary.words < FAILOVER_WORDS and primary.words < FAILOVER_SHARE * profile.visible_words:
        return True
    return primary.link_density > FAILOVER_LINK_DENSITY


def choose_candidate(candidates: list[Candidate], article_page: bool = False) -> Candidate | None:
    """The failover rule.

    Only *acceptable* candidates compete (``Candidate.acceptable_on``): link density at most
    MAX_LINK_DENSITY (share of words in paragraphs that are verbatim link texts of the page),
    and, unless the page is an article by its structure and the text has a sentence of prose,
    at least MIN_WORDS words and at most MAX_SHORT_LINES of paragraphs with <= 4 words.
    Candidates are visited in order of preference (trafilatura, trafilatura-recall,
    readability, justext); a later one replaces the current best only when it has
    more than REPLACE_MARGIN times its words. None when nobody is acceptable.
    """
    best: Candidate | None = None
    for cand in candidates:
        if not cand.acceptable_on(article_page):
            continue
        if best is None or cand.words > REPLACE_MARGIN * best.words:
            best = cand
    return best


def _html_parser() -> lxml.html.HTMLParser:
    """lxml.html's parser with a lookup in C: every element of the tree is still an
    ``HtmlElement`` (trafilatura and htmldate require one), but lxml no longer calls
    the Python-level tag lookup (form/input/label classes we never use) each time it
    wraps an element, which every walk of the tree by us and by trafilatura paid for."""
    parser = lxml.html.HTMLParser(collect_ids=False)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity,
    ))
    return parser


_HTML_PARSER = _html_parser()


def _parse(text: str) -> etree._Element:
    text = _XML_DECL.sub("", text, count=1)
    try:
        tree = lxml.html.document_fromstring(text, parser=_HTML_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError("not_html", f"unparseable HTML: {exc}") from exc
    return tree


def _check_not_html(html: bytes | str, content_type: str | None) -> None:
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime.startswith(_NON_HTML_TYPES):
        raise ExtractionError("not_html", f"content type {mime}")
    if isinstance(html, bytes) and html.lstrip()[:8].startswith(_MAGIC):
        raise ExtractionError("not_html", "binary file signature")


def _date_params() -> dict:
    return {
        "original_date": True,           # publication date, not "updated"
        "extensive_search": True,
        "deferred_url_extractor": True,  # page metadata before URL patterns
        "outputformat": _DATE_FORMAT,
        "max_date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }


# trafilatura's options for the primary extraction, built once: reading them from its
# ConfigParser costs more per page than copying the finished object.
_PRIMARY_OPTIONS = Extractor(output_format="python", fast=True, comments=False, tables=True, dedup=False)


def _primary_options(url: str) -> Extractor:
    options = copy.copy(_PRIMARY_OPTIONS)
    options.url = options.source = url
    return options


def _trafilatura_paragraphs(doc) -> list[str]:
    return paragraphs_of(doc.text or "") if doc is not None else []


def _recall(tree, url: str) -> list[str]:
    doc = trafilatura.bare_extraction(
        tree, url=url, fast=True, favor_recall=True, include_comments=False, include_tables=True, deduplicate=False,
    )
    return _trafilatura_paragraphs(doc)


def _readability(text: str, url: str) -> list[str]:
    from readability import Document

    try:
        summary = Document(text, url=url).summary(html_partial=True)
        return html_to_paragraphs(lxml.html.fragment_fromstring(summary, create_parent="div"))
    except Exception as exc:
        LOGGER.debug("readability failed on %s: %s", url, exc)
        return []


def _story_container(tree) -> list[str]:
    """The paragraphs of the element whose ``<p>`` children hold the most unlinked words, widened
    to an ancestor while that holds a quarter more (a story split into several blocks between
    advertisements): where a CMS puts the story, whatever its class says (trafilatura discards
    containers named like "sidebar-grid__content" that hold the whole story)."""
    own: dict = {}
    for para in tree.iter("p"):
        parent = para.getparent()
        if parent is not None:
            own[parent] = own.get(parent, 0) + _prose_words(para)
    if not own:
        return []
    best = max(own, key=own.get)
    total = own[best]
    for ancestor in list(best.iterancestors())[:CONTAINER_WIDENING]:
        if ancestor.tag in ("body", "html"):
            break
        words = sum(_prose_words(para) for para in ancestor.iter("p"))
        if words >= 1.25 * total:  # wrappers in between may add nothing: look past them
            best, total = ancestor, words
    return html_to_paragraphs(best)


def _prose_words(para) -> int:
    text = para.text_content()
    linked = sum(len(a.text_content()) for a in para.iter("a"))
    return word_count(text) if text and linked < 0.5 * len(text) else 0


@functools.lru_cache(maxsize=8)
def _justext_stoplist(name: str) -> frozenset[str]:
    import justext

    return frozenset(justext.get_stoplist(name))


def _justext(text: str, language: str | None) -> list[str]:
    import justext

    stoplist = _justext_stoplist(_JUSTEXT_STOPLISTS.get(language or "en", "English"))
    try:
        return [p.text.strip() for p in justext.justext(text, stoplist) if not p.is_boilerplate and p.text.strip()]
    except Exception as exc:
        LOGGER.debug("justext failed: %s", exc)
        return []


def _split_authors(author: str | None) -> list[str]:
    if not author:
        return []
    seen: dict[str, None] = {}
    for name in re.split(r"\s*;\s*", author):
        name = name.strip()
        if name and name.lower() not in {n.lower() for n in seen}:
            seen[name] = None
    return list(seen)


def _authors(names: list[str], site_names: list[str | None], url: str) -> list[str]:
    """The byline without the publisher's own name when people are named too ("Jane Doe,
    lrt.lt"); a byline that is only the publisher ("Yomiuri Online") stays."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    keys = {_name_key(name) for name in site_names if name} | {_name_key(host)}
    keys.discard("")
    labels = host.split(".")
    domain = _name_key(labels[-2]) if len(labels) >= 2 else ""  # "lesothotimes" of lesothotimes.co.ls

    def site_like(name: str) -> bool:
        key = _name_key(name)
        return key in keys or (len(domain) >= 4 and domain in key)

    people = [name for name in names if not site_like(name)]
    return people or names


def _name_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def _language(tree, doc, text: str) -> str | None:
    declared = normalise_language(declared_language(tree)) or normalise_language(getattr(doc, "language", None))
    detected, confidence = detect_language(text)
    # CMS templates often ship lang="en" on every page: a confident detection on
    # a substantial text overrides the declaration.
    if declared and detected and detected != declared and confidence >= 0.6 and word_count(text) >= 50:
        return detected
    return declared or detected


def _og_type(tree) -> str | None:
    found = tree.xpath('//meta[@property="og:type" or @name="og:type"]/@content')
    return found[0].strip().lower() if found else None


def is_article_page(tree, declared_type: str | None, structured_article: bool, metas: dict[str, str]) -> bool:
    """The page says it is an article by its structure, whatever its length: og:type article,
    a JSON-LD article object, an ``<article>`` element or an ``article:published_time``."""
    return (bool(declared_type and declared_type.startswith("article")) or structured_article
            or "article:published_time" in metas or tree.find(".//body//article") is not None)


def _is_index_page(tree, primary: Candidate) -> bool:
    """A section or topic page: it says it is not an article, and its main text is a list of links.

    Fallback extractors would otherwise return its chrome (login bar, newsletter box) as text.
    """
    declared = _og_type(tree)
    return declared is not None and declared != "article" and primary.link_density > MAX_LINK_DENSITY


def extract_article(html: bytes | str, url: str, content_type: str | None = None,
                    time_limit: float | None = Settings.extract_timeout,
                    captured_at: datetime | None = None) -> Extracted:
    """Main text and metadata of the article page ``html`` fetched from ``url``.

    ``captured_at``: when the page was fetched (an archived page: its ``WARC-Date``). A page
    cannot state a publication date later than that, so such a date (a future event found in
    the text, a broken template) is dropped, with a day's slack for local times read as UTC.
    None: now.

    Raises ``ExtractionError`` with kind ``not_html`` (binary/non-HTML body),
    ``decode`` (body is not text in any plausible charset), ``blocked`` (a bot
    challenge, firewall or geo-block page served instead of the article), ``extract_timeout``
    (still busy after ``time_limit`` seconds; None: no limit) or ``no_text``
    (no candidate has MIN_WORDS words of article-like text).
    """
    load_model()  # before the time limit starts: a load cut off would be tried again on every page
    try:
        with deadline.time_limit(time_limit):
            return _extract(html, url, content_type, captured_at)
    except deadline.Overtime:
        raise ExtractionError("extract_timeout", f"extraction took longer than {time_limit:g} s") from None


def _extract(html: bytes | str, url: str, content_type: str | None, captured_at: datetime | None) -> Extracted:
    _check_not_html(html, content_type)
    text, _charset = decode_html(html, content_type)
    if not _TAG_PROBE.search(text[:65536]):
        raise ExtractionError("not_html", "no HTML markup")
    tree = _parse(text)
    profile = profile_page(tree)
    canonical = canonical_url(tree, url)
    paywalled = declared_paywall(tree)
    structured = read_structured(tree)
    metas = meta_tags(tree)
    h1 = article_h1(tree)
    work_tree = unwrap_prose_blocks(prune_template(boilerplate.prune(tree)))

    date_params = _date_params()
    meta = page_metadata(work_tree, url, date_params)
    # before trafilatura works on the tree
    date_guessed = bool(meta.date and not parse_datetime(structured.published)
                        and date_guessed_from_text(work_tree, meta.url, date_params, meta.date))
    doc = trafilatura.bare_extraction(work_tree, options=_primary_options(url))
    candidates = [Candidate.measure("trafilatura", _trafilatura_paragraphs(doc), profile, meta.title)]
    if _is_index_page(tree, candidates[0]):
        raise ExtractionError("no_text", f"index page: declared og:type={_og_type(tree)!r} and its text is "
                                         f"{candidates[0].link_density:.0%} link lines")
    article_page = is_article_page(tree, _og_type(tree), structured.is_article, metas)
    if not candidates[0].acceptable_on(article_page) or needs_failover(candidates[0], profile):
        declared = normalise_language(declared_language(tree))
        pruned_html = lxml.html.tostring(work_tree, encoding="unicode")
        fallbacks = (
            ("trafilatura-recall", lambda: _recall(work_tree, url)),
            ("readability", lambda: _readability(pruned_html, url)),
            ("container", lambda: _story_container(work_tree)),
            ("justext", lambda: _justext(pruned_html, declared)),
        )
        for name, run in fallbacks:
            cand = Candidate.measure(name, run(), profile, meta.title)
            candidates.append(cand)
            # good enough on its own terms: no need to pay for the next extractor
            if cand.acceptable_on(article_page) and not needs_failover(cand, profile):
                break
    best = choose_candidate(candidates, article_page)
    # only short texts are looked at: a page standing in for the article never has more words
    if best is None or best.words <= STAND_IN_MAX_WORDS:
        blocker = blocking_service(text)
        if blocker is not None:
            raise ExtractionError("blocked", f"{blocker} instead of the article")
        if not_found_page([meta.title, tree.findtext(".//title")], text):
            raise ExtractionError("no_text", "a 'page not found' page answered with status 200 (a soft 404)")
    if best is None:
        summary = ", ".join(f"{c.extractor}={c.words}w/ld{c.link_density:.2f}" for c in candidates)
        raise ExtractionError("no_text", f"no article text ({summary})")
    authors = _authors(structured.authors or clean_authors(_split_authors(meta.author)),
                       [structured.publisher, meta.sitename], url)
    published = parse_datetime(structured.published) or parse_datetime(meta.date)
    title = choose_headline(tree, metas, structured.headline, h1, meta.title, meta.sitename, url)
    headlines = [title, structured.headline, h1, meta.title, tree.findtext(".//title"), metas.get("og:title")]
    paragraphs = drop_furniture(best.paragraphs, headlines, authors, profile.link_texts) or best.paragraphs
    paragraphs = cut_after_body(paragraphs, structured.body)
    descriptions = [structured.description, metas.get("og:description"), metas.get("description"),
                    metas.get("twitter:description")]
    lead = find_standfirst(lambda: profile.paragraphs, descriptions, paragraphs)
    body = join_paragraphs([lead, *paragraphs] if lead else paragraphs)
    tags = list(dict.fromkeys(t.strip() for t in (meta.tags or []) + (meta.categories or []) if t and t.strip()))
    return Extracted(
        title=title,
        text=body,
        author="; ".join(authors) or None,
        authors=authors,
        # up to a day after the capture (sites state local times as UTC), from 1900 on
        published_at=sane_date(published, captured_at),
        date_guessed=date_guessed,
        sitename=meta.sitename or None,
        language=_language(tree, meta, body),
        canonical_url=canonical,
        paywalled=paywalled,
        description=meta.description or None,
        image=absolute_http_url(meta.image, url),
        tags=tags,
        extractor=best.extractor,
        url=url,
    )
