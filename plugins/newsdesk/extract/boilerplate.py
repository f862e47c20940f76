"""Boilerplate removal around the extractors: tree pruning before, a line filter after.

Both are generic (class/id vocabulary and line shapes common to news CMSs),
never per-site rules. Pruning never removes a block that holds most of the
page's text or an ``<article>``/``<main>``, so a site that names its story
container "related-content" loses nothing.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

# Anywhere in a class/id: these compounds never name article text.
_STRONG = re.compile(
    r"cookie|consent|gdpr|newsletter|outbrain|taboola|most-?read|most-?popular|most-?viewed|"
    r"mostshared|sign-?up|paywall|subscri(?:be|ption)-?(?:box|prompt|banner|cta|wall|promo)|"
    r"social-?(?:share|links|buttons)|share-?(?:bar|buttons|tools|links)|newsletter|"
    r"read-?(?:more|next|also)|also-?read|more-?(?:stories|news|from)|related|recommend|trending|"
    r"breadcrumb|advert|sponsor|promo|teaser-?list|skip-?link|modal|popup|overlay|banner-?ad"
)
# Embedded posts of other sites: their words are never the article's, however long.
_EMBED = re.compile(r"twitter-tweet|instagram-media|tiktok-embed|bluesky-embed|threads-embed|"
                    r"wp-embedded-content|fb-post")
# Whole tokens (split on - _ space): too short or too common as substrings.
_TOKENS = frozenset(
    "ad ads share sharing social subscribe subscription popular outbrain sidebar "
    "widget widgets toolbar byline-share pagination pager print donate whatsapp telegram feedback respond".split()
)
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
_PROTECTED_TAGS = frozenset({"html", "body", "article", "main", "h1"})
_ROLE_DROP = frozenset({"dialog", "alertdialog", "navigation", "banner", "contentinfo"})
_MAX_SHARE = 0.4  # never prune a block holding more than this share of the page's text


_CHROME_TAGS = frozenset({"nav", "header", "footer"})


def _inside_story(el: etree._Element) -> bool:
    return any(anc.tag in ("article", "main") for anc in el.iterancestors())


def _is_boilerplate(el: etree._Element) -> bool:
    if el.tag == "nav" or (el.tag in _CHROME_TAGS and not _inside_story(el)):
        return True  # site chrome; <header>/<footer> inside the story hold headline and byline
    if (el.get("role") or "").lower() in _ROLE_DROP:
        return True
    return _boilerplate_names(el.get("class"), el.get("id"))


@functools.lru_cache(maxsize=4096)
def _boilerplate_names(class_: str | None, id_: str | None) -> bool:
    """Class/id vocabulary test; cached because a page repeats a few class strings hundreds of times."""
    attrs = f"{class_ or ''} {id_ or ''}".lower()
    if not attrs.strip():
        return False
    if _STRONG.search(attrs) or _EMBED.search(attrs):
        return True
    return any(tok in _TOKENS for tok in _TOKEN_SPLIT.split(attrs))


_PROSE_WORDS = 60  # unlinked words in paragraphs: more than any share bar, banner or link list carries
_STORY_SENTENCE_WORDS = 30  # inside <article>/<main>: one paragraph this long is the story's


def holds_prose(el: etree._Element, in_story: bool = False) -> bool:
    """A block with real paragraphs of unlinked text is content, whatever its class says
    (``entry-content no-share``, ``story-body related-col``): class names are hints, text is evidence.
    Inside the story's ``<article>``/``<main>`` one long paragraph is enough: CMSs split a story
    into blocks between advertisements and name them after the grid ("sidebar-grid__content")."""
    words = 0
    for para in el.iter("p"):
        text = para.text_content()
        linked = sum(len(a.text_content()) for a in para.iter("a"))
        if len(text) > 0 and linked / len(text) < 0.5:
            count = len(text.split())
            if in_story and count >= _STORY_SENTENCE_WORDS:
                return True
            words += count
            if words > _PROSE_WORDS:
                return True
    return False


def prune(tree: etree._Element) -> etree._Element:
    """Remove cookie banners, newsletter prompts, "Most read"/"Related" lists, share bars.

    Modifies and returns ``tree``.
    """
    body = tree.find(".//body")
    if body is None:
        return tree
    total = len(body.text_content()) or 1
    doomed: list[etree._Element] = []
    doomed_set: set[etree._Element] = set()
    # Only elements that can be boilerplate by _is_boilerplate's rules: chrome tags or a class/id/role.
    for el in body.xpath(".//*[@class or @id or @role] | .//nav | .//header | .//footer"):
        if el.tag in _PROTECTED_TAGS or not _is_boilerplate(el):
            continue
        if doomed_set and any(anc in doomed_set for anc in el.iterancestors()):
            continue
        if el.find(".//article") is not None or el.find(".//main") is not None:
            continue
        embed = _EMBED.search(el.get("class") or "") is not None
        if not embed and (len(el.text_content()) > _MAX_SHARE * total or holds_prose(el, _inside_story(el))):
            continue
        doomed.append(el)
        doomed_set.add(el)
    for el in doomed:
        if el.getparent() is not None:
            remove_keeping_tail(el)
    return tree


def remove_keeping_tail(el) -> None:
    """Remove ``el`` from its parent, keeping the text that follows it (its tail)."""
    parent = el.getparent()
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


_DROP_LINE = re.compile(
    r"^(?:advertisement|advert|sponsored( content)?|share( this( article| story)?)?( on \w+)?|"
    r"(click|tap) here\b.*|read more\b.{0,80}|related( articles| stories| content)?:?.*|see also:?.*|"
    r"(sign up|subscribe)\b.{0,120}|follow us\b.{0,80}|"
    r"(photo|image|picture|credit|getty images|reuters|ap photo)\s*[:/].{0,60}|"
    r"©.{0,100}|copyright\b.{0,100}|all rights reserved\.?|"
    r"(previous|next)( article| story)?|load more.*|show more.*|"
    r"\d+ (comments?|shares?)|(comments|reply|report|like)|"
    r"skip to (main )?content|accept( all)?( cookies)?|manage (preferences|cookies))$",
    re.I,
)


_MAX_LINK_LINE_WORDS = 20
_HAS_WORD = re.compile(r"\w")
_SHORT_NOTICE = re.compile(r"©|\(c\) \d{4}|all rights reserved|alle rechte vorbehalten|tous droits réservés|"
                           r"todos los derechos reservados")


def filter_paragraphs(paragraphs: list[str], title: str | None = None,
                      link_texts: frozenset[str] = frozenset()) -> list[str]:
    """Drop the repeated headline, paragraphs that are verbatim the text of a link
    on the page (menus, "Most read", related headlines), and short boilerplate
    lines ("Advertisement", "Share this article", "Read more: ...", credits)."""
    out = []
    title_norm = " ".join((title or "").lower().split())
    for para in paragraphs:
        low = " ".join(para.lower().split())
        if not _HAS_WORD.search(low):
            continue  # separators: "|", "•", "---"
        if title_norm and low == title_norm and len(out) < 3:
            continue
        if len(low) < 120 and _SHORT_NOTICE.search(low):
            continue
        bare = low.lstrip("-•* ")
        if bare in link_texts and len(bare.split()) <= _MAX_LINK_LINE_WORDS:
            continue
        if len(low) < 200 and _DROP_LINE.match(low.strip(" .!|-•")):
            continue
        out.append(para)
    return out
