"""Clustering pending articles against the warehouse index, in batches.

``dedup_pending`` claims up to ``BATCH`` pending articles per transaction (id order):

1. claim (``claim``; PostgreSQL: ``FOR UPDATE SKIP LOCKED LIMIT n``; SQLite: the write lock);
2. clean every text with its domain's learned boilerplate (``boilerplate``: one query per
   batch) and compute signatures (``Batch.prepare``);
3. ``gather``, no lock held: candidates for the whole batch in a few queries (``candidates``)
   — same clean-text hash, canonical-URL links, LSH bands (word shingles and content words)
   within ±``dedup_window_days`` (each distinct band, bucket and window probed once;
   PostgreSQL: unnest arrays joined LATERAL to ``lsh_buckets``; SQLite: temp tables); a bucket
   holding more than ``MAX_BUCKET`` articles of the window (a band of common words) is
   ignored, which bounds the rows read per band; an article keeps up to
   ``MAX_LSH_CANDIDATES`` sharing two or more bands and the ``MAX_WEAK_CANDIDATES``
   single-band ones nearest in day. Then the candidate clusters' originals: signatures and
   stored numbers/names first (``verification``) — an LSH-only candidate whose MinHash
   estimates are far below any verdict is dropped, and so is a pair whose estimated
   containment is far below ``near`` and that lacks the numbers/names a paraphrase needs —
   and texts only for the rest, which are verified, against warehouse originals and against
   the batch's own earlier articles that will be originals if nothing changes meanwhile;
4. PostgreSQL: take a transaction advisory lock, which serialises decisions across
   workers; re-read the site boilerplate other workers committed meanwhile (articles it
   concerns are cleaned again) and catch up with the articles their batches changed (dedup
   epochs): they become candidates, and the clusters they changed are read again
   (``Batch.catch_up``);
5. ``assign``, in id order, in Python (``assignment``): verify against each candidate
   cluster's ORIGINAL (never against members; most verdicts are ready from step 3), join the
   matching cluster — merging several if the article matches their originals — choose the
   cluster's original again, and re-point the cluster when it changed: every member is
   re-verified against the new original; members that no longer match are put back to
   pending (processed again in the same run); articles earlier in the batch are candidates
   too (an in-memory index);
6. bulk writes, stamped with the next dedup epoch (``writes``): articles, links, clusters,
   signatures, bands (of clusters' originals only: candidates are verified against
   originals), site boilerplate; the warehouse articles that taught their site a paragraph
   the batch learned are cleaned again (``repair``).

The decisions are those of processing the articles one by one in id order: the batch
keeps an overlay (``overlay``: cluster of each touched article, original and members of
each touched cluster) that later articles of the batch see. Nothing is kept between batches.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ..config import Settings
from .batch import Batch
from .claim import claim
from .sql import is_postgres

BATCH = 400
FIRST_BATCH = 25


def dedup_pending(engine: Engine, settings: Settings | None = None, limit: int | None = None,
                  batch: int = BATCH, first_batch: int = FIRST_BATCH) -> dict:
    """Cluster pending articles (id order, ``batch`` per transaction, the first ones from
    ``first_batch``, doubling). Safe to run from several workers on PostgreSQL; running it again
    with nothing pending changes nothing."""
    settings = settings or Settings.from_env()
    stats = Counter(processed=0, originals=0, exact=0, near=0, paraphrase=0, requeued=0, recleaned=0)
    size = min(batch, first_batch)
    with _rare_collections():
        while limit is None or stats["processed"] < limit:
            n = size if limit is None else min(size, limit - stats["processed"])
            size = min(batch, size * 2)  # small first batches leave work for workers starting alongside
            with engine.begin() as conn:
                if is_postgres(conn):
                    # A batch's commit does not wait for its WAL to reach the disk (~60 MB of mostly
                    # full-page images of the bucket index per 400 articles at 1M): a server crash
                    # can lose the last batches' decisions, never half of one, and their articles,
                    # still pending, are decided again by the next run. +2-3 % with two workers.
                    conn.execute(text("SET LOCAL synchronous_commit = off"))
                claimed = claim(conn, n)
                if not claimed:
                    break
                one = Batch(conn, claimed, settings)
                one.prepare()
                stats.update(one.decide())
    return dict(stats)


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Cyclic garbage collection far less often while dedup runs. A batch allocates hundreds of
    thousands of short-lived containers (token lists, sets, rows) that reference counting frees,
    yet each allocation burst triggered a collection, and the full ones walk every live object:
    27 % of dedup's CPU at 100k indexed (2.9 of 10.6 s), 8 % with these thresholds. Restored afterwards."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), max(old[1], 20), max(old[2], 20))
    try:
        yield
    finally:
        gc.set_threshold(*old)
