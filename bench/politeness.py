"""What the shared per-host limits cost a request: one lease taken and released per store.

    python bench/politeness.py                         # 2,000 cycles, 1,000 requests per store
    python bench/politeness.py --cycles 200 --requests 200

Every fetch takes a lease on one of its host's slots before the request and gives it back
after (``fetch.hosts.HostGate`` over ``fetch.stores``). For each store, in the same run: the
in-process ``MemoryStore``, the warehouse on a SQLite file and on the local PostgreSQL (a
database created and dropped here), and Redis (keys under a prefix of their own, deleted after):

1. ``cycles/s``: acquire + release alone, one thread, hosts in turn (the limit never reached);
2. ``requests/s``: ``map_concurrent`` (16 threads, 2 per host) fetching tiny pages of 20
   invented hosts from a local server in its own process (through it as a proxy), the gate
   over that store; the baseline is the same fetch loop without a gate (per-process limits only).

Prints a table and a JSON line. Against a local server a request takes about a millisecond,
so the gate's share here is far above its share against news sites (tens to hundreds of
milliseconds per request).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("NEWSDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("NEWSDESK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def cycles_per_second(store, cycles: int) -> float:
    hosts = [f"host-{n}.example" for n in range(50)]
    started = time.perf_counter()
    for n in range(cycles):
        host = hosts[n % len(hosts)]
        lease, _wait, _why = store.acquire(host, 2, 0.0, 70.0)
        store.release(host, lease)
    return cycles / (time.perf_counter() - started)


class _Tiny(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"<html><body><p>ok</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def requests_per_second(proxy: str, store, requests: int) -> float:
    from newsdesk.config import Settings
    from newsdesk.fetch import Fetcher, HostGate, map_concurrent

    settings = Settings(http_proxy=proxy, http_concurrency=16, per_host_concurrency=2, per_host_delay=0.0)
    gate = HostGate(store, settings) if store is not None else None
    urls = [f"http://host-{n % 20}.example/page/{n}" for n in range(requests)]
    with Fetcher(settings) as fetcher:
        started = time.perf_counter()
        map_concurrent(urls, lambda url: fetcher.get(url).status, settings=settings, gate=gate)
        return requests / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiny)
    server.daemon_threads = True
    serving = multiprocessing.get_context("fork").Process(target=server.serve_forever, daemon=True)
    serving.start()
    server.socket.close()  # the child process owns the listening socket now
    proxy = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        return _run(args, proxy)
    finally:
        serving.terminate()
        serving.join()


def _run(args, proxy: str) -> int:

    from sqlalchemy import create_engine, text

    from newsdesk.fetch import MemoryStore, RedisStore, WarehouseStore
    from newsdesk.storage import db

    results: dict[str, dict | str] = {}

    def measure(store) -> dict:
        return {"cycles_per_s": cycles_per_second(store, args.cycles),
                "requests_per_s": requests_per_second(proxy, store, args.requests)}

    results["no gate"] = {"requests_per_s": requests_per_second(proxy, None, args.requests)}
    results["memory"] = measure(MemoryStore())
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.get_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.upgrade(engine)
        results["sqlite"] = measure(WarehouseStore(engine))
        engine.dispose()
    name = f"newsdesk_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = db.get_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
            db.upgrade(engine)
            results["postgres"] = measure(WarehouseStore(engine))
            db.dispose_all()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except Exception as exc:  # no server here: say so, keep the other figures
        results["postgres"] = f"skipped: {exc.__class__.__name__}"
    prefix = f"newsdesk-bench-{uuid.uuid4().hex[:8]}"
    try:
        store = RedisStore(REDIS_URL, prefix=prefix)
        results["redis"] = measure(store)
        keys = list(store.client.scan_iter(f"{prefix}:*"))
        if keys:
            store.client.delete(*keys)
    except Exception as exc:
        results["redis"] = f"skipped: {exc.__class__.__name__}"

    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"{args.cycles} acquire/release cycles, {args.requests} requests (20 hosts, 16 threads, 2 per host); "
          f"load {' '.join(load)}")
    print(f"{'store':<10} {'cycles/s':>10} {'ms/cycle':>9} {'requests/s':>11}")
    for store_name, figures in results.items():
        if isinstance(figures, str):
            print(f"{store_name:<10} {figures}")
            continue
        cycles = figures.get("cycles_per_s")
        print(f"{store_name:<10} {cycles or 0:>10.0f} {1000 / cycles if cycles else 0:>9.3f} "
              f"{figures['requests_per_s']:>11.0f}")
    print(json.dumps({"cycles": args.cycles, "requests": args.requests, "load": load, **{
        k: ({m: round(x, 1) for m, x in v.items()} if isinstance(v, dict) else v) for k, v in results.items()}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
