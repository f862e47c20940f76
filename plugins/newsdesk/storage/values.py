"""Values that fit the warehouse, on both databases: every load passes its rows through here.

SQLite stores whatever it is given; PostgreSQL refuses a NUL character in a text
(``text fields cannot contain NUL``), a lone UTF-16 surrogate (not encodable as UTF-8), a
string longer than its ``varchar(n)`` and a datetime Python cannot hold in UTC. One such value
used to fail a whole batch (a feed, an archive file) on PostgreSQL alone. Here:

- text: NUL removed, lone surrogates replaced by U+FFFD, ``varchar(n)`` clipped to n
  characters (a host name of 300 characters is not a DNS name anyway: at most 253), an
  indexed ``text`` (a feed's GUID) to ``INDEXED_TEXT_BYTES`` of UTF-8 (a B-tree entry of
  PostgreSQL holds at most 2,704 bytes; URLs are kept shorter by ``urls.url_problem``);
- JSON: the same for every string inside, keys included;
- datetimes: aware UTC, or None when not representable.

``SEARCH_TEXT_CHARS`` bounds the text a full-text vector is built from (PostgreSQL refuses a
``tsvector`` above 1 MB: a page of 100,000 distinct words reaches it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Table

from ..times import to_utc

# At most 4 bytes of lexeme and 6 of position and entry per character: below 1 MB.
SEARCH_TEXT_CHARS = 100_000

INDEXED_TEXT_BYTES = 2000

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """``value`` without NUL characters and lone surrogates (cheap when it has neither)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")  # in C: ~25 times faster than searching for surrogates
        except UnicodeEncodeError:
            value = _SURROGATE.sub("\ufffd", value)
    return value


def clean_json(value):
    """Every string of a JSON value (keys too) through ``clean_text``."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value


def _text_fitter(length: int | None) -> Callable:
    def fit(value):
        if not isinstance(value, str):
            return value
        value = clean_text(value)
        return value[:length] if length is not None and len(value) > length else value
    return fit


def _indexed_text_fitter(value):
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    if len(value) * 4 <= INDEXED_TEXT_BYTES:
        return value
    data = value.encode("utf-8")
    return value if len(data) <= INDEXED_TEXT_BYTES else data[:INDEXED_TEXT_BYTES].decode("utf-8", "ignore")


def _datetime_fitter(value):
    return to_utc(value) if isinstance(value, datetime) else value


def _json_fitter(value):
    return clean_json(value) if value is not None else None


def _indexed(table: Table) -> set[str]:
    names = {c.name for index in table.indexes for c in index.columns}
    names |= {c.name for c in table.columns if c.unique or c.index}
    for constraint in table.constraints:
        names |= {c.name for c in getattr(constraint, "columns", ())}
    return names


def _fitter(column, indexed: bool) -> Callable | None:
    kind = column.type
    if isinstance(kind, String):  # Text is a String without a length
        return _indexed_text_fitter if indexed and kind.length is None else _text_fitter(kind.length)
    if isinstance(kind, JSON):
        return _json_fitter
    if isinstance(kind, DateTime):
        return _datetime_fitter
    return None


_FITTERS: dict[str, dict[str, Callable]] = {}


def _fitters(table: Table) -> dict[str, Callable]:
    found = _FITTERS.get(table.name)
    if found is None:
        indexed = _indexed(table)
        found = _FITTERS[table.name] = {c.name: f for c in table.columns
                                        if (f := _fitter(c, c.name in indexed)) is not None}
    return found


def fit_row(table: Table, row: dict) -> dict:
    """A copy of ``row`` (column name -> value, for an insert or an update of ``table``) whose
    values the warehouse accepts on both databases."""
    fitters = _fitters(table)
    return {k: (fitters[k](v) if k in fitters and v is not None else v) for k, v in row.items()}


def fit_rows(table: Table, rows: Iterable[dict]) -> list[dict]:
    return [fit_row(table, row) for row in rows]


def clip(value: str | None, length: int) -> str | None:
    """``value`` cleaned and at most ``length`` characters (messages kept in bounded columns)."""
    if value is None:
        return None
    value = clean_text(value)
    return value[:length]
