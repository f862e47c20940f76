"""Full-text search over articles, one story per syndication cluster.

The index itself (SQLite FTS5 table, PostgreSQL tsvector side table, their triggers) is
created and maintained by ``newsdesk.storage.search_index``; this module parses queries
and ranks stories.

One grammar on both databases (``parse_query``), translated to an FTS5 expression on SQLite
and to a tsquery on PostgreSQL (never through FTS5's or websearch_to_tsquery's own syntax,
which differ):

- words are ANDed; ``"a phrase"`` matches the words in that order, next to each other;
- ``OR`` (in capitals) between two terms matches either;
- ``-word``, ``-"a phrase"`` or ``NOT word`` (in capitals) excludes the articles that
  match it from the whole query; a query of exclusions alone lists every other article;
- ``word*`` matches words that start with ``word`` (after stemming, on both databases);
- an apostrophe (’ or ') splits a word, and a single letter beside it is dropped:
  ``Kremlin’s`` searches ``Kremlin``, ``l’Ukraine`` ``Ukraine``; inside a phrase the
  letter stays (``"Kremlin's forces"``);
- accents are folded (``cafe`` finds ``café``) and no word is a stop word (``the`` is
  searched like any other word). Stemming: English (Porter) for every article on SQLite,
  the article's language on PostgreSQL (``storage.search_index``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.engine import Connection, Engine

from ..storage.search_index import (
    FTS_TABLE,
    PG_SEARCH_CONFIGS,
    TSV_COLUMN,
    TSV_TABLE,
    fold_accents,
    pg_config_expr,
)
from ..times import as_utc
from ..urls import domain_of

COPY_RELATIONS = ("exact", "near", "paraphrase")

_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_LETTERS = re.compile(r"[^\W_]+")  # what both tokenizers keep of a word
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'", "`": "'"})
# a letter elided before a word (l'Ukraine, d'Italia) or a clitic after one (Kremlin's, don't)
_ELISION = re.compile(r"(?<![\w'])[^\W\d_]'(?=\w)|(?<=\w)'[^\W\d_](?![\w'])")


@dataclass(frozen=True)
class Term:
    """One searchable term: ``text`` as the database's tokenizer receives it."""

    text: str
    kind: str  # "word", "phrase" or "prefix"

    @property
    def tokens(self) -> list[str]:
        return [t.lower() for t in _LETTERS.findall(self.text)]


@dataclass
class Query:
    """AND of ``groups`` (each an OR of terms), minus any match of an ``excluded`` term."""

    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.groups or self.excluded)


def _term(raw: str, kind: str) -> Term | None:
    value = fold_accents(raw.translate(_APOSTROPHES)).replace('"', " ")
    if kind != "phrase":
        value = _ELISION.sub("", value).replace("'", " ")
    if kind == "prefix":
        value = " ".join(_LETTERS.findall(value))
    value = " ".join(value.split())
    return Term(value, kind) if _LETTERS.search(value) else None


def parse_query(query: str) -> Query:
    """A web-search style query (module docstring) as terms; anything else in it is text."""
    parsed = Query()
    pending_or = negate_next = after_term = False
    for match in _TOKEN.finditer(query):
        dash, phrase, word = match.groups()
        negate = negate_next or bool(dash)
        if word is not None:
            if word == "OR" and after_term and not negate_next:
                pending_or = True
                continue
            if word == "NOT":
                negate_next = True
                continue
            if word == "AND":
                continue
            if word.startswith("-") and word.strip("-"):
                negate, word = True, word.lstrip("-")
            term = _term(word.rstrip("*"), "prefix" if word.endswith("*") else "word")
        else:
            term = _term(phrase, "phrase")
        negate_next = False
        if term is not None and negate:
            parsed.excluded.append(term)
        elif term is not None and pending_or:
            parsed.groups[-1].append(term)
        elif term is not None:
            parsed.groups.append([term])
        after_term = term is not None and not negate
        pending_or = False
    return parsed


def _fts5_term(term: Term) -> str:
    if term.kind == "prefix":
        return '"' + " ".join(term.tokens) + '" *'
    return '"' + term.text.replace('"', '""') + '"'


def fts5_query(query: str | Query) -> str:
    """The FTS5 expression of a query's terms (empty when nothing is left to match). The
    exclusions of a query without other terms are left out: ``_hits_sql`` handles those."""
    parsed = parse_query(query) if isinstance(query, str) else query
    if not parsed.groups:
        return ""
    expr = " AND ".join(
        _fts5_term(group[0]) if len(group) == 1 else "(" + " OR ".join(map(_fts5_term, group)) + ")"
        for group in parsed.groups)
    for term in parsed.excluded:
        expr = f"({expr}) NOT {_fts5_term(term)}"
    return expr


def _pg_param(term: Term) -> str:
    return " <-> ".join(term.tokens) + ":*" if term.kind == "prefix" else term.text


def pg_tsquery(parsed: Query, config: str, names: dict[Term, str]) -> str:
    """SQL for the query's tsquery under text search configuration ``config`` (an SQL
    expression); ``names``: the bind parameter of each term's text."""
    def one(term: Term) -> str:
        function = "to_tsquery" if term.kind == "prefix" else "phraseto_tsquery"
        return f"{function}({config}, :{names[term]})"

    parts = ["(" + " || ".join(map(one, group)) + ")" for group in parsed.groups]
    parts += [f"!!{one(term)}" for term in parsed.excluded]
    return "(" + " && ".join(parts) + ")"


def query_terms(query: str) -> list[str]:
    """Lower-cased words of a query's terms, without exclusions (for snippets)."""
    return [token for group in parse_query(query).groups for term in group for token in term.tokens]


@dataclass
class Story:
    rank: int
    score: float
    cluster_id: int | None
    article_id: int  # the cluster's original (or the article itself)
    title: str | None
    url: str
    source: str | None
    domain: str | None
    published_at: datetime | None
    language: str | None
    copies: int
    matched: int
    snippet: str = ""
    copy_list: list[dict] = field(default_factory=list)
    publisher: str | None = None  # registrable domain of ``domain``

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat() if self.published_at else None
        return d




def _hits_sql(dialect: str, parsed: Query, params: dict, filters: list[str]) -> str:
    """The ``hits`` CTE: (id, cluster_id, score) of every matching article; fills ``params``."""
    where = "".join(f" AND {f}" for f in filters)
    if dialect == "postgresql":
        # Every document was stemmed with its own language's configuration, so it is matched
        # against the query parsed with that same configuration (exact, exclusions included).
        # The OR of the query under every configuration is a superset of those matches that
        # the GIN index can answer: it narrows the rows first.
        names = {}
        for term in [t for group in parsed.groups for t in group] + parsed.excluded:
            names.setdefault(term, f"t{len(names)}")
            params[names[term]] = _pg_param(term)
        tsq_any = " || ".join(pg_tsquery(parsed, f"'{c}'::regconfig", names) for c in PG_SEARCH_CONFIGS)
        own = pg_tsquery(parsed, pg_config_expr("a."), names)
        return f"""hits AS (
            SELECT a.id, a.cluster_id, ts_rank_cd(t.{TSV_COLUMN}, {own}, 1) AS score
            FROM {TSV_TABLE} t JOIN articles a ON a.id = t.article_id CROSS JOIN (SELECT ({tsq_any}) AS tsq) q
            LEFT JOIN sources s ON s.id = a.source_id
            WHERE t.{TSV_COLUMN} @@ q.tsq AND t.{TSV_COLUMN} @@ {own}{where})"""
    if not parsed.groups:  # exclusions only: every article that matches none of them, unranked
        params["q"] = " OR ".join(_fts5_term(term) for term in parsed.excluded)
        return f"""hits AS (
            SELECT a.id, a.cluster_id, 0.0 AS score FROM articles a
            LEFT JOIN sources s ON s.id = a.source_id
            WHERE a.id NOT IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q){where})"""
    # bm25 is lower-is-better: negate, and weight the title 5x. bm25() only works in the
    # full-text query itself, so that query is materialised before joins and grouping.
    params["q"] = fts5_query(parsed)
    return f"""fts AS MATERIALIZED (
            SELECT rowid AS id, -bm25({FTS_TABLE}, 5.0, 1.0) AS score
            FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :q),
        hits AS (
            SELECT a.id, a.cluster_id, f.score AS score
            FROM fts f JOIN articles a ON a.id = f.id
            LEFT JOIN sources s ON s.id = a.source_id
            WHERE 1 = 1{where})"""


def search(engine: Engine | Connection, query: str, since: datetime | date | str | None = None,
           source: str | None = None, language: str | None = None, limit: int = 20,
           with_copies: bool = True) -> list[Story]:
    """Ranked stories matching ``query`` (grammar: module docstring), each cluster collapsed
    to its original.

    Filters apply to the matching articles: ``source`` (a source's name, an article's host
    or its publisher, case insensitive: ``cnn.com`` finds edition.cnn.com too), ``language``
    (prefix match, ``en`` finds ``en-GB``) and ``since`` (published, else extracted, at or
    after). A story's score is its best match's.
    """
    if isinstance(engine, Connection):
        return _search(engine, query, since, source, language, limit, with_copies)
    with engine.connect() as conn:
        return _search(conn, query, since, source, language, limit, with_copies)


def _search(conn: Connection, query: str, since, source, language, limit, with_copies) -> list[Story]:
    dialect = conn.dialect.name
    parsed = parse_query(query)
    if not parsed:
        return []
    params: dict[str, Any] = {"limit": int(limit)}
    filters: list[str] = []
    binds = []
    if since is not None:
        filters.append("COALESCE(a.published_at, a.extracted_at) >= :since")
        params["since"] = as_utc(since)
        binds.append(bindparam("since", type_=DateTime(timezone=True)))
    if source:
        value = source.strip().lower()
        host = domain_of(value) if "/" in value else value.removeprefix("www.")
        filters.append("(lower(s.name) = :source OR a.domain = :host OR a.publisher = :host)")
        params.update(source=value, host=host)
    if language:
        filters.append("lower(a.language) LIKE :language")
        params["language"] = language.lower() + "%"
    sql = f"""
        WITH {_hits_sql(dialect, parsed, params, filters)},
        stories AS (
            SELECT COALESCE(c.original_article_id, h.id) AS story_id,
                   MAX(h.score) AS score, COUNT(*) AS matched
            FROM hits h LEFT JOIN clusters c ON c.id = h.cluster_id
            GROUP BY COALESCE(c.original_article_id, h.id)
        )
        SELECT st.story_id, st.score, st.matched, o.cluster_id, o.title, o.url, o.domain, o.publisher,
               o.published_at, o.language, src.name AS source,
               (SELECT COUNT(*) FROM articles x WHERE o.cluster_id IS NOT NULL
                    AND x.cluster_id = o.cluster_id AND x.id <> o.id) AS copies,
               o.text AS body
        FROM stories st
        JOIN articles o ON o.id = st.story_id
        LEFT JOIN sources src ON src.id = o.source_id
        ORDER BY st.score DESC, o.published_at DESC, st.story_id
        LIMIT :limit"""
    stmt = text(sql)
    if binds:
        stmt = stmt.bindparams(*binds)
    rows = conn.execute(stmt, params).all()
    terms = [token for group in parsed.groups for term in group for token in term.tokens]
    stories = []
    for i, r in enumerate(rows, 1):
        story = Story(
            rank=i, score=round(float(r.score), 6), cluster_id=r.cluster_id, article_id=r.story_id,
            title=r.title, url=r.url, source=r.source, domain=r.domain, publisher=r.publisher,
            published_at=as_utc(r.published_at), language=r.language, copies=int(r.copies or 0),
            matched=int(r.matched), snippet=snippet(r.body or "", terms),
        )
        if with_copies and story.copies:
            story.copy_list = copies_of(conn, story.cluster_id, story.article_id)
        stories.append(story)
    return stories


def copies_of(conn: Connection, cluster_id: int, original_id: int) -> list[dict]:
    rows = conn.execute(text("""
        SELECT a.id, a.url, a.domain, a.publisher, a.relation, a.similarity, a.published_at, s.name AS source
        FROM articles a LEFT JOIN sources s ON s.id = a.source_id
        WHERE a.cluster_id = :c AND a.id <> :o
        ORDER BY a.similarity DESC, a.id"""), {"c": cluster_id, "o": original_id}).all()
    return [dict(article_id=r.id, url=r.url, domain=r.domain, publisher=r.publisher, source=r.source,
                 relation=r.relation,
                 similarity=None if r.similarity is None else round(float(r.similarity), 3),
                 published_at=(as_utc(r.published_at).isoformat() if r.published_at else None))
            for r in rows]


def snippet(body: str, terms: list[str], width: int = 220) -> str:
    """The first passage of ``body`` around a query term (plain text, for display)."""
    body = " ".join(body.split())
    if not body:
        return ""
    low = body.lower()
    positions = [p for p in (low.find(t[: max(4, len(t) - 2)]) for t in terms if t) if p >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    if start:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(body), start + width)
    out = body[start:end]
    return ("…" if start else "") + out + ("…" if end < len(body) else "")


def format_stories(stories: list[Story]) -> str:
    if not stories:
        return "no matching stories"
    lines = []
    for s in stories:
        when = s.published_at.strftime("%Y-%m-%d %H:%M") if s.published_at else "undated"
        copies = f"  +{s.copies} cop{'y' if s.copies == 1 else 'ies'}" if s.copies else ""
        lines.append(f"{s.rank:>2}. {s.title or '(untitled)'}")
        lines.append(f"    {s.source or s.domain} · {when} · score {s.score:.3f}{copies}")
        lines.append(f"    {s.url}")
        if s.copy_list:
            shown = ", ".join(f"{c['source'] or c['domain']} ({c['relation']})" for c in s.copy_list[:8])
            more = f", … {len(s.copy_list) - 8} more" if len(s.copy_list) > 8 else ""
            lines.append(f"    copies: {shown}{more}")
        if s.snippet:
            lines.append(f"    {s.snippet}")
    return "\n".join(lines)
