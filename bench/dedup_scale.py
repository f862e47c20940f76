"""Throughput and memory of dedup_pending as the warehouse index grows.

    python bench/dedup_scale.py [--sizes 10000,100000] [--million] [--sqlite] [--pg] [--batch 2000]
                                [--time-budget SECONDS] [--workers N]

``--time-budget`` bounds the run of each backend (loading + dedup): when it is spent, the
current step stops early and is reported at the size it reached (marked ``partial``).

Articles come from the evaluation generator (bases, copies and hard negatives, ~14
per event, events spread over 60 days). Each size step inserts the articles that
take the warehouse to that size, runs dedup_pending on them and prints articles/s of
the dedup step and the process's peak RSS (flat memory: it must not grow with size).

``--workers N`` (PostgreSQL): the dedup step runs in N processes at once, as several
Airflow workers or ``newsdesk dedup`` processes would; CPU and RSS are then those of the
busiest worker.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.dedup_eval.generate import build  # noqa: E402
from bench.dedup_eval.load import insert_articles  # noqa: E402
from newsdesk.dedup import dedup_pending  # noqa: E402
from newsdesk.storage import db  # noqa: E402

PG_ADMIN = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def articles(start: int, count: int):
    """Deterministic articles numbered from ``start``: unique URLs, dates spread over 60 days."""
    out = []
    seed = start
    while len(out) < count:
        for a in build(seed, 20):
            a = dict(a)
            n = start + len(out)
            a["url"] = a["url"].replace("/news/", f"/news/{seed}-")
            if a.get("canonical_url"):
                a["canonical_url"] = a["canonical_url"].replace("/news/", f"/news/{seed}-")
            a["published_at"] = a["published_at"] + timedelta(days=(seed * 7) % 60)
            out.append(a)
            if len(out) == count:
                break
        seed += 1
        del n
    return out


def _dedup_worker(url: str) -> tuple[int, float, float]:
    """One dedup process: (articles processed, CPU seconds, peak RSS MB)."""
    c0 = time.process_time()
    stats = dedup_pending(db.get_engine(url))
    return stats["processed"], time.process_time() - c0, rss_mb()


def dedup_step(url: str, engine, workers: int) -> tuple[int, float]:
    """Runs dedup over everything pending; returns (processed, CPU seconds of the busiest process)."""
    if workers <= 1:
        c0 = time.process_time()
        return dedup_pending(engine)["processed"], time.process_time() - c0
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.map(_dedup_worker, [url] * workers)
    global _worker_rss
    _worker_rss = max([_worker_rss] + [r[2] for r in results])
    return sum(r[0] for r in results), max(r[1] for r in results)


_worker_rss = 0.0


def run(url: str, sizes: list[int], batch: int, label: str, budget: float | None = None, workers: int = 1) -> None:
    engine = db.get_engine(url)
    db.upgrade(engine)
    have = 0
    started = time.perf_counter()
    for size in sizes:
        t_dedup = 0.0
        c_dedup = 0.0
        done = 0
        partial = False
        while have < size:
            if budget is not None and time.perf_counter() - started > budget:
                partial = True
                break
            n = min(batch, size - have)
            insert_articles(engine, articles(have, n))
            t0 = time.perf_counter()
            processed, cpu = dedup_step(url, engine, workers)
            t_dedup += time.perf_counter() - t0
            c_dedup += cpu
            done += processed
            have += n
        with engine.connect() as conn:
            buckets = conn.execute(text("SELECT count(*) FROM lsh_buckets")).scalar_one()
        if done:
            print(f"{label:<10} workers={workers} indexed={have:>8} step_articles={done:>7} "
                  f"dedup={done / t_dedup:7.1f} articles/s "
                  f"(process cpu {1000 * c_dedup / done:5.2f} ms/article) peak_rss={max(rss_mb(), _worker_rss):7.1f} MB "
                  f"lsh_rows={buckets}{' partial (time budget)' if partial else ''}", flush=True)
        if partial:
            break
    db.dispose_all()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--million", action="store_true", help="add a 1,000,000 step")
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--time-budget", type=float, default=None, help="seconds per backend (loading + dedup)")
    ap.add_argument("--workers", type=int, default=1, help="dedup processes at once (PostgreSQL)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] + ([1_000_000] if args.million else [])
    if not (args.sqlite or args.pg):
        args.sqlite = args.pg = True
    if args.sqlite:
        run(f"sqlite:///{tempfile.mkdtemp()}/scale.db", sizes, args.batch, "sqlite", args.time_budget)
    if args.pg:
        name = f"newsdesk_scale_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, sizes, args.batch, "postgresql", args.time_budget,
                args.workers)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
