"""Feed polling benchmark: 1,000 local feeds, cold round, warm (304) round, naive baseline.

    .venv/bin/python bench/poll.py [--feeds 1000] [--entries 20] [--workers 16]

Serves N RSS feeds of M entries each from a threaded HTTP server on 127.0.0.1 in its
own process (so the server does not compete with the poller for the GIL, as a remote
server would not) with ETag + If-None-Match -> 304, then in the bench process:

1. naive baseline: serial ``httpx.get`` + ``feedparser.parse`` per feed, no storage;
2. cold round: ``poll_feeds`` into a fresh SQLite warehouse (parse + enqueue pages);
3. warm round: ``poll_feeds`` again, every feed answers 304.

Prints feeds/s, HTTP requests served, pages enqueued and peak memory (ru_maxrss
for the process; with --tracemalloc also the Python heap peak per phase).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import feedparser
import httpx
from sqlalchemy import func, insert, select

from newsdesk.config import Settings
from newsdesk.feeds import poll_feeds
from newsdesk.storage import db
from newsdesk.storage.schema import feeds, pages, sources


def make_feed(i: int, entries: int) -> bytes:
    now = datetime(2024, 5, 14, 12, 0, tzinfo=timezone.utc)
    items = "".join(
        f"<item><title>Feed {i} story {j}</title><link>https://outlet{i % 50}.example/{i}/{j}?utm_source=rss</link>"
        f"<guid>{i}-{j}</guid><pubDate>{(now - timedelta(minutes=37 * j)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"</pubDate><description>Summary of story {j} of feed {i}, long enough to look like a real one.</description>"
        "</item>" for j in range(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {i}</title>'
            f"<link>https://outlet{i % 50}.example/</link>{items}</channel></rss>").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: dict[str, bytes] = {}
    # Shared with the bench process: 200s, 304s, others.
    counts = multiprocessing.Array("l", 3)
    KEYS = {"200": 0, "304": 1, "other": 2}

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.bodies.get(self.path)
        if body is None:
            self._count("other")
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = f'"{hash(body) & 0xffffffff:x}"'
        if self.headers.get("If-None-Match") == etag:
            self._count("304")
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._count("200")
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _count(self, key):
        with self.counts.get_lock():
            self.counts[self.KEYS[key]] += 1


def counts() -> dict:
    return {key: Handler.counts[i] for key, i in Handler.KEYS.items()}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


TRACE = False


def measure(label: str, fn):
    if TRACE:
        tracemalloc.start()
    before = counts()
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    peak = 0
    if TRACE:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    after = counts()
    requests = sum(after.values()) - sum(before.values())
    return dict(label=label, seconds=elapsed, requests=requests, peak_mb=peak / 1e6, result=result,
                s200=after["200"] - before["200"], s304=after["304"] - before["304"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also report Python heap peaks per phase (slows every phase 3-5x)")
    args = parser.parse_args()
    global TRACE
    TRACE = args.tracemalloc

    Handler.bodies = {f"/feed/{i}.xml": make_feed(i, args.entries) for i in range(args.feeds)}
    server = Server(("127.0.0.1", 0), Handler)
    serving = multiprocessing.get_context("fork").Process(target=server.serve_forever, daemon=True)
    serving.start()
    server.socket.close()  # the child process owns the listening socket now
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/feed/{i}.xml" for i in range(args.feeds)]

    def baseline():
        entries = 0
        for url in urls:
            response = httpx.get(url, timeout=10)
            entries += len(feedparser.parse(response.content).entries)
        return entries

    with tempfile.TemporaryDirectory() as tmp:
        engine = db.get_engine(f"sqlite:///{tmp}/bench.db")
        db.upgrade(engine)
        now = datetime.now(timezone.utc)
        with engine.begin() as conn:
            sid = conn.execute(insert(sources).values(name="bench", homepage="https://bench.example/",
                                                      domain="bench.example", in_registry=True, created_at=now)
                               .returning(sources.c.id)).scalar_one()
            conn.execute(insert(feeds), [dict(source_id=sid, url=u, kind="feed", active=True, failure_score=0.0,
                                              consecutive_failures=0, created_at=now) for u in urls])
            ids = list(conn.execute(select(feeds.c.id).order_by(feeds.c.id)).scalars())
        # All feeds share one host here; a real run spreads over many hosts, so lift the per-host cap.
        settings = Settings.from_env(allow_private_addresses=True, http_concurrency=args.workers,
                                     per_host_concurrency=args.workers, per_host_delay=0.0)

        rows = [measure("naive serial (httpx.get + feedparser)", baseline),
                measure("poll_feeds cold (parse + enqueue)", lambda: poll_feeds(engine, ids, settings, "cold")),
                measure("poll_feeds warm (all 304)", lambda: poll_feeds(engine, ids, settings, "warm"))]
        with engine.connect() as conn:
            total_pages = conn.execute(select(func.count()).select_from(pages)).scalar_one()
        engine.dispose()
    serving.terminate()
    serving.join()

    print(f"{args.feeds} feeds x {args.entries} entries, {args.workers} workers, SQLite warehouse")
    print(f"{'phase':42} {'feeds/s':>9} {'seconds':>8} {'requests':>9} {'200':>6} {'304':>6} {'py peak MB':>11}")
    for row in rows:
        print(f"{row['label']:42} {args.feeds / row['seconds']:9.1f} {row['seconds']:8.2f} {row['requests']:9d} "
              f"{row['s200']:6d} {row['s304']:6d} {row['peak_mb']:11.1f}")
    cold, warm = rows[1]["result"], rows[2]["result"]
    print(f"cold outcomes: {_outcomes(cold)}; warm outcomes: {_outcomes(warm)}; pages enqueued: {total_pages}")
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def _outcomes(results) -> dict:
    out: dict[str, int] = {}
    for r in results:
        out[r.outcome] = out.get(r.outcome, 0) + 1
    return out


if __name__ == "__main__":
    main()
