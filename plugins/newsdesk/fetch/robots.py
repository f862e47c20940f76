"""robots.txt by RFC 9309, parsed with protego (Scrapy's parser), cached where every worker sees it.

    robots = RobotsCache(fetcher, store=open_store(settings, engine))
    robots.prefetch(urls, gate)          # each origin's robots.txt, fetched politely once
    if robots.allowed(url): ...

Rules: the group of the most specific matching user agent (our product token, ``newsdesk``,
else ``*``); ``*`` and ``$`` in paths; the longest matching rule wins, ``Allow`` on a tie.

What a fetch means (RFC 9309 2.3.1): 2xx, the rules (the first 500 KiB); 3xx beyond the
redirect limit and 4xx other than 429, no robots.txt (everything allowed); 5xx, 429 and
network errors, unreachable (everything disallowed) — unless an earlier robots.txt of the
origin is at hand (2.4: its rules keep applying while the site errs, up to 30 days).

How long a record serves (2.4, RFC 9111): ``Cache-Control`` max-age / s-maxage or ``Expires``,
else ``settings.robots_ttl``; at least a minute, at most 24 hours; an unreachable origin is
asked again after ``settings.robots_error_ttl``. Records live in the shared store (the
warehouse, or Redis), so one fetch serves every worker and run until it expires, with a copy
in memory per process. A ``Crawl-delay`` for us goes to the store as the host's minimum
interval (capped at ``settings.max_crawl_delay``), which every worker's ``HostGate`` applies.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import urlsplit

from protego import Protego

from .. import metrics
from ..charset import decode_html
from ..times import cache_lifetime
from .http import FetchError
from .pool import map_concurrent
from .stores import STALE_KEEP_SECONDS, MemoryStore, RobotsRecord

MAX_ROBOTS_BYTES = 500 * 1024
MIN_TTL_SECONDS = 60.0
MAX_TTL_SECONDS = 24 * 3600.0


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL (lower case), None for anything else."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower().rsplit('@', 1)[-1]}"


class _Rules:
    """A record and its parsed rules (None unless the record holds a robots.txt)."""

    __slots__ = ("parser", "record")

    def __init__(self, record: RobotsRecord) -> None:
        self.record = record
        self.parser = Protego.parse(record.body) if record.status == "ok" else None


class RobotsCache:
    """robots.txt answers per origin (thread-safe; share one per stage)."""

    def __init__(self, fetcher, user_agent: str | None = None, ttl: float | None = None,
                 error_ttl: float | None = None, *, store=None, clock=time.time) -> None:
        self.fetcher = fetcher
        settings = fetcher.settings
        # robots.txt groups match on the product token ("newsdesk"), not the whole header: a
        # group for "bot" must not apply to us because our header says "ingestion bot".
        agent = user_agent or settings.user_agent or "newsdesk"
        self.agent = agent.split("/", 1)[0].split()[0]
        self.ttl = settings.robots_ttl if ttl is None else ttl
        self.error_ttl = settings.robots_error_ttl if error_ttl is None else error_ttl
        self.max_crawl_delay = settings.max_crawl_delay
        self.clock = clock
        self.store = store if store is not None else MemoryStore(clock)
        self.meter = metrics.for_settings(settings)
        self._memory: dict[str, _Rules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # -- answers -------------------------------------------------------------
    def allowed(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url`` (non-http(s) URLs: never)."""
        origin = origin_of(url)
        if origin is None:
            return False
        rules = self.rules(origin)
        if rules.parser is not None:
            return rules.parser.can_fetch(url, self.agent)
        return rules.record.status == "missing"

    def crawl_delay(self, url: str) -> float | None:
        """The ``Crawl-delay`` robots.txt asks of us for ``url``'s origin, as written (None: none)."""
        origin = origin_of(url)
        rules = self.rules(origin) if origin else None
        if rules is None or rules.parser is None:
            return None
        return rules.parser.crawl_delay(self.agent)

    def prefetch(self, urls: Iterable[str], gate=None) -> None:
        """Load the robots.txt of every origin among ``urls``: from memory or the store, else
        fetched concurrently, each fetch holding a slot of its host (``gate``)."""
        origins = sorted({o for o in map(origin_of, urls) if o})
        missing = [o for o in origins if self._fresh(o) is None]
        if missing:
            map_concurrent(missing, self.rules, settings=self.fetcher.settings, gate=gate,
                           host=lambda origin: urlsplit(origin).hostname or "")

    # -- loading -------------------------------------------------------------
    def rules(self, origin: str) -> _Rules:
        """The origin's rules: from memory, else the store, else fetched (one fetch per origin
        at a time in this process)."""
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            fresh = self._fresh(origin)
            if fresh is not None:
                return fresh
            earlier = self._memory.get(origin)
            record = self._fetch(origin, earlier.record if earlier else self.store.get_robots(origin))
            self.store.put_robots(origin, record)
            rules = self._memory[origin] = _Rules(record)
            self._record_crawl_delay(origin, rules)
            return rules

    def _fresh(self, origin: str) -> _Rules | None:
        now = self.clock()
        rules = self._memory.get(origin)
        if rules is not None and rules.record.expires_at > now:
            return rules
        record = self.store.get_robots(origin)
        if record is not None and record.expires_at > now:
            rules = self._memory[origin] = _Rules(record)
            return rules
        return None

    def _fetch(self, origin: str, earlier: RobotsRecord | None) -> RobotsRecord:
        now = self.clock()
        try:
            result = self.fetcher.get(origin + "/robots.txt", accept="text/plain")
        except FetchError as exc:
            status = exc.status
            if status is not None and (300 <= status < 400 or (400 <= status < 500 and status != 429)):
                self.meter.incr("robots.fetched", tags={"outcome": "missing"})
                return RobotsRecord("missing", "", status, now, now + self._lifetime(exc.headers))
            self.meter.incr("robots.fetched", tags={"outcome": "unreachable"})
            if earlier is not None and earlier.status == "ok" and now - earlier.fetched_at < STALE_KEEP_SECONDS:
                # The site errs: its last robots.txt keeps applying (RFC 9309 2.4), asked again soon.
                return RobotsRecord("ok", earlier.body, status, earlier.fetched_at, now + self.error_ttl)
            return RobotsRecord("unreachable", "", status, now, now + self.error_ttl)
        self.meter.incr("robots.fetched", tags={"outcome": "ok"})
        body = decode_html(result.body[:MAX_ROBOTS_BYTES], result.headers.get("content-type"))
        return RobotsRecord("ok", body, result.status, now, now + self._lifetime(result.headers))

    def _lifetime(self, headers: dict[str, str] | None) -> float:
        lifetime = cache_lifetime(headers, datetime.fromtimestamp(self.clock(), timezone.utc))
        return min(max(self.ttl if lifetime is None else lifetime, MIN_TTL_SECONDS), MAX_TTL_SECONDS)

    def _record_crawl_delay(self, origin: str, rules: _Rules) -> None:
        """The host's minimum interval in the store, for as long as this robots.txt serves."""
        delay = rules.parser.crawl_delay(self.agent) if rules.parser is not None else None
        host = urlsplit(origin).hostname or ""
        valid_for = rules.record.expires_at - self.clock()
        if host and valid_for > 0:
            self.store.set_crawl_delay(host, min(delay or 0.0, self.max_crawl_delay), valid_for)
