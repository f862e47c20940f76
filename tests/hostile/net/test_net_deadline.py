"""One deadline per request (NEWSDESK_TOTAL_TIMEOUT) over connect, headers and body: no server
can hold a worker longer, however slowly it trickles."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from netcases import Elapsed, guarded_env
from sqlalchemy import select

from newsdesk.fetch import Fetcher, FetchError
from newsdesk.storage import db
from newsdesk.storage.schema import poll_log

NEWSDESK = str(Path(sys.executable).with_name("newsdesk"))
LIMIT = 1.0
SLACK = 0.8  # scheduling on a shared machine


def trickle(data: bytes, every: float = 0.2, then: bytes = b""):
    """A handler writing ``data`` one byte every ``every`` seconds (until the client leaves)."""

    def handler(h):
        try:
            for byte in data:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(every)
            h.wfile.write(then)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True

    return handler


def silent(seconds: float = 8.0):
    def handler(h):
        time.sleep(seconds)
        h.close_connection = True

    return handler


def fetch_cut(settings, url: str) -> tuple[FetchError, float]:
    with Fetcher(settings.with_(total_timeout=LIMIT, read_timeout=LIMIT * 3, connect_timeout=LIMIT)) as fetcher:
        with Elapsed() as took, pytest.raises(FetchError) as failed:
            fetcher.get(url)
    return failed.value, took.seconds


HEADER_TRICKLES = {
    "status_line_trickled": b"HTTP/1.1 200 OK\r\n" * 10,
    "header_value_trickled": b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 200,
    "endless_header_lines": b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 100,
}


@pytest.mark.parametrize("quirk", list(HEADER_TRICKLES))
def test_trickled_response_headers_cut_at_total_timeout(quirk, settings, http_server):
    http_server.add("/slow", handler=trickle(HEADER_TRICKLES[quirk]))
    error, seconds = fetch_cut(settings, http_server.url("/slow"))
    assert error.kind == "temporary" and "total timeout of 1s exceeded" in str(error), str(error)
    assert seconds < LIMIT + SLACK, seconds


def test_trickled_body_cut_at_total_timeout(settings, http_server):
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        trickle(b"x" * 1000, every=0.1)(h)

    http_server.add("/slow", handler=handler)
    error, seconds = fetch_cut(settings, http_server.url("/slow"))
    assert "total timeout of 1s exceeded while reading the body" in str(error) and seconds < LIMIT + SLACK


def test_trickled_chunked_body_cut_at_total_timeout(settings, http_server):
    def handler(h):
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        trickle(b"1\r\nx\r\n" * 200, every=0.05)(h)

    http_server.add("/slow", handler=handler)
    error, seconds = fetch_cut(settings, http_server.url("/slow"))
    assert "total timeout" in str(error) and seconds < LIMIT + SLACK, (seconds, error)


def test_accepts_and_never_answers(settings, http_server):
    http_server.add("/silent", handler=silent())
    error, seconds = fetch_cut(settings, http_server.url("/silent"))
    assert error.kind == "temporary" and seconds < LIMIT + SLACK, (seconds, error)


def test_listens_but_never_accepts(settings):
    """A full accept queue: the TCP handshake may complete in the kernel, the server never reads."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    try:
        error, seconds = fetch_cut(settings, f"http://127.0.0.1:{sock.getsockname()[1]}/")
    finally:
        sock.close()
    assert error.kind == "temporary" and seconds < LIMIT + SLACK, (seconds, error)


def test_deadline_spans_the_whole_redirect_chain(settings, http_server):
    """Each hop answers within the read timeout; together they pass the deadline."""

    def hop(n):
        def handler(h):
            time.sleep(0.3)
            h._send(302, b"", {"Location": http_server.url(f"/hop{n + 1}")})

        return handler

    for n in range(10):
        http_server.add(f"/hop{n}", handler=hop(n))
    with Fetcher(settings.with_(total_timeout=LIMIT, max_redirects=20)) as fetcher:
        with Elapsed() as took, pytest.raises(FetchError, match="total timeout"):
            fetcher.get(http_server.url("/hop0"))
    assert took.seconds < LIMIT + SLACK, took.seconds


def test_threads_sharing_a_fetcher_keep_their_own_deadlines(settings, http_server):
    """The deadline is per request: a slow request in one thread does not cut another's."""
    http_server.add("/slow", handler=trickle(b"HTTP/1.1 200 OK\r\n" * 20, every=0.2))
    http_server.add("/fast", body=b"fast")
    outcome = {}
    with Fetcher(settings.with_(total_timeout=LIMIT)) as fetcher:
        def slow():
            try:
                fetcher.get(http_server.url("/slow"))
            except FetchError as exc:
                outcome["slow"] = str(exc)

        worker = threading.Thread(target=slow)
        worker.start()
        time.sleep(0.7)
        outcome["fast"] = fetcher.get(http_server.url("/fast")).body  # starts late: its own deadline
        worker.join()
    assert outcome["fast"] == b"fast" and "total timeout" in outcome["slow"]


@pytest.mark.slow
def test_cli_poll_against_header_trickler_bounded(tmp_path, sqlite_url, http_server):
    """From outside: `newsdesk poll` with NEWSDESK_TOTAL_TIMEOUT=1 against a feed whose server
    trickles its headers for a minute records the timeout and exits within seconds."""
    http_server.add("/feed.xml", handler=trickle(b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 300, every=0.2))
    registry = tmp_path / "feeds.yaml"
    registry.write_text(f"sources:\n  - name: Slow Gazette\n    homepage: {http_server.url('/')}\n"
                        f"    feeds: [{http_server.url('/feed.xml')}]\n")
    env = guarded_env(NEWSDESK_ALLOW_PRIVATE_ADDRESSES="1", NEWSDESK_TOTAL_TIMEOUT="1", NEWSDESK_READ_TIMEOUT="5")
    with Elapsed() as took:
        done = subprocess.run([NEWSDESK, "poll", "--registry", str(registry), "--database", sqlite_url],
                              capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)
    with db.get_engine(sqlite_url).connect() as conn:
        log = conn.execute(select(poll_log)).one()
    assert log.error_kind == "temporary" and "total timeout of 1s exceeded" in log.error
    assert log.latency_ms < 1000 * (1 + SLACK), log.latency_ms
    assert took.seconds < 40, took.seconds  # the server would trickle for 60 s
