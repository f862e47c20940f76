"""Serve the offline snapshot over real HTTP, as a forward proxy on 127.0.0.1.

The fetcher is pointed at this proxy (``NEWSDESK_HTTP_PROXY``), so the snapshot's
pages keep their real URLs in the warehouse and go through exactly the code path
of a live run: sockets, headers, status codes, conditional requests.
"""

from __future__ import annotations

import hashlib
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .config import SEEDS_DIR

SNAPSHOT_DIR = SEEDS_DIR / "snapshot"


def load_manifest(snapshot_dir: Path = SNAPSHOT_DIR) -> dict[str, dict]:
    """URL → {file, content_type, status} from ``manifest.yaml``."""
    data = yaml.safe_load((snapshot_dir / "manifest.yaml").read_text(encoding="utf-8"))
    entries = {}
    for item in data["urls"]:
        entries[_key(item["url"])] = {
            "file": snapshot_dir / item["file"] if item.get("file") else None,
            "content_type": item.get("content_type", "text/html; charset=utf-8"),
            "status": int(item.get("status", 200)),
            "headers": {str(k): str(v) for k, v in (item.get("headers") or {}).items()},
        }
    return entries


def _key(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{parts.hostname}{path}" + (f"?{parts.query}" if parts.query else "")


class _Handler(BaseHTTPRequestHandler):
    server_version = "newsdesk-replay/1"
    manifest: dict[str, dict] = {}

    def log_message(self, *args) -> None:  # keep the run's output to the summary
        pass

    def do_GET(self) -> None:
        url = self.path if self.path.startswith("http") else f"http://{self.headers.get('Host')}{self.path}"
        entry = self.manifest.get(_key(url))
        if entry is None:
            # Lookup without the query: feeds decorate links with tracking parameters.
            entry = self.manifest.get(_key(url.split("?", 1)[0]))
        if entry is None:
            return self._send(404, b"not in snapshot", "text/plain")
        body = entry["file"].read_bytes() if entry["file"] else b""
        headers = {"ETag": '"' + hashlib.sha256(body).hexdigest()[:16] + '"', **entry["headers"]}
        if entry["status"] == 200 and self.headers.get("If-None-Match") == headers["ETag"]:
            return self._send(304, b"", entry["content_type"], headers)
        self._send(entry["status"], body, entry["content_type"], headers)

    def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Date", formatdate(usegmt=True))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


class SnapshotProxy:
    """``with SnapshotProxy() as proxy: ... proxy.url``: serve the snapshot until the block ends."""

    def __init__(self, snapshot_dir: Path = SNAPSHOT_DIR, port: int = 0) -> None:
        handler = type("SnapshotHandler", (_Handler,), {"manifest": load_manifest(snapshot_dir)})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> SnapshotProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
