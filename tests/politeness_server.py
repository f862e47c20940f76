"""A forward proxy for invented hosts that counts the requests in flight per host (tests of the
per-host limits: tests/test_fetch_politeness.py, tests/test_deploy_politeness.py)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class CountingProxy:
    """An HTTP proxy for invented hosts that records every request's host, path, start and end,
    and the most requests in flight per host at once. robots.txt and ``files`` are answered at
    once, any other path with a small HTML page after ``hold`` seconds."""

    def __init__(self, hold: float = 0.1, robots: dict[str, str] | None = None,
                 files: dict[tuple[str, str], tuple[str, str]] | None = None) -> None:
        self.hold = hold
        self.robots = robots or {}
        self.files = files or {}  # (host, path) -> (content type, body), served at once
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self.max_total = 0
        self.log: list[tuple[str, str, float, float]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                host = parts.hostname or self.headers.get("Host", "")
                started = time.monotonic()
                with owner.lock:
                    owner.in_flight[host] += 1
                    owner.max_in_flight[host] = max(owner.max_in_flight[host], owner.in_flight[host])
                    owner.max_total = max(owner.max_total, sum(owner.in_flight.values()))
                try:
                    if parts.path == "/robots.txt":
                        body = owner.robots.get(host)
                        status, body = (200, body) if body is not None else (404, "none")
                        ctype = "text/plain"
                    elif (host, parts.path) in owner.files:
                        status, (ctype, body) = 200, owner.files[(host, parts.path)]
                    else:
                        time.sleep(owner.hold)
                        status, ctype = 200, "text/html; charset=utf-8"
                        body = f"<html><head><title>{parts.path}</title></head><body><p>{host}</p></body></html>"
                    data = body.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with owner.lock:
                        owner.in_flight[host] -= 1
                        path = parts.path + (f"?{parts.query}" if parts.query else "")
                        owner.log.append((host, path, started, time.monotonic()))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def starts(self, host: str, path_prefix: str = "/") -> list[float]:
        return sorted(s for h, p, s, _ in self.log if h == host and p.startswith(path_prefix))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
