"""Pairwise precision and recall of syndicated-copy detection on the generated evaluation set.

    python bench/dedup_quality.py [--pg] [--bases 48] [--seed 7] [--shuffle]

Precision is over every pair of articles put in one cluster; recall is per kind of copy
(copy and its base in one cluster). Hard negatives (same-event articles, same-site
articles sharing boilerplate, short briefs) count against precision.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

from bench.dedup_eval.generate import build, kinds_of_copies  # noqa: E402
from bench.dedup_eval.load import insert_articles  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from newsdesk.dedup import dedup_pending  # noqa: E402
from newsdesk.storage import db  # noqa: E402
from newsdesk.storage.schema import articles  # noqa: E402

PG_ADMIN = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def evaluate(engine, arts) -> dict:
    with engine.connect() as conn:
        rows = {r.url: r for r in conn.execute(select(articles.c.url, articles.c.cluster_id, articles.c.relation))}
    story = {a["url"]: a["story"] for a in arts}
    kind = {a["url"]: a["kind"] for a in arts}
    by_cluster = defaultdict(list)
    for url, r in rows.items():
        by_cluster[r.cluster_id].append(url)
    predicted = tp = 0
    false_pairs = Counter()
    for members in by_cluster.values():
        for a, b in itertools.combinations(sorted(members), 2):
            predicted += 1
            if story[a] == story[b]:
                tp += 1
            else:
                false_pairs[tuple(sorted((kind[a], kind[b])))] += 1
    recall = {}
    relations = defaultdict(Counter)
    base_of = {a["story"]: a["url"] for a in arts if a["kind"] == "base"}
    for k in kinds_of_copies():
        copies = [a for a in arts if a["kind"] == k]
        hit = sum(rows[a["url"]].cluster_id == rows[base_of[a["story"]]].cluster_id for a in copies)
        recall[k] = (hit, len(copies))
        for a in copies:
            relations[k][rows[a["url"]].relation] += 1
    all_true = sum(len(list(itertools.combinations(range(n), 2)))
                   for n in Counter(story.values()).values())
    return dict(predicted=predicted, tp=tp, precision=tp / predicted if predicted else 1.0,
                pair_recall=tp / all_true if all_true else 1.0, recall=recall, false_pairs=false_pairs,
                relations=relations)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pg", action="store_true", help="use a scratch PostgreSQL database")
    ap.add_argument("--bases", type=int, default=48)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shuffle", action="store_true", help="insert in random order")
    args = ap.parse_args(argv)
    arts = build(args.seed, args.bases)
    if args.shuffle:
        random.Random(args.seed).shuffle(arts)
    admin = None
    if args.pg:
        name = f"newsdesk_quality_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/quality.db"
    try:
        engine = db.get_engine(url)
        db.upgrade(engine)
        insert_articles(engine, arts)
        t0 = time.perf_counter()
        stats = dedup_pending(engine)
        dt = time.perf_counter() - t0
        res = evaluate(engine, arts)
    finally:
        db.dispose_all()
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"articles={len(arts)} bases={args.bases} backend={'postgresql' if args.pg else 'sqlite'} "
          f"shuffle={args.shuffle} time={dt:.1f}s stats={stats}")
    print(f"pairwise precision={res['precision']:.4f} ({res['tp']}/{res['predicted']} pairs)  "
          f"pairwise recall={res['pair_recall']:.4f}")
    print(f"{'kind':<12} {'recall':>7}  found/total  relations")
    for k, (hit, n) in res["recall"].items():
        print(f"{k:<12} {hit / n:>7.3f}  {hit:>5}/{n:<5}  {dict(res['relations'][k])}")
    if res["false_pairs"]:
        print("false pairs by kinds:", dict(res["false_pairs"]))
    else:
        print("false pairs: none (no same-event, same-site or brief merges)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
