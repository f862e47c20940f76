"""Loading evaluation articles into a warehouse the way the pipeline does (pages + articles)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from newsdesk.storage.loads import insert_ignore, utcnow
from newsdesk.storage.schema import articles, pages, sources
from newsdesk.urls import publisher_of


def source_id(conn: Connection, name: str, domain: str) -> int:
    insert_ignore(conn, sources, [dict(name=name, domain=domain, homepage=f"https://{domain}/",
                                       in_registry=True, created_at=utcnow())], ["name"])
    return conn.execute(select(sources.c.id).where(sources.c.name == name)).scalar_one()


def insert_articles(engine: Engine, arts: list[dict]) -> dict[str, int]:
    """Insert articles (dicts from generate.build or realistic.assemble) as pending, in id order
    of ``arts``; returns url -> article id. Optional keys: ``fetched_at`` (the page's fetch),
    ``date_source`` and ``language``. Multi-row inserts (RETURNING in parameter order), so loading
    is not what a scale benchmark measures."""
    if not arts:
        return {}
    now = utcnow()
    with engine.begin() as conn:
        cache: dict[str, int] = {}
        for a in arts:
            if a["source_name"] not in cache:
                cache[a["source_name"]] = source_id(conn, a["source_name"], a["domain"])
        page_ids = conn.execute(
            pages.insert().returning(pages.c.id, sort_by_parameter_order=True),
            [dict(url=a["url"], source_id=cache[a["source_name"]], origin="feed", state="extracted",
                  discovered_at=now, fetched_at=a.get("fetched_at")) for a in arts]).scalars().all()
        article_ids = conn.execute(
            articles.insert().returning(articles.c.id, sort_by_parameter_order=True),
            [dict(page_id=pid, source_id=cache[a["source_name"]], url=a["url"], canonical_url=a.get("canonical_url"),
                  domain=a["domain"], publisher=publisher_of(a["domain"]), title=a["title"], text=a["text"],
                  published_at=a.get("published_at"),
                  word_count=len(a["text"].split()), text_sha256=hashlib.sha256(a["text"].encode()).hexdigest(),
                  extracted_at=now, dedup_state="pending", date_source=a.get("date_source"),
                  language=a.get("language") or None) for pid, a in zip(page_ids, arts)]).scalars().all()
    return {a["url"]: aid for a, aid in zip(arts, article_ids)}


def partition(engine: Engine) -> tuple[set[frozenset[str]], dict[frozenset[str], str]]:
    """Clusters as sets of urls, and each cluster's original url."""
    with engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, articles.c.cluster_id)).all()
        from newsdesk.storage.schema import clusters
        orig = dict(conn.execute(select(clusters.c.id, articles.c.url).join(
            articles, articles.c.id == clusters.c.original_article_id)).all())
    groups: dict[int, set[str]] = {}
    for url, cid in rows:
        groups.setdefault(cid, set()).add(url)
    parts = {frozenset(g) for g in groups.values()}
    originals = {frozenset(g): orig.get(cid) for cid, g in groups.items()}
    return parts, originals
