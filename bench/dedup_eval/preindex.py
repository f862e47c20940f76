"""Bulk-building the warehouse state that dedup would leave after a million generated articles.

Reaching 1M indexed articles through ``dedup_pending`` itself takes hours, so the scale
benchmark builds that state directly and measures dedup on the articles that arrive next.
Everything an index row holds is computed by the library's own functions — cleaning with
the learned boilerplate, signatures, LSH bands, stored features, and each copy's verdict
against its original (``dedup.verification.verify_pair``) — only the choice of which articles to
compare comes from the generator's ground truth (a story's copies against its base).
``bench/dedup_quality`` shows dedup reaching exactly those clusters (precision and recall
1.000), and a copy whose verdict does not hold becomes an original of its own, as in dedup.

Rows written, as dedup's flush writes them: pages and articles (``done``, clean text,
cluster, relation), clusters, dedup_links, dedup_signatures (numbers and names included),
lsh_buckets for originals only, site_boilerplate (what repetition teaches) and
site_paragraphs (the edge-paragraph observations).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

from newsdesk.dedup.boilerplate import HEAD, MIN_ARTICLES, MIN_WORDS, TAIL
from newsdesk.dedup.claim import publication_day
from newsdesk.dedup.clean import clean, paragraph_hash, paragraphs
from newsdesk.dedup.signatures import feature_bytes, index_buckets, to_bytes
from newsdesk.dedup.verification import signed, verify_pair
from newsdesk.storage.schema import (
    articles,
    clusters,
    dedup_links,
    dedup_signatures,
    lsh_buckets,
    pages,
    site_boilerplate,
    site_paragraphs,
    sources,
)

from .generate import build

BASES_PER_SEED = 20
EXTRACTED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)


def seed_articles(seed: int) -> list[dict]:
    """One generator seed's articles, with seed-unique URLs and dates spread over 60 days."""
    out = []
    for a in build(seed, BASES_PER_SEED):
        a = dict(a)
        a["url"] = a["url"].replace("/news/", f"/news/{seed}-")
        if a.get("canonical_url"):
            a["canonical_url"] = a["canonical_url"].replace("/news/", f"/news/{seed}-")
        if a.get("base_url"):
            a["base_url"] = a["base_url"].replace("/news/", f"/news/{seed}-")
        a["published_at"] = a["published_at"] + timedelta(days=(seed * 7) % 60)
        a["story"] = f"{seed}:{a['story']}"
        out.append(a)
    return out


def _edges(text_: str):
    """(hash, paragraph) of the paragraphs dedup observes for boilerplate learning."""
    ps = paragraphs(text_)
    n = len(ps)
    for i in list(range(min(HEAD, n))) + list(range(max(HEAD, n - TAIL), n)):
        if len(ps[i].split()) >= MIN_WORDS:
            yield paragraph_hash(ps[i]), ps[i]


def learned_boilerplate(seeds) -> dict[str, dict[int, str]]:
    """Per domain, the edge paragraphs seen in >= MIN_ARTICLES stories of the given seeds: what
    dedup learns. Given too few seeds, a rarer repeated line (a "Continue reading at <outlet>"
    pairing) is never learned and keeps collecting observations, where dedup would have learned
    it after MIN_ARTICLES clusters: 3 seeds miss 94 of the 168 pairs that 30 seeds find (and
    100 or 200 seeds find no more)."""
    stories: dict[tuple[str, int], set[str]] = defaultdict(set)
    sample: dict[int, str] = {}
    for seed in seeds:
        for a in seed_articles(seed):
            for h, p in _edges(a["text"]):
                stories[(a["domain"], h)].add(a["story"])
                sample[h] = p
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for (domain, h), found in stories.items():
        if len(found) >= MIN_ARTICLES:
            out[domain][h] = sample[h]
    return dict(out)


def index_seed(seed: int, learned: dict[str, dict[int, str]]) -> list[dict]:
    """Everything dedup would store for one seed's articles (ids not yet assigned)."""
    arts = seed_articles(seed)
    rows = []
    by_url = {}
    for a in arts:
        known_here = learned.get(a["domain"], {})
        hashes = [paragraph_hash(p) for p in paragraphs(a["text"])]
        cleaned = clean(a["text"], a["title"], frozenset(h for h in hashes if h in known_here))
        sig, doc = signed(cleaned.text)
        buckets = sig.buckets
        r = dict(a, clean_text=cleaned.text, attribution=cleaned.attribution, key=doc.key, doc=doc,
                 minhash=to_bytes(sig.minhash) if any(s < 100 for s, _ in buckets) else None,
                 lexhash=to_bytes(sig.lexhash) if any(s >= 100 for s, _ in buckets) else None,
                 buckets=index_buckets(sig, doc.feature_hashes),
                 token_count=len(sig.tokens), numbers=feature_bytes(doc.numbers),
                 names=feature_bytes(doc.names), pub_day=publication_day(a["published_at"], None, EXTRACTED_AT),
                 edges=[h for h, _ in _edges(a["text"]) if h not in known_here], verdict=None)
        rows.append(r)
        by_url[a["url"]] = r
    for r in rows:
        base = by_url.get(r.get("base_url") or "")
        if base is None:
            continue
        v = verify_pair(SimpleNamespace(url=r["url"], canonical_url=r["canonical_url"]), r["doc"],
                    SimpleNamespace(url=base["url"], canonical_url=base["canonical_url"]), base["doc"])
        if v.matched:
            r["verdict"] = (v.relation, v.similarity, v.method, v.evidence)
    for r in rows:
        del r["doc"]
    return rows


class _Ids:
    def __init__(self, engine: Engine):
        with engine.connect() as conn:
            self.page = conn.execute(select(func.coalesce(func.max(pages.c.id), 0))).scalar_one()
            self.article = conn.execute(select(func.coalesce(func.max(articles.c.id), 0))).scalar_one()
            self.cluster = conn.execute(select(func.coalesce(func.max(clusters.c.id), 0))).scalar_one()


def _table_rows(rows: list[dict], ids: _Ids, source_ids: dict[str, int], now: datetime):
    """Warehouse rows for indexed articles (in generator order): table -> list of row dicts."""
    out = defaultdict(list)
    cluster_of_url: dict[str, tuple[int, int]] = {}  # base url -> (cluster id, original article id)
    for r in rows:
        ids.page += 1
        ids.article += 1
        aid = ids.article
        base = cluster_of_url.get(r.get("base_url") or "") if r["verdict"] else None
        if base is None:
            ids.cluster += 1
            cid, oid = ids.cluster, aid
            cluster_of_url[r["url"]] = (cid, aid)
            out["clusters"].append(dict(id=cid, original_article_id=aid, created_at=now, updated_at=now))
            relation, similarity = "original", 1.0
            link = dict(article_id=aid, original_article_id=aid, relation="original", similarity=1.0,
                        method="original", evidence={}, decided_at=now)
            out["lsh_buckets"].extend(dict(scheme=s, bucket=b, article_id=aid, pub_day=r["pub_day"])
                                      for s, b in r["buckets"])
        else:
            cid, oid = base
            relation, similarity, method, evidence = r["verdict"]
            link = dict(article_id=aid, original_article_id=oid, relation=relation, similarity=similarity,
                        method=method, evidence=dict(evidence, routes=["lsh"]), decided_at=now)
        sid = source_ids[r["source_name"]]
        out["pages"].append(dict(id=ids.page, url=r["url"], source_id=sid, origin="feed", state="extracted",
                                 attempts=0, discovered_at=now))
        out["articles"].append(dict(
            id=aid, page_id=ids.page, source_id=sid, url=r["url"], canonical_url=r["canonical_url"],
            domain=r["domain"], title=r["title"], text=r["text"], clean_text=r["clean_text"],
            published_at=r["published_at"], attribution=r["attribution"], word_count=len(r["text"].split()),
            text_sha256=hashlib.sha256(r["text"].encode()).hexdigest(), clean_sha256=r["key"],
            extracted_at=EXTRACTED_AT, dedup_state="done", cluster_id=cid, relation=relation,
            similarity=similarity))
        out["dedup_links"].append(link)
        out["dedup_signatures"].append(dict(article_id=aid, minhash=r["minhash"], lexhash=r["lexhash"],
                                            pub_day=r["pub_day"], token_count=r["token_count"],
                                            numbers=r["numbers"], names=r["names"]))
        out["site_paragraphs"].extend(dict(domain=r["domain"], paragraph_hash=h, cluster_id=cid)
                                      for h in dict.fromkeys(r["edges"]))
    return out


_ORDER = [("pages", pages), ("articles", articles), ("clusters", clusters), ("dedup_links", dedup_links),
          ("dedup_signatures", dedup_signatures), ("lsh_buckets", lsh_buckets), ("site_paragraphs", site_paragraphs)]


def _copy(conn, table, rows: list[dict]) -> None:
    """PostgreSQL COPY: the only way to load tens of millions of rows in minutes."""
    if not rows:
        return
    cols = list(rows[0])
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row([json.dumps(v) if isinstance(v, dict) else v for v in (row[c] for c in cols)])


class Preindexer:
    """Writes indexed articles into one warehouse, chunk after chunk, with fresh ids."""

    def __init__(self, engine: Engine, learned: dict[str, dict[int, str]]):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        self.ids = _Ids(engine)
        self.source_ids: dict[str, int] = {}
        self.stats = Counter()
        now = datetime.now(timezone.utc)
        with engine.begin() as conn:
            have = set(conn.execute(select(site_boilerplate.c.domain, site_boilerplate.c.paragraph_hash)).all())
            rows = [dict(domain=d, paragraph_hash=h, count=MIN_ARTICLES, sample=p[:500], learned_at=now)
                    for d, hs in learned.items() for h, p in hs.items() if (d, h) not in have]
            if rows:
                conn.execute(insert(site_boilerplate), rows)

    def _sources(self, conn, rows) -> None:
        for r in rows:
            name = r["source_name"]
            if name in self.source_ids:
                continue
            sid = conn.execute(select(sources.c.id).where(sources.c.name == name)).scalar()
            if sid is None:
                sid = conn.execute(insert(sources).values(
                    name=name, domain=r["domain"], homepage=f"https://{r['domain']}/", in_registry=True,
                    created_at=datetime.now(timezone.utc)).returning(sources.c.id)).scalar_one()
            self.source_ids[name] = sid

    def write(self, rows: list[dict]) -> None:
        now = datetime.now(timezone.utc)
        with self.engine.begin() as conn:
            self._sources(conn, rows)
            tables = _table_rows(rows, self.ids, self.source_ids, now)
            for name, table in _ORDER:
                batch = tables.get(name, [])
                self.stats[name] += len(batch)
                if self.pg:
                    _copy(conn, table, batch)
                elif batch:
                    conn.execute(insert(table), batch)
            self.stats["copies_rejected"] += sum(1 for r in rows if r.get("base_url") and not r["verdict"])

    def finish(self) -> None:
        """PostgreSQL: identity sequences past the ids written here; fresh planner statistics."""
        if not self.pg:
            return
        with self.engine.begin() as conn:
            for table in ("pages", "articles", "clusters"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
