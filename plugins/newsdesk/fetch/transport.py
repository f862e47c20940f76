"""The sockets under ``Fetcher``: connections to checked addresses only, within one deadline.

httpx resolves a name when it connects; checking the name beforehand would leave a window
in which a DNS-rebinding server answers the check with a public address and the connect
with a private one. Here httpcore's network backend is replaced: ``connect_tcp`` asks the
``AddressPolicy`` for the host's addresses (resolved once, every one checked) and connects
to those. TLS still verifies, and sends SNI for, the URL's host name: httpcore passes the
origin's host to ``start_tls`` whatever address the socket reached.

httpx's timeouts bound each read, so a server sending one byte per read timeout could hold
a request forever, headers included. Every socket operation here is given at most what is
left of the request's deadline (``request_deadline()``, set by ``Fetcher.get`` for its whole redirect
chain): connect, TLS handshake, the request, the response headers and the body.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
import httpx

from .address import AddressPolicy

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("newsdesk_fetch_deadline", default=None)


@contextmanager
def request_deadline(at: float) -> Iterator[None]:
    """Socket operations of this thread within the block end by ``at`` (``time.monotonic()``)."""
    token = _DEADLINE.set(at)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _budget(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` capped at what is left of the deadline; ``error`` once nothing is left."""
    at = _DEADLINE.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("the request's total timeout ran out")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _budget(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _budget(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _budget(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to the addresses ``policy`` checked (None: the proxy's own, unchecked)."""

    def __init__(self, policy: AddressPolicy | None) -> None:
        self.policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options=None) -> httpcore.NetworkStream:
        host = host.decode("ascii") if isinstance(host, bytes) else host
        if self.policy is None:
            addresses = [host]
        else:
            addresses = self.policy.resolve(host, port, _budget(timeout, httpcore.ConnectTimeout))
        failure: Exception | None = None
        for address in addresses:  # each checked; the first that answers
            try:
                stream = self._inner.connect_tcp(address, port, _budget(timeout, httpcore.ConnectTimeout),
                                                 local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _DeadlineStream(stream)
        raise failure or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def pinned_transport(policy: AddressPolicy, limits: httpx.Limits, proxy: str | None = None) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through ``PinnedBackend`` (through ``proxy`` when
    given: then only the proxy is connected to, and it resolves the names)."""
    transport = httpx.HTTPTransport(limits=limits, proxy=proxy or None, trust_env=False)
    pool = transport._pool  # httpcore's pool: its backend is the one seam httpx leaves for sockets
    if not hasattr(pool, "_network_backend"):
        raise RuntimeError("httpcore's connection pool has no _network_backend: pin httpcore to 1.x")
    pool._network_backend = PinnedBackend(None if proxy else policy)
    return transport
