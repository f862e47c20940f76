"""robots.txt answers for article fetching, cached per origin.

    robots = RobotsCache(fetcher)
    if robots.allowed(url): ...

Following RFC 9309: a missing robots.txt (4xx) allows everything; an unreachable
one (5xx, timeouts, connection errors) disallows everything until the (shorter)
error TTL expires; a body over 500 KiB is cut there.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..charset import decode_html
from .http import FetchError

MAX_ROBOTS_BYTES = 500 * 1024


class RobotsCache:
    def __init__(self, fetcher, user_agent: str | None = None, ttl: float = 3600.0, error_ttl: float = 600.0):
        self.fetcher = fetcher
        # robots.txt groups match on the product token ("newsdesk"), not the full header.
        ua = user_agent or getattr(getattr(fetcher, "settings", None), "user_agent", None) or "newsdesk"
        self.agent = ua.split("/", 1)[0].split()[0]
        self.ttl = ttl
        self.error_ttl = error_ttl
        self._cache: dict[str, tuple[float, RobotFileParser | bool]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = self._rules(origin)
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.agent, url)

    def crawl_delay(self, url: str) -> float | None:
        parts = urlsplit(url)
        rules = self._rules(f"{parts.scheme}://{parts.netloc}")
        if isinstance(rules, bool):
            return None
        delay = rules.crawl_delay(self.agent)
        return float(delay) if delay is not None else None

    def _rules(self, origin: str) -> RobotFileParser | bool:
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch per origin even when many workers ask at once
            cached = self._cache.get(origin)
            now = time.monotonic()
            if cached and cached[0] > now:
                return cached[1]
            rules, ttl = self._load(origin)
            self._cache[origin] = (now + ttl, rules)
            return rules

    def _load(self, origin: str) -> tuple[RobotFileParser | bool, float]:
        try:
            result = self.fetcher.get(origin + "/robots.txt", accept="text/plain")
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (429,):
                return True, self.ttl  # no robots.txt: everything allowed
            return False, self.error_ttl  # unreachable: assume complete disallow for now
        parser = RobotFileParser()
        text = decode_html(result.body[:MAX_ROBOTS_BYTES], result.headers.get("content-type"))
        parser.parse(text.splitlines())
        return parser, self.ttl
