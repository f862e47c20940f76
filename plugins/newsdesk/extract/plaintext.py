"""Prose in ``<pre>``: a story posted as plain text (mailing-list archives, plain-text mirrors).

A message archived by Mailman/pipermail, hypermail or a list server is plain text in a
``<pre>``, its lines wrapped at about 72 characters: read as it stands, every line of the story
is a paragraph. Such a block is rewritten as paragraphs before extraction: the lines of each
blank-line-separated paragraph joined, e-mail quote marks ("> ") dropped, and the signature
after the "-- " line (the mail convention) removed. Code, tables and verse keep their lines:
only a block whose lines are mostly prose, wrapped near one width, is touched.
"""

from __future__ import annotations

import re

from lxml import etree

MIN_LINES = 6
MIN_WRAPPED_SHARE = 0.6  # of the lines in paragraphs of two or more lines: long enough to be wrapped
WRAP_MIN, WRAP_MAX = 40, 100  # characters of a wrapped line
MAX_CODE_SHARE = 0.1
_CODE = re.compile(r"[{};<>=]\s*$|^\s*(?:def|class|import|return|if|for|while|#include|function)\b|^\s{4,}\S")
_QUOTE_MARK = re.compile(r"^(?:\s*>)+ ?")
_SIGNATURE = re.compile(r"^-- ?$")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _is_prose(lines: list[str]) -> bool:
    filled = [line for line in lines if line.strip()]
    if len(filled) < MIN_LINES:
        return False
    if sum(1 for line in filled if _CODE.search(line)) > MAX_CODE_SHARE * len(filled):
        return False
    # a wrapped paragraph: every line but its last is near the wrapping width and made of words
    inner = [line for line, following in zip(lines, lines[1:]) if line.strip() and following.strip()]
    if len(inner) < MIN_LINES // 2:
        return False
    wrapped = sum(1 for line in inner if WRAP_MIN <= len(line.rstrip()) <= WRAP_MAX and len(_WORD.findall(line)) >= 5)
    return wrapped >= MIN_WRAPPED_SHARE * len(inner)


def paragraphs(text: str) -> list[str] | None:
    """The paragraphs of a plain-text story (lines joined, quote marks and signature dropped),
    or None when ``text`` is not wrapped prose."""
    lines = [_QUOTE_MARK.sub("", line) for line in text.replace("\r\n", "\n").split("\n")]
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line):
            lines = lines[:i]
            break
    if not _is_prose(lines):
        return None
    out, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append(" ".join(current))
            current = []
    return out


def unwrap_prose_blocks(tree: etree._Element) -> etree._Element:
    """Every ``<pre>`` of ``tree`` holding wrapped prose becomes a ``<div>`` of ``<p>`` (modified
    and returned)."""
    for pre in list(tree.iter("pre")):
        if pre.getparent() is None:
            continue
        found = paragraphs(pre.text_content())
        if not found:
            continue
        div = etree.Element("div")
        for text in found:
            etree.SubElement(div, "p").text = text
        div.tail = pre.tail
        pre.getparent().replace(pre, div)
    return tree
