"""Counters, timings and gauges for operators' dashboards (docs/deployment.md lists them).

    meter = metrics.for_settings(settings)
    meter.incr("pages.fetched", tags={"status": 200})
    meter.timing("stage.duration", 1234.5, tags={"stage": "fetch"})   # milliseconds
    meter.gauge("queue.pages_pending", 17)

Where they go, first that applies:
- the backend a process installed with ``install``: Airflow's task bodies install Airflow's
  own metrics facility when the deployment configures one (``[metrics] statsd_on`` or
  ``otel_on``; ``newsdesk.tasks.observability``), so newsdesk's metrics travel with Airflow's
  to the same StatsD server or OpenTelemetry collector;
- plain StatsD over UDP to ``NEWSDESK_STATSD_HOST`` (CLI runs, or Airflow without metrics);
- nowhere.

StatsD has no tags: every tag value is also a segment of the name, in the order the tags are
given (``pages.fetched.200``), which is the name every backend sees; backends that take tags
(OpenTelemetry attributes, InfluxDB or Datadog tags) get them as well. Emitting never raises:
a dashboard must not be able to fail a run.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from typing import Protocol

from .config import Settings

log = logging.getLogger(__name__)

NAMESPACE = "newsdesk"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class Backend(Protocol):
    """What a destination implements; ``name`` is complete (namespace, tag segments)."""

    def incr(self, name: str, count: int, tags: dict[str, str]) -> None: ...

    def gauge(self, name: str, value: float, tags: dict[str, str]) -> None: ...

    def timing(self, name: str, milliseconds: float, tags: dict[str, str]) -> None: ...


def segment(value) -> str:
    """A tag value as one name segment: letters, digits, '_' and '-' only."""
    text = _UNSAFE.sub("_", str(value)).strip("_")
    return text or "none"


class Meter:
    """Names metrics and hands them to a backend; never raises."""

    def __init__(self, backend: Backend | None, namespace: str = NAMESPACE) -> None:
        self.backend = backend
        self.namespace = namespace

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    def _name(self, name: str, tags: dict | None) -> tuple[str, dict[str, str]]:
        clean = {key: segment(value) for key, value in (tags or {}).items()}
        parts = [self.namespace, name, *clean.values()] if self.namespace else [name, *clean.values()]
        return ".".join(parts), clean

    def incr(self, name: str, count: int = 1, tags: dict | None = None) -> None:
        if self.backend is None or not count:
            return
        full, clean = self._name(name, tags)
        self._send(self.backend.incr, full, int(count), clean)

    def gauge(self, name: str, value: float, tags: dict | None = None) -> None:
        if self.backend is None:
            return
        full, clean = self._name(name, tags)
        self._send(self.backend.gauge, full, value, clean)

    def timing(self, name: str, milliseconds: float, tags: dict | None = None) -> None:
        if self.backend is None:
            return
        full, clean = self._name(name, tags)
        self._send(self.backend.timing, full, float(milliseconds), clean)

    def counts(self, name: str, counts: dict, tag: str) -> None:
        """One counter per key of ``counts`` (``{"ok": 3, "error": 1}``), the key as ``tag``."""
        for key, value in counts.items():
            self.incr(name, value, tags={tag: key})

    @staticmethod
    def _send(method, name: str, value, tags: dict[str, str]) -> None:
        try:
            method(name, value, tags)
        except Exception:  # a metrics outage must not fail a run
            log.debug("metric %s not sent", name, exc_info=True)


class StatsdClient:
    """Plain StatsD over UDP (``name:value|c``, ``|ms``, ``|g``), the prefix first; no tags."""

    def __init__(self, host: str, port: int = 8125, prefix: str = "") -> None:
        self.address = (host, port)
        self.prefix = prefix.strip(".")
        family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][0]
        self.sock = socket.socket(family, socket.SOCK_DGRAM)

    def _send(self, name: str, payload: str) -> None:
        full = f"{self.prefix}.{name}" if self.prefix else name
        self.sock.sendto(f"{full}:{payload}".encode("ascii"), self.address)

    def incr(self, name: str, count: int, tags: dict[str, str]) -> None:
        self._send(name, f"{count}|c")

    def gauge(self, name: str, value: float, tags: dict[str, str]) -> None:
        if value < 0:  # a leading '-' would read as a decrement of the gauge
            self._send(name, "0|g")
        self._send(name, f"{value:g}|g")

    def timing(self, name: str, milliseconds: float, tags: dict[str, str]) -> None:
        self._send(name, f"{milliseconds:.3f}|ms")


_installed: Backend | None = None
_clients: dict[tuple[str, int, str], StatsdClient | None] = {}
_guard = threading.Lock()


def install(backend: Backend | None) -> None:
    """Send this process's metrics to ``backend`` (None: back to the settings' choice)."""
    global _installed
    _installed = backend


def installed() -> Backend | None:
    return _installed


def for_settings(settings: Settings | None = None) -> Meter:
    """The meter for a stage: the installed backend, else StatsD when configured, else a no-op."""
    if _installed is not None:
        return Meter(_installed)
    settings = settings or Settings.from_env()
    if not settings.statsd_host:
        return Meter(None)
    key = (settings.statsd_host, settings.statsd_port, settings.statsd_prefix)
    with _guard:
        if key not in _clients:
            try:
                _clients[key] = StatsdClient(*key)
            except OSError as exc:  # an unresolvable host: said once per process, the run goes on
                log.warning("StatsD at %s:%s unusable (%s); metrics off", key[0], key[1], exc)
                _clients[key] = None
        client = _clients[key]
    # Outside Airflow the prefix is the namespace ("newsdesk" by default).
    return Meter(client, namespace="")
