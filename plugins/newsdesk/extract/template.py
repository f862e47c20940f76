"""Template blocks that no class name gives away, removed from the tree before the extractors.

``boilerplate.prune`` reads class and id names; these rules read what a block *is*:

- hidden text: the ``hidden`` attribute, and the classes every CSS framework gives to text
  hidden from sight ("hidden", "visually-hidden", "sr-only"): disclaimers shown by a script
  later, "Article content" labels for screen readers, teasers hidden on small screens. The
  story is shown on every screen.
- captions: ``<figcaption>`` describes a picture, it is not the story's text (trafilatura
  leaves it out; the fallback extractors did not).
- interactive widgets: the block around a form field (a radio button, a checkbox, a text or
  e-mail field, a select): polls, ratings, donation forms, consent toggles in front of
  embedded content, newsletter sign-ups, comment forms. Buttons alone are no sign (share
  bars and players in the story's header have them). The block is the largest ancestor of
  the field with at most WIDGET_WORDS words that stays outside the story's paragraphs and
  its header.
- teaser cards: a link around a heading (and often a picture and a summary) is another
  page's headline, wherever it stands ("more on this" lists inside the story's container).
- picture blocks: an image with a caption, a credit or a portrait's name under it in plain
  ``<div>``s (no ``<figure>``), outside the story's paragraphs and holding no heading.

Ruby annotations (the reading printed over Japanese and Chinese characters) are made inline
text first, as a browser without ruby support shows them: "弾劾（だんがい）". Extractors took
``<ruby>`` for a block and cut the sentence around it into three paragraphs.
"""

from __future__ import annotations

import functools
import re

from lxml import etree

from .boilerplate import holds_prose, remove_keeping_tail
from .text import BLOCK_TAGS, word_count

FIGURE_WORDS = 40        # a caption and a credit
_FIGURE_CHARS = 1000     # longer than any FIGURE_WORDS words: no need to count them
WIDGET_WORDS = 150       # a widget's labels, question and small print; a story section is longer
_MAX_SHARE = 0.4         # never remove a block holding more than this share of the page's text
_HIDDEN_CLASSES = frozenset({"hidden", "visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text",
                             "screenreader-only", "a11y-hidden", "u-hidden", "is-hidden"})
_HEADING = etree.XPath("boolean(.//h1 | .//h2 | .//h3)")
_TEASER_CARDS = etree.XPath(".//a[.//h2 or .//h3 or .//h4 or .//h5 or .//h6]")
_CLASS_SPLIT = re.compile(r"\s+")
_FIELD_TYPES_IGNORED = frozenset({"hidden", "submit", "button", "image", "reset"})
_STOP_TAGS = frozenset({"body", "html", "article", "main", "header", "h1"})


def _hidden_or_caption(el: etree._Element) -> bool:
    return el.tag == "figcaption" or el.get("hidden") is not None or _hidden_classes(el.get("class"))


@functools.lru_cache(maxsize=4096)
def _hidden_classes(classes: str | None) -> bool:
    """Cached: a page repeats a few class strings hundreds of times."""
    return bool(classes) and not _HIDDEN_CLASSES.isdisjoint(_CLASS_SPLIT.split(classes.lower()))


def _story_parent(body: etree._Element) -> etree._Element | None:
    """The element whose ``<p>`` children hold the most words: the story's paragraphs."""
    own: dict = {}
    for para in body.iter("p"):
        parent = para.getparent()
        if parent is not None:
            own[parent] = own.get(parent, 0) + word_count(para.text_content())
    return max(own, key=own.get) if own else None


def _story_line(body: etree._Element) -> set:
    """The story's paragraphs' parent and its ancestors: a block among them is no widget."""
    story = _story_parent(body)
    return set(story.iterancestors()) | {story} if story is not None else set()


def _widgets(body: etree._Element, story_line: set) -> list[etree._Element]:
    fields = [el for el in body.iter("input", "select", "textarea")
              if (el.get("type") or "").lower() not in _FIELD_TYPES_IGNORED]
    blocks: list[etree._Element] = []
    for field in fields:
        block = None
        for ancestor in field.iterancestors():
            if ancestor in story_line or ancestor.tag in _STOP_TAGS or ancestor.find(".//h1") is not None:
                break
            if word_count(ancestor.text_content()) > WIDGET_WORDS:
                break
            block = ancestor
        if block is not None:
            blocks.append(block)
    return blocks


def _figures(body: etree._Element, story_line: set) -> list[etree._Element]:
    """Blocks of a picture and a few words (a caption, a credit, a portrait's name and title)
    that are not marked ``<figure>``: the largest block around an image with at most FIGURE_WORDS
    words, outside the story's paragraphs and its header, holding no heading and no prose."""
    blocks: list[etree._Element] = []
    too_big: set = set()  # ancestors already found too large: images share them
    for image in body.iter("img", "picture", "video"):
        block = None
        for ancestor in image.iterancestors():
            if ancestor in too_big or ancestor in story_line or ancestor.tag in _STOP_TAGS or ancestor.tag == "a":
                break
            text = ancestor.text_content()
            if len(text) > _FIGURE_CHARS or word_count(text) > FIGURE_WORDS or _HEADING(ancestor):
                too_big.add(ancestor)  # a headline or a standfirst in a heading: the article's top
                break
            if ancestor.tag in BLOCK_TAGS:  # an image inside a line of text takes no words with it
                block = ancestor
        if block is not None and block not in blocks and not holds_prose(block, in_story=True):
            blocks.append(block)
    return blocks


def prune_template(tree: etree._Element) -> etree._Element:
    """Inline ruby; remove hidden text, captions, widgets, teaser cards and picture blocks from ``tree``
    (modified and returned)."""
    body = tree.find(".//body")
    if body is None:
        return tree
    if body.find(".//ruby") is not None:
        etree.strip_tags(body, "ruby", "rb", "rt", "rp", "rtc")
    # hidden text is short: a page that hides its story until a script runs keeps it
    doomed = [el for el in body.iter(etree.Element)
              if _hidden_or_caption(el) and (el.tag == "figcaption" or not holds_prose(el))]
    story_line = _story_line(body)
    doomed += _widgets(body, story_line) + _figures(body, story_line)
    doomed += [card for card in _TEASER_CARDS(body) if not holds_prose(card)]
    if not doomed:
        return tree
    total = len(body.text_content()) or 1
    for el in doomed:
        parent = el.getparent()
        if parent is None or el.tag in _STOP_TAGS:
            continue  # already gone with an ancestor, or the page's frame
        if el.find(".//article") is not None or len(el.text_content()) > _MAX_SHARE * total:
            continue
        remove_keeping_tail(el)
    return tree
