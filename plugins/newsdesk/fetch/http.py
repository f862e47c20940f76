"""HTTP GET with the limits an ingestion bot needs against untrusted servers.

    with Fetcher(settings) as fetcher:
        result = fetcher.get("https://example.com/feed.xml", etag='"abc"')
        if result.status == 304: ...          # not modified, empty body

Every request:

* only ``http``/``https``; the host is read in every IPv4/IPv6 notation and resolved once,
  private, loopback, link-local, reserved and multicast addresses are refused (unless
  ``settings.allow_private_addresses`` or ``settings.allow_networks``), again on every
  redirect hop, and the connection goes to the addresses checked (``fetch.address``,
  ``fetch.transport``);
* redirects are followed by hand (``settings.max_redirects``, loops detected);
* the *decoded* body is capped at ``settings.max_body_bytes`` while streaming, with
  our own incremental gzip/deflate decoder so a small gzip bomb never expands in
  memory past the cap;
* connect/read timeouts plus an overall deadline ``settings.total_timeout`` that bounds
  every socket operation of the request and its redirects (connect, TLS, response
  headers, body), so a trickling server cannot hold a worker;
* through ``settings.http_proxy`` when set (the proxy resolves names, so only
  IP-literal targets are checked).

Thread safety: a ``Fetcher`` may be shared by threads. It holds one
``httpx.Client`` (whose connection pool is thread-safe) and no other mutable state;
``map_concurrent`` callers typically share one fetcher across the pool.
"""

from __future__ import annotations

import ipaddress
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import httpx

from ..config import Settings
from ..times import parse_http_date
from .address import AddressError, AddressPolicy, parse_ip, refusal_reason
from .transport import pinned_transport, request_deadline

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]  # lower-case keys
    body: bytes
    elapsed_ms: int
    redirects: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """A fetch that produced no usable response.

    ``kind``: ``"hard"`` (4xx other than 408/429, bad scheme, blocked address, too
    large, bad content: retrying will not help), ``"temporary"`` (timeouts,
    connection errors, 5xx, 408, 429: retry later) or ``"soft"`` (anything else,
    e.g. redirect loops).
    """

    def __init__(self, kind: str, message: str, *, url: str, status: int | None = None,
                 retry_after: float | None = None, headers: dict[str, str] | None = None):
        super().__init__(f"{message} ({url})")
        self.kind = kind
        self.message = message
        self.url = url
        self.status = status
        self.retry_after = retry_after
        self.headers = headers or {}


def classify_status(status: int) -> str:
    if status in (408, 429) or 500 <= status <= 599:
        return "temporary"
    if 400 <= status <= 499:
        return "hard"
    return "soft"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    when = parse_http_date(value)
    if when is None:
        return None
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def is_blocked_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Private, loopback, link-local, reserved, multicast, unspecified or otherwise non-global
    (an IPv6 address carrying an IPv4 one is judged by that)."""
    return refusal_reason(ip) is not None


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address an IP-literal host names, in any notation (``127.1``, ``0x7f000001``); None otherwise."""
    try:
        return parse_ip(host)
    except AddressError:
        return None


_STRICT = AddressPolicy()


def is_private_url(url: str) -> bool:
    """True when the URL names ``localhost``, a blocked IP literal in any notation, or a host
    that is no valid address although it ends in a number (no DNS lookup).

    Used to drop feed entries that point into the bot's own network."""
    try:
        _STRICT.check_url(url)
    except AddressError as exc:
        return not str(exc).startswith("invalid URL")
    return False


class Fetcher:
    """Conditional GETs with size, time and address limits (see module docstring)."""

    def __init__(self, settings: Settings | None = None, *, transport: httpx.BaseTransport | None = None,
                 resolver=None):
        """``transport``: a replacement for the network (tests); ``resolver``: in place of
        ``socket.getaddrinfo`` (tests of names with several addresses)."""
        self.settings = settings or Settings.from_env()
        s = self.settings
        self.policy = AddressPolicy.from_settings(s, resolver)
        self._timeout = httpx.Timeout(connect=s.connect_timeout, read=s.read_timeout, write=s.read_timeout,
                                      pool=s.total_timeout)
        limits = httpx.Limits(max_connections=max(s.http_concurrency * 2, 10),
                              max_keepalive_connections=max(s.http_concurrency, 5))
        self._client = httpx.Client(
            follow_redirects=False, timeout=self._timeout, limits=limits,
            transport=transport or pinned_transport(self.policy, limits, s.http_proxy), trust_env=False,
            headers={"User-Agent": s.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- checks ------------------------------------------------------------
    def check_url(self, url: str) -> None:
        """Raise FetchError(hard) unless ``url`` is http(s) to an allowed host. What needs no
        resolver is checked here (IP literals in any notation, ``localhost``); names are
        resolved and checked when the connection is made (``fetch.transport``)."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise FetchError("hard", f"invalid URL: {exc}", url=url) from None
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError("hard", f"unsupported URL scheme {parts.scheme!r}", url=url)
        if not (parts.hostname or "").strip("[]."):
            raise FetchError("hard", "URL has no host", url=url)
        try:
            self.policy.check_host(parts.hostname)
        except AddressError as exc:
            raise FetchError(exc.kind, str(exc), url=url) from None

    # -- the request -------------------------------------------------------
    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            accept: str | None = None) -> FetchResult:
        """GET ``url``; 2xx and 304 return a FetchResult, anything else raises FetchError."""
        s = self.settings
        started = time.monotonic()
        deadline_at = started + s.total_timeout
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if accept:
            headers["Accept"] = accept
        with request_deadline(deadline_at):
            return self._follow(url, headers, started, deadline_at)

    def _follow(self, url: str, headers: dict, started: float, deadline: float) -> FetchResult:
        s = self.settings
        current = url
        seen = {url}
        redirects: list[str] = []
        while True:
            self.check_url(current)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError("temporary", f"total timeout of {s.total_timeout:g}s exceeded", url=url)
            timeout = httpx.Timeout(connect=min(s.connect_timeout, remaining), read=min(s.read_timeout, remaining),
                                    write=min(s.read_timeout, remaining), pool=remaining)
            try:
                request = self._client.build_request("GET", current, headers=headers, timeout=timeout)
                response = self._client.send(request, stream=True)
            except AddressError as exc:  # the connection's own check (fetch.transport): names, every address
                raise FetchError(exc.kind, str(exc), url=current) from None
            except httpx.TimeoutException as exc:
                if time.monotonic() >= deadline:
                    raise FetchError("temporary", f"total timeout of {s.total_timeout:g}s exceeded before the "
                                     "response headers were read", url=current) from None
                raise FetchError("temporary", f"timeout: {exc.__class__.__name__}", url=current) from None
            except httpx.InvalidURL as exc:
                raise FetchError("hard", f"invalid URL: {exc}", url=current) from None
            except httpx.RemoteProtocolError as exc:
                if "location header" in str(exc):  # httpx parses a redirect's target before we see it
                    raise FetchError("hard", f"redirect to an invalid URL: {exc}", url=current) from None
                raise FetchError("temporary", f"connection error: RemoteProtocolError: {exc}", url=current) from None
            except (httpx.TransportError, OSError) as exc:
                raise FetchError("temporary", f"connection error: {exc.__class__.__name__}: {exc}",
                                 url=current) from None
            try:
                status = response.status_code
                resp_headers = {k.lower(): v for k, v in response.headers.items()}
                if status in REDIRECT_CODES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("soft", f"HTTP {status} redirect without Location", url=current,
                                         status=status)
                    nxt = urljoin(current, location.strip())
                    if nxt in seen:
                        raise FetchError("soft", f"redirect loop back to {nxt}", url=url, status=status)
                    if len(redirects) >= s.max_redirects:
                        raise FetchError("soft", f"too many redirects (> {s.max_redirects})", url=url,
                                         status=status)
                    seen.add(nxt)
                    redirects.append(nxt)
                    current = nxt
                    continue
                if status == 304:
                    body = b""
                elif 200 <= status <= 299:
                    body = self._read_body(response, current, deadline)
                else:
                    raise FetchError(
                        classify_status(status), f"HTTP {status}", url=current, status=status,
                        retry_after=parse_retry_after(resp_headers.get("retry-after")), headers=resp_headers)
            finally:
                response.close()
            return FetchResult(url=url, final_url=current, status=status, headers=resp_headers, body=body,
                               elapsed_ms=int((time.monotonic() - started) * 1000), redirects=redirects)

    def _read_body(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        cap = self.settings.max_body_bytes
        declared = response.headers.get("content-length")
        encoding = (response.headers.get("content-encoding") or "identity").strip().lower()
        if declared and declared.isdigit() and int(declared) > cap and encoding in ("identity", ""):
            raise FetchError("hard", f"body too large: Content-Length {declared} > {cap} bytes", url=url,
                             status=response.status_code)
        decoder = _Decoder(encoding, url)
        out = bytearray()
        try:
            for raw in response.iter_raw():  # each network read, so the deadline is checked often
                if time.monotonic() > deadline:
                    raise FetchError("temporary", f"total timeout of {self.settings.total_timeout:g}s exceeded "
                                     "while reading the body", url=url, status=response.status_code)
                decoder.feed(raw, out, cap)
                if len(out) > cap:
                    raise FetchError("hard", f"body too large: more than {cap} bytes (decoded)", url=url,
                                     status=response.status_code)
            decoder.flush(out, cap)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline:
                raise FetchError("temporary", f"total timeout of {self.settings.total_timeout:g}s exceeded "
                                 "while reading the body", url=url, status=response.status_code) from None
            raise FetchError("temporary", f"timeout while reading the body: {exc.__class__.__name__}",
                             url=url, status=response.status_code) from None
        except (httpx.TransportError, OSError) as exc:
            raise FetchError("temporary", f"connection broken while reading the body: {exc.__class__.__name__}: "
                             f"{exc}", url=url, status=response.status_code) from None
        if len(out) > cap:
            raise FetchError("hard", f"body too large: more than {cap} bytes (decoded)", url=url,
                             status=response.status_code)
        return bytes(out)


class _Decoder:
    """Incremental Content-Encoding decoder that never produces more than cap+1 bytes."""

    def __init__(self, encoding: str, url: str):
        self.url = url
        self.stages: list = []
        for enc in [e.strip() for e in encoding.split(",") if e.strip()]:
            if enc in ("identity",):
                continue
            if enc in ("gzip", "x-gzip"):
                self.stages.append(zlib.decompressobj(16 + zlib.MAX_WBITS))
            elif enc == "deflate":
                self.stages.append(_Deflate())
            else:
                raise FetchError("hard", f"unsupported Content-Encoding {enc!r}", url=url)
        self.stages.reverse()  # decode in reverse order of application

    def feed(self, data: bytes, out: bytearray, cap: int) -> None:
        for stage in self.stages:
            data = self._run(stage, data, cap - len(out) + 1)
        out += data

    def _run(self, stage, data: bytes, budget: int) -> bytes:
        try:
            produced = stage.decompress(data, max(budget, 1))
            # Whatever is left unconsumed would only push us past the cap.
            if getattr(stage, "unconsumed_tail", b"") and len(produced) < budget:
                produced += stage.decompress(stage.unconsumed_tail, max(budget - len(produced), 1))
            return produced
        except zlib.error as exc:
            raise FetchError("hard", f"bad content: cannot decode body ({exc})", url=self.url) from None

    def flush(self, out: bytearray, cap: int) -> None:
        data = b""
        for stage in self.stages:
            if data:
                data = self._run(stage, data, cap - len(out) + 1)
            try:
                data += stage.flush()[: max(cap - len(out) + 1, 0)]
            except zlib.error as exc:
                raise FetchError("hard", f"bad content: cannot decode body ({exc})", url=self.url) from None
        out += data


class _Deflate:
    """'deflate' is zlib-wrapped by the spec but raw deflate in the wild: sniff the first bytes."""

    def __init__(self):
        self._obj = None

    @property
    def unconsumed_tail(self) -> bytes:
        return self._obj.unconsumed_tail if self._obj else b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._obj is None:
            try:
                probe = zlib.decompressobj()
                probe.decompress(data[:2])
                self._obj = zlib.decompressobj()
            except zlib.error:
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
        return self._obj.decompress(data, max_length)

    def flush(self) -> bytes:
        return self._obj.flush() if self._obj else b""
