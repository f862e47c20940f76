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

Ruby annotations (the reading printed over Japanese and Chinese characters) are made inline
text first, as a browser without ruby support shows them: "弾劾（だんがい）". Extractors took
``<ruby>`` for a block and cut the sentence around it into three paragraphs.
"""

from __future__ import annotations

import re

from lxml import etree

from .boilerplate import holds_prose
from .text import word_count

WIDGET_WORDS = 150       # a widget's labels, question and small print; a story section is longer
_MAX_SHARE = 0.4         # never remove a block holding more than this share of the page's text
_HIDDEN_CLASSES = frozenset({"hidden", "visually-hidden", "visuallyhidden", "sr-only", "screen-reader-text",
                             "screenreader-only", "a11y-hidden", "u-hidden", "is-hidden"})
_CLASS_SPLIT = re.compile(r"\s+")
_FIELD_TYPES_IGNORED = frozenset({"hidden", "submit", "button", "image", "reset"})
_STOP_TAGS = frozenset({"body", "html", "article", "main", "header", "h1"})


def _hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None:
        return True
    classes = el.get("class")
    return bool(classes) and any(c in _HIDDEN_CLASSES for c in _CLASS_SPLIT.split(classes.lower()))


def _story_parent(body: etree._Element) -> etree._Element | None:
    """The element whose ``<p>`` children hold the most words: the story's paragraphs."""
    own: dict = {}
    for para in body.iter("p"):
        parent = para.getparent()
        if parent is not None:
            own[parent] = own.get(parent, 0) + word_count(para.text_content())
    return max(own, key=own.get) if own else None


def _widgets(body: etree._Element) -> list[etree._Element]:
    fields = [el for el in body.iter("input", "select", "textarea")
              if (el.get("type") or "").lower() not in _FIELD_TYPES_IGNORED]
    if not fields:
        return []
    story = _story_parent(body)
    story_line = set(story.iterancestors()) | {story} if story is not None else set()
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


def prune_template(tree: etree._Element) -> etree._Element:
    """Inline ruby; remove hidden text, captions and interactive widgets from ``tree`` (modified and returned)."""
    body = tree.find(".//body")
    if body is None:
        return tree
    if body.find(".//ruby") is not None:
        etree.strip_tags(body, "ruby", "rb", "rt", "rp", "rtc")
    # hidden text is short: a page that hides its story until a script runs keeps it
    doomed = [el for el in body.iter(etree.Element)
              if el.tag == "figcaption" or (_hidden(el) and not holds_prose(el))]
    doomed += _widgets(body)
    if not doomed:
        return tree
    total = len(body.text_content()) or 1
    for el in doomed:
        parent = el.getparent()
        if parent is None or el.tag in _STOP_TAGS:
            continue  # already gone with an ancestor, or the page's frame
        if el.find(".//article") is not None or len(el.text_content()) > _MAX_SHARE * total:
            continue
        if el.tail and el.tail.strip():  # keep text that follows the block
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)
    return tree
