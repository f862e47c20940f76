"""A batch's bulk writes, and the warehouse index rows (signatures and LSH buckets).

Everything a batch decided is written at its end, stamped with the next dedup epoch, while
the decision lock is held (PostgreSQL): clusters (provisional ids become real ones), article
columns, links, merges, signatures and bands, site boilerplate. Many rows per statement:
PostgreSQL gets arrays through ``unnest``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, text, tuple_, update
from sqlalchemy.engine import Connection

from ..storage.loads import insert_ignore, upsert
from ..storage.schema import (
    articles,
    cluster_merges,
    clusters,
    dedup_links,
    dedup_signatures,
    lsh_buckets,
    site_boilerplate,
)
from .overlay import ClusterOverlay, Overlay
from .signatures import LEXICAL_SCHEME0, Signature, anchor_buckets, from_bytes, signature_buckets, to_bytes
from .sql import chunks, is_postgres, pg_array
from .verify import Doc

# SQL element types of the article columns dedup writes (PostgreSQL array updates).
ARTICLE_ARRAY_TYPES = {"clean_text": "text", "attribution": "text", "clean_sha256": "text", "cluster_id": "bigint",
                       "relation": "text", "similarity": "float8", "dedup_state": "text", "dedup_epoch": "bigint"}


def resolve(real_ids: dict[int, int], cluster_id: int | None) -> int | None:
    """A cluster id as written: a provisional (negative) one replaced by the id it was given."""
    return real_ids.get(cluster_id, cluster_id) if cluster_id is not None and cluster_id < 0 else cluster_id


# ---------------------------------------------------------------------------------- articles


def update_articles(conn: Connection, columns: tuple[str, ...], params: list[dict]) -> None:
    """Article columns ``columns`` from params ``{"aid_": id, "v_<column>": value}``, many rows at once."""
    if is_postgres(conn) and set(columns) <= ARTICLE_ARRAY_TYPES.keys():
        _update_articles_postgres(conn, columns, params)
    elif set(columns) <= ARTICLE_ARRAY_TYPES.keys():  # SQLite: plain values, no per-row SQLAlchemy work
        driver_many(conn, "UPDATE articles SET " + ", ".join(f"{c} = ?" for c in columns) + " WHERE id = ?",
                    [tuple(p[f"v_{c}"] for c in columns) + (p["aid_"],) for p in params])
    else:
        conn.execute(update(articles).where(articles.c.id == bindparam("aid_")).values(
            {c: bindparam(f"v_{c}") for c in columns}), params)


def driver_many(conn: Connection, sql: str, rows: list[tuple]) -> None:
    """SQLite: one statement for many rows of plain values (int, float, str, None) through the
    driver's executemany. SQLAlchemy's executemany builds each row's parameters in Python
    (~30 us a row): a batch writes ~75 rows per article (buckets, observations, columns)."""
    if rows:
        conn.exec_driver_sql(sql, rows)


def _update_articles_postgres(conn: Connection, columns: tuple[str, ...], params: list[dict]) -> None:
    """One UPDATE ... FROM unnest(arrays) for many articles: one statement, not one per row
    (the decisions are written while the advisory lock is held)."""
    values = {"ids": pg_array(p["aid_"] for p in params)}
    values.update({c: [p[f"v_{c}"] for p in params] for c in columns})
    conn.execute(text(
        "UPDATE articles AS a SET " + ", ".join(f"{c} = v.{c}" for c in columns)
        + " FROM unnest(CAST(:ids AS bigint[]), "
        + ", ".join(f"CAST(:{c} AS {ARTICLE_ARRAY_TYPES[c]}[])" for c in columns)
        + ") AS v(id, " + ", ".join(columns) + ") WHERE a.id = v.id"), values)


def write_articles(conn: Connection, article_values: dict[int, dict], epoch: int, real_ids: dict[int, int]) -> None:
    """The batch's article columns, grouped by the set of columns each article changes."""
    groups: dict[tuple, list] = defaultdict(list)
    for aid, values in article_values.items():
        values = dict(values, dedup_epoch=epoch)
        if "cluster_id" in values:
            values["cluster_id"] = resolve(real_ids, values["cluster_id"])
        groups[tuple(sorted(values))].append(dict({f"v_{k}": v for k, v in values.items()}, aid_=aid))
    for columns, params in groups.items():
        update_articles(conn, columns, params)


def write_links(conn: Connection, links: dict[int, dict | None]) -> None:
    """The batch's links: None deletes an article's link, a row replaces it."""
    drop = [a for a, link in links.items() if link is None]
    for chunk in chunks(drop):
        conn.execute(delete(dedup_links).where(dedup_links.c.article_id.in_(chunk)))
    keep = [link for link in links.values() if link is not None]
    if keep:
        upsert(conn, dedup_links, keep, ["article_id"],
               ["original_article_id", "relation", "similarity", "method", "evidence", "decided_at"])


# ---------------------------------------------------------------------------------- clusters


def write_clusters(conn: Connection, known: ClusterOverlay, now: datetime) -> dict[int, int]:
    """Clusters founded in the batch (inserted) and those whose original or reason changed
    (updated). Returns the real id of each provisional one."""
    real: dict[int, int] = {}
    live_new = [c for c in known.created if c not in known.deleted]
    if live_new:
        stmt = clusters.insert().returning(clusters.c.id, sort_by_parameter_order=True)
        got = conn.execute(stmt, [dict(original_article_id=known.original[c], original_reason=known.reason.get(c),
                                       created_at=now, updated_at=now) for c in live_new]).scalars().all()
        real = dict(zip(live_new, got))
    changed = sorted(c for c in known.repointed | known.reason_changed if c > 0 and c not in known.deleted)
    if changed:
        conn.execute(update(clusters).where(clusters.c.id == bindparam("cid")).values(
            original_article_id=bindparam("oid"), original_reason=bindparam("why"), updated_at=bindparam("ts")),
            [dict(cid=c, oid=known.original[c], why=known.reason.get(c), ts=now) for c in changed])
    return real


def write_merges(conn: Connection, known: ClusterOverlay, real_ids: dict[int, int], now: datetime) -> None:
    """Warehouse clusters merged into others are deleted, and where they went is recorded."""
    deleted = [c for c in known.deleted if c > 0]
    for chunk in chunks(deleted):
        conn.execute(delete(clusters).where(clusters.c.id.in_(chunk)))
    merges = [dict(cluster_id=c, merged_into=resolve(real_ids, target), merged_at=now)
              for c, target in known.merged_into.items() if c > 0]
    if merges:
        insert_ignore(conn, cluster_merges, merges, ["cluster_id"])


# ---------------------------------------------------------------------------------- index


def stored_buckets(row) -> list[tuple[int, int]]:
    """(scheme, bucket) pairs of a ``dedup_signatures`` row: a stored MinHash passed the
    feature-count thresholds when it was written, so they are not applied again; the anchor
    bands come from its stored numbers and names."""
    mh, lx = from_bytes(row.minhash), from_bytes(row.lexhash)
    return (signature_buckets(mh, lx, 1 << 30 if mh is not None else 0, 1 << 30 if lx is not None else 0)
            + anchor_buckets(row.numbers, row.names))


def signature_row(article_id: int, sig: Signature, doc: Doc, day: int) -> dict:
    """A ``dedup_signatures`` row: a MinHash is kept only when the text had enough features to be banded."""
    buckets = sig.buckets  # shingle bands first, then content-word bands
    has_mh = bool(buckets) and buckets[0][0] < LEXICAL_SCHEME0
    has_lx = bool(buckets) and buckets[-1][0] >= LEXICAL_SCHEME0
    numbers, names = doc.feature_hashes
    return dict(article_id=article_id, minhash=to_bytes(sig.minhash) if has_mh else None,
                lexhash=to_bytes(sig.lexhash) if has_lx else None, pub_day=day, token_count=len(sig.tokens),
                numbers=numbers, names=names)


def drop_index_entries(conn: Connection, article_ids) -> None:
    """The signatures of the given articles and their LSH bucket rows are deleted."""
    ids = list(article_ids)
    if not ids:
        return
    for chunk in chunks(ids):
        sigs = conn.execute(select(dedup_signatures).where(dedup_signatures.c.article_id.in_(chunk))).all()
        for sig in sigs:
            pairs = stored_buckets(sig)
            if pairs:
                conn.execute(delete(lsh_buckets).where(
                    lsh_buckets.c.article_id == sig.article_id,
                    tuple_(lsh_buckets.c.scheme, lsh_buckets.c.bucket).in_(pairs)))
        if sigs:
            conn.execute(delete(dedup_signatures).where(
                dedup_signatures.c.article_id.in_([s.article_id for s in sigs])))


def index_from_signatures(conn: Connection, article_ids: list[int]) -> None:
    """Bucket rows for already-signed articles that lack them (their stored signatures suffice)."""
    for chunk in chunks(article_ids):
        rows = []
        for sig in conn.execute(select(dedup_signatures).where(dedup_signatures.c.article_id.in_(chunk))):
            rows.extend((s, b, sig.article_id, sig.pub_day) for s, b in stored_buckets(sig))
        if rows:
            insert_ignore(conn, lsh_buckets, [dict(scheme=s, bucket=b, article_id=a, pub_day=d) for s, b, a, d in rows],
                          ["scheme", "bucket", "pub_day", "article_id"])


def insert_index(conn: Connection, signature_rows: list[dict], bucket_rows: list[tuple]) -> None:
    """``dedup_signatures`` rows, and ``lsh_buckets`` rows as (scheme, bucket, article id, pub_day)."""
    if signature_rows:
        conn.execute(insert(dedup_signatures), signature_rows)
    if not bucket_rows:
        return
    if is_postgres(conn):
        columns = list(zip(*bucket_rows))
        conn.execute(text(
            "INSERT INTO lsh_buckets (scheme, bucket, article_id, pub_day) "
            "SELECT * FROM unnest(CAST(:s AS integer[]), CAST(:b AS bigint[]), CAST(:a AS bigint[]), "
            "CAST(:d AS integer[]))"), {"s": pg_array(columns[0]), "b": pg_array(columns[1]),
                                        "a": pg_array(columns[2]), "d": pg_array(columns[3])})
    else:
        driver_many(conn, "INSERT INTO lsh_buckets (scheme, bucket, article_id, pub_day) VALUES (?, ?, ?, ?)",
                    [tuple(row) for row in bucket_rows])


def write_index(conn: Connection, overlay: Overlay, ids: list[int], signatures: dict[int, Signature],
                bands: dict[int, list[tuple[int, int]]], days: dict[int, int]) -> None:
    """Signatures of the batch's clustered articles, LSH bands of the clusters' originals.

    Every article keeps its signature, but only clusters' originals get LSH bucket rows.
    Candidates are verified against originals only, so a copy's bands add nothing but rows (an
    exact copy's are its original's, again) — and a story copied dozens of times would fill its
    own buckets past MAX_BUCKET and stop being found at all."""
    known = overlay.clusters
    originals = {o for c, o in known.original.items() if c not in known.deleted}
    signature_rows, bucket_rows = [], []
    for aid in ids:
        if aid in overlay.writes.requeued_batch_articles and overlay.articles[aid].cluster_id is None:
            continue
        signature_rows.append(signature_row(aid, signatures[aid], overlay.docs[aid], days[aid]))
        if aid in originals:
            bucket_rows.extend((s, b, aid, days[aid]) for s, b in bands[aid])
    insert_index(conn, signature_rows, bucket_rows)
    # Earlier articles that became their cluster's original in this batch (re-pointing);
    # one that was an original before still has its rows (the insert ignores them).
    promoted = sorted({known.original[c] for c in known.repointed if c not in known.deleted} - overlay.batch_ids)
    if promoted:
        index_from_signatures(conn, promoted)


# ---------------------------------------------------------------------------------- boilerplate


def write_site_knowledge(conn: Connection, observations: list[tuple[str, int, int]], learned: list[dict],
                         overlay: Overlay, real_ids: dict[int, int]) -> None:
    """Edge-paragraph observations (domain, paragraph hash, article id: counted per the article's
    cluster) and the boilerplate the batch learned."""
    if observations:
        rows = {}
        for domain, paragraph_hash, aid in observations:
            cid = resolve(real_ids, overlay.articles[aid].cluster_id)
            if cid is not None:
                rows[(domain, paragraph_hash, cid)] = dict(domain=domain, paragraph_hash=paragraph_hash,
                                                           cluster_id=cid)
        if is_postgres(conn) and rows:
            domains, hashes, cluster_ids = zip(*rows)
            conn.execute(text(
                "INSERT INTO site_paragraphs (domain, paragraph_hash, cluster_id) SELECT * FROM "
                "unnest(CAST(:d AS text[]), CAST(:h AS bigint[]), CAST(:c AS bigint[])) ON CONFLICT DO NOTHING"),
                {"d": list(domains), "h": pg_array(hashes), "c": pg_array(cluster_ids)})
        elif rows:
            driver_many(conn, "INSERT INTO site_paragraphs (domain, paragraph_hash, cluster_id) VALUES (?, ?, ?) "
                        "ON CONFLICT DO NOTHING", list(rows))
    if learned:
        insert_ignore(conn, site_boilerplate, learned, ["domain", "paragraph_hash"])
