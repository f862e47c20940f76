"""Fetcher against real local servers: limits, redirects, errors, charset decoding."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib

import pytest

from newsdesk.fetch import Fetcher, FetchError, decode_html, map_concurrent, parse_retry_after


@pytest.fixture
def fetcher(settings):
    with Fetcher(settings) as f:
        yield f


def test_get_ok_with_headers_and_user_agent(http_server, fetcher, settings):
    http_server.add("/a", body=b"hello", headers={"Content-Type": "text/plain", "X-Thing": "1"})
    result = fetcher.get(http_server.url("/a"), accept="text/plain")
    assert result.status == 200 and result.body == b"hello"
    assert result.headers["content-type"] == "text/plain" and result.headers["x-thing"] == "1"
    assert result.final_url == result.url and result.redirects == []
    sent = http_server.requests[-1][1]
    assert sent["User-Agent"] == settings.user_agent and sent["Accept"] == "text/plain"


def test_conditional_get_returns_304_result(http_server, fetcher):
    http_server.add("/f", body=b"x", headers={"ETag": '"v1"'})
    result = fetcher.get(http_server.url("/f"), etag='"v1"')
    assert result.status == 304 and result.body == b"" and result.not_modified
    assert http_server.requests[-1][1]["If-None-Match"] == '"v1"'
    http_server.add("/lm", body=b"x", headers={"Last-Modified": "Tue, 14 May 2024 08:00:00 GMT"})
    assert fetcher.get(http_server.url("/lm"), last_modified="Tue, 14 May 2024 08:00:00 GMT").status == 304


@pytest.mark.parametrize("status,kind", [(404, "hard"), (410, "hard"), (403, "hard"), (500, "temporary"),
                                         (503, "temporary"), (408, "temporary"), (429, "temporary")])
def test_error_statuses_are_classified(http_server, fetcher, status, kind):
    http_server.add("/e", status=status, body=b"no", headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as err:
        fetcher.get(http_server.url("/e"))
    assert err.value.kind == kind and err.value.status == status
    assert err.value.retry_after == 120.0
    assert f"HTTP {status}" in str(err.value)


def test_retry_after_http_date():
    from datetime import datetime, timezone
    now = datetime(2024, 5, 14, 8, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Tue, 14 May 2024 08:05:00 GMT", now) == 300.0
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("soon") is None


def test_redirects_followed_and_recorded(http_server, fetcher):
    http_server.add("/old", status=301, headers={"Location": "/mid"})
    http_server.add("/mid", status=302, headers={"Location": http_server.url("/new")})
    http_server.add("/new", body=b"here")
    result = fetcher.get(http_server.url("/old"))
    assert result.body == b"here" and result.final_url == http_server.url("/new")
    assert result.redirects == [http_server.url("/mid"), http_server.url("/new")]


def test_redirect_loop_detected(http_server, fetcher):
    http_server.add("/a", status=302, headers={"Location": "/b"})
    http_server.add("/b", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop") as err:
        fetcher.get(http_server.url("/a"))
    assert err.value.kind == "soft"


def test_too_many_redirects(http_server, settings):
    for i in range(5):
        http_server.add(f"/r{i}", status=307, headers={"Location": f"/r{i + 1}"})
    with Fetcher(settings.with_(max_redirects=3)) as f, pytest.raises(FetchError, match="too many redirects"):
        f.get(http_server.url("/r0"))


def test_loopback_refused_unless_allowed(http_server, settings):
    http_server.add("/secret", body=b"internal")
    with Fetcher(settings.with_(allow_private_addresses=False)) as f:
        for url in (http_server.url("/secret"), f"http://localhost:{http_server.port}/secret",
                    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://10.1.2.3/"):
            with pytest.raises(FetchError, match="blocked") as err:
                f.get(url)
            assert err.value.kind == "hard"
    assert http_server.hits("/secret") == 0


def test_bad_scheme_refused(fetcher):
    for url in ("ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)"):
        with pytest.raises(FetchError) as err:
            fetcher.get(url)
        assert err.value.kind == "hard"


def test_proxy_used_and_redirect_to_private_ip_refused_on_hop(http_server, settings):
    """With a proxy, names are not resolved locally, but every hop's IP literal is still checked."""
    http_server.add("/feed", body=b"via proxy")
    http_server.add("/bounce", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    proxied = settings.with_(allow_private_addresses=False, http_proxy=http_server.base)
    with Fetcher(proxied) as f:
        assert f.get("http://news.invalid/feed").body == b"via proxy"
        assert http_server.requests[-1][0] == "http://news.invalid/feed"  # absolute-form: went via the proxy
        with pytest.raises(FetchError, match="blocked address 169.254.169.254") as err:
            f.get("http://news.invalid/bounce")
    assert err.value.kind == "hard"


def test_body_over_cap_is_refused(http_server, settings):
    http_server.add("/big", body=b"x" * 5000)
    with Fetcher(settings.with_(max_body_bytes=1000)) as f, pytest.raises(FetchError, match="too large") as err:
        f.get(http_server.url("/big"))
    assert err.value.kind == "hard"


def test_body_over_cap_without_content_length(http_server, settings):
    def chunked(h):
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        for _ in range(50):
            h.wfile.write(b"y" * 1000)
    http_server.add("/stream", handler=chunked)
    with Fetcher(settings.with_(max_body_bytes=10_000)) as f, pytest.raises(FetchError, match="too large"):
        f.get(http_server.url("/stream"))


def test_gzip_bomb_stops_at_cap(http_server, settings):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), 9)
    assert len(bomb) < 100_000
    http_server.add("/bomb", body=bomb, headers={"Content-Encoding": "gzip"})
    started = time.monotonic()
    with Fetcher(settings.with_(max_body_bytes=1024 * 1024)) as f, pytest.raises(FetchError, match="too large"):
        f.get(http_server.url("/bomb"))
    assert time.monotonic() - started < 2


def test_gzip_and_deflate_decoded(http_server, fetcher):
    text = b"<rss>" + b"news " * 1000 + b"</rss>"
    http_server.add("/gz", body=gzip.compress(text), headers={"Content-Encoding": "gzip"})
    http_server.add("/zl", body=zlib.compress(text), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    http_server.add("/raw", body=raw.compress(text) + raw.flush(), headers={"Content-Encoding": "deflate"})
    for path in ("/gz", "/zl", "/raw"):
        assert fetcher.get(http_server.url(path)).body == text


def test_corrupt_gzip_is_bad_content(http_server, fetcher):
    http_server.add("/bad", body=b"definitely not gzip", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="bad content") as err:
        fetcher.get(http_server.url("/bad"))
    assert err.value.kind == "hard"


def test_trickling_server_hits_total_deadline(http_server, settings):
    def trickle(h):
        h.send_response(200)
        h.send_header("Content-Length", "10000")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass
    http_server.add("/trickle", handler=trickle)
    started = time.monotonic()
    with Fetcher(settings.with_(total_timeout=1.0, read_timeout=0.5)) as f, \
            pytest.raises(FetchError, match="total timeout") as err:
        f.get(http_server.url("/trickle"))
    assert err.value.kind == "temporary"
    assert time.monotonic() - started < 2.5


def test_silent_server_times_out(http_server, settings):
    http_server.add("/stall", handler=lambda h: time.sleep(3))
    with Fetcher(settings.with_(read_timeout=0.3, total_timeout=2.0)) as f, \
            pytest.raises(FetchError, match="timeout") as err:
        f.get(http_server.url("/stall"))
    assert err.value.kind == "temporary"


def test_connection_dropped_mid_body(http_server, fetcher):
    def drop(h):
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"<rss>partial")
        h.wfile.flush()
        h.connection.shutdown(socket.SHUT_RDWR)
        h.close_connection = True
    http_server.add("/drop", handler=drop)
    with pytest.raises(FetchError, match="connection broken") as err:
        fetcher.get(http_server.url("/drop"))
    assert err.value.kind == "temporary"


def test_connection_refused_is_temporary(settings):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with Fetcher(settings) as f, pytest.raises(FetchError, match="connection error") as err:
        f.get(f"http://127.0.0.1:{port}/")
    assert err.value.kind == "temporary"


def test_fetcher_shared_across_threads(http_server, fetcher):
    http_server.add("/t", body=b"ok")
    results = map_concurrent(range(40), lambda _: fetcher.get(http_server.url("/t")).body, 8)
    assert results == [b"ok"] * 40


# -- decode_html -----------------------------------------------------------------

@pytest.mark.parametrize("body,header,expected", [
    ("café".encode(), "text/html; charset=utf-8", "café"),
    ("café".encode("cp1252"), "text/html; charset=windows-1252", "café"),
    ("\ufeffcafé".encode("utf-8"), None, "café"),
    ("café".encode("utf-16"), None, "café"),
    ('<?xml version="1.0" encoding="ISO-8859-15"?><a>€</a>'.encode("iso-8859-15"), None,
     '<?xml version="1.0" encoding="ISO-8859-15"?><a>€</a>'),
    ('<meta charset="koi8-r">привет'.encode("koi8-r"), "text/html", '<meta charset="koi8-r">привет'),
    ('<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">日本'.encode("shift_jis"), None,
     '<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">日本'),
    # Declared latin-1 but really UTF-8: the bytes win.
    ("naïve".encode(), "text/html; charset=iso-8859-1", "naïve"),
    # Prolog says UTF-8, bytes are windows-1252.
    ('<?xml version="1.0" encoding="utf-8"?>\x93q\x94'.encode("latin-1"), None,
     '<?xml version="1.0" encoding="utf-8"?>“q”'),
    (b"plain ascii", None, "plain ascii"),
    (b"bogus \x81 byte", "text/html; charset=nonsense", "bogus \ufffd byte"),
])
def test_decode_html(body, header, expected):
    assert decode_html(body, header) == expected


def test_meta_charset_after_2kb_is_ignored():
    body = b"<html><head>" + b" " * 3000 + '<meta charset="koi8-r">é'.encode()
    assert decode_html(body, None).endswith("é")


def test_map_concurrent_per_host_limit_and_delay():
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    starts: dict[str, list[float]] = {}
    lock = threading.Lock()

    def work(url):
        host = url.split("/")[2]
        with lock:
            active[host] = active.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), active[host])
            starts.setdefault(host, []).append(time.monotonic())
        time.sleep(0.02)
        with lock:
            active[host] -= 1
        return url

    urls = [f"http://h{i % 3}.example/{i}" for i in range(30)]
    assert map_concurrent(urls, work, 8, per_host_concurrency=2, per_host_delay=0.0) == urls
    assert max(peak.values()) <= 2
    starts.clear()
    map_concurrent(urls[:6], work, 8, per_host_concurrency=2, per_host_delay=0.05)
    for times in starts.values():
        gaps = [b - a for a, b in zip(sorted(times), sorted(times)[1:])]
        assert all(g >= 0.045 for g in gaps)


def test_map_concurrent_reraises():
    def boom(x):
        if x == 3:
            raise ValueError("three")
        return x
    with pytest.raises(ValueError, match="three"):
        map_concurrent(range(10), boom, 4)
