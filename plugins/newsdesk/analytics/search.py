"""Full-text search over articles, one story per syndication cluster.

The index itself (SQLite FTS5 table, PostgreSQL tsvector side table, their triggers) is
created and maintained by ``newsdesk.storage.search_index``; this module parses queries
and ranks stories.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.engine import Connection, Engine

from ..storage.search_index import FTS_TABLE, PG_CONFIGS, TSV_COLUMN, TSV_TABLE, pg_config_expr
from ..times import as_utc

COPY_RELATIONS = ("exact", "near", "paraphrase")


_TOKEN = re.compile(r'"([^"]+)"|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def fts5_query(query: str) -> str:
    """A web-search style query as a safe FTS5 expression.

    Words are ANDed; "quoted text" is a phrase; ``OR`` between terms is an OR; a leading
    ``-`` excludes a word. Every term is quoted, so FTS5 syntax in user input is inert.
    """
    parts: list[str] = []
    negatives: list[str] = []
    pending_or = False
    for m in _TOKEN.finditer(query):
        phrase, word = m.group(1), m.group(2)
        if word == "OR" and parts:
            pending_or = True
            continue
        negate = bool(word and word.startswith("-") and len(word) > 1)
        words = _WORD.findall(phrase if phrase is not None else word)
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        if negate:
            negatives.append(term)
        elif pending_or:
            parts[-1] = f"({parts[-1]} OR {term})"
        else:
            parts.append(term)
        pending_or = False
    if not parts:
        return ""
    expr = " AND ".join(parts)
    for neg in negatives:
        expr = f"({expr}) NOT {neg}"
    return expr


def query_terms(query: str) -> list[str]:
    """Lower-cased words of a query, without exclusions and OR (for snippets)."""
    out = []
    for m in _TOKEN.finditer(query):
        chunk = m.group(1) or m.group(2)
        if chunk == "OR" or (m.group(2) and chunk.startswith("-")):
            continue
        out.extend(w.lower() for w in _WORD.findall(chunk))
    return out


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

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["published_at"] = self.published_at.isoformat() if self.published_at else None
        return d




def _hits_sql(dialect: str, filters: list[str]) -> str:
    where = "".join(f" AND {f}" for f in filters)
    if dialect == "postgresql":
        # One tsquery per configuration (stemmed the way each language's documents were),
        # ORed: an English query term still finds German-stemmed words spelt the same.
        # Every document was stemmed with its own language's configuration, so it is matched
        # against the query parsed with that same configuration (exact, negations included).
        # The OR of the query under every configuration is a superset of those matches that
        # the GIN index can answer: it narrows the rows first.
        configs = sorted(set(PG_CONFIGS.values())) + ["simple"]
        tsq_any = " || ".join(f"websearch_to_tsquery('{c}', :q)" for c in configs)
        own = f"websearch_to_tsquery({pg_config_expr('a.')}, :q)"
        return f"""hits AS (
            SELECT a.id, a.cluster_id, ts_rank_cd(t.{TSV_COLUMN}, {own}, 1) AS score
            FROM {TSV_TABLE} t JOIN articles a ON a.id = t.article_id CROSS JOIN (SELECT ({tsq_any}) AS tsq) q
            LEFT JOIN sources s ON s.id = a.source_id
            WHERE t.{TSV_COLUMN} @@ q.tsq AND t.{TSV_COLUMN} @@ {own}{where})"""
    # bm25 is lower-is-better: negate, and weight the title 5x. bm25() only works in the
    # full-text query itself, so that query is materialised before joins and grouping.
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
    """Ranked stories matching ``query``: each cluster collapsed to its original.

    Filters apply to the matching articles: ``source`` (source name or domain, case
    insensitive), ``language`` (prefix match, ``en`` finds ``en-GB``) and ``since``
    (published, else extracted, at or after). A story's score is its best match's.
    """
    if isinstance(engine, Connection):
        return _search(engine, query, since, source, language, limit, with_copies)
    with engine.connect() as conn:
        return _search(conn, query, since, source, language, limit, with_copies)


def _search(conn: Connection, query: str, since, source, language, limit, with_copies) -> list[Story]:
    dialect = conn.dialect.name
    params: dict[str, Any] = {"limit": int(limit)}
    if dialect == "sqlite":
        params["q"] = fts5_query(query)
    else:
        params["q"] = query
    if not params["q"].strip():
        return []
    filters: list[str] = []
    binds = []
    if since is not None:
        filters.append("COALESCE(a.published_at, a.extracted_at) >= :since")
        params["since"] = as_utc(since)
        binds.append(bindparam("since", type_=DateTime(timezone=True)))
    if source:
        filters.append("(lower(s.name) = :source OR lower(a.domain) = :source)")
        params["source"] = source.lower()
    if language:
        filters.append("lower(a.language) LIKE :language")
        params["language"] = language.lower() + "%"
    sql = f"""
        WITH {_hits_sql(dialect, filters)},
        stories AS (
            SELECT COALESCE(c.original_article_id, h.id) AS story_id,
                   MAX(h.score) AS score, COUNT(*) AS matched
            FROM hits h LEFT JOIN clusters c ON c.id = h.cluster_id
            GROUP BY COALESCE(c.original_article_id, h.id)
        )
        SELECT st.story_id, st.score, st.matched, o.cluster_id, o.title, o.url, o.domain,
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
    terms = query_terms(query)
    stories = []
    for i, r in enumerate(rows, 1):
        story = Story(
            rank=i, score=round(float(r.score), 6), cluster_id=r.cluster_id, article_id=r.story_id,
            title=r.title, url=r.url, source=r.source, domain=r.domain,
            published_at=as_utc(r.published_at), language=r.language, copies=int(r.copies or 0),
            matched=int(r.matched), snippet=snippet(r.body or "", terms),
        )
        if with_copies and story.copies:
            story.copy_list = copies_of(conn, story.cluster_id, story.article_id)
        stories.append(story)
    return stories


def copies_of(conn: Connection, cluster_id: int, original_id: int) -> list[dict]:
    rows = conn.execute(text("""
        SELECT a.id, a.url, a.domain, a.relation, a.similarity, a.published_at, s.name AS source
        FROM articles a LEFT JOIN sources s ON s.id = a.source_id
        WHERE a.cluster_id = :c AND a.id <> :o
        ORDER BY a.similarity DESC, a.id"""), {"c": cluster_id, "o": original_id}).all()
    return [dict(article_id=r.id, url=r.url, domain=r.domain, source=r.source, relation=r.relation,
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
