"""Export benchmark: 100,000 articles out of the warehouse in every format, under 300 MB.

Builds a throwaway warehouse (SQLite in a temp dir by default, or ``--database URL``
for an empty PostgreSQL database) with N generated articles of news-like length (about
3 KB of text each, a third of them copies in clusters), then runs each export in a
fresh child process and reads that process's peak RSS (``ru_maxrss``). Exits 1 if any
export peaks above the limit.

    .venv/bin/python bench/export.py [--rows 100000] [--limit-mb 300] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

WORDS = ("the of and to in a is that for on said with was as by at from his her it an be have "
         "government minister president ukraine russia kremlin border talks military forces officials "
         "market prices inflation bank economy growth report according statement week year city region "
         "police court election vote parliament party leader people country world national local health "
         "climate energy oil gas water storm flood fire killed injured attack drone missile ceasefire").split()


def _text(rng: random.Random, words: int) -> str:
    paras = []
    while words > 0:
        n = min(words, rng.randint(40, 90))
        para = " ".join(rng.choice(WORDS) for _ in range(n))
        paras.append(para[0].upper() + para[1:] + ".")
        words -= n
    return "\n\n".join(paras)


def generate(url: str, rows: int, seed: int = 7) -> float:
    from sqlalchemy import insert, text

    from newsdesk.storage import db, schema

    engine = db.get_engine(url)
    db.upgrade(engine)
    t0 = time.perf_counter()
    rng = random.Random(seed)
    now = datetime(2026, 1, 31, tzinfo=timezone.utc)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":  # the bench measures exports, not FTS indexing
            for trig in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trig}"))
        conn.execute(insert(schema.sources), [
            dict(name=f"Outlet {i}", domain=f"outlet{i}.example", in_registry=True) for i in range(50)])
        source_ids = list(conn.execute(text("SELECT id FROM sources ORDER BY id")).scalars())
    batch = 5000
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        pages, arts = [], []
        for i in range(start, start + n):
            src = source_ids[i % len(source_ids)]
            url_i = f"https://outlet{src}.example/news/{i}"
            published = now - timedelta(minutes=i * 3)
            body = _text(rng, rng.randint(300, 700))
            pages.append(dict(url=url_i, source_id=src, origin="feed", state="extracted", attempts=1))
            arts.append(dict(source_id=src, url=url_i, canonical_url=url_i, domain=f"outlet{src}.example",
                             title=" ".join(rng.choice(WORDS) for _ in range(10)).capitalize(), text=body,
                             author="Staff", published_at=published, sitename=f"Outlet {src}", language="en",
                             word_count=len(body.split()), extracted_at=published + timedelta(minutes=5),
                             dedup_state="done",
                             relation="original" if i % 3 else "near", similarity=1.0 if i % 3 else 0.93))
        with engine.begin() as conn:
            conn.execute(insert(schema.pages), pages)
            ids = dict(
                conn.execute(
                    text("SELECT url, id FROM pages WHERE id > :m"),
                    {"m": conn.execute(text("SELECT COALESCE(MAX(page_id), 0) FROM articles")).scalar()},
                ).all()
            )
            for a in arts:
                a["page_id"] = ids[a["url"]]
            conn.execute(insert(schema.articles), arts)
    with engine.begin() as conn:  # clusters: every third article copies the one before it
        conn.execute(
            text("INSERT INTO clusters (original_article_id) SELECT id FROM articles WHERE relation = 'original'")
        )
        conn.execute(
            text(
                "UPDATE articles SET cluster_id = "
                "(SELECT c.id FROM clusters c WHERE c.original_article_id = articles.id) "
                "WHERE relation = 'original'"
            )
        )
        conn.execute(
            text(
                "UPDATE articles SET cluster_id = (SELECT o.cluster_id FROM articles o WHERE o.id = articles.id + 1) "
                "WHERE relation = 'near'"
            )
        )
    engine.dispose()
    return time.perf_counter() - t0


def child(url: str, fmt: str, out: str, since: str) -> None:
    from newsdesk.analytics.export import export
    from newsdesk.storage import db

    t0 = time.perf_counter()
    stats = export(db.get_engine(url), out, fmt=fmt, since=since)
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    stats["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(stats))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--limit-mb", type=float, default=300.0)
    ap.add_argument("--database", help="an EMPTY warehouse to fill (default: SQLite in a temp dir)")
    ap.add_argument("--formats", default="parquet,csv,jsonl")
    ap.add_argument("--child", nargs=4, metavar=("URL", "FORMAT", "OUT", "SINCE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return 0

    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-export-") as tmp:
        url = args.database or f"sqlite:///{tmp}/warehouse.db"
        gen_s = generate(url, args.rows)
        size = Path(f"{tmp}/warehouse.db").stat().st_size / 2**20 if not args.database else None
        print(f"generated {args.rows} articles in {gen_s:.1f}s" + (f" (SQLite file {size:.0f} MB)" if size else ""))
        failed = False
        for fmt in args.formats.split(","):
            out = f"{tmp}/articles.{fmt}"
            proc = subprocess.run(
                [sys.executable, __file__, "--child", url, fmt, out, "2000-01-01"],
                capture_output=True,
                text=True,
                env=dict(os.environ, PYTHONPATH=str(REPO / "plugins")),
            )
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return 1
            stats = json.loads(proc.stdout.strip().splitlines()[-1])
            ok = stats["peak_rss_mb"] <= args.limit_mb and stats["rows"] == args.rows
            failed |= not ok
            print(f"export {fmt:<8} rows={stats['rows']:>7}  {stats['seconds']:>6.1f}s  "
                  f"file={stats['bytes'] / 2**20:7.1f} MB  peak RSS={stats['peak_rss_mb']:6.1f} MB  "
                  f"{'OK' if ok else 'OVER LIMIT'} (limit {args.limit_mb:.0f} MB)")
            Path(out).unlink(missing_ok=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
