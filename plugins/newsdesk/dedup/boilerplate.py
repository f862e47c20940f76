"""Site boilerplate learned from repetition across a domain's articles (warehouse tables).

Only the edge paragraphs of an article (first ``HEAD`` and last ``TAIL``) are observed:
templates put their furniture there, and it keeps ``site_paragraphs`` small. A
paragraph observed in >= ``MIN_ARTICLES`` distinct clusters of one domain is learned
into ``site_boilerplate`` and stripped from that domain's later articles. Counting
clusters, not rows, means an article's own text — or the same story posted twice by
the site — can never become boilerplate.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..storage.loads import insert_ignore, utcnow
from ..storage.schema import site_boilerplate, site_paragraphs
from .clean import paragraph_hash, paragraphs

MIN_ARTICLES = 3
HEAD, TAIL = 2, 4
MIN_WORDS = 3  # one- and two-word lines are handled by the line rules, not learned


def known(conn: Connection, domain: str | None, text: str) -> frozenset[int]:
    """Learned boilerplate hashes among this text's paragraphs."""
    if not domain:
        return frozenset()
    hashes = list({paragraph_hash(p) for p in paragraphs(text)})
    if not hashes:
        return frozenset()
    rows = conn.execute(select(site_boilerplate.c.paragraph_hash).where(
        site_boilerplate.c.domain == domain, site_boilerplate.c.paragraph_hash.in_(hashes)))
    return frozenset(rows.scalars())


def observe(conn: Connection, domain: str | None, text: str, cluster_id: int, already: frozenset[int]) -> int:
    """Record the edge paragraphs of an article; returns how many paragraphs became boilerplate."""
    if not domain:
        return 0
    paras = paragraphs(text)
    edge = paras[:HEAD] + paras[max(HEAD, len(paras) - TAIL):]
    sample = {}
    for p in edge:
        if len(p.split()) >= MIN_WORDS:
            h = paragraph_hash(p)
            if h not in already:
                sample.setdefault(h, p)
    if not sample:
        return 0
    insert_ignore(conn, site_paragraphs,
                  [dict(domain=domain, paragraph_hash=h, cluster_id=cluster_id) for h in sample],
                  ["domain", "paragraph_hash", "cluster_id"])
    counts = conn.execute(
        select(site_paragraphs.c.paragraph_hash, func.count())
        .where(site_paragraphs.c.domain == domain, site_paragraphs.c.paragraph_hash.in_(list(sample)))
        .group_by(site_paragraphs.c.paragraph_hash)
        .having(func.count() >= MIN_ARTICLES)
    ).all()
    now = utcnow()
    insert_ignore(conn, site_boilerplate,
                  [dict(domain=domain, paragraph_hash=h, count=n, sample=sample[h][:500], learned_at=now)
                   for h, n in counts],
                  ["domain", "paragraph_hash"])
    return len(counts)
