"""A local HTTP server for tests (127.0.0.1, threads in the test process).

    server = LocalServer().start()
    server.add("/feed.xml", body=b"<rss>...</rss>", headers={"Content-Type": "application/rss+xml"})
    server.add("/slow", handler=lambda h: time.sleep(5))        # full control: h is the handler
    fetcher.get(server.url("/feed.xml"))
    server.requests   # [(path, {header: value}), ...]

A route is either a static response (status, body, headers; ETag/If-None-Match and
Last-Modified/If-Modified-Since answered with 304 when ``conditional=True``) or a
``handler(h)`` callable that writes the raw response itself through ``h.wfile`` (for
trickling, dropped connections, lying headers). Requests through the server used as
an HTTP proxy (absolute-form request line) are routed by their path.

Also the ``http_server`` pytest fixture; import it into a test module to use it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    handler: Callable | None = None
    conditional: bool = True
    hits: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        owner = self.server.owner
        path = urlsplit(self.path).path if "://" in self.path else self.path.split("?", 1)[0]
        full = self.path if "://" not in self.path else (urlsplit(self.path).path
                                                         + ("?" + urlsplit(self.path).query
                                                            if urlsplit(self.path).query else ""))
        with owner.lock:
            owner.requests.append((self.path, dict(self.headers.items())))
            route = owner.routes.get(full) or owner.routes.get(path)
            if route:
                route.hits += 1
        if route is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"})
            return
        if route.handler is not None:
            route.handler(self)
            return
        headers = dict(route.headers)
        if route.conditional and route.status == 200:
            etag = headers.get("ETag")
            lm = headers.get("Last-Modified")
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (etag and inm == etag) or (not etag and lm and ims == lm):
                self._send(304, b"", {k: v for k, v in headers.items() if k in ("ETag", "Last-Modified")})
                return
        self._send(route.status, route.body, headers)

    def _send(self, status: int, body: bytes, headers: dict):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    owner: LocalServer

    def handle_error(self, request, client_address):
        # Clients that drop a kept-alive connection (a download cut at its size cap, a session
        # closed) are what several tests do on purpose: no traceback in the test output.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class LocalServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", status: int = 200, headers: dict | None = None,
            handler: Callable | None = None, conditional: bool = True) -> Route:
        if isinstance(body, str):
            body = body.encode("utf-8")
        route = Route(status=status, body=body, headers=dict(headers or {}), handler=handler,
                      conditional=conditional)
        with self.lock:
            self.routes[path] = route
        return route

    def hits(self, path: str) -> int:
        route = self.routes.get(path)
        return route.hits if route else 0


@pytest.fixture
def http_server():
    server = LocalServer().start()
    yield server
    server.stop()
